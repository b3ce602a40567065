#include "api/api_daemon.h"

#include <algorithm>

#include "api/api_events.h"
#include "api/api_service.h"
#include "api/long_polls.h"
#include "bus/bus.h"
#include "bus/endpoints.h"
#include "daemon/store_wake_relay.h"
#include "core/log.h"
#include "daemon/http_listener.h"
#include "handlers/registry.h"
#include "http/http_server.h"
#include "store/store_notices.h"
#include "store/store_url.h"

namespace courier {

const DaemonSpec kApiDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-api";
  spec.description = "Serve the applications' HTTP API: send msgs, read msgs, events and channels.";
  spec.flags = {"api_address", "api_port", "api_max_body_bytes", "api_workers", "api_max_long_polls",
                "request_read_timeout", "max_connections", "max_connections_per_ip", "media_dir"};
  spec.control = kApiCtl;
  // A request waits for its write: a short wait, then 503 and the
  // application's retry, rather than a connection held for long.
  spec.store_busy_timeout_ms = 2000;
  return spec;
}();

Status RunApi(const Options& options) {
  return RunDaemon(kApiDaemon, options, [&options](Daemon& daemon) -> Status {
    // courier-recv's port faces the internet; the API must not share it.
    if (options.api_port != 0 && options.api_port == options.port &&
        (options.api_address == options.address || options.api_address == "0.0.0.0" ||
         options.address == "0.0.0.0")) {
      const std::string why = "api_port " + std::to_string(options.api_port) +
                              " is courier-recv's port: courier-api needs a listener of its own";
      Log::Error("cannot start", {{"error", why}});
      return Status::Usage(why);
    }
    HandlerRegistry handlers = HandlerRegistry::Build();
    LongPollOptions poll_options;
    // On PostgreSQL, events written on other hosts answer long polls at
    // once too (store notices); declared first, it outlives the long polls.
    auto store_wakes = StoreWakeRelay::ToEventWaiters(options.db, kApiDaemon.program, kEventsChannel);
    poll_options.feeds =
        store_wakes->Feeds({EndpointFor(options.run_dir, kRecvEvents), EndpointFor(options.run_dir, kSendEvents)});
    poll_options.max_waiting = options.api_max_long_polls;
    LongPolls long_polls(daemon.store_opener(), poll_options);
    long_polls.Start();

    std::mutex wake_mu;
    WakeSender send_wake(EndpointFor(options.run_dir, kSendWake));
    ApiServiceOptions api_options;
    api_options.max_body_bytes = options.api_max_body_bytes;
    api_options.media_dir = options.media_dir;
    api_options.workers = options.api_workers;
    api_options.wake_sender = [&] {
      std::lock_guard<std::mutex> lock(wake_mu);
      send_wake.Wake("queued");
    };
    ApiEvents api_events;
    Status bound = api_events.Bind(EndpointFor(options.run_dir, kApiEvents));
    if (!bound.ok()) Log::Warn("events not published", {{"error", bound.message()}});
    api_options.events_committed = [&api_events](const std::string& topic) { api_events.Committed(topic); };
    api_options.metrics = MetricsSourcesFrom(options);
    api_options.secret_keys = [&handlers](const std::string& type) {
      std::set<std::string> keys;
      if (const ChannelTypeInfo* info = handlers.FindType(type))
        for (const auto& key : info->config)
          if (key.secret) keys.insert(key.name);
      return keys;
    };
    ApiService service(daemon.store_opener(), long_polls, api_options);

    const HttpServerOptions server_options = HttpServerOptionsFrom(
        options, {options.api_address, options.api_port, options.api_max_body_bytes}, kApiDaemon.grace);
    HttpServer server(service, server_options);
    Status s = server.Start();
    if (!s.ok()) {
      long_polls.Stop();
      Log::Error("cannot listen", {{"error", s.message()}});
      return Status::Unavailable("cannot listen: " + s.message());
    }
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) {
      o->set("address", options.api_address);
      o->set("port", server.port());
      o->set("long_polls_waiting", static_cast<int64_t>(long_polls.waiting()));
      o->set("requests", service.Counts());
    });
    Log::Info("listening", {{"address", options.api_address}, {"port", std::to_string(server.port())},
                            {"db", RedactStoreUrl(options.db)}});
    while (!daemon.stop().WaitFor(std::chrono::hours(1))) {
    }
    // Long polls first: they are answered (with what the store has) so the
    // server's drain does not wait out their deadlines.
    long_polls.Stop();
    server.Stop();
    service.Stop();
    return Status::OK();
  });
}

}  // namespace courier
