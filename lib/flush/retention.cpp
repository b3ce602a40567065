#include "flush/retention.h"

#include "core/log.h"

namespace courier {
namespace {

constexpr Micros kDay = 86400LL * kMicrosPerSecond;

std::optional<Micros> Before(Micros now, int days) {
  if (days <= 0) return std::nullopt;
  return now - days * kDay;
}

}  // namespace

Retention::Retention(const Options& options, StoreOpener opener, Clock& clock)
    : logs_days_(options.retain_logs_days),
      events_days_(options.retain_events_days),
      msgs_days_(options.retain_msgs_days),
      idempotency_hours_(options.api_idempotency_hours),
      opener_(std::move(opener)),
      clock_(clock) {}

bool Retention::enabled() const {
  return logs_days_ > 0 || events_days_ > 0 || msgs_days_ > 0 || idempotency_hours_ > 0;
}

void Retention::RunIfDue(const std::function<bool()>& stop) {
  if (!enabled() || clock_.Now() < next_due_) return;
  Status st = RunOnce(stop);
  if (!st.ok()) {
    // A fresh connection next time: this one may be what failed.
    store_.reset();
    next_due_ = clock_.Now() + kRetryAfterError;
    Log::Warn("retention failed; trying again in a minute", {{"error", st.message()}});
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = st.ToString();
  }
}

Status Retention::RunOnce(const std::function<bool()>& stop) {
  if (!store_) {
    auto opened = opener_();
    if (!opened.ok()) return opened.status();
    store_ = std::move(opened.value());
  }
  const Micros now = clock_.Now();
  PruneRequest request;
  request.logs_before = Before(now, logs_days_);
  request.events_before = Before(now, events_days_);
  request.msgs_before = Before(now, msgs_days_);
  if (idempotency_hours_ > 0) request.idempotency_before = now - idempotency_hours_ * 3600LL * kMicrosPerSecond;
  request.max_batches = kMaxBatchesPerRun;
  request.between_batches = [&stop] { return !stop(); };
  auto counts = store_->Prune(request);
  if (!counts.ok()) return counts.status();
  const PruneCounts& c = *counts;
  auto space = store_->ReclaimSpace(false);
  if (!space.ok()) return space.status();
  // Cut short by the batch limit: more is due at once (the loop replays
  // the spool first); by a stop: the daemon is going anyway.
  next_due_ = c.finished ? now + kEvery : now;
  const int64_t removed = c.logs + c.events + c.msgs + c.idempotency_keys;
  // An hourly line saying nothing was removed would only be noise.
  auto log = removed > 0 ? &Log::Info : &Log::Debug;
  log("pruned", {{"channel_logs", std::to_string(c.logs)},
                 {"events", std::to_string(c.events)},
                 {"msgs", std::to_string(c.msgs)},
                 {"idempotency_keys", std::to_string(c.idempotency_keys)},
                 {"msg_attempts", std::to_string(c.attempts)},
                 {"msg_channel_logs", std::to_string(c.msg_logs)},
                 {"batches", std::to_string(c.batches)},
                 {"more", c.finished ? "no" : "yes"},
                 {"file_bytes", std::to_string(space->file_bytes)},
                 {"free_bytes", std::to_string(space->free_bytes)}});
  std::lock_guard<std::mutex> lock(mu_);
  totals_.logs += c.logs;
  totals_.events += c.events;
  totals_.msgs += c.msgs;
  totals_.idempotency_keys += c.idempotency_keys;
  totals_.attempts += c.attempts;
  totals_.msg_logs += c.msg_logs;
  totals_.batches += c.batches;
  last_run_on_ = now;
  last_error_.clear();
  return Status::OK();
}

void Retention::Report(json::ObjectPtr status) const {
  auto r = json::NewObject();
  r->set("logs_days", logs_days_);
  r->set("events_days", events_days_);
  r->set("msgs_days", msgs_days_);
  std::lock_guard<std::mutex> lock(mu_);
  r->set("pruned_channel_logs", totals_.logs + totals_.msg_logs);
  r->set("pruned_events", totals_.events);
  r->set("pruned_msgs", totals_.msgs);
  r->set("pruned_idempotency_keys", totals_.idempotency_keys);
  json::SetTime(r, "last_run_on", last_run_on_ ? std::optional<Micros>(last_run_on_) : std::nullopt);
  json::SetNullableString(r, "last_error", last_error_);
  status->set("retention", r);
}

}  // namespace courier
