// courier-ctl metrics: the Prometheus text of metrics/metrics.h, for
// node_exporter's textfile collector or a look by hand (ctl.h).
#include <iostream>

#include "ctl/ctl.h"
#include "metrics/metrics.h"

namespace courier {

int Ctl::Metrics() {
  MetricsSources sources = MetricsSourcesFrom(options_);
  sources.clock = &clock_;
  auto store = OpenExisting(StoreAccess::kReadOnly);
  // A store that cannot be opened is what courier_store_up 0 reports: the
  // text is still printed, with the spool and the daemons.
  if (!store.ok()) err_ << "courier-ctl: " << store.status().message() << '\n';
  auto text = store.ok() ? RenderMetrics(**store, sources) : RenderMetricsWithoutStore(sources);
  if (!text.ok()) return Report(text.status());
  out_ << *text;
  out_.flush();
  return out_ ? exit_code::kOk : exit_code::kIOErr;
}

}  // namespace courier
