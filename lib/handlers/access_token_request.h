#pragma once
// How a handler buys a bearer token from a provider's OAuth-style token
// endpoint and sends with it: the one request-and-answer shape FCM's
// Google tokens, Hormuud, MTN and WeChat share, so each of them builds
// only its own token request.
//
// Secrets: the token (and whatever else the caller names, such as a
// signed assertion) is redacted from the token request's channel log, and
// the channel's secrets from every error text; the Bearer header of the
// send itself is redacted by MakeCall (Authorization).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "handlers/access_token_cache.h"
#include "handlers/common.h"

namespace courier::handlers {

// Makes `request` to a token endpoint as "Access Token Requested" and
// reads its answer, {"access_token": ..., "expires_in": N or "N"}. The
// call's channel log is appended to `logs` with the token and
// `extra_secrets` redacted. An error (Unavailable) names what went wrong:
// no answer, a refusal with its HTTP status and the answer's `error` and
// `error_description`, or a 2xx without a token ("no access_token in
// <provider>'s token answer"); `refusal`, when given, then holds the
// exchange so the caller can judge it (FailedAnswer).
Result<IssuedToken> RequestAccessToken(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                       const HttpRequestSpec& request, const std::string& provider,
                                       const std::vector<std::string>& extra_secrets, std::vector<ChannelLog>& logs,
                                       std::optional<HttpExchange>* refusal = nullptr);

// Where a provider takes the token and how it refuses one.
struct AccessTokenUse {
  // The query parameter that carries the token (WeChat's access_token);
  // empty: the "Authorization: Bearer <token>" header.
  std::string query_parameter;
  // Whether an answer refuses the token; unset: every 401 does. FCM also
  // answers 401 for a device's own credentials; WeChat refuses a token
  // with an errcode in a 200.
  std::function<bool(const HttpExchange&)> refuses_token;
};

// Makes `request` with the token from `token`, put where `use` says.
// When the provider refuses a token that came from the cache (not fetched
// by this call), the token is dropped from `cache` and the request made
// once more with a new one; the refused attempt's log is kept in `logs`.
// The token is redacted from every log the call leaves (in a query it is
// in the log's URL and request line). A token that cannot be had is the
// error, the caller's to judge; the call's own log is the caller's to
// append.
Result<Call> CallWithAccessToken(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                 const HttpRequestSpec& request, AccessTokenCache& cache,
                                 const std::function<Result<AccessTokenCache::Token>()>& token,
                                 std::vector<ChannelLog>& logs, const AccessTokenUse& use = {});

// What a token that could not be had (`error`, RequestAccessToken's)
// makes of the msg: the token endpoint's refusal judged as any answer
// (FailedAnswer: no answer, 5xx and 429 retried, other refusals F), and a
// 2xx without a token `without_token` (E where the provider may hand one
// out on the next try, F where the channel's config is at fault).
SendResult TokenFailure(const Status& error, const std::optional<HttpExchange>& refusal,
                        std::vector<ChannelLog> logs, MsgStatus without_token);

}  // namespace courier::handlers
