#include "intake/intake_writer.h"

#include <pthread.h>

#include <set>

#include "core/log.h"
#include "intake/intake_text.h"
#include "spool/intake_codec.h"

namespace courier {

IntakeWriter::IntakeWriter(StoreOpener open, SpoolDir spool, Clock& clock,
                           std::function<void(const std::vector<Event>&)> on_events, std::function<void()> on_spooled,
                           int max_batch, Micros outage_backoff, Env& env)
    : open_(std::move(open)),
      spool_(std::move(spool)),
      clock_(clock),
      on_events_(std::move(on_events)),
      on_spooled_(std::move(on_spooled)),
      max_batch_(static_cast<size_t>(max_batch > 0 ? max_batch : 1)),
      outage_backoff_(outage_backoff),
      env_(env) {}

IntakeWriter::~IntakeWriter() { Stop(); }

void IntakeWriter::Start() {
  sync_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "intake-sync");
    SyncLoop();
  });
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "intake-writer");
    Loop();
  });
}

void IntakeWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The writer is done: whatever it committed is synced and answered.
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    sync_stopping_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

IntakeWrite IntakeWriter::Write(Intake intake) {
  RepairUtf8(intake);  // on the caller's thread: the writer's is the bottleneck
  auto pending = std::make_unique<Pending>();
  pending->intake = std::move(intake);
  auto future = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      IntakeWrite w;
      w.error = Status::Unavailable("shutting down");
      return w;
    }
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return future.get();
}

void IntakeWriter::Pending::Answer(IntakeWrite w) {
  if (on_done) {
    try {
      on_done(w);
    } catch (const std::exception&) {
      // A callback's failure is its own; the writer goes on.
    }
  }
  done.set_value(std::move(w));
}

void IntakeWriter::WriteAsync(Intake intake, std::function<void(const IntakeWrite&)> done) {
  RepairUtf8(intake);
  auto pending = std::make_unique<Pending>();
  pending->intake = std::move(intake);
  pending->wait = false;
  pending->on_done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(pending));
  }
  cv_.notify_one();
}

Result<std::vector<Msg>> IntakeWriter::Claim(ClaimRequest request) {
  auto pending = std::make_unique<PendingClaim>();
  pending->request = std::move(request);
  auto future = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return Status::Unavailable("shutting down");
    claims_.push_back(std::move(pending));
  }
  cv_.notify_one();
  return future.get();
}

IntakeWriterStats IntakeWriter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void IntakeWriter::Loop() {
  while (true) {
    std::vector<std::unique_ptr<Pending>> batch;
    std::unique_ptr<PendingClaim> claim;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !claims_.empty(); });
      if (queue_.empty() && claims_.empty() && stopping_) return;
    }
    {
      // One batch ahead of the disk at most (see the header); the sync
      // thread always empties to_sync_, also while stopping.
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_taken_cv_.wait(lock, [this] { return to_sync_.empty(); });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!claims_.empty()) {
        claim = std::move(claims_.front());
        claims_.pop_front();
      }
    }
    // Never leave a waiting thread waiting forever: whatever Flush did not
    // answer is answered with the error.
    try {
      Flush(batch, std::move(claim));
    } catch (const std::exception& e) {
      for (auto& p : batch) {
        if (!p) continue;
        IntakeWrite w;
        w.error = Status::Internal(e.what());
        try {
          p->Answer(w);
        } catch (const std::future_error&) {
          // already answered
        }
      }
    }
  }
}

void IntakeWriter::OpenStore(Status& failure) {
  auto opened = open_();
  if (!opened.ok()) {
    failure = opened.status();
    return;
  }
  store_ = std::move(opened.value());
  // Webhooks wait for this writer's commits: no checkpoints in them.
  store_->HousekeepInBackground();
  commit_sync_.reset();
  auto sync = store_->LeaveSyncToCaller(env_);
  if (sync.ok()) commit_sync_ = std::move(sync).value();
}

void IntakeWriter::Flush(std::vector<std::unique_ptr<Pending>>& batch, std::unique_ptr<PendingClaim> claim) {
  // The claim is answered exactly once, whatever happens below, unless it
  // is handed on to the sync thread with its batch.
  struct ClaimAnswer {
    std::unique_ptr<PendingClaim> claim;
    Result<std::vector<Msg>> result = Status::Internal("claim not run");
    ~ClaimAnswer() {
      if (claim) claim->done.set_value(std::move(result));
    }
  } answer{std::move(claim)};

  std::vector<Intake> intakes;
  intakes.reserve(batch.size());
  for (auto& p : batch) intakes.push_back(std::move(p->intake));

  if (sync_failed_.exchange(false)) {
    // The disk refused a sync: what the connection wrote since may not be
    // there. Start again from a fresh connection.
    store_.reset();
  }
  const Micros now = clock_.Now();
  if (now < store_down_until_) {
    answer.result = Status::Unavailable("store unavailable (backing off)");
    Spool(batch, intakes, Status::Unavailable("store unavailable (backing off)"));
    return;
  }
  Status failure;
  if (!store_) OpenStore(failure);
  if (store_) {
    std::vector<Event> events;
    std::vector<Msg> claimed;
    auto written = answer.claim
                       ? store_->WriteIntakesAndClaim(intakes, &answer.claim->request, &claimed, &events)
                       : store_->WriteIntakes(intakes, &events);
    if (written.ok()) {
      if (outage_logged_) {
        Log::Info("store available again");
        outage_logged_ = false;
      }
      Committed c;
      c.batch = std::move(batch);
      c.intakes = std::move(intakes);
      c.outcomes = std::move(*written);
      c.events = std::move(events);
      c.claim = std::move(answer.claim);
      c.claimed = std::move(claimed);
      // Answers and events all leave from the sync thread, in commit order;
      // a COMMIT that synced by itself (no CommitSync) is not synced again.
      c.sync = commit_sync_;
      {
        std::lock_guard<std::mutex> lock(sync_mu_);
        to_sync_.push_back(std::move(c));
      }
      sync_cv_.notify_one();
      return;
    }
    failure = written.status();
    // A broken connection is reopened on the next attempt.
    store_.reset();
  }
  answer.result = failure;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.store_failed_on = clock_.Now();
    stats_.store_error = failure.message();
  }
  store_down_until_ = clock_.Now() + outage_backoff_;
  Spool(batch, intakes, failure);
}

void IntakeWriter::Deliver(Committed& c) {
  if (c.claim) c.claim->done.set_value(std::move(c.claimed));
  int64_t committed = 0, failed = 0;
  for (size_t i = 0; i < c.batch.size(); ++i) {
    IntakeWrite w;
    w.outcome = std::move(c.outcomes[i]);
    w.error = w.outcome.status;
    w.kind = w.error.ok() ? IntakeWrite::kCommitted : IntakeWrite::kFailed;
    (w.kind == IntakeWrite::kCommitted ? committed : failed)++;
    c.batch[i]->Answer(std::move(w));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.committed += committed;
    stats_.failed += failed;
    stats_.batches++;
    if (committed > 0) stats_.durable_on = clock_.Now();
  }
  if (on_events_ && !c.events.empty()) on_events_(c.events);
}

void IntakeWriter::SyncLoop() {
  for (;;) {
    std::deque<Committed> work;
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_cv_.wait(lock, [this] { return sync_stopping_ || !to_sync_.empty(); });
      if (to_sync_.empty()) return;  // stopping, all answered
      work.swap(to_sync_);
    }
    sync_taken_cv_.notify_all();
    // One sync makes every batch committed so far on its connection durable.
    Status synced;
    std::set<const CommitSync*> done;
    for (const auto& c : work) {
      if (!c.sync || !done.insert(c.sync.get()).second) continue;
      Status s = c.sync->Sync();
      if (!s.ok()) synced = s;
    }
    for (auto& c : work) {
      try {
        if (synced.ok()) {
          Deliver(c);
          continue;
        }
        Log::Error("store commit not durable, spooling the batch", {{"error", synced.message()}});
        sync_failed_ = true;
        if (c.claim) c.claim->done.set_value(Status::Unavailable(synced.message()));
        c.claim.reset();
        Spool(c.batch, c.intakes, synced);
      } catch (const std::exception& e) {
        Log::Error("answering a committed batch failed", {{"error", e.what()}});
      }
    }
  }
}

void IntakeWriter::Spool(std::vector<std::unique_ptr<Pending>>& batch, std::vector<Intake>& intakes,
                         const Status& why) {
  if (!outage_logged_) {
    Log::Warn("store unavailable, spooling", {{"error", why.message()}});
    outage_logged_ = true;
  }
  int64_t spooled = 0, failed = 0;
  Status spool_failure;
  // One file for the batch: two fsyncs whatever its size. The flusher
  // still settles each intake alone (a refused one goes to bad/ by itself).
  std::vector<std::string> bodies;
  bodies.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) bodies.push_back(EncodeIntake(intakes[i]));
  Result<std::string> name = spool_.WriteBatch(bodies, clock_.Now());
  // The answers go out only after the stats say what happened: a monitor
  // that reads /status after its webhook was refused must see the refusal.
  std::vector<IntakeWrite> writes(batch.size());
  if (name.ok()) {
    spooled = static_cast<int64_t>(batch.size());
    for (auto& w : writes) w.kind = IntakeWrite::kSpooled;
  } else {
    failed = static_cast<int64_t>(batch.size());
    spool_failure = name.status();
    Log::Error("spool write failed", {{"error", name.status().message()}, {"intakes", std::to_string(batch.size())}});
    for (auto& w : writes) {
      w.kind = IntakeWrite::kFailed;
      w.error = Status::Unavailable("store unavailable (" + why.message() + ") and spool write failed (" +
                                    name.status().message() + ")");
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.spooled += spooled;
    stats_.failed += failed;
    stats_.batches++;
    if (spooled > 0) stats_.durable_on = clock_.Now();
    if (!spool_failure.ok()) {
      stats_.spool_failed_on = clock_.Now();
      stats_.spool_error = spool_failure.message();
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->Answer(std::move(writes[i]));
  if (spooled && on_spooled_) {
    std::lock_guard<std::mutex> lock(spooled_mu_);  // the writer and the sync thread both spool
    on_spooled_();
  }
}

}  // namespace courier
