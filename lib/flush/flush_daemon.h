#pragma once
// courier-flush: the daemon on the skeleton (daemon/daemon.h), and the two
// one-off modes, all behind one RunFlush so that main() only parses the
// command line and maps the Status to the exit code:
//
//   the daemon     replays spool/new/ every flush_interval seconds, or at
//                  once when woken on flush-wake (courier-recv pushes after
//                  it spools); answers status requests on flush-ctl;
//                  SIGTERM finishes the current batch and exits 0.
//   --once         one pass over what is in spool/new/, then exit.
//   FILE...        manual replay of named files (e.g. a fixed bad/NAME).
//
// Statuses (exit codes, sysexits): OK (0) done; InvalidArgument (65) a
// named file cannot be parsed or its data was refused; NotFound (66) a
// named file does not exist; IOError (74) the spool cannot be created or
// read; Busy (75) the store cannot take writes now (files left where they
// were: run again later).
#include <string>
#include <vector>

#include "config/options.h"
#include "daemon/daemon.h"

namespace CLI { class App; }

namespace courier {

// The command line and what the skeleton sets up for the daemon.
extern const DaemonSpec kFlushDaemon;

// Which of the three modes the command line asked for.
struct FlushRequest {
  bool once = false;
  std::vector<std::string> files;
  // Adds --once and FILE... to courier-flush's command line.
  void AddFlags(CLI::App& app);
};

Status RunFlush(const Options& options, const FlushRequest& request);

}  // namespace courier
