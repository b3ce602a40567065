#pragma once
// The spool: where courier-recv puts what the store could not take, as
// one JSON file per request, until courier-flush replays it.
//
// Layout (a file's state is the directory it is in, as in Postfix):
//   tmp/  being written; never read by anyone else
//   new/  complete and fsynced; waiting to be flushed
//   cur/  claimed by a flusher; back to new/ when a flusher starts
//   bad/  could not be parsed or replayed; NAME.reason beside it
// Names sort by time (zero-padded nanoseconds), so a directory listing is
// the replay order.
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
};

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

  // Durably adds a file to new/ holding `body` in the spool format
  // (tmp/, fsync, rename, fsync new/: see WriteFilesAtomically). Returns its
  // name, which sorts after every name this process wrote before.
  Result<std::string> Write(const std::string& body, Micros now) const;
  // Unavailable (naming the space) when the files would leave less than the
  // reserve free; then nothing is written.
  // Write for several bodies at once (WriteFilesAtomically: one fsync of
  // new/ for all): what courier-recv's writer spools of one batch. One
  // result per body, in order; the names sort in that order.
  std::vector<Result<std::string>> WriteMany(const std::vector<std::string>& bodies, Micros now) const;

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
  // At flusher start: whatever a dead flusher left in cur/ goes back to new/.
  Result<int> RecoverClaimed() const;
  // Reads and checks a file; Corruption when torn or foreign.
  Result<std::string> Read(const std::string& state, const std::string& name) const;
  // At a daemon's start: removes files in tmp/ last modified before
  // `older_than` (left by a writer killed between write and rename; a
  // live writer renames its file within milliseconds). Returns how many.
  Result<int> RemoveStaleTmp(Micros older_than) const;

  int64_t reserve_bytes() const { return reserve_bytes_; }

 private:
  std::string root_;
  Env& env_;
  int64_t reserve_bytes_ = 0;
};

}  // namespace courier
