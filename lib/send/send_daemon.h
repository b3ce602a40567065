#pragma once
// courier-send on the daemon skeleton (daemon/daemon.h): its handlers,
// HTTP client and Sender, and the sender's counters in its status. What
// every daemon has (spool, store, writer, events, wakes, control socket,
// signals) is the skeleton's.
#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

// The command line and what the skeleton sets up for courier-send; its
// grace is send_grace plus 5 s (RunSend), so in-flight sends can finish.
extern const DaemonSpec kSendDaemon;

// Runs until stopped. OK after a clean stop (in-flight sends finished and
// their statuses written, unstarted claims released); IOError (74) when
// the spool cannot be created.
Status RunSend(const Options& options);

}  // namespace courier
