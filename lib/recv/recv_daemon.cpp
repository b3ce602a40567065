#include "recv/recv_daemon.h"
#include "store/store_url.h"

#include "bus/endpoints.h"
#include "core/log.h"
#include "handlers/registry.h"
#include "daemon/http_listener.h"
#include "daemon/provider_client.h"
#include "http/http_server.h"
#include "recv/channel_cache.h"
#include "recv/receiver.h"

namespace courier {

const DaemonSpec kRecvDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-recv";
  spec.description = "Receive provider webhooks into the courier store (or the spool when it is down).";
  spec.flags = {"address", "port", "base_url", "max_body_bytes", "channel_cache_ttl", "spool_backlog_limit",
                "health_min_free_mb", "spool_reserve_mb", "include_channels", "exclude_channels",
                "request_read_timeout", "max_connections", "max_connections_per_ip", "duplicate_window",
                "outbound_allow"};
  spec.control = kRecvCtl;
  spec.events = kRecvEvents;
  // A webhook waits for its write: better spooled soon than held long.
  spec.store_busy_timeout_ms = 2000;
  return spec;
}();

Status RunRecv(const Options& options) {
  return RunDaemon(kRecvDaemon, options, [&options](Daemon& daemon) -> Status {
    HandlerRegistry handlers = HandlerRegistry::Build(options.include_channels, options.exclude_channels);
    ChannelCache channels(daemon.store_opener(), daemon.clock(),
                          static_cast<Micros>(options.channel_cache_ttl) * kMicrosPerSecond);
    // Token fetches and media downloads on a channel's behalf: the same
    // outbound policy and deadline as courier-send's.
    auto http_options = ProviderClientOptions(options);
    if (!http_options.ok()) return http_options.status();
    auto http = NewPocoHttpClient(*http_options);
    ReceiverOptions receiver_options;
    receiver_options.base_url = options.EffectiveBaseUrl();
    receiver_options.spool_dir = options.spool_dir;
    receiver_options.spool_backlog_limit = options.spool_backlog_limit;
    receiver_options.store_path = StoreFilePath(options.db);
    receiver_options.health_min_free_mb = options.health_min_free_mb;
    receiver_options.spool_reserve_mb = options.spool_reserve_mb;
    receiver_options.duplicate_window = static_cast<Micros>(options.duplicate_window) * kMicrosPerSecond;
    Receiver receiver(handlers, channels, *daemon.writer(), *http, daemon.clock(), receiver_options);
    const HttpServerOptions server_options = HttpServerOptionsFrom(
        options, {options.address, options.port, options.max_body_bytes}, kRecvDaemon.grace);
    HttpServer server(receiver, server_options);
    Status s = server.Start();
    if (!s.ok()) {
      Log::Error("cannot listen", {{"error", s.message()}});
      return Status::Unavailable("cannot listen: " + s.message());
    }
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) {
      const ReceiverCounters& c = receiver.counters();
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
      // Refused webhooks by the code they were answered: {"400": 3, "503": 1}.
      auto rejected = json::NewObject();
      for (size_t i = 0; i < c.rejected_by_code.size(); ++i) {
        if (const int64_t n = c.rejected_by_code[i].load(std::memory_order_relaxed))
          rejected->set(std::to_string(ReceiverCounters::kFirstRejectedCode + static_cast<int>(i)), n);
      }
      o->set("rejected_by_code", rejected);
      // Every refusal by reason, whether or not its log line was let through.
      const RefusalLog& refusals = receiver.refusals();
      auto refused = json::NewObject();
      for (size_t i = 0; i < kRefusalReasons; ++i) {
        const auto reason = static_cast<RefusalReason>(i);
        refused->set(RefusalReasonName(reason), refusals.count(reason));
      }
      o->set("refused", refused);
      o->set("refusals_not_logged", refusals.not_logged());
    });
    Log::Info("listening", {{"address", options.address}, {"port", std::to_string(server.port())},
                            {"db", RedactStoreUrl(options.db)}, {"handlers", std::to_string(handlers.handlers().size())}});
    while (!daemon.stop().WaitFor(std::chrono::hours(1))) {
    }
    // Stop taking requests and let those in progress finish; then drain
    // the writer here rather than leave it to the skeleton, because the
    // writes still queued answer their requests through the receiver.
    server.Stop();
    daemon.writer()->Stop();
    return Status::OK();
  });
}

}  // namespace courier
