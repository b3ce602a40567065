// courier-send: the foreman and its senders. See courier-send(8).
#include <variant>

#include "config/command_line.h"
#include "core/log.h"
#include "send/send_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  CLI::App app{"", "courier-send"};
  SetUpApp(app, "Send queued msgs through their providers, fairly and at most once.");
  OptionLoader loader(app, {"max_workers", "base_url", "max_retries", "retry_backoff", "send_grace", "http_timeout",
                            "include_channels", "exclude_channels"});
  auto parsed = ParseCommandLine(app, loader, argc, argv);
  if (auto* rc = std::get_if<int>(&parsed)) return *rc;
  const Options& options = std::get<Options>(parsed);
  Log::Init("courier-send", options.log_level);
  // The supervisor's patience must exceed send_grace (see courier-send(8)).
  return RunDaemon("courier-send", std::chrono::seconds(options.send_grace + 5),
                   [&](StopToken& stop) { return RunSend(options, stop); });
}
