#pragma once
// IntakeWriter: the one writer between many threads (courier-recv's
// request threads, courier-send's senders) and the store, spooling what
// the store cannot take. It is what joins the store and the spool, so it
// sits above both. Requests hand it their Intake and block until it is
// durable; the writer commits every pending intake together (group
// commit: one transaction and one fsync per batch), so under load a batch
// forms by itself and when idle a batch is a single request.
//
// Durability (invariant 1): Write() returns kCommitted only after the
// store's COMMIT and the fdatasync of its WAL, kSpooled only after the
// spool file and its directory entry are fsynced. When neither is
// possible it returns kFailed and the caller must answer non-2xx so the
// provider retries.
//
// Pipelining: where the store allows it (Store::LeaveSyncToCaller) the
// writer commits a batch without waiting for the disk and goes on to the
// next batch while a second thread makes it durable (CommitSync: SQLite's
// WAL fdatasync, PostgreSQL's WAL flush); every batch committed by then is
// made durable by that one sync and answered after it (outcomes, claims, events, in commit order). If the sync fails, those
// batches are spooled (replays are deduplicated by msg uuid) and the store
// is reopened. Otherwise each COMMIT syncs by itself.
// The writer stays at most one batch ahead of the disk: it does not start
// a batch while a committed one still waits for the sync thread, and what
// arrives meanwhile joins the next batch. Unbounded, it would commit many
// small batches during each fdatasync, and each COMMIT writes the same
// index and table pages to the WAL again.
//
// When the store fails, the writer spools for `outage_backoff` before it
// tries the store again, so an outage costs each request one fsync, not a
// busy timeout.
//
// Text: every intake is made well-formed UTF-8 (intake/intake_text.h)
// before it is queued, so neither the store nor a spool file ever holds
// ill-formed text, and a webhook's answer (written by JsonWriter, which
// repairs the same way) names the text that was stored.
//
// Thread-safety: Write() and Claim() from any number of threads;
// Start/Stop from one.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/env.h"
#include "spool/spool.h"
#include "store/store.h"

namespace courier {

struct IntakeWrite {
  enum Kind { kCommitted, kSpooled, kFailed };
  Kind kind = kFailed;
  IntakeOutcome outcome;  // kCommitted: per msg/status results
  Status error;           // kFailed, or the intake's own data error
};

struct IntakeWriterStats {
  int64_t committed = 0;
  int64_t spooled = 0;
  int64_t failed = 0;
  int64_t batches = 0;
  // Write health, for courier-recv's /status: when the store last refused
  // a batch and why, when the spool last refused a file and why, and when
  // an intake was last made durable (committed or spooled). 0: never.
  Micros store_failed_on = 0;
  std::string store_error;
  Micros spool_failed_on = 0;
  std::string spool_error;
  Micros durable_on = 0;
};

class IntakeWriter {
 public:
  // `on_events` is called on the writer's sync thread once a batch is
  // durable; `on_spooled` after intakes were spooled (to wake
  // courier-flush), from either of the writer's threads, never both at once.
  IntakeWriter(StoreOpener open, SpoolDir spool, Clock& clock, std::function<void(const std::vector<Event>&)> on_events,
               std::function<void()> on_spooled, int max_batch = 512,
               Micros outage_backoff = 2 * kMicrosPerSecond, Env& env = Env::Default());
  ~IntakeWriter();

  void Start();
  // Finishes what is queued, then stops the thread.
  void Stop();

  // Blocks until the intake is committed, spooled or failed.
  IntakeWrite Write(Intake intake);
  // Queues without waiting. `done`, when given, is called on the writer
  // thread with the outcome (committed, spooled or failed), exactly once.
  void WriteAsync(Intake intake, std::function<void(const IntakeWrite&)> done = nullptr);
  // Claims queued msgs (Store::ClaimQueued) inside the next batch's
  // transaction, after its intakes: courier-send's statuses and its next
  // claim share one commit. Blocks until that commit. Fails (nothing
  // claimed) when the store cannot take the batch; the batch's intakes
  // are spooled as usual. One claim per batch: a second waits for the next.
  Result<std::vector<Msg>> Claim(ClaimRequest request);

  IntakeWriterStats stats() const;

 private:
  struct Pending {
    Intake intake;
    std::promise<IntakeWrite> done;
    bool wait = true;
    std::function<void(const IntakeWrite&)> on_done;  // WriteAsync's
    void Answer(IntakeWrite w);
  };
  struct PendingClaim {
    ClaimRequest request;
    std::promise<Result<std::vector<Msg>>> done;
  };
  // A batch committed but not yet known durable.
  struct Committed {
    std::vector<std::unique_ptr<Pending>> batch;
    std::vector<Intake> intakes;  // spooled if the sync fails
    std::vector<IntakeOutcome> outcomes;
    std::vector<Event> events;
    std::unique_ptr<PendingClaim> claim;
    std::vector<Msg> claimed;
    std::shared_ptr<CommitSync> sync;  // null when the COMMIT synced by itself
  };
  void Loop();
  void SyncLoop();
  void Flush(std::vector<std::unique_ptr<Pending>>& batch, std::unique_ptr<PendingClaim> claim);
  void OpenStore(Status& failure);
  // Answers a committed (and durable) batch and publishes its events.
  void Deliver(Committed& c);
  void Spool(std::vector<std::unique_ptr<Pending>>& batch, std::vector<Intake>& intakes, const Status& why);

  StoreOpener open_;
  SpoolDir spool_;
  Clock& clock_;
  std::function<void(const std::vector<Event>&)> on_events_;
  std::function<void()> on_spooled_;
  const size_t max_batch_;
  const Micros outage_backoff_;
  Env& env_;

  std::unique_ptr<Store> store_;
  std::shared_ptr<CommitSync> commit_sync_;  // set when the store leaves the sync to us
  std::atomic<bool> sync_failed_{false};
  Micros store_down_until_ = 0;
  std::atomic<bool> outage_logged_{false};
  std::mutex spooled_mu_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  std::deque<std::unique_ptr<PendingClaim>> claims_;
  bool stopping_ = false;
  std::thread thread_;
  IntakeWriterStats stats_;

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::condition_variable sync_taken_cv_;  // to_sync_ emptied by the sync thread
  std::deque<Committed> to_sync_;
  bool sync_stopping_ = false;
  std::thread sync_thread_;
};

}  // namespace courier
