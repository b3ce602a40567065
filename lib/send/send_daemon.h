#pragma once
// courier-send's main loop: store, handlers, HTTP client, sender pool,
// status writer (with spool fallback), events and control socket.
#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

// Returns 0 after a clean stop (in-flight sends finished and written).
int RunSend(const Options& options, StopToken& stop);

}  // namespace courier
