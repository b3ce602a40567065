#pragma once
// Retention as courier-flush applies it: the settings retain_logs_days,
// retain_events_days and retain_msgs_days (0: that kind is kept forever),
// and api_idempotency_hours for courier-api's Idempotency-Keys,
// turned into Store::Prune runs, at the daemon's start and then hourly,
// each followed by an incremental vacuum (store.h: ReclaimSpace(false)).
//
// A run does at most kMaxBatchesPerRun batches of 1000 rows; when there is
// more (a first run on a large store) the next run is due at once, so the
// daemon's loop replays the spool in between instead of pruning for
// minutes. Each run that removed something is logged at info with its
// counts ("pruned"); a failed run is logged (warn) and tried again a
// minute later.
//
// Thread-safety: one thread (the daemon's loop); Report() may be called
// from any thread.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "config/options.h"
#include "core/clock.h"
#include "core/json.h"
#include "store/store.h"

namespace courier {

class Retention {
 public:
  static constexpr int kMaxBatchesPerRun = 100;
  static constexpr Micros kEvery = 3600LL * kMicrosPerSecond;
  static constexpr Micros kRetryAfterError = 60LL * kMicrosPerSecond;

  Retention(const Options& options, StoreOpener opener, Clock& clock);

  // Whether any kind has a retention (else RunIfDue never does anything).
  bool enabled() const;
  // Runs once if due; `stop` is asked between batches (true: stop now).
  void RunIfDue(const std::function<bool()>& stop);
  // Adds "retention" to a status answer: the settings and the totals.
  void Report(json::ObjectPtr status) const;

 private:
  Status RunOnce(const std::function<bool()>& stop);

  const int logs_days_, events_days_, msgs_days_;
  const int idempotency_hours_;  // courier-api's keys (api_idempotency_hours)
  StoreOpener opener_;
  Clock& clock_;
  std::unique_ptr<Store> store_;
  Micros next_due_ = 0;  // 0: at the first call

  mutable std::mutex mu_;
  PruneCounts totals_;
  Micros last_run_on_ = 0;
  std::string last_error_;
};

}  // namespace courier
