#include "daemon/http_listener.h"

#include <sys/resource.h>

#include <algorithm>

#include "core/log.h"

namespace courier {
namespace {

// Descriptors kept back from connections for the store, the spool, the
// sockets and the logs.
constexpr rlim_t kDescriptorHeadroom = 256;

// max_connections as the descriptor limit allows, raising the soft limit
// (up to the hard one) when it is lower than that needs.
int ConnectionLimit(int wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  const rlim_t needed = static_cast<rlim_t>(wanted) + kDescriptorHeadroom;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) return wanted;
  const int allowed = limit.rlim_cur > kDescriptorHeadroom ? static_cast<int>(limit.rlim_cur - kDescriptorHeadroom) : 1;
  Log::Warn("max_connections lowered to what the descriptor limit allows",
            {{"max_connections", std::to_string(wanted)}, {"allowed", std::to_string(allowed)},
             {"nofile", std::to_string(limit.rlim_cur)}});
  return allowed;
}

}  // namespace

HttpServerOptions HttpServerOptionsFrom(const Options& options, const ListenerAddress& listener,
                                        std::chrono::seconds grace) {
  HttpServerOptions out;
  out.address = listener.address;
  out.port = listener.port;
  out.max_body_bytes = listener.max_body_bytes;
  out.request_read_seconds = options.request_read_timeout;
  out.max_connections = ConnectionLimit(options.max_connections);
  out.max_connections_per_ip = options.max_connections_per_ip;
  out.drain_seconds = std::max<int>(1, static_cast<int>(grace.count()) - 10);
  return out;
}

}  // namespace courier
