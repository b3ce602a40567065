#include "store/intake_writer.h"

#include "core/log.h"
#include "spool/intake_codec.h"

namespace courier {

IntakeWriter::IntakeWriter(StoreOpener open, SpoolDir spool, Clock& clock,
                           std::function<void(const std::vector<Event>&)> on_events, std::function<void()> on_spooled,
                           int max_batch, Micros outage_backoff)
    : open_(std::move(open)),
      spool_(std::move(spool)),
      clock_(clock),
      on_events_(std::move(on_events)),
      on_spooled_(std::move(on_spooled)),
      max_batch_(static_cast<size_t>(max_batch > 0 ? max_batch : 1)),
      outage_backoff_(outage_backoff) {}

IntakeWriter::~IntakeWriter() { Stop(); }

void IntakeWriter::Start() { thread_ = std::thread([this] { Loop(); }); }

void IntakeWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

IntakeWrite IntakeWriter::Write(Intake intake) {
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

void IntakeWriter::Flush(std::vector<std::unique_ptr<Pending>>& batch, std::unique_ptr<PendingClaim> claim) {
  // The claim is answered exactly once, whatever happens below.
  struct ClaimAnswer {
    std::unique_ptr<PendingClaim> claim;
    Result<std::vector<Msg>> result = Status::Internal("claim not run");
    ~ClaimAnswer() {
      if (claim) claim->done.set_value(std::move(result));
    }
  } answer{std::move(claim)};

  const Micros now = clock_.Now();
  if (now < store_down_until_) {
    answer.result = Status::Unavailable("store unavailable (backing off)");
    Spool(batch, Status::Unavailable("store unavailable (backing off)"));
    return;
  }
  Status failure;
  if (!store_) {
    auto opened = open_();
    if (opened.ok()) {
      store_ = std::move(opened.value());
      // Webhooks wait for this writer's commits: no checkpoints in them.
      store_->HousekeepInBackground();
    }
    else failure = opened.status();
  }
  if (store_) {
    std::vector<Intake> intakes;
    intakes.reserve(batch.size());
    for (auto& p : batch) intakes.push_back(p->intake);
    std::vector<Event> events;
    std::vector<Msg> claimed;
    auto written = answer.claim
                       ? store_->WriteIntakesAndClaim(intakes, &answer.claim->request, &claimed, &events)
                       : store_->WriteIntakes(intakes, &events);
    if (written.ok()) {
      if (answer.claim) answer.result = std::move(claimed);
      if (outage_logged_) {
        Log::Info("store available again");
        outage_logged_ = false;
      }
      int64_t committed = 0, failed = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        IntakeWrite w;
        w.outcome = std::move((*written)[i]);
        w.error = w.outcome.status;
        w.kind = w.error.ok() ? IntakeWrite::kCommitted : IntakeWrite::kFailed;
        (w.kind == IntakeWrite::kCommitted ? committed : failed)++;
        batch[i]->Answer(std::move(w));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.committed += committed;
        stats_.failed += failed;
        stats_.batches++;
      }
      if (on_events_ && !events.empty()) on_events_(events);
      return;
    }
    failure = written.status();
    // A broken connection is reopened on the next attempt.
    store_.reset();
  }
  answer.result = failure;
  store_down_until_ = clock_.Now() + outage_backoff_;
  Spool(batch, failure);
}

void IntakeWriter::Spool(std::vector<std::unique_ptr<Pending>>& batch, const Status& why) {
  if (!outage_logged_) {
    Log::Warn("store unavailable, spooling", {{"error", why.message()}});
    outage_logged_ = true;
  }
  int64_t spooled = 0, failed = 0;
  for (auto& p : batch) {
    IntakeWrite w;
    auto name = spool_.Write(EncodeIntake(p->intake), clock_.Now());
    if (name.ok()) {
      w.kind = IntakeWrite::kSpooled;
      ++spooled;
    } else {
      w.kind = IntakeWrite::kFailed;
      w.error = Status::Unavailable("store unavailable (" + why.message() + ") and spool write failed (" +
                                    name.status().message() + ")");
      Log::Error("spool write failed", {{"error", name.status().message()}});
      ++failed;
    }
    p->Answer(std::move(w));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.spooled += spooled;
    stats_.failed += failed;
    stats_.batches++;
  }
  if (spooled && on_spooled_) on_spooled_();
}

}  // namespace courier
