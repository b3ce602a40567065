#include "handlers/bandwidth.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://messaging.bandwidth.com";
const char* kAccountId = "account_id";
const char* kMessagingApplicationId = "messaging_application_id";
const char* kLegacyApplicationId = "application_id";

// Bandwidth takes up to 2048 characters in one message.
constexpr size_t kMaxMsgLength = 2048;

// Callback types for an outgoing message (Messaging API v2 webhooks).
// message-sending comes for MMS only, between acceptance and the final
// report.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"message-sending", MsgStatus::kSent},
      {"message-delivered", MsgStatus::kDelivered},
      {"message-failed", MsgStatus::kFailed},
  };
  return table;
}
const std::vector<std::string> kStatusNames = {"message-sending", "message-delivered", "message-failed"};

// The first event of a callback, which is a JSON array of events.
struct FirstEvent {
  json::ObjectPtr event;  // null when the array is empty or on error
  std::string error;
};

FirstEvent ReadFirstEvent(const std::string& body) {
  const std::string not_events = "unable to parse request JSON: expected an array of events";
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(body);
    if (parsed.type() != typeid(json::ArrayPtr)) return {nullptr, not_events};
    json::ArrayPtr events = parsed.extract<json::ArrayPtr>();
    if (!events || events->size() == 0) return {nullptr, ""};
    json::ObjectPtr first = events->getObject(0);
    if (!first) return {nullptr, not_events};
    return {first, ""};
  } catch (const Poco::Exception& e) {
    return {nullptr, "unable to parse request JSON: " + e.message()};
  } catch (const std::exception& e) {
    return {nullptr, std::string("unable to parse request JSON: ") + e.what()};
  }
}

// The fields every event must have: "field 'type' required" and "field
// 'id' required" (message.id) as the reference's validator names them.
std::string MissingFields(const std::string& type, const std::string& id) {
  std::vector<std::string> errors;
  if (type.empty()) errors.push_back("field 'type' required");
  if (id.empty()) errors.push_back("field 'id' required");
  return Join(errors, "; ");
}

// message.time: 2006-01-02T15:04:05Z, UTC written as Z.
std::optional<Micros> ParseTime(const std::string& time) {
  if (time.size() < 20 || time[10] != 'T' || time.back() != 'Z') return std::nullopt;
  return ParseRfc3339(time);
}

WebhookResult ReceiveEvent(const Route& route, const Channel& channel, const json::ObjectPtr& event) {
  const std::string type = json::GetStringOrEmpty(event, "type");
  json::ObjectPtr message = json::GetObject(event, "message");
  const std::string id = json::GetId(message, "id");
  if (const std::string missing = MissingFields(type, id); !missing.empty()) return WebhookResult::Error(missing);

  WebhookResult r;
  if (route.kind == RouteKind::kStatus) {
    auto status = handlers::MapStatus(StatusTable(), type);
    if (!status) return WebhookResult::Error(handlers::UnknownStatusError(type, kStatusNames));
    StatusUpdate update = handlers::StatusForExternalId(channel, id, *status);
    if (*status == MsgStatus::kFailed) {
      std::string reason = json::GetStringOrEmpty(event, "description");
      const std::string code = json::GetTextOrEmpty(event, "errorCode");
      if (!code.empty()) reason += (reason.empty() ? "" : " ") + std::string("(error code ") + code + ")";
      update.error_reason = reason;
    }
    r.statuses.push_back(std::move(update));
    return r;
  }

  const std::string time = json::GetStringOrEmpty(message, "time");
  auto received_on = ParseTime(time);
  if (!received_on) return WebhookResult::Error("invalid date format: " + time);
  auto urn = handlers::TelURN(json::GetStringOrEmpty(message, "from"), channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  auto media = json::GetStringArray(message, "media");
  if (!media.ok()) return WebhookResult::Error(media.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, json::GetStringOrEmpty(message, "text"));
  msg.external_id = id;
  msg.received_on = *received_on;
  for (const auto& url : *media)
    if (!url.empty()) msg.attachments.push_back(url);
  r.msgs.push_back(std::move(msg));
  return r;
}

// Bandwidth's refusal: {"type":"request-validation","description":"...",
// "fieldErrors":[...]}; "" when the body says nothing.
std::string RefusalReason(const std::string& body) {
  auto parsed = json::ParseObject(body);
  if (!parsed.ok()) return "";
  std::vector<std::string> parts;
  for (const char* key : {"type", "description"})
    if (auto value = json::GetStringOrEmpty(*parsed, key); !value.empty()) parts.push_back(value);
  return Join(parts, ": ");
}

json::ObjectPtr Payload(const Channel& channel, const Msg& msg, const std::string& application_id,
                        const std::string& text, bool with_media) {
  json::ObjectPtr payload = json::NewObject();
  payload->set("applicationId", application_id);
  payload->set("to", json::StringArray({msg.urn.substr(msg.urn.find(':') + 1)}));
  payload->set("from", channel.address);
  payload->set("text", text);
  if (with_media && !msg.attachments.empty()) {
    std::vector<std::string> urls;
    for (const auto& attachment : msg.attachments) urls.push_back(SplitAttachment(attachment).second);
    payload->set("media", json::StringArray(urls));
  }
  return payload;
}

}  // namespace

const ChannelTypeInfo& BandwidthHandler::Type() const {
  static const ChannelTypeInfo type = {
      "BW",
      "Bandwidth",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the API user (basic authentication)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the API user's password (also fetches media)"},
          {kAccountId, ConfigNeed::kToSend, false, "the account id, in the API's path"},
          {kMessagingApplicationId, ConfigNeed::kToSend, false, "the messaging application the number belongs to", "",
           kLegacyApplicationId},
          {kLegacyApplicationId, ConfigNeed::kOptional, false, "the older name of messaging_application_id"},
          handlers::WebhookTokenKey(),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::BaseUrlKey(kDefaultApiUrl),
      },
  };
  return type;
}

std::vector<Route> BandwidthHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult BandwidthHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  const FirstEvent first = ReadFirstEvent(request.body);
  if (!first.error.empty()) return WebhookResult::Error(first.error);
  if (!first.event) return WebhookResult::Ignored("no messages, ignored");
  return ReceiveEvent(route, channel, first.event);
}

SendResult BandwidthHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/api/v2/users/" +
                          UrlEscape(channel.ConfigOr(kAccountId)) + "/messages";
  const std::string application_id =
      channel.ConfigOr(kMessagingApplicationId, channel.ConfigOr(kLegacyApplicationId));
  // Attachments go on the first request only and never as links in the
  // text; a msg of attachments alone is one request with an empty text.
  std::vector<std::string> parts = SplitText(msg.text, handlers::MaxLength(channel, kMaxMsgLength));
  if (parts.empty()) parts.push_back("");

  std::vector<ChannelLog> logs;
  std::string external_id;
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.basic_user = channel.ConfigOr(config_keys::kUsername);
    req.basic_password = channel.ConfigOr(config_keys::kPassword);
    req.body = json::Stringify(Payload(channel, msg, application_id, parts[i], i == 0));
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = RefusalReason(exchange.body);
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    auto answer = json::ParseObject(exchange.body);
    if (!answer.ok()) {
      const std::string error = "unable to parse response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    const std::string id = json::GetId(*answer, "id");
    if (id.empty()) call.log.error = "unable to get id from body";
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

HttpRequestSpec BandwidthHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (!username.empty() && !password.empty() &&
      handlers::UrlOnHosts(url, {"bandwidth.com"}, handlers::BaseUrl(channel, kDefaultApiUrl))) {
    req.basic_user = username;
    req.basic_password = password;
  }
  return req;
}

}  // namespace courier
