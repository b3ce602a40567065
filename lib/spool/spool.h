#pragma once
// The spool: where courier-recv puts what the store could not take until
// courier-flush replays it: one file per batch the writer could not
// commit (one request at a trickle, up to a whole batch under load).
//
// Layout (a file's state is the directory it is in, as in Postfix):
//   tmp/  being written; never read by anyone else
//   new/  complete and fsynced; waiting to be flushed
//   cur/  claimed by a flusher; back to new/ when a flusher starts
//   bad/  could not be parsed or replayed; NAME.reason beside it
// Names sort by time (zero-padded nanoseconds), so a directory listing is
// the replay order. A file of several intakes says how many in its name
// ("...-x32.json"), so counting the spool never reads it; a part of such a
// file that could not be replayed goes to bad/ alone, as "...-x32-p7.json"
// (its 7th intake).
//
// Reserve: a spool with `reserve_bytes` refuses writes (Unavailable, so
// courier-recv answers 503 and the provider retries) that would leave less
// than that free on its file system. When the store shares the file
// system, the spool filling it to the last byte leaves the store no room
// for the WAL pages and the checkpoint that replaying the spool needs, and
// nothing ever recovers; the reserve keeps that room.

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/env.h"
#include "core/status.h"

namespace courier {

struct SpoolFile {
  std::string name;
  std::string path;
  std::string state;   // "new", "cur" or "bad"
  int64_t size = 0;
  Micros modified_on = 0;
  std::string reason;  // bad/ only: the text of NAME.reason
  int intakes = 1;     // how many it holds (IntakesInSpoolName)
};

// What the spool holds, counted as operators and health checks read it:
// pending is new/ and cur/ (a file a flusher has claimed is not yet in the
// store either), counted in files and in intakes.
struct SpoolSummary {
  int64_t pending_files = 0;
  int64_t pending_intakes = 0;
  int64_t bad = 0;  // files in bad/ (a part of a batch is a file of its own there)
  int64_t tmp = 0;  // being written, or left by a writer killed before its rename
  Micros oldest_pending_on = 0;  // 0 when nothing is pending
  Status read;  // the first directory that could not be listed; its files are not counted

  void Count(const SpoolFile& file);
};

// How many intakes a spool file holds, from its name (1 unless the name
// ends "-x<count>.json").
int IntakesInSpoolName(const std::string& name);
// The name in bad/ of part `part` (1-based) of the file `name`.
std::string SpoolPartName(const std::string& name, size_t part);

class SpoolDir {
 public:
  explicit SpoolDir(std::string root, Env& env = Env::Default(), int64_t reserve_bytes = 0)
      : root_(std::move(root)), env_(env), reserve_bytes_(reserve_bytes) {}

  const std::string& root() const { return root_; }
  std::string Path(const std::string& state) const { return root_ + "/" + state; }

  // Creates root and its four directories (mode 0750) when missing.
  Status Ensure() const;
  // Files in new/ and cur/ (pending) or bad/, sorted by name. A missing
  // directory is an empty list.
  Result<std::vector<SpoolFile>> List(const std::string& state) const;
  // Counts all four directories (bad/'s reasons are not read).
  SpoolSummary Summarize() const;

  // Durably adds one file to new/ holding `bodies` in the spool format
  // (version 1 for one body, 2 for several; tmp/, fsync, rename, fsync
  // new/: see WriteFilesAtomically), so a batch costs two fsyncs whatever
  // its size. Returns its name, which sorts after every name this process
  // wrote before. All or nothing: Unavailable (naming the space) when the
  // file would leave less than the reserve free, and then nothing is
  // written. Empty `bodies` is InvalidArgument.
  Result<std::string> WriteBatch(const std::vector<std::string>& bodies, Micros now) const;
  Result<std::string> Write(const std::string& body, Micros now) const { return WriteBatch({body}, now); }

  // A flusher's steps for one file. Claim moves new/NAME to cur/NAME (so
  // two flushers never replay one file); Done removes cur/NAME after the
  // store committed its data; Reject moves it to bad/ with NAME.reason.
  // Done does not sync the directory: a flusher calls SyncDone once after
  // a batch of Dones (one fsync a batch instead of one a file). An unlink
  // lost in a crash only replays committed data, which the store ignores.
  Status Claim(const std::string& name) const;
  Status Done(const std::string& name) const;
  Status SyncDone() const;
  Status Reject(const std::string& name, const std::string& from_state, const std::string& reason) const;
  // For a file of several intakes of which some cannot be replayed: puts
  // part `part` (1-based; `body` is its record) in bad/ as a file of its
  // own, SpoolPartName(name, part), with its reason, durably. The file
  // itself stays where it is; the flusher removes it once the other parts
  // are committed. Doing this twice (a crash before that removal) writes
  // the same part file again.
  Status RejectPart(const std::string& name, size_t part, const std::string& body, const std::string& reason) const;
  // At flusher start: whatever a dead flusher left in cur/ goes back to new/.
  Result<int> RecoverClaimed() const;
  // Reads and checks a file: its bodies in order; Corruption when torn or
  // foreign.
  Result<std::vector<std::string>> Read(const std::string& state, const std::string& name) const;
  // At a daemon's start: removes files in tmp/ last modified before
  // `older_than` (left by a writer killed between write and rename; a
  // live writer renames its file within milliseconds). Returns how many.
  Result<int> RemoveStaleTmp(Micros older_than) const;

  int64_t reserve_bytes() const { return reserve_bytes_; }

 private:
  Result<std::vector<SpoolFile>> ListFiles(const std::string& state, bool with_reasons) const;

  std::string root_;
  Env& env_;
  int64_t reserve_bytes_ = 0;
};

}  // namespace courier
