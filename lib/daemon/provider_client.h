#pragma once
// The HTTP client options for requests made on a channel's behalf (sends,
// token fetches, media downloads) from the settings: per-operation timeout
// (http_timeout), total deadline (http_deadline), outbound policy with the
// operator's allow-list (outbound_allow) and extra CAs (outbound_ca_file).
// courier-send and courier-recv both build their client from it, so the
// two cannot disagree on where a channel's URLs may lead (invariant 8).
#include "config/options.h"
#include "core/status.h"
#include "http/http_client.h"

namespace courier {

// Usage error when outbound_allow is malformed (the option check makes
// that unreachable from the command line, but Options can be built by
// hand).
Result<HttpClientOptions> ProviderClientOptions(const Options& options);

}  // namespace courier
