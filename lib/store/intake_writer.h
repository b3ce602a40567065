#pragma once
// IntakeWriter: the one writer between many threads (courier-recv's
// request threads, courier-send's senders) and the store. Requests hand it their Intake and block until it is durable;
// the writer commits every pending intake together (group commit: one
// transaction and one fsync per batch), so under load a batch forms by
// itself and when idle a batch is a single request.
//
// Durability (invariant 1): Write() returns kCommitted only after the
// store's COMMIT (WAL, synchronous=FULL), kSpooled only after the spool
// file and its directory entry are fsynced. When neither is possible it
// returns kFailed and the caller must answer non-2xx so the provider
// retries.
//
// When the store fails, the writer spools for `outage_backoff` before it
// tries the store again, so an outage costs each request one fsync, not a
// busy timeout.
//
// Thread-safety: Write() and Claim() from any number of threads;
// Start/Stop from one.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "core/clock.h"
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
};

class IntakeWriter {
 public:
  // `on_events` is called on the writer thread after each commit;
  // `on_spooled` after intakes were spooled (to wake courier-flush).
  IntakeWriter(StoreOpener open, SpoolDir spool, Clock& clock, std::function<void(const std::vector<Event>&)> on_events,
               std::function<void()> on_spooled, int max_batch = 512,
               Micros outage_backoff = 2 * kMicrosPerSecond);
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
  void Loop();
  void Flush(std::vector<std::unique_ptr<Pending>>& batch, std::unique_ptr<PendingClaim> claim);
  void Spool(std::vector<std::unique_ptr<Pending>>& batch, const Status& why);

  StoreOpener open_;
  SpoolDir spool_;
  Clock& clock_;
  std::function<void(const std::vector<Event>&)> on_events_;
  std::function<void()> on_spooled_;
  const size_t max_batch_;
  const Micros outage_backoff_;

  std::unique_ptr<Store> store_;
  Micros store_down_until_ = 0;
  bool outage_logged_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Pending>> queue_;
  std::deque<std::unique_ptr<PendingClaim>> claims_;
  bool stopping_ = false;
  std::thread thread_;
  IntakeWriterStats stats_;
};

}  // namespace courier
