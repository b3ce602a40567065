#include "hook/hook_daemon.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "bus/endpoints.h"
#include "daemon/store_wake_relay.h"
#include "core/log.h"
#include "core/redact.h"
#include "daemon/store_outage.h"
#include "hook/hook_worker.h"
#include "store/store_notices.h"
#include "store/store_url.h"

namespace courier {
namespace {

constexpr auto kFirstOutageWait = std::chrono::seconds(1);
constexpr auto kMaxOutageWait = std::chrono::seconds(30);
// The body's wait on the event feeds is cut in slices this long, so a stop
// is seen soon whatever the poll interval.
constexpr int kWaitSliceMs = 200;

// One hook as the status shows it; read from the store at each reload.
struct HookReport {
  Hook hook;
  int64_t last_seq = 0;
  Micros oldest_undelivered_on = 0;  // 0: nothing after the cursor
};

class HookRunner {
 public:
  HookRunner(Daemon& daemon, const Options& options)
      : daemon_(daemon),
        store_(daemon.store_opener(), StoreOutage(options.db, kFirstOutageWait, kMaxOutageWait)) {
    worker_options_.db = options.db;
    worker_options_.poll = std::chrono::seconds(options.hook_poll_interval);
    worker_options_.http.timeout_seconds = options.hook_timeout;
    worker_options_.http.deadline_seconds = options.hook_timeout;
    worker_options_.http.outbound = OutboundPolicy::Unrestricted();
    worker_options_.http.ca_file = options.outbound_ca_file;
    worker_options_.http.user_agent = "courier-hook";
  }

  ~HookRunner() { StopAll(); }

  // Reads the hooks, starts and ends workers to match, refreshes the
  // report. False when the store could not be read (waited out already).
  bool Reload() {
    Store* store = store_.Get(daemon_.stop());
    if (store == nullptr) return false;
    auto hooks = store->ListHooks();
    auto last = hooks.ok() ? store->LastEventSeq() : Result<int64_t>(hooks.status());
    if (!hooks.ok() || !last.ok()) {
      store_.Failed(hooks.ok() ? last.status() : hooks.status(), daemon_.stop());
      return false;
    }
    std::vector<HookReport> reports;
    for (const Hook& h : *hooks) {
      HookReport r{h, *last, 0};
      if (*last > h.cursor) {
        auto first = store->EventsAfter(h.cursor, 1);
        if (!first.ok()) {
          store_.Failed(first.status(), daemon_.stop());
          return false;
        }
        if (!first->empty()) r.oldest_undelivered_on = first->front().created_on;
      }
      reports.push_back(std::move(r));
    }
    store_.Worked();

    // Workers follow the store: one per hook, gone with it.
    for (auto it = workers_.begin(); it != workers_.end();) {
      const bool listed = std::any_of(hooks->begin(), hooks->end(), [&](const Hook& h) { return h.id == it->first; });
      if (listed && !it->second->done()) {
        ++it;
        continue;
      }
      Log::Info("hook removed", {{"hook", std::to_string(it->first)}});
      it->second->Stop();
      it = workers_.erase(it);
    }
    for (const Hook& h : *hooks) {
      if (workers_.count(h.id)) continue;
      Log::Info("hook started", {{"hook", std::to_string(h.id)}, {"uuid", h.uuid},
                                 {"url", MaskUrlCredentials(h.url)}, {"cursor", std::to_string(h.cursor)},
                                 {"paused", h.paused ? "true" : "false"}});
      auto worker = std::make_unique<HookWorker>(h.id, daemon_.store_opener(), worker_options_, daemon_.clock());
      worker->Start();
      workers_.emplace(h.id, std::move(worker));
    }
    std::lock_guard<std::mutex> lock(mu_);
    reports_ = std::move(reports);
    return true;
  }

  void WakeAll() {
    for (auto& [id, worker] : workers_) worker->Wake();
  }

  void StopAll() {
    for (auto& [id, worker] : workers_) worker->Stop();
    workers_.clear();
  }

  void Report(json::ObjectPtr o) {
    const Micros now = daemon_.clock().Now();
    std::map<int64_t, int64_t> delivered;
    {
      std::lock_guard<std::mutex> lock(delivered_mu_);
      delivered = delivered_;
    }
    auto hooks = json::NewArray();
    std::lock_guard<std::mutex> lock(mu_);
    for (const HookReport& r : reports_) {
      const Hook& h = r.hook;
      auto item = HookStatusJson(h, r.last_seq, r.oldest_undelivered_on, now);
      auto d = delivered.find(h.id);
      item->set("delivered", d == delivered.end() ? 0 : d->second);
      hooks->add(item);
    }
    o->set("hooks", hooks);
  }

  // Copies the workers' counters for the control thread, which must not
  // touch workers_ (the body's).
  void CollectDelivered() {
    std::lock_guard<std::mutex> lock(delivered_mu_);
    for (auto& [id, worker] : workers_) delivered_[id] = worker->delivered();
  }

  size_t size() const { return workers_.size(); }

 private:
  Daemon& daemon_;
  StoreConnection store_;
  HookWorkerOptions worker_options_;
  std::map<int64_t, std::unique_ptr<HookWorker>> workers_;  // the body's thread only
  std::mutex mu_;
  std::vector<HookReport> reports_;
  std::mutex delivered_mu_;
  std::map<int64_t, int64_t> delivered_;
};

}  // namespace

const DaemonSpec kHookDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-hook";
  spec.description = "Deliver the store's events to the applications' webhooks, in order, at least once.";
  spec.flags = {"hook_poll_interval", "hook_timeout", "outbound_ca_file"};
  spec.control = kHookCtl;
  // A POST in flight is aborted at a stop (and posted again later): the
  // stop itself is quick.
  spec.grace = std::chrono::seconds(10);
  spec.store_busy_timeout_ms = 2000;
  return spec;
}();

Status RunHook(const Options& options) {
  return RunDaemon(kHookDaemon, options, [&options](Daemon& daemon) -> Status {
    HookRunner runner(daemon, options);
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) {
      o->set("poll_interval_s", options.hook_poll_interval);
      o->set("timeout_s", options.hook_timeout);
      runner.Report(o);
    });
    // On PostgreSQL, events written on other hosts wake it as this host's
    // event feeds do.
    auto store_wakes = StoreWakeRelay::ToEventWaiters(options.db, kHookDaemon.program, kEventsChannel);
    EventWaiter events(store_wakes->Feeds(EventFeeds(options.run_dir)));
    Log::Info("started", {{"db", RedactStoreUrl(options.db)}, {"poll_interval_s", std::to_string(options.hook_poll_interval)},
                          {"timeout_s", std::to_string(options.hook_timeout)}});
    const auto poll = std::chrono::seconds(options.hook_poll_interval);
    StopToken& stop = daemon.stop();
    while (!stop.stop_requested()) {
      runner.Reload();
      runner.WakeAll();
      const auto next_reload = std::chrono::steady_clock::now() + poll;
      while (!stop.stop_requested() && std::chrono::steady_clock::now() < next_reload) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_reload - std::chrono::steady_clock::now());
        if (events.Wait(static_cast<int>(std::clamp<int64_t>(left.count(), 1, kWaitSliceMs)))) runner.WakeAll();
        runner.CollectDelivered();
      }
    }
    runner.StopAll();
    return Status::OK();
  });
}

}  // namespace courier
