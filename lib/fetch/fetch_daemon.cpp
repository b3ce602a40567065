#include "fetch/fetch_daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "core/log.h"
#include "daemon/provider_client.h"
#include "daemon/store_outage.h"
#include "daemon/store_wake_relay.h"
#include "fetch/fetcher.h"
#include "handlers/registry.h"
#include "media/media_store.h"
#include "store/store_notices.h"
#include "store/store_url.h"

namespace courier {
namespace {

constexpr auto kFirstOutageWait = std::chrono::seconds(1);
constexpr auto kMaxOutageWait = std::chrono::seconds(30);
// How long an idle worker waits without a wake, and how stale the
// backlog in the status may be.
constexpr auto kIdleWait = std::chrono::seconds(2);
constexpr int kWaitSliceMs = 200;

class FetchRunner {
 public:
  FetchRunner(Daemon& daemon, const Options& options, HttpClient& http)
      : daemon_(daemon),
        options_(options),
        handlers_(HandlerRegistry::Build(options.include_channels, options.exclude_channels)),
        media_(options.media_dir),
        fetcher_(http, media_, daemon.clock(), [&options] {
          FetcherOptions f;
          f.max_bytes = static_cast<int64_t>(options.media_max_mb) << 20;
          f.refused_types = options.media_refused_types;
          f.media_url = options.EffectiveMediaUrl();
          f.first_retry = static_cast<Micros>(options.media_retry_backoff) * kMicrosPerSecond;
          f.max_attempts = options.media_max_attempts;
          return f;
        }()),
        lease_((options.media_fetch_timeout + 60) * kMicrosPerSecond),
        worker_prefix_(options.EffectiveHostName() + ":" +
                       std::to_string(::getpid()) + ":") {}

  ~FetchRunner() { Join(); }

  // Frees the leases of this host's fetchers that died (kill -9, a
  // crash): their pids are gone. Best effort: a lease not freed here
  // lapses on its own.
  void ReleaseDeadClaims(StoreConnection& store) {
    Store* s = store.Get(daemon_.stop());
    if (s == nullptr) return;
    auto claimers = s->FetchClaimers();
    if (!claimers.ok()) return;
    const std::string host = worker_prefix_.substr(0, worker_prefix_.find(':') + 1);
    for (const auto& worker : *claimers) {
      if (worker.rfind(host, 0) != 0) continue;
      const std::string rest = worker.substr(host.size());
      const auto pid = std::strtol(rest.c_str(), nullptr, 10);
      if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      auto released = s->ReleaseFetchClaims(host + std::to_string(pid) + ":");
      if (released.ok() && *released > 0)
        Log::Info("released the fetches of a fetcher gone", {{"worker", host + std::to_string(pid)},
                                                             {"fetches", std::to_string(*released)}});
    }
  }

  void Start() {
    (void)events_.Bind(EndpointFor(options_.run_dir, kFetchEvents));
    for (int i = 0; i < options_.fetch_workers; ++i) threads_.emplace_back([this, i] { Work(i); });
  }

  void WakeAll() {
    {
      std::lock_guard<std::mutex> lock(wake_mu_);
      ++wakes_;
    }
    wake_cv_.notify_all();
  }

  void Join() {
    WakeAll();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

  // At a stop, after Join: the fetches this process still holds (downloads
  // cut short) are released for the next fetcher at once.
  void ReleaseOwnClaims(StoreConnection& store) {
    Store* s = store.Get(daemon_.stop());
    if (s == nullptr) return;
    auto released = s->ReleaseFetchClaims(worker_prefix_);
    if (released.ok() && *released > 0) Log::Info("released unfinished fetches", {{"fetches", std::to_string(*released)}});
  }

  // The body's thread: the store's backlog for the status.
  void ReadBacklog(StoreConnection& store) {
    Store* s = store.Get(daemon_.stop());
    if (s == nullptr) return;
    auto backlog = s->GetFetchBacklog();
    if (!backlog.ok()) {
      store.Failed(backlog.status(), daemon_.stop());
      return;
    }
    store.Worked();
    std::lock_guard<std::mutex> lock(report_mu_);
    backlog_ = *backlog;
  }

  void Report(json::ObjectPtr o) {
    o->set("workers", options_.fetch_workers);
    o->set("in_flight", in_flight_.load());
    o->set("stored", stored_.load());
    o->set("failed", failed_.load());
    o->set("retried", retried_.load());
    auto backlog = json::NewObject();
    std::lock_guard<std::mutex> lock(report_mu_);
    backlog->set("pending", backlog_.pending);
    backlog->set("due", backlog_.due);
    backlog->set("failed", backlog_.failed);
    const Micros now = daemon_.clock().Now();
    backlog->set("oldest_pending_age_s",
                 backlog_.oldest_pending_on ? std::max<int64_t>(0, (now - *backlog_.oldest_pending_on) / kMicrosPerSecond)
                                            : 0);
    o->set("backlog", backlog);
  }

 private:
  // Waits for a wake, at most kIdleWait.
  void Idle(uint64_t seen) {
    std::unique_lock<std::mutex> lock(wake_mu_);
    wake_cv_.wait_for(lock, kIdleWait, [&] { return wakes_ != seen || daemon_.stop().stop_requested(); });
  }

  void Work(int index) {
    const std::string worker = worker_prefix_ + std::to_string(index);
    StoreConnection store(daemon_.store_opener(), StoreOutage(options_.db, kFirstOutageWait, kMaxOutageWait));
    StopToken& stop = daemon_.stop();
    while (!stop.stop_requested()) {
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(wake_mu_);
        seen = wakes_;
      }
      Store* s = store.Get(stop);
      if (s == nullptr) continue;
      auto claimed = s->ClaimFetches(worker, 1, lease_);
      if (!claimed.ok()) {
        store.Failed(claimed.status(), stop);
        continue;
      }
      store.Worked();
      if (claimed->empty()) {
        Idle(seen);
        continue;
      }
      const AttachmentFetch& fetch = claimed->front();
      auto channel = s->GetChannel(fetch.channel_uuid);
      if (!channel.ok() && !channel.status().IsNotFound()) {
        // The store failing is no reason to download without the
        // channel's credentials: the fetch is released below at a stop,
        // or its lease lapses.
        store.Failed(channel.status(), stop);
        continue;
      }
      Channel ch;
      if (channel.ok()) {
        ch = *channel;
      } else {
        // Removed since (GetChannel sees active channels only): fetched
        // without its credentials, which may still work.
        ch.uuid = fetch.channel_uuid;
        ch.type = fetch.channel_type;
      }
      ++in_flight_;
      FetchOutcome outcome = fetcher_.Fetch(fetch, ch, handlers_.Find(fetch.channel_type));
      --in_flight_;
      if (stop.stop_requested() && outcome.state != FetchState::kStored) return;  // cut short: claimed again later
      Finish(store, outcome, fetch);
    }
  }

  // Applies an outcome, waiting out a store outage: the download is done
  // and its file kept, so only a stop gives up on it (the lease then
  // lapses and it is fetched again).
  void Finish(StoreConnection& store, const FetchOutcome& outcome, const AttachmentFetch& fetch) {
    StopToken& stop = daemon_.stop();
    while (true) {
      Store* s = store.Get(stop);
      if (s == nullptr) {
        if (stop.stop_requested()) return;
        continue;
      }
      auto finished = s->FinishFetch(outcome);
      if (finished.ok() || finished.status().IsNotFound()) {
        store.Worked();
        Count(outcome, fetch, finished.ok() ? *finished : FetchFinished{});
        return;
      }
      store.Failed(finished.status(), stop);
      if (stop.stop_requested()) return;
    }
  }

  void Count(const FetchOutcome& outcome, const AttachmentFetch& fetch, const FetchFinished& finished) {
    if (!finished.applied) return;
    const std::string position = std::to_string(fetch.position), attempt = std::to_string(fetch.attempts);
    switch (outcome.state) {
      case FetchState::kStored:
        ++stored_;
        Log::Debug("attachment stored", {{"msg", fetch.msg_uuid}, {"position", position}, {"attempt", attempt},
                                         {"sha256", outcome.sha256}, {"bytes", std::to_string(outcome.size)}});
        break;
      case FetchState::kFailed:
        ++failed_;
        Log::Warn("attachment not kept", {{"msg", fetch.msg_uuid}, {"position", position}, {"attempt", attempt},
                                          {"error", outcome.error}});
        break;
      case FetchState::kPending:
        ++retried_;
        Log::Info("attachment fetch to be retried", {{"msg", fetch.msg_uuid}, {"position", position},
                                                     {"attempt", attempt}, {"error", outcome.error}});
        break;
    }
    if (finished.msg_done) events_.Publish("msg.attachments", R"({"source":"courier-fetch"})");
  }

  Daemon& daemon_;
  const Options& options_;
  HandlerRegistry handlers_;
  MediaStore media_;
  Fetcher fetcher_;
  const Micros lease_;
  const std::string worker_prefix_;
  Publisher events_;
  std::vector<std::thread> threads_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  uint64_t wakes_ = 0;
  std::atomic<int64_t> in_flight_{0}, stored_{0}, failed_{0}, retried_{0};
  std::mutex report_mu_;
  FetchBacklog backlog_;
};

}  // namespace

const DaemonSpec kFetchDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-fetch";
  spec.description = "Download incoming attachments with their providers' credentials and keep them in the media store.";
  spec.flags = {"fetch_workers", "media_dir", "media_url", "media_max_mb", "media_refused_types", "media_fetch_timeout",
                "media_retry_backoff", "media_max_attempts",
                "include_channels", "exclude_channels", "host_name", "http_timeout", "outbound_allow", "outbound_ca_file"};
  spec.control = kFetchCtl;
  // Downloads in flight are aborted at a stop and fetched again later.
  spec.grace = std::chrono::seconds(10);
  spec.store_busy_timeout_ms = 2000;
  return spec;
}();

Status RunFetch(const Options& options) {
  return RunDaemon(kFetchDaemon, options, [&options](Daemon& daemon) -> Status {
    auto http_options = ProviderClientOptions(options);
    if (!http_options.ok()) return http_options.status();
    http_options->deadline_seconds = options.media_fetch_timeout;
    http_options->max_response_bytes = options.media_max_mb << 20;
    http_options->user_agent = "courier-fetch";
    auto http = NewPocoHttpClient(*http_options);
    Status made = MakeDirs(options.media_dir);
    if (!made.ok()) return Status::IOError("media store: " + made.ToString());
    FetchRunner runner(daemon, options, *http);
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) { runner.Report(o); });
    auto store_wakes = StoreWakeRelay::ToEventWaiters(options.db, kFetchDaemon.program, kEventsChannel);
    EventWaiter events(store_wakes->Feeds(EventFeeds(options.run_dir)));
    StoreConnection backlog_store(daemon.store_opener(), StoreOutage(options.db, kFirstOutageWait, kMaxOutageWait));
    runner.ReleaseDeadClaims(backlog_store);
    runner.Start();
    Log::Info("started", {{"db", RedactStoreUrl(options.db)}, {"media_dir", options.media_dir},
                          {"media_url", options.EffectiveMediaUrl()}, {"workers", std::to_string(options.fetch_workers)}});
    StopToken& stop = daemon.stop();
    auto next_backlog = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      if (std::chrono::steady_clock::now() >= next_backlog) {
        runner.ReadBacklog(backlog_store);
        next_backlog = std::chrono::steady_clock::now() + kIdleWait;
      }
      if (events.Wait(kWaitSliceMs)) runner.WakeAll();
    }
    http->Abort();
    runner.Join();
    runner.ReleaseOwnClaims(backlog_store);
    return Status::OK();
  });
}

}  // namespace courier
