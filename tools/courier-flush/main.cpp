// courier-flush: replays spool files into the store. See courier-flush(8).
//
//   courier-flush              the daemon
//   courier-flush --once       one pass over spool/new/, then exit
//   courier-flush FILE...      replay just these files (e.g. a fixed bad/NAME)
#include <variant>

#include "flush/flush_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  FlushRequest request;
  auto options = ParseDaemonCommandLine(kFlushDaemon, argc, argv, [&](CLI::App& app) { request.AddFlags(app); });
  if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
  return RunFlush(std::get<Options>(options), request).ExitCode();
}
