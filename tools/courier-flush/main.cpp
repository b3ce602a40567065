// courier-flush: replays spool files into the store. See courier-flush(8).
//
//   courier-flush              the daemon
//   courier-flush --once       one pass over spool/new/, then exit
//   courier-flush FILE...      replay just these files (e.g. a fixed bad/NAME)
#include <unistd.h>

#include <string>
#include <variant>
#include <vector>

#include "config/command_line.h"
#include "core/log.h"
#include "flush/flush_daemon.h"

using namespace courier;

int main(int argc, char** argv) {
  CLI::App app{"", "courier-flush"};
  SetUpApp(app, "Replay spool files into the courier store: a daemon, --once, or named files.");
  // DESIGN's `--interval SECONDS` is another name of --flush-interval.
  OptionLoader loader(app, {"flush_interval"}, {{"flush_interval", "--interval"}});
  bool once = false;
  std::vector<std::string> files;
  app.add_flag("--once", once, "flush what is in the spool now, then exit (75: store unavailable)");
  app.add_option("files", files, "spool files to replay instead of the spool (e.g. spool/bad/NAME)")
      ->excludes(app.get_option("--once"));
  auto parsed = ParseCommandLine(app, loader, argc, argv);
  if (auto* rc = std::get_if<int>(&parsed)) return *rc;
  Options options = std::get<Options>(parsed);
  Log::Init("courier-flush", options.log_level);

  if (!files.empty()) return RunFlushFiles(options, files);
  if (once) return RunFlushOnce(options, ::isatty(2) != 0);
  return RunDaemon("courier-flush", std::chrono::seconds(30),
                   [&](StopToken& stop) { return RunFlush(options, stop); });
}
