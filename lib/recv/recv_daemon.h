#pragma once
// courier-recv's main loop: wires the store, spool, handlers, HTTP server,
// event publisher and control socket together and runs until stopped.
#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

// Returns the exit code: 0 after a clean stop, 69 when the port cannot be
// bound, 74 when the spool directory cannot be created.
int RunRecv(const Options& options, StopToken& stop);

}  // namespace courier
