#pragma once
// courier-api on the daemon skeleton (daemon/daemon.h): the applications'
// HTTP API (api_service.h) on its own listener, api_address:api_port
// (default 127.0.0.1:8082), with courier-recv's HTTP server and limits;
// its long polls (long_polls.h); and its request counts by route and
// status code on the control socket (api-ctl) for `courier-ctl status`.
// It writes the store directly (one transaction per request) and wakes
// courier-send after queueing; it has no spool: a store that cannot take
// a request answers 503, and the application tries again.
#include "config/options.h"
#include "daemon/daemon.h"

namespace courier {

extern const DaemonSpec kApiDaemon;

// Runs until stopped. OK after a clean stop (long polls answered, requests
// in progress served); Unavailable (69) when the port cannot be bound;
// Usage (64) when api_port is courier-recv's port on the same address.
Status RunApi(const Options& options);

}  // namespace courier
