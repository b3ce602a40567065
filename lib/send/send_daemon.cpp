#include "send/send_daemon.h"

#include <unistd.h>

#include "bus/endpoints.h"
#include "daemon/store_wake_relay.h"
#include "core/log.h"
#include "daemon/provider_client.h"
#include "handlers/registry.h"
#include "send/sender.h"
#include "store/store_notices.h"
#include "store/store_url.h"

namespace courier {

const DaemonSpec kSendDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-send";
  spec.description = "Send queued msgs through their providers, fairly and at most once.";
  spec.flags = {"max_workers", "base_url", "max_retries", "retry_backoff", "send_grace", "heartbeat_timeout", "host_name", "http_timeout",
                "http_deadline", "outbound_allow", "outbound_ca_file",
                "include_channels", "exclude_channels", "media_url", "api_address", "api_port"};
  spec.control = kSendCtl;
  spec.wake = kSendWake;
  spec.events = kSendEvents;
  return spec;
}();

Status RunSend(const Options& options) {
  DaemonSpec spec = kSendDaemon;
  // The supervisor's patience must exceed this (see courier-send(8)).
  spec.grace = std::chrono::seconds(options.send_grace + 5);
  return RunDaemon(spec, options, [&options](Daemon& daemon) -> Status {
    HandlerRegistry handlers = HandlerRegistry::Build(options.include_channels, options.exclude_channels);
    auto http_options = ProviderClientOptions(options);
    if (!http_options.ok()) return http_options.status();
    auto http = NewPocoHttpClient(*http_options);
    SenderOptions sender_options;
    sender_options.worker = options.EffectiveHostName() + ":" + std::to_string(::getpid());
    sender_options.max_workers = options.max_workers;
    sender_options.max_retries = options.max_retries;
    sender_options.retry_backoff_s = options.retry_backoff;
    sender_options.base_url = options.EffectiveBaseUrl();
    sender_options.db = options.db;
    sender_options.send_grace_s = options.send_grace;
    sender_options.heartbeat_timeout_s = options.heartbeat_timeout;
    sender_options.media.served_at = {options.DefaultMediaUrl()};
    if (!options.media_url.empty()) sender_options.media.served_at.push_back(options.media_url);
    sender_options.media.public_url = options.media_url;
    Sender sender(daemon.store_opener(), handlers, *daemon.writer(), *http, daemon.clock(), sender_options);
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) {
      SenderSnapshot snap = sender.Snapshot();
      o->set("worker", sender_options.worker);
      o->set("max_workers", options.max_workers);
      o->set("threads", snap.threads);
      auto in_flight = json::NewObject();
      for (const auto& [channel, n] : snap.in_flight) in_flight->set(channel, n);
      o->set("in_flight", in_flight);
      o->set("sent", snap.sent);
      o->set("errored", snap.errored);
      o->set("failed", snap.failed);
      o->set("throttled", snap.throttled);
      o->set("interrupted", snap.interrupted);
      auto by_channel = json::NewObject();
      for (const auto& [channel, n] : snap.by_channel) {
        auto outcomes = json::NewObject();
        outcomes->set("sent", n.sent);
        outcomes->set("errored", n.errored);
        outcomes->set("failed", n.failed);
        outcomes->set("throttled", n.throttled);
        by_channel->set(channel, outcomes);
      }
      o->set("by_channel", by_channel);
    });
    Log::Info("sending", {{"db", RedactStoreUrl(options.db)}, {"workers", std::to_string(options.max_workers)},
                          {"worker", sender_options.worker}});
    if (options.max_workers == 0) {
      Log::Info("max_workers is 0: sending disabled");
      while (!daemon.stop().WaitFor(std::chrono::hours(1))) {
      }
      return Status::OK();
    }
    // On PostgreSQL, msgs queued on other hosts wake the sender too: their
    // notices come in as the wakes courier-ctl send gives on this host.
    auto store_wakes = StoreWakeRelay::ToWakeSocket(options.db, kSendDaemon.program, kQueuedChannel,
                                                    EndpointFor(options.run_dir, kSendWake));
    return sender.Run(daemon.stop(), daemon.wake());
  });
}

}  // namespace courier
