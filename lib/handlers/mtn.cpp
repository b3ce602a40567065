#include "handlers/mtn.h"

#include <algorithm>
#include <cstdlib>

#include "core/json_writer.h"
#include "handlers/access_token_request.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.mtn.com";
// The reference's name for the API root; base_url does the same and wins.
const char* kApiHost = "api_host";
const char* kCpAddress = "cp_address";
// MTN's tokens say how long they live; when one does not, an hour.
const handlers::TokenLifetime kTokenLifetime{3600, 86400};

// Delivery statuses that record something, and those that say only that
// MTN knows nothing yet (MessageWaiting) or will never know.
const std::map<std::string, MsgStatus> kStatuses = {
    {"DELIVRD", MsgStatus::kDelivered},           {"DeliveredToTerminal", MsgStatus::kDelivered},
    {"DeliveryUncertain", MsgStatus::kSent},      {"DeliveredToNetwork", MsgStatus::kSent},
    {"EXPIRED", MsgStatus::kFailed},              {"DeliveryImpossible", MsgStatus::kErrored},
};
const std::vector<std::string> kIgnoredStatuses = {"MessageWaiting", "DeliveryNotificationNotSupported"};
const std::vector<std::string> kKnownStatuses = {"DELIVRD",           "DeliveredToTerminal", "DeliveryUncertain",
                                                 "DeliveredToNetwork", "EXPIRED",             "DeliveryImpossible",
                                                 "MessageWaiting",     "DeliveryNotificationNotSupported"};

// The value under `key` as text, the key matched as the reference's
// decoder does: exactly, else in any case (the last such key wins).
std::optional<std::string> FieldIgnoringCase(const json::ObjectPtr& o, const std::string& key) {
  if (o->has(key)) return json::GetText(o, key);
  std::optional<std::string> found;
  for (auto it = o->begin(); it != o->end(); ++it)
    if (EqualsIgnoreCase(it->first, key)) found = json::ScalarText(it->second);
  return found;
}

std::string Field(const json::ObjectPtr& o, const std::string& key) { return FieldIgnoringCase(o, key).value_or(""); }

WebhookResult IncomingMsg(const Channel& channel, const json::ObjectPtr& body, const std::string& text) {
  const std::string sender = Field(body, "senderAddress");
  if (sender.empty()) return WebhookResult::Error("field 'senderAddress' required");
  auto urn = handlers::TelURN(sender, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  // {"senderAddress":"...","receiverAddress":"...","message":"...","created":1678794364000}
  const std::string created = Field(body, "created");
  if (!created.empty()) {
    char* end = nullptr;
    const double ms = std::strtod(created.c_str(), &end);
    auto received_on = *end == '\0' ? handlers::MicrosFromMillis(ms) : std::nullopt;
    if (!received_on) return WebhookResult::Error("field 'created' must be a time in unix milliseconds");
    msg.received_on = *received_on;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult DeliveryReport(const Channel& channel, const json::ObjectPtr& body) {
  const std::string id = Field(body, "transactionId");
  if (id.empty()) return WebhookResult::Ignored("missing transactionId, ignored");
  const std::string word = Field(body, "deliveryStatus");
  if (std::find(kIgnoredStatuses.begin(), kIgnoredStatuses.end(), word) != kIgnoredStatuses.end())
    return WebhookResult::Ignored("no status changed, ignored");
  auto status = handlers::MapStatus(kStatuses, word);
  if (!status) return WebhookResult::Error(handlers::UnknownStatusError(word, kKnownStatuses));
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *status));
  return r;
}

}  // namespace

const ChannelTypeInfo& MtnHandler::Type() const {
  static const ChannelTypeInfo type = {
      "MTN",
      "MTN Developer Portal",
      {"tel"},
      {
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the app's consumer key"},
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the app's consumer secret"},
          {kCpAddress, ConfigNeed::kOptional, false, "the content provider address sent as cpAddress"},
          {kApiHost, ConfigNeed::kOptional, false, "the API root (the reference's name; base_url wins)",
           kDefaultApiUrl},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> MtnHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult MtnHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                  HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const std::string text = Field(*body, "message");
  if (!text.empty()) return IncomingMsg(channel, *body, text);
  return DeliveryReport(channel, *body);
}

Result<handlers::AccessTokenCache::Token> MtnHandler::AccessToken(const Channel& channel, const Msg& msg,
                                                                  HandlerContext& ctx, const std::string& api,
                                                                  std::vector<ChannelLog>& logs,
                                                                  std::optional<HttpExchange>& refusal) const {
  const std::string key = channel.ConfigOr(config_keys::kApiKey);
  const std::string secret = channel.ConfigOr(config_keys::kAuthToken);
  const std::string url = api + "/v1/oauth/access_token?grant_type=client_credentials";
  return tokens_.Get(channel.uuid, handlers::TokenFingerprint({url, key, secret}), ctx.clock.Now(), kTokenLifetime,
                     [&]() -> Result<handlers::IssuedToken> {
    HttpRequestSpec request;
    request.method = "POST";
    request.url = url;
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.headers.push_back({"Accept", "application/json"});
    request.body = FormEncode({{"client_id", key}, {"client_secret", secret}});
    return handlers::RequestAccessToken(ctx, channel, msg, request, "MTN", {}, logs, &refusal);
  });
}

SendResult MtnHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  const std::string text = TextAndAttachments(msg);
  if (text.empty()) return handlers::NothingToSend(channel, msg, now);

  std::string api = handlers::BaseUrl(channel, channel.ConfigOr(kApiHost, kDefaultApiUrl));
  while (!api.empty() && api.back() == '/') api.pop_back();
  const std::string cp_address = channel.ConfigOr(kCpAddress);
  HttpRequestSpec request;
  request.method = "POST";
  request.url = api + "/v2/messages/sms/outbound";
  request.headers.push_back({"Content-Type", "application/json"});
  request.headers.push_back({"Accept", "application/json"});
  JsonWriter body;
  body.BeginObject()
      .Field("senderAddress", WithoutPlus(channel.address))
      .Key("receiverAddress")
      .BeginArray()
      .String(WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1)))
      .EndArray()
      .Field("message", text)
      .Field("clientCorrelator", msg.uuid);
  if (!cp_address.empty()) body.Field("cpAddress", cp_address);
  body.EndObject();
  request.body = body.Take();

  std::vector<ChannelLog> logs;
  std::optional<HttpExchange> refusal;
  auto answered = handlers::CallWithAccessToken(
      ctx, channel, msg, request, tokens_, [&] { return AccessToken(channel, msg, ctx, api, logs, refusal); }, logs);
  // MTN answering without a token will do so again: the channel's config
  // is at fault.
  if (!answered.ok()) return handlers::TokenFailure(answered.status(), refusal, std::move(logs), MsgStatus::kFailed);
  handlers::Call& call = *answered;
  if (!call.ok()) {
    const std::string error = call.log.error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  // {"transactionId":"...","clientCorrelator":"...","deliveryInfo":[...]}
  auto answer = json::ParseObject(call.exchange.body);
  const std::string external_id = json::GetId(answer.ok() ? *answer : nullptr, "transactionId");
  if (external_id.empty()) call.log.error = "no transactionId in MTN's answer: delivery reports cannot be matched";
  logs.push_back(std::move(call.log));
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
