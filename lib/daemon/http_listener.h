#pragma once
// The HttpServerOptions of a daemon's listener from the settings:
// courier-recv's webhook port and courier-api's port share the request
// limits (request_read_timeout, max_connections, max_connections_per_ip)
// and the drain rule, and differ only in address, port and body limit.
// One function, so that a setting added for one listener reaches the
// other.
#include <chrono>
#include <string>

#include "config/options.h"
#include "http/http_server.h"

namespace courier {

struct ListenerAddress {
  std::string address;
  int port = 0;
  long max_body_bytes = 0;
};

// max_connections is lowered to what the descriptor limit allows (the
// soft limit raised up to the hard one first), with a warning: over the
// limit accept() fails and the server spins rather than refusing. The
// drain at a stop ends 10 s before `grace` (the skeleton's stop deadline),
// so the requests in progress are answered before the process exits.
HttpServerOptions HttpServerOptionsFrom(const Options& options, const ListenerAddress& listener,
                                        std::chrono::seconds grace);

}  // namespace courier
