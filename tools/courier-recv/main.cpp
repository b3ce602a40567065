// courier-recv: the webhook receiver. See courier-recv(8).
#include <variant>

#include "config/command_line.h"
#include "core/log.h"
#include "recv/recv_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  CLI::App app{"", "courier-recv"};
  SetUpApp(app, "Receive provider webhooks into the courier store (or the spool when it is down).");
  OptionLoader loader(app, {"address", "port", "base_url", "max_body_bytes", "channel_cache_ttl",
                            "spool_backlog_limit", "include_channels", "exclude_channels"});
  auto parsed = ParseCommandLine(app, loader, argc, argv);
  if (auto* rc = std::get_if<int>(&parsed)) return *rc;
  const Options& options = std::get<Options>(parsed);
  Log::Init("courier-recv", options.log_level);
  return RunDaemon("courier-recv", std::chrono::seconds(30),
                   [&](StopToken& stop) { return RunRecv(options, stop); });
}
