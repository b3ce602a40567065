#include "send/send_daemon.h"

#include <unistd.h>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/daemon_start.h"
#include "handlers/registry.h"
#include "send/sender.h"
#include "intake/intake_writer.h"

namespace courier {
namespace {

std::string HostName() {
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

int RunSend(const Options& options, StopToken& stop) {
  Clock& clock = Clock::System();
  const Micros started = clock.Now();
  Status s = PrepareSpoolAndStore(options, clock);
  if (!s.ok()) return exit_code::kIOErr;
  SpoolDir spool(options.spool_dir);
  StoreOpener open = [&options, &clock]() { return OpenStore(options.db, clock); };

  Publisher events;
  s = events.Bind(EndpointFor(options.run_dir, kSendEvents));
  if (!s.ok()) Log::Warn("events not published", {{"error", s.message()}});
  WakeSender flush_wake(EndpointFor(options.run_dir, kFlushWake));
  IntakeWriter writer(
      open, spool, clock,
      [&events](const std::vector<Event>& batch) {
        for (const auto& e : batch) events.Publish(e.topic, e.payload);
      },
      [&flush_wake]() { flush_wake.Wake("spooled"); });
  writer.Start();

  WakeReceiver wake;
  s = wake.Bind(EndpointFor(options.run_dir, kSendWake));
  if (!s.ok()) Log::Warn("wakes not received, polling only", {{"error", s.message()}});

  HandlerRegistry handlers = HandlerRegistry::Build(options.include_channels, options.exclude_channels);
  HttpClientOptions http_options;
  http_options.timeout_seconds = options.http_timeout;
  auto http = NewPocoHttpClient(http_options);
  SenderOptions sender_options;
  sender_options.worker = HostName() + ":" + std::to_string(::getpid());
  sender_options.max_workers = options.max_workers;
  sender_options.max_retries = options.max_retries;
  sender_options.retry_backoff_s = options.retry_backoff;
  sender_options.base_url = options.EffectiveBaseUrl();
  Sender sender(open, handlers, writer, *http, clock, sender_options);

  ControlServer control;
  s = control.Start(EndpointFor(options.run_dir, kSendCtl), [&](const std::string&) {
    SenderSnapshot snap = sender.Snapshot();
    auto o = json::NewObject();
    o->set("program", "courier-send");
    o->set("pid", static_cast<int64_t>(::getpid()));
    o->set("uptime_s", (clock.Now() - started) / kMicrosPerSecond);
    o->set("worker", sender_options.worker);
    o->set("max_workers", options.max_workers);
    auto in_flight = json::NewObject();
    for (const auto& [channel, n] : snap.in_flight) in_flight->set(channel, n);
    o->set("in_flight", in_flight);
    o->set("sent", snap.sent);
    o->set("errored", snap.errored);
    o->set("failed", snap.failed);
    o->set("throttled", snap.throttled);
    o->set("interrupted", snap.interrupted);
    auto stats = writer.stats();
    o->set("spooled", stats.spooled);
    o->set("committed", stats.committed);
    o->set("batches", stats.batches);
    return json::Stringify(o);
  });
  if (!s.ok()) Log::Warn("control socket unavailable", {{"error", s.message()}});

  Log::Info("sending", {{"db", options.db}, {"workers", std::to_string(options.max_workers)},
                        {"worker", sender_options.worker}});
  if (options.max_workers == 0) {
    Log::Info("max_workers is 0: sending disabled");
    stop.WaitFor(std::chrono::hours(24 * 365));
  } else {
    s = sender.Run(stop, wake);
    if (!s.ok()) Log::Error("sender stopped", {{"error", s.message()}});
  }
  writer.Stop();
  control.Stop();
  return s.ok() ? exit_code::kOk : exit_code::kUnavailable;
}

}  // namespace courier
