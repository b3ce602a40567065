#include "metrics/metrics.h"

#include <sys/stat.h>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <future>
#include <map>
#include <sstream>
#include <string_view>
#include <tuple>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "config/options.h"
#include "core/env.h"
#include "spool/spool.h"
#include "store/store_url.h"

namespace courier {
namespace {

// The catalog, by name. HELP text is written as it is by prometheus-cpp
// 1.0's TextSerializer, which does not escape it: no backslash and no
// newline may appear in it (metrics_test checks).
const std::vector<MetricSpec> kCatalog = {
    {"courier_up", "gauge", "Whether the daemon answered on its control socket (1) or not (0)."},
    {"courier_uptime_seconds", "gauge", "Seconds since the daemon started."},
    {"courier_writes_committed_total", "counter",
     "Intakes (webhooks' data, send statuses) the daemon's writer committed to the store."},
    {"courier_writes_spooled_total", "counter",
     "Intakes the daemon's writer put in the spool because the store could not take them."},
    {"courier_recv_requests_total", "counter", "Webhooks courier-recv answered 2xx, by outcome."},
    {"courier_recv_rejected_total", "counter", "Webhooks courier-recv answered 4xx or 5xx, by HTTP code."},
    {"courier_recv_refused_total", "counter", "Webhooks courier-recv refused (4xx), by reason."},
    {"courier_sends_total", "counter", "Sends courier-send finished, by channel and outcome."},
    {"courier_sends_interrupted_total", "counter",
     "Msgs courier-send found with an unfinished attempt at start and marked errored."},
    {"courier_flush_files_total", "counter", "Intakes of spool files courier-flush replayed into the store or moved to bad."},
    {"courier_flush_passes_total", "counter", "Passes courier-flush made over the spool."},
    {"courier_spool_files", "gauge", "Files in the spool, by state (pending: new and cur; bad; tmp)."},
    {"courier_spool_pending_intakes", "gauge", "Intakes in the spool's pending files (a file holds a writer's batch)."},
    {"courier_spool_oldest_pending_age_seconds", "gauge", "Age of the oldest pending spool file, 0 when none."},
    {"courier_spool_filesystem_free_bytes", "gauge", "Bytes free for courier on the spool's file system."},
    {"courier_store_up", "gauge", "Whether the store could be read (1) or not (0)."},
    {"courier_store_size_bytes", "gauge", "Size of the store's data (pages in use and free)."},
    {"courier_store_reclaimable_bytes", "gauge", "Free pages inside the store that prune's vacuum gives back."},
    {"courier_store_wal_size_bytes", "gauge", "Size of the SQLite store's -wal file."},
    {"courier_store_filesystem_free_bytes", "gauge", "Bytes free for courier on the SQLite store's file system."},
    {"courier_events_last_seq", "gauge", "The seq of the newest event in the store."},
    {"courier_channel_queued_msgs", "gauge", "Outgoing msgs waiting to be sent (Q, not claimed), by priority."},
    {"courier_channel_in_flight_msgs", "gauge", "Outgoing msgs claimed by a sender and not yet finished."},
    {"courier_channel_errored_msgs", "gauge", "Outgoing msgs errored (E) and waiting for a retry."},
    {"courier_channel_interrupted_msgs", "gauge",
     "Outgoing msgs errored as interrupted, outcome unknown, waiting for an operator."},
    {"courier_channel_failed_msgs", "gauge", "Outgoing msgs failed (F) and still in the store."},
    {"courier_channel_oldest_queued_age_seconds", "gauge", "Age of the oldest waiting outgoing msg, 0 when none."},
    {"courier_hook_lag_events", "gauge", "Events after the webhook's cursor, not yet acknowledged."},
    {"courier_hook_oldest_undelivered_age_seconds", "gauge", "Age of the oldest event the webhook has not acknowledged."},
    {"courier_hook_failures", "gauge", "Failed deliveries of the webhook since its last success."},
    {"courier_hook_paused", "gauge", "Whether the webhook is paused (1) or delivering (0)."},
    {"courier_hook_delivered_total", "counter", "Events the webhook's application acknowledged (2xx)."},
};

const MetricSpec& Spec(const std::string& name) {
  for (const auto& spec : kCatalog)
    if (spec.name == name) return spec;
  throw std::logic_error("metric not in the catalog: " + name);
}

// The registry of one rendering: a family is registered when its first
// series is added, so a metric with nothing to say is left out entirely.
class Exposition {
 public:
  void Set(const std::string& name, const prometheus::Labels& labels, double value) {
    const MetricSpec& spec = Spec(name);
    if (spec.type == "counter") {
      auto [it, added] = counters_.try_emplace(name, nullptr);
      if (added) it->second = &prometheus::BuildCounter().Name(name).Help(spec.help).Register(registry_);
      it->second->Add(labels).Increment(std::max(value, 0.0));
    } else {
      auto [it, added] = gauges_.try_emplace(name, nullptr);
      if (added) it->second = &prometheus::BuildGauge().Name(name).Help(spec.help).Register(registry_);
      it->second->Add(labels).Set(value);
    }
  }

  std::string Text() const {
    std::vector<prometheus::MetricFamily> families = registry_.Collect();
    // Families come in catalog order, series in label order (a family
    // keeps them in a hash map).
    auto rank = [](const std::string& name) {
      for (size_t i = 0; i < kCatalog.size(); ++i)
        if (kCatalog[i].name == name) return i;
      return kCatalog.size();
    };
    std::stable_sort(families.begin(), families.end(),
                     [&](const auto& a, const auto& b) { return rank(a.name) < rank(b.name); });
    for (auto& family : families) {
      std::sort(family.metric.begin(), family.metric.end(), [](const auto& a, const auto& b) {
        return std::lexicographical_compare(
            a.label.begin(), a.label.end(), b.label.begin(), b.label.end(),
            [](const auto& x, const auto& y) { return std::tie(x.name, x.value) < std::tie(y.name, y.value); });
      });
    }
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return out.str();
  }

 private:
  prometheus::Registry registry_;
  std::map<std::string, prometheus::Family<prometheus::Counter>*> counters_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges_;
};

double Seconds(Micros d) { return d > 0 ? static_cast<double>(d) / kMicrosPerSecond : 0.0; }

// Each integer member of `counts` as a series of `name` labelled
// `label`=member name.
void EachCount(Exposition& x, const std::string& name, const json::ObjectPtr& counts, const std::string& label,
               prometheus::Labels base = {}) {
  if (!counts) return;
  for (const auto& key : counts->getNames()) {
    if (auto n = json::GetInt(counts, key)) {
      prometheus::Labels labels = base;
      labels[label] = key;
      x.Set(name, labels, static_cast<double>(*n));
    }
  }
}

void DaemonMetrics(Exposition& x, const MetricsInput& in, const std::map<std::string, std::string>& channel_types) {
  for (const auto& [program, status] : in.daemons) {
    const prometheus::Labels who = {{"program", program}};
    x.Set("courier_up", who, status ? 1 : 0);
    if (!status) continue;
    if (auto v = json::GetInt(status, "uptime_s")) x.Set("courier_uptime_seconds", who, static_cast<double>(*v));
    if (auto v = json::GetInt(status, "committed")) x.Set("courier_writes_committed_total", who, static_cast<double>(*v));
    if (auto v = json::GetInt(status, "spooled")) x.Set("courier_writes_spooled_total", who, static_cast<double>(*v));

    if (program == "courier-recv") {
      if (auto requests = json::GetObject(status, "requests")) {
        for (const char* outcome : {"accepted", "ignored"})
          if (auto n = json::GetInt(requests, outcome))
            x.Set("courier_recv_requests_total", {{"outcome", outcome}}, static_cast<double>(*n));
      }
      EachCount(x, "courier_recv_rejected_total", json::GetObject(status, "rejected_by_code"), "code");
      EachCount(x, "courier_recv_refused_total", json::GetObject(status, "refused"), "reason");
    } else if (program == "courier-send") {
      if (auto by_channel = json::GetObject(status, "by_channel")) {
        for (const auto& channel : by_channel->getNames()) {
          auto it = channel_types.find(channel);
          EachCount(x, "courier_sends_total", json::GetObject(by_channel, channel), "outcome",
                    {{"channel", channel}, {"channel_type", it == channel_types.end() ? "" : it->second}});
        }
      }
      if (auto v = json::GetInt(status, "interrupted"))
        x.Set("courier_sends_interrupted_total", {}, static_cast<double>(*v));
    } else if (program == "courier-flush") {
      for (const char* outcome : {"flushed", "rejected"})
        if (auto n = json::GetInt(status, outcome))
          x.Set("courier_flush_files_total", {{"outcome", outcome}}, static_cast<double>(*n));
      if (auto v = json::GetInt(status, "passes")) x.Set("courier_flush_passes_total", {}, static_cast<double>(*v));
    } else if (program == "courier-hook") {
      for (const auto& hook : json::GetObjects(status, "hooks")) {
        const prometheus::Labels labels = {{"id", json::GetTextOrEmpty(hook, "id")},
                                           {"uuid", json::GetStringOrEmpty(hook, "uuid")}};
        if (auto v = json::GetNumber(hook, "lag_events")) x.Set("courier_hook_lag_events", labels, *v);
        if (auto v = json::GetNumber(hook, "oldest_undelivered_age_s"))
          x.Set("courier_hook_oldest_undelivered_age_seconds", labels, *v);
        if (auto v = json::GetNumber(hook, "failures")) x.Set("courier_hook_failures", labels, *v);
        if (auto v = json::GetBool(hook, "paused")) x.Set("courier_hook_paused", labels, *v ? 1 : 0);
        if (auto v = json::GetNumber(hook, "delivered")) x.Set("courier_hook_delivered_total", labels, *v);
      }
    }
  }
}

void StoreMetrics(Exposition& x, const MetricsInput& in) {
  x.Set("courier_store_up", {}, in.store_up ? 1 : 0);
  if (in.store_space) {
    x.Set("courier_store_size_bytes", {}, static_cast<double>(in.store_space->file_bytes));
    x.Set("courier_store_reclaimable_bytes", {}, static_cast<double>(in.store_space->free_bytes));
  }
  if (in.store_wal_bytes) x.Set("courier_store_wal_size_bytes", {}, static_cast<double>(*in.store_wal_bytes));
  if (in.store_fs_free_bytes)
    x.Set("courier_store_filesystem_free_bytes", {}, static_cast<double>(*in.store_fs_free_bytes));
  if (in.last_event_seq) x.Set("courier_events_last_seq", {}, static_cast<double>(*in.last_event_seq));
  for (const auto& q : in.queue) {
    const prometheus::Labels labels = {{"channel", q.channel_uuid}, {"channel_type", q.channel_type}};
    auto with = [&labels](const char* key, const char* value) {
      prometheus::Labels l = labels;
      l[key] = value;
      return l;
    };
    x.Set("courier_channel_queued_msgs", with("priority", "high"), static_cast<double>(q.queued_high));
    x.Set("courier_channel_queued_msgs", with("priority", "bulk"), static_cast<double>(q.queued_bulk));
    x.Set("courier_channel_in_flight_msgs", labels, static_cast<double>(q.in_flight));
    x.Set("courier_channel_errored_msgs", labels, static_cast<double>(q.retrying));
    x.Set("courier_channel_interrupted_msgs", labels, static_cast<double>(q.interrupted));
    x.Set("courier_channel_failed_msgs", labels, static_cast<double>(q.failed));
    x.Set("courier_channel_oldest_queued_age_seconds", labels,
          q.oldest_queued_on ? Seconds(in.now - q.oldest_queued_on) : 0.0);
  }
}

void SpoolMetrics(Exposition& x, const MetricsInput& in) {
  if (in.spool) {
    const SpoolSummary& spool = *in.spool;
    x.Set("courier_spool_files", {{"state", "pending"}}, static_cast<double>(spool.pending_files));
    x.Set("courier_spool_files", {{"state", "bad"}}, static_cast<double>(spool.bad));
    x.Set("courier_spool_files", {{"state", "tmp"}}, static_cast<double>(spool.tmp));
    x.Set("courier_spool_pending_intakes", {}, static_cast<double>(spool.pending_intakes));
    x.Set("courier_spool_oldest_pending_age_seconds", {},
          spool.oldest_pending_on ? Seconds(in.now - spool.oldest_pending_on) : 0.0);
  }
  if (in.spool_fs_free_bytes)
    x.Set("courier_spool_filesystem_free_bytes", {}, static_cast<double>(*in.spool_fs_free_bytes));
}

std::optional<int64_t> FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<int64_t>(st.st_size);
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// False when nobody can be listening at `endpoint`: an ipc:// socket
// file that does not exist (never bound on this host). The file a
// stopped daemon leaves behind costs the timeout.
bool MayAnswer(const std::string& endpoint) {
  constexpr std::string_view kIpc = "ipc://";
  if (endpoint.rfind(kIpc, 0) != 0) return true;
  struct stat st;
  return ::stat(endpoint.c_str() + kIpc.size(), &st) == 0;
}

// Every daemon's status, asked all at once (AskDaemons): a dead daemon
// costs one timeout, and five of them cost the same. A daemon without a
// socket file is not asked.
std::vector<std::pair<std::string, json::ObjectPtr>> DaemonStatuses(const MetricsSources& sources) {
  std::vector<DaemonQuestion> questions;
  std::vector<size_t> asked;  // index in kMetricsDaemons of each question
  for (size_t i = 0; i < kMetricsDaemons.size(); ++i) {
    const std::string endpoint = EndpointFor(sources.run_dir, kMetricsDaemons[i].endpoint);
    if (!MayAnswer(endpoint)) continue;
    questions.push_back({endpoint, "status", sources.daemon_timeout_ms});
    asked.push_back(i);
  }
  const auto answers = AskDaemons(questions);
  std::vector<std::pair<std::string, json::ObjectPtr>> out;
  for (const auto& daemon : kMetricsDaemons) out.emplace_back(daemon.program, nullptr);
  for (size_t k = 0; k < asked.size(); ++k) {
    if (!answers[k].ok()) continue;
    try {
      auto parsed = json::ParseObject(*answers[k]);
      if (parsed.ok()) out[asked[k]].second = *parsed;
    } catch (const std::exception&) {
      // an answer that cannot be read is no answer
    }
  }
  return out;
}

}  // namespace

const std::vector<MetricsDaemon> kMetricsDaemons = {
    {"courier-recv", kRecvCtl}, {"courier-send", kSendCtl}, {"courier-flush", kFlushCtl},
    {"courier-hook", kHookCtl}, {"courier-api", kApiCtl},
};

const std::vector<MetricSpec>& MetricsCatalog() { return kCatalog; }

MetricsSources MetricsSourcesFrom(const Options& options) {
  MetricsSources sources;
  sources.db = options.db;
  sources.spool_dir = options.spool_dir;
  sources.run_dir = options.run_dir;
  return sources;
}

Result<std::string> FormatMetrics(const MetricsInput& input) {
  try {
    std::map<std::string, std::string> channel_types;
    for (const auto& q : input.queue) channel_types[q.channel_uuid] = q.channel_type;
    Exposition x;
    DaemonMetrics(x, input, channel_types);
    SpoolMetrics(x, input);
    StoreMetrics(x, input);
    return x.Text();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("metrics: ") + e.what());
  }
}

namespace {

Result<std::string> Render(Store* store, const MetricsSources& sources) {
  // The daemons first, in the background: their timeout overlaps the
  // store's and the spool's reads.
  auto daemons = std::async(std::launch::async, [&sources] { return DaemonStatuses(sources); });
  MetricsInput in;
  in.now = sources.clock->Now();

  if (store != nullptr) {
    auto queue = store->Queue();
    in.store_up = queue.ok();
    if (queue.ok()) in.queue = std::move(*queue);
  }
  if (in.store_up) {
    if (auto space = store->Space(); space.ok()) in.store_space = *space;
    if (auto seq = store->LastEventSeq(); seq.ok()) in.last_event_seq = *seq;
  }
  const std::string store_file = StoreFilePath(sources.db);
  if (!store_file.empty()) {
    in.store_wal_bytes = FileSize(store_file + "-wal");
    if (auto free = Env::Default().FreeSpace(DirectoryOf(store_file)); free.ok())
      in.store_fs_free_bytes = free->available_bytes;
  }

  auto spool = SpoolDir(sources.spool_dir).Summarize();
  if (spool.read.ok()) in.spool = spool;
  if (auto free = Env::Default().FreeSpace(sources.spool_dir); free.ok())
    in.spool_fs_free_bytes = free->available_bytes;

  in.daemons = daemons.get();
  return FormatMetrics(in);
}

}  // namespace

Result<std::string> RenderMetrics(Store& store, const MetricsSources& sources) { return Render(&store, sources); }

Result<std::string> RenderMetricsWithoutStore(const MetricsSources& sources) { return Render(nullptr, sources); }

}  // namespace courier
