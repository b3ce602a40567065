#include "handlers/hormuud.h"

#include <cerrno>
#include <cstdlib>

#include "core/json_writer.h"
#include "handlers/access_token_request.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://smsapi.hormuud.com";
constexpr size_t kMaxMsgLength = 160;
// Hormuud's tokens say how long they live; when one does not, an hour.
const handlers::TokenLifetime kTokenLifetime{3600, 86400};

bool IsInteger(const std::string& text) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  std::strtoll(text.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

}  // namespace

const ChannelTypeInfo& HormuudHandler::Type() const {
  static const ChannelTypeInfo type = {
      "HM",
      "Hormuud",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the SMS API account's user"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the SMS API account's password"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> HormuudHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult HormuudHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                      HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  const std::string sender = request.ParamInAnyCase("Sender").value_or("");
  const std::string short_code = request.ParamInAnyCase("ShortCode").value_or("");
  const auto time_sent = request.ParamInAnyCase("TimeSent");
  std::vector<std::string> errors;
  if (sender.empty()) errors.push_back("field 'sender' required");
  if (short_code.empty()) errors.push_back("field 'shortcode' required");
  if (time_sent && !time_sent->empty() && !IsInteger(*time_sent))
    errors.push_back("field 'timesent' must be an integer");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));

  auto urn = handlers::TelURN(sender, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, request.ParamInAnyCase("MessageText").value_or("")));
  return r;
}

Result<handlers::AccessTokenCache::Token> HormuudHandler::AccessToken(const Channel& channel, const Msg& msg,
                                                                      HandlerContext& ctx, const std::string& api,
                                                                      std::vector<ChannelLog>& logs,
                                                                      std::optional<HttpExchange>& refusal) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  const std::string url = api + "/token";
  return tokens_.Get(channel.uuid, handlers::TokenFingerprint({url, username, password}), ctx.clock.Now(),
                     kTokenLifetime, [&]() -> Result<handlers::IssuedToken> {
    HttpRequestSpec request;
    request.method = "POST";
    request.url = url;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.headers.push_back({"Accept", "application/json"});
    request.body = FormEncode({{"Username", username}, {"Password", password}, {"grant_type", "password"}});
    return handlers::RequestAccessToken(ctx, channel, msg, request, "Hormuud", {}, logs, &refusal);
  });
}

SendResult HormuudHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  const std::string text = TextAndAttachments(msg);
  if (text.empty()) return handlers::NothingToSend(channel, msg, now);
  const auto parts = SplitText(text, handlers::MaxLength(channel, kMaxMsgLength));

  const std::string api = handlers::BaseUrl(channel, kDefaultApiUrl);
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec request;
    request.method = "POST";
    request.url = api + "/api/SendSMS";
    request.headers.push_back({"Content-Type", "application/json"});
    request.headers.push_back({"Accept", "application/json"});
    JsonWriter body;
    body.BeginObject()
        .Field("mobile", to)
        .Field("message", parts[i])
        .Field("senderid", channel.address)
        .Field("mType", -1)
        .Field("eType", -1)
        .Field("UDH", "")
        .EndObject();
    request.body = body.Take();

    std::optional<HttpExchange> refusal;
    auto answered = handlers::CallWithAccessToken(
        ctx, channel, msg, request, tokens_, [&] { return AccessToken(channel, msg, ctx, api, logs, refusal); },
        logs);
    // A 2xx without a token: Hormuud may hand one out on the next try.
    if (!answered.ok()) return handlers::TokenFailure(answered.status(), refusal, std::move(logs), MsgStatus::kErrored);
    handlers::Call& call = *answered;
    if (!call.ok()) {
      const std::string error = call.log.error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // {"ResponseCode":"200","ResponseMessage":"SUCCESS!.","Data":{"Description":"...","MessageID":"..."}}
    auto answer = json::ParseObject(call.exchange.body);
    const std::string id = json::GetId(json::GetObject(answer.ok() ? *answer : nullptr, "Data"), "MessageID");
    if (i == 0 && id != "null") external_id = id;
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
