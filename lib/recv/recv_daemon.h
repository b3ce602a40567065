#pragma once
// courier-recv on the daemon skeleton (daemon/daemon.h): its handlers,
// channel cache, receiver and HTTP server, and the request counters in
// its status. What every daemon has (spool, store, writer, events,
// control socket, signals) is the skeleton's.
#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

// The command line and what the skeleton sets up for courier-recv.
extern const DaemonSpec kRecvDaemon;

// Runs until stopped. OK after a clean stop (requests in progress
// answered, their writes durable); Unavailable (69) when the port cannot
// be bound; IOError (74) when the spool cannot be created.
Status RunRecv(const Options& options);

}  // namespace courier
