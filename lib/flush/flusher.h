#pragma once
// Flusher: replays spool files into the store (courier-flush's work; the
// daemon loop, `--once` and manual replay are built on it).
//
// A pass over spool/new/ (FlushOnce) takes the files oldest first (names
// sort by time) in batches of up to `batch_size` intakes (whole files; a
// file holds one intake, or a writer's whole batch):
//   1. Claim each file: rename new/NAME -> cur/NAME. A failed claim of a
//      file that is gone means another flusher took it: skipped.
//   2. Read and decode each claimed file. A torn or foreign file
//      (Corruption), or a file of one intake whose JSON is not an intake,
//      goes to bad/ with NAME.reason beside it: never deleted, never
//      retried. Of a file of several, such a part goes to bad/ alone
//      (SpoolDir::RejectPart) and the others go on.
//   3. Write the decoded intakes with ONE Store::WriteIntakes call (one
//      transaction, one savepoint per intake).
//   4. After the commit: an intake the store refused for its data (e.g.
//      "not found: channel not found") goes to bad/ with that reason, its
//      file whole when that is its only intake, alone otherwise; then Done
//      (unlink cur/NAME) for every file whose intakes are all committed or
//      in bad/.
//   If the store cannot take writes (Busy, Unavailable, IOError), the
//   batch's claimed files go back to new/ (same names, so the same order).
//   The pass then waits for the removals of the files already committed
//   (they free space), halves the batch and tries again from the batch
//   that failed; it stops with FlushReport::store_error set only when a
//   batch of one file fails. A nearly full disk (the spool's reserve, or
//   space an operator just freed) has room for the WAL pages of a small
//   transaction where a batch of 256 fails, and each commit deletes
//   spool files, freeing more: the pass makes progress where an
//   all-or-nothing batch would fail forever.
//
// Crash safety, step by step: a crash after 1 leaves files in cur/, which
// RecoverClaimed() moves back to new/ at the next start; a crash after the
// commit in 3 and before the unlink in 4 replays committed files once
// more, which the store turns into no-ops (msg uuids and external ids are
// checked: WriteIntakes is idempotent). So a file is deleted only after its
// data is durable, and its data is never stored twice. The second crash is
// tested as a real process death at the first unlink after a commit:
// injected through the Env in the unit test, and at unlink(2) under the
// real courier-flush in the integration test.
//
// Order ("msgs before the statuses that may refer to them"): files are
// replayed oldest first across every writer (names are zero-padded
// nanoseconds, so courier-recv's and courier-send's files interleave in
// time order), one batch is written intake by intake in that order, and
// within an intake the store writes msgs before statuses. So a status is
// applied after every msg and every earlier status spooled before it; and
// since the store refuses backward transitions (W after D is ignored), a
// late replay cannot undo a newer status. The order is broken only around
// a file that cannot be read (an I/O error, not bad data): it is put back
// in new/ and retried next pass while later files go on. A status whose
// msg is not in the store is not an error: the store reports it not found
// and the file is done (the reference's fix for status files that blocked
// a spool directory forever).
//
// Known, benign race: RecoverClaimed() assumes no other flusher is running
// on the same spool. If one is, files it has claimed are moved back and
// may be replayed by both; the store's idempotence makes the second replay
// a no-op and the loser's unlink fails with a logged error. Run one
// courier-flush daemon per spool.
//
// Thread-safety: a Flusher is used by one thread (it holds one store
// connection). Inside a pass it runs three stages at once: the next batch
// is claimed, read and decoded on a second thread, and the previous
// batch's files are removed on a third, while this one is written.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "spool/spool.h"
#include "store/commit_sync.h"
#include "store/store.h"

namespace courier {

struct FlusherOptions {
  // Most intakes committed in one transaction: files are taken whole until
  // a batch holds this many.
  size_t batch_size = 256;
};

// What one pass over spool/new/ did, counted in intakes (a file holds one,
// or a writer's whole batch).
struct FlushReport {
  int64_t flushed = 0;   // committed (or found already stored) and removed from the spool
  int64_t rejected = 0;  // moved to bad/ with a reason
  int64_t skipped = 0;   // claimed by another flusher, or unreadable and put back
  int64_t left = 0;      // in new/ when the pass ended
  // Not ok: the pass stopped because the store cannot take writes now;
  // the files of the failed batch are back in new/.
  Status store_error;
  // Not ok: a spool operation failed (a rename, unlink or reason file);
  // the file stays where it is and the next start or pass retries it.
  Status spool_error;
};

// Called after each batch of a pass, with the totals so far and the
// number of intakes the pass started with (for progress lines).
using FlushProgress = std::function<void(const FlushReport& so_far, size_t total)>;

// What manual replay (FlushFiles) did with one named file.
struct FileReplay {
  enum class Result {
    kReplayed,  // committed (or already stored) and the file removed
    kBad,       // cannot be parsed, or the store refused its data: left as is
    kMissing,   // no such file
    kSkipped,   // a NAME.reason file (named by a glob such as bad/*)
    kPending,   // not replayed: the store became unavailable first
    kError,     // replayed but not removed, or unreadable: see status
  };
  std::string path;
  Result result = Result::kPending;
  Status status;  // why, when not replayed
};

struct ReplayReport {
  std::vector<FileReplay> files;  // in the order given
  Status store_error;             // not ok: the store could not take writes
  int64_t Count(FileReplay::Result r) const;
};

class Flusher {
 public:
  // `open` makes the store connection (lazily, and again after the store
  // failed); `spool` and `env` must use the same Env.
  Flusher(StoreOpener open, SpoolDir spool, Env& env = Env::Default(), FlusherOptions options = {});

  // At start: moves whatever a dead flusher left in cur/ back to new/.
  // Returns how many files moved.
  Result<int> RecoverClaimed();

  // One pass over the files in new/ when it starts (see the header
  // comment). Stops early, between batches, when `stop` returns true. Not
  // ok only when new/ cannot be listed; store failures are in the report.
  Result<FlushReport> FlushOnce(const std::function<bool()>& stop = {}, const FlushProgress& progress = {});

  // Manual replay of the named files, wherever they are (bad/NAME after an
  // operator fixed it, new/NAME, a copy elsewhere). A file may be a spool
  // file (header checked) or the bare JSON body of one: an operator who
  // edits a bad file removes its header line, whose checksum no longer
  // matches. A file replayed is removed, with its NAME.reason if any;
  // one that fails is left where it is. Files named NAME.reason are
  // skipped. Intakes are written in the order given, in batches.
  ReplayReport FlushFiles(const std::vector<std::string>& paths);

 private:
  // One intake of a claimed file; a file's intakes are next to each other
  // in a batch.
  struct Claimed {
    std::string name;  // the file
    size_t part = 1;   // 1-based, within the file
    size_t parts = 1;  // intakes the file holds
    std::string body;  // the part's record, kept for bad/ when parts > 1
    Intake intake;
  };
  // One batch claimed, read and decoded; `next` is the index after it.
  struct Prepared {
    std::vector<Claimed> batch;
    size_t files = 0;  // whose intakes are in `batch`
    FlushReport report;
    size_t next = 0;
  };
  Status EnsureStore();
  // Claims, reads and decodes files[from...], whole files, until the batch
  // holds `batch_size` intakes. Runs on a thread of its own while the
  // previous batch is written.
  Prepared Prepare(const std::vector<SpoolFile>& files, size_t from, size_t batch_size) const;
  // Writes `batch` in one transaction and gives one outcome an intake; not
  // ok (and no outcomes) when the store is unavailable. The caller puts
  // the files back then.
  Status Write(std::vector<Claimed>& batch, std::vector<Status>& outcomes);
  // Write's store calls, on intakes lent by the batch (left as they were).
  Status WriteLent(std::vector<Intake>& intakes, std::vector<Status>& outcomes);
  // Write of one file's intakes a piece at a time, halving the piece while
  // the store refuses; not ok when a piece of one intake is refused.
  Status WriteInPieces(std::vector<Claimed>& batch, std::vector<Status>& outcomes);
  // A file whose data is committed, and how many of its intakes that is.
  struct DoneFile {
    std::string name;
    int64_t flushed = 0;
  };
  // What removing a batch's files came to.
  struct Removal {
    Status store;  // not ok: the commits could not be made durable
    Status spool;  // a file that could not be removed or put back
    int64_t put_back = 0;  // intakes whose files went back to new/
  };
  // After a commit: a file whose intakes are all stored joins `done`; a
  // refused intake goes to bad/, with its file when it is the file's only
  // one, alone (RejectPart) when the file holds others, which then joins
  // `done` too.
  void SettleFiles(const std::vector<Claimed>& batch, const std::vector<Status>& outcomes,
                   std::vector<DoneFile>& done, FlushReport& report) const;
  // Makes the commits durable (`sync`, when the store leaves that to its
  // caller), then removes the files and syncs cur/. Runs on a thread of its
  // own beside the next batch's commit, so the WAL's fdatasync waits
  // there rather than in front of the next batch. Should the sync fail,
  // the files go back to new/ instead: what they hold may not be stored.
  Removal RemoveDone(const std::vector<DoneFile>& files, const std::shared_ptr<CommitSync>& sync) const;
  // Puts committed but not durable files back in new/; their intakes.
  int64_t PutBack(const std::vector<DoneFile>& files, Status& spool_error) const;
  // Forgets the store connection (and its sync): the next EnsureStore
  // opens a new one.
  void DropStore();
  void RejectFile(const std::string& name, const std::string& reason, FlushReport& report) const;
  // False (logged, in the report) when the part could not be put in bad/.
  bool RejectPart(const std::string& name, size_t part, const std::string& body, const std::string& reason,
                  FlushReport& report) const;
  void Unclaim(const std::string& name, FlushReport& report) const;
  void UnclaimFiles(const std::vector<Claimed>& batch, FlushReport& report) const;

  StoreOpener open_;
  SpoolDir spool_;
  Env& env_;
  FlusherOptions options_;
  std::unique_ptr<Store> store_;
  // The store's commits are not synced when they return; this syncs them
  // (null: the store syncs each commit itself).
  std::shared_ptr<CommitSync> sync_;
};

}  // namespace courier
