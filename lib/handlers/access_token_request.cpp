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
                                 std::vector<ChannelLog>& logs, const AccessTokenUse& use) {
  for (int attempt = 0;; ++attempt) {
    auto bearer = token();
    if (!bearer.ok()) return bearer.status();
    HttpRequestSpec authorized = request;
    if (use.query_parameter.empty()) {
      authorized.headers.push_back({"Authorization", "Bearer " + bearer->value});
    } else {
      authorized.url += (authorized.url.find('?') == std::string::npos ? "?" : "&") + use.query_parameter + "=" +
                        UrlEscape(bearer->value);
    }
    Call call = MakeCall(ctx, channel, msg, authorized);
    const std::vector<std::string> secrets = {bearer->value};
    call.log.url = Redact(call.log.url, secrets);
    call.log.request = Redact(call.log.request, secrets);
    call.log.response = Redact(call.log.response, secrets);
    call.log.error = Redact(call.log.error, secrets);
    const bool refused = use.refuses_token ? use.refuses_token(call.exchange) : call.exchange.status_code == 401;
    if (!refused) return call;
    cache.Forget(channel.uuid, bearer->value);
    // A token fetched just now that is refused will be refused again.
    if (bearer->fresh || attempt > 0) return call;
    // A refusal inside a 2xx (WeChat's errcode) is told by the answer in
    // the log, not by an HTTP status.
    call.log.error = call.exchange.ok() ? "access token refused, retrying with a new one"
                                        : "access token refused (HTTP " + std::to_string(call.exchange.status_code) +
                                              "), retrying with a new one";
    logs.push_back(std::move(call.log));
  }
}

SendResult TokenFailure(const Status& error, const std::optional<HttpExchange>& refusal,
                        std::vector<ChannelLog> logs, MsgStatus without_token) {
  if (refusal && !refusal->ok()) return FailedAnswer(error.message(), std::move(logs), *refusal);
  if (without_token == MsgStatus::kFailed) return SendResult::Failed(error.message(), std::move(logs));
  return SendResult::Errored(error.message(), std::move(logs));
}

}  // namespace courier::handlers
