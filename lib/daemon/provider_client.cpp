#include "daemon/provider_client.h"

namespace courier {

Result<HttpClientOptions> ProviderClientOptions(const Options& options) {
  auto policy = OutboundPolicy::WithAllowList(options.outbound_allow);
  if (!policy.ok()) return policy.status();
  HttpClientOptions http;
  http.timeout_seconds = options.http_timeout;
  http.deadline_seconds = options.http_deadline;
  http.outbound = std::move(*policy);
  http.ca_file = options.outbound_ca_file;
  return http;
}

}  // namespace courier
