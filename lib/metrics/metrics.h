#pragma once
// The whole pipeline as Prometheus metrics, in the text exposition format
// (version 0.0.4): what courier-api serves on GET /metrics and what
// `courier-ctl metrics` prints (for node_exporter's textfile collector).
//
// One rendering reads, each at that moment:
//   - the store: per active channel the queue (queued by priority, in
//     flight, errored, interrupted, failed, the oldest queued msg's age),
//     the store's size, its reclaimable pages, the last event seq; for a
//     SQLite store also the -wal file and the free space of its file
//     system;
//   - the spool directory: files pending (new/ and cur/), bad and
//     unfinished (tmp/), the oldest pending file's age, free space;
//   - every daemon's control socket in the run dir (recv-ctl, send-ctl,
//     flush-ctl, hook-ctl, api-ctl), all asked at once with a short
//     timeout (none for an ipc socket file that is not there, as when a
//     daemon is not run on this host): courier_up 1 or 0 for each, and
//     the counters its status
//     carries (webhooks by outcome and refusal code, sends by channel and
//     outcome, spool files flushed, each webhook's lag).
// A part that cannot be read leaves its metrics out (and says so where a
// metric exists for it: courier_store_up, courier_up); the rest is still
// rendered, because a scrape that fails entirely hides what still works.
// Counters come from the daemons' process-lifetime counts: they restart at
// 0 when a daemon restarts, which Prometheus's rate() expects.
//
// Every metric is listed in MetricsCatalog() (name, type, help) and in
// courier-ctl(1). Series within a metric are sorted by their labels, so
// the same state renders the same text.
//
// Thread-safety: RenderMetrics uses `store` from the calling thread only
// (a Store is single-threaded); any number of renderings may run at once
// with a store each.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "spool/spool.h"
#include "store/store.h"

namespace courier {

struct Options;

// Where a rendering looks, besides the store it is given.
struct MetricsSources {
  std::string db;         // the store url: its file's size and free space ("" or postgresql://: none)
  std::string spool_dir;
  std::string run_dir;    // where the daemons' control sockets are (bus/endpoints.h)
  // How long each daemon gets to answer; they are asked in parallel, so
  // a rendering with daemons dead takes about this long, not five times it.
  int daemon_timeout_ms = 250;
  Clock* clock = &Clock::System();
};

// The sources named by the options every courier program loads.
MetricsSources MetricsSourcesFrom(const Options& options);

// The text exposition of the pipeline's state now. Errors only when the
// text cannot be built at all (Internal); parts that cannot be read are
// left out as described above.
Result<std::string> RenderMetrics(Store& store, const MetricsSources& sources);
// The same when the store cannot even be opened: courier_store_up 0 and
// no store metrics, everything else as usual.
Result<std::string> RenderMetricsWithoutStore(const MetricsSources& sources);

// The content type to serve the text with.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// What one rendering read, before it becomes text; what RenderMetrics
// collects, for tests to render any state.
struct MetricsInput {
  Micros now = 0;
  // The store: up when the queue could be read.
  bool store_up = false;
  std::vector<QueueSummary> queue;
  std::optional<StoreSpace> store_space;
  std::optional<int64_t> last_event_seq;
  std::optional<int64_t> store_wal_bytes;
  std::optional<int64_t> store_fs_free_bytes;
  // The spool.
  std::optional<SpoolSummary> spool;  // absent when a directory could not be listed
  std::optional<int64_t> spool_fs_free_bytes;
  // Each daemon's status answer by program ("courier-recv"), null when it
  // did not answer; every program of kMetricsDaemons is present.
  std::vector<std::pair<std::string, json::ObjectPtr>> daemons;
};

// The daemons asked, by program and control endpoint name.
struct MetricsDaemon {
  const char* program;
  const char* endpoint;
};
extern const std::vector<MetricsDaemon> kMetricsDaemons;

// The text of `input`: Internal when prometheus-cpp refuses (a bug).
Result<std::string> FormatMetrics(const MetricsInput& input);

// Every metric a rendering may contain.
struct MetricSpec {
  std::string name;
  std::string type;  // "gauge" or "counter"
  std::string help;
};
const std::vector<MetricSpec>& MetricsCatalog();

}  // namespace courier
