#pragma once
// Tests talk to mock providers, tarpits and courier-recv on 127.0.0.1,
// which the default outbound policy refuses (invariant 8). A test's client
// allows loopback explicitly, as an operator would with outbound_allow for
// an on-premise gateway; nothing else is opened.
#include "http/http_client.h"

namespace courier {

inline constexpr const char* kLoopbackAllow = "127.0.0.0/8,::1/128";

inline HttpClientOptions LoopbackClientOptions(HttpClientOptions options = {}) {
  options.outbound = *OutboundPolicy::WithAllowList(kLoopbackAllow);
  return options;
}

inline std::unique_ptr<HttpClient> NewLoopbackHttpClient(HttpClientOptions options = {}) {
  return NewPocoHttpClient(LoopbackClientOptions(std::move(options)));
}

}  // namespace courier
