#include "handlers/access_token_request.h"

#include <utility>

#include "core/json.h"
#include "core/redact.h"
#include "http/http_client.h"

namespace courier::handlers {

Result<IssuedToken> RequestAccessToken(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                       const HttpRequestSpec& request, const std::string& provider,
                                       const std::vector<std::string>& extra_secrets, std::vector<ChannelLog>& logs,
                                       std::optional<HttpExchange>* refusal) {
  Call call = MakeCall(ctx, channel, msg, request, "Access Token Requested");
  auto body = json::ParseObject(call.exchange.body);
  const json::ObjectPtr answer = body.ok() ? *body : nullptr;
  const std::string token = json::GetStringOrEmpty(answer, "access_token");
  std::vector<std::string> secrets = extra_secrets;
  if (!token.empty()) secrets.push_back(token);
  call.log.request = Redact(call.log.request, secrets);
  call.log.response = Redact(call.log.response, secrets);

  std::string error;
  if (!call.exchange.error.empty()) {
    error = "access token request failed: " + call.log.error;
  } else if (!call.ok()) {
    // RFC 6749 §5.2: {"error":"invalid_client","error_description":"..."}
    error = "access token request refused (HTTP " + std::to_string(call.exchange.status_code) + ")";
    const std::string code = json::GetStringOrEmpty(answer, "error");
    const std::string description = json::GetStringOrEmpty(answer, "error_description");
    if (!code.empty()) error += ": " + code;
    if (!description.empty()) error += " (" + description + ")";
  } else if (token.empty()) {
    error = "no access_token in " + provider + "'s token answer";
  }
  if (!error.empty()) {
    error = Redact(Redact(error, channel.SecretValues()), secrets);
    call.log.error = error;
    if (refusal) *refusal = call.exchange;
    logs.push_back(std::move(call.log));
    return Status::Unavailable(error);
  }
  logs.push_back(std::move(call.log));
  // Most endpoints give seconds as a number; Apigee (MTN) as a string.
  return IssuedToken{token, json::GetIntLoose(answer, "expires_in").value_or(0)};
}

Result<Call> CallWithAccessToken(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                 const HttpRequestSpec& request, AccessTokenCache& cache,
                                 const std::function<Result<AccessTokenCache::Token>()>& token,
                                 std::vector<ChannelLog>& logs,
                                 const std::function<bool(const HttpExchange&)>& refuses_token) {
  for (int attempt = 0;; ++attempt) {
    auto bearer = token();
    if (!bearer.ok()) return bearer.status();
    HttpRequestSpec authorized = request;
    authorized.headers.push_back({"Authorization", "Bearer " + bearer->value});
    Call call = MakeCall(ctx, channel, msg, authorized);
    if (call.exchange.status_code != 401 || (refuses_token && !refuses_token(call.exchange))) return call;
    cache.Forget(channel.uuid, bearer->value);
    // A token fetched just now that is refused will be refused again.
    if (bearer->fresh || attempt > 0) return call;
    call.log.error = "access token refused (HTTP 401), retrying with a new one";
    logs.push_back(std::move(call.log));
  }
}

}  // namespace courier::handlers
