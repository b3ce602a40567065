#include "recv/recv_daemon.h"

#include <unistd.h>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/daemon_start.h"
#include "handlers/registry.h"
#include "http/http_server.h"
#include "recv/channel_cache.h"
#include "intake/intake_writer.h"
#include "recv/receiver.h"

namespace courier {

int RunRecv(const Options& options, StopToken& stop) {
  Clock& clock = Clock::System();
  const Micros started = clock.Now();
  Status s = PrepareSpoolAndStore(options, clock);
  if (!s.ok()) return exit_code::kIOErr;
  SpoolDir spool(options.spool_dir);
  StoreOpener open = [&options, &clock]() { return OpenStore(options.db, clock, 2000); };

  Publisher events;
  s = events.Bind(EndpointFor(options.run_dir, kRecvEvents));
  if (!s.ok()) Log::Warn("events not published", {{"error", s.message()}});
  WakeSender flush_wake(EndpointFor(options.run_dir, kFlushWake));

  IntakeWriter writer(
      open, spool, clock,
      [&events](const std::vector<Event>& batch) {
        for (const auto& e : batch) events.Publish(e.topic, e.payload);
      },
      [&flush_wake]() { flush_wake.Wake("spooled"); });
  writer.Start();

  HandlerRegistry handlers = HandlerRegistry::Build(options.include_channels, options.exclude_channels);
  ChannelCache channels(open, clock, static_cast<Micros>(options.channel_cache_ttl) * kMicrosPerSecond);
  HttpClientOptions http_options;
  http_options.timeout_seconds = options.http_timeout;
  auto http = NewPocoHttpClient(http_options);
  ReceiverOptions receiver_options;
  receiver_options.base_url = options.EffectiveBaseUrl();
  receiver_options.spool_dir = options.spool_dir;
  receiver_options.spool_backlog_limit = options.spool_backlog_limit;
  Receiver receiver(handlers, channels, writer, *http, clock, receiver_options);

  HttpServerOptions server_options;
  server_options.address = options.address;
  server_options.port = options.port;
  server_options.max_body_bytes = options.max_body_bytes;
  HttpServer server(receiver, server_options);
  s = server.Start();
  if (!s.ok()) {
    Log::Error("cannot listen", {{"error", s.message()}});
    writer.Stop();
    return exit_code::kUnavailable;
  }

  ControlServer control;
  s = control.Start(EndpointFor(options.run_dir, kRecvCtl), [&](const std::string&) {
    const auto& c = receiver.counters();
    auto stats = writer.stats();
    auto o = json::NewObject();
    o->set("program", "courier-recv");
    o->set("pid", static_cast<int64_t>(::getpid()));
    o->set("uptime_s", (clock.Now() - started) / kMicrosPerSecond);
    o->set("address", options.address);
    o->set("port", server.port());
    auto requests = json::NewObject();
    requests->set("accepted", c.accepted.load());
    requests->set("ignored", c.ignored.load());
    requests->set("error", c.errors.load());
    requests->set("unauthorized", c.unauthorized.load());
    requests->set("not_found", c.not_found.load());
    requests->set("too_large", c.too_large.load());
    requests->set("unavailable", c.unavailable.load());
    o->set("requests", requests);
    // Every refusal by reason, whether or not its log line was let through.
    const RefusalLog& refusals = receiver.refusals();
    auto refused = json::NewObject();
    for (size_t i = 0; i < kRefusalReasons; ++i) {
      const auto reason = static_cast<RefusalReason>(i);
      refused->set(RefusalReasonName(reason), refusals.count(reason));
    }
    o->set("refused", refused);
    o->set("refusals_not_logged", refusals.not_logged());
    o->set("spooled", stats.spooled);
    o->set("committed", stats.committed);
    o->set("batches", stats.batches);
    return json::Stringify(o);
  });
  if (!s.ok()) Log::Warn("control socket unavailable", {{"error", s.message()}});

  Log::Info("listening", {{"address", options.address}, {"port", std::to_string(server.port())},
                          {"db", options.db}, {"handlers", std::to_string(handlers.handlers().size())}});
  while (!stop.WaitFor(std::chrono::milliseconds(1000))) {
  }
  // Stop taking requests, let those in progress finish (their writes are
  // in the writer's queue), then drain the writer.
  server.Stop();
  writer.Stop();
  control.Stop();
  return exit_code::kOk;
}

}  // namespace courier
