#pragma once
// courier-flush's three modes, each returning the tool's exit code so that
// main() only parses the command line and dispatches:
//
//   RunFlush       the daemon: replays spool/new/ every flush_interval
//                  seconds or at once when woken on flush-wake
//                  (courier-recv pushes after it spools); answers status
//                  requests on flush-ctl; SIGTERM finishes the current
//                  batch and exits 0.
//   RunFlushOnce   one pass over what is in spool/new/, then exit.
//   RunFlushFiles  manual replay of named files (e.g. a fixed bad/NAME).
//
// Exit codes (sysexits): 0 done; 65 a named file cannot be parsed or its
// data was refused; 66 a named file does not exist; 74 the spool cannot be
// created or read; 75 the store cannot take writes now (files left where
// they were: run again later).
#include <string>
#include <vector>

#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

int RunFlush(const Options& options, StopToken& stop);

// `progress`: print a progress line on stderr when there are more than
// 1000 files (main passes isatty(2)).
int RunFlushOnce(const Options& options, bool progress);

int RunFlushFiles(const Options& options, const std::vector<std::string>& paths);

}  // namespace courier
