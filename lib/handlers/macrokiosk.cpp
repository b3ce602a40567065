#include "handlers/macrokiosk.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://www.etracker.cc";
const char* kSendPath = "/bulksms/send";
// Longer texts go as several messages (reference: 1600), unless the
// channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 1600;
const char* kSenderIdConfig = "macrokiosk_sender_id";
const char* kServiceIdConfig = "macrokiosk_service_id";
// MacroKiosk's message types: plain GSM7 text, or unicode.
const char* kTypeGsm7 = "0";
const char* kTypeUnicode = "5";
// Malaysian time, UTC+8 since 1982 with no daylight saving (see
// macrokiosk.h).
const char* kMalaysianOffset = "+08:00";
// What MacroKiosk expects to read when it may consider a reply taken.
const char* kReplyTaken = "-1";

// Delivery report statuses to ours.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"ACCEPTED", MsgStatus::kSent},
      {"DELIVERED", MsgStatus::kDelivered},
      {"UNDELIVERED", MsgStatus::kFailed},
      {"PROCESSING", MsgStatus::kWired},
  };
  return table;
}

// MacroKiosk's "2016-03-3019:33:06", Malaysian time: date and time with
// nothing between them. A fraction of a second is taken, as the
// reference's parser takes one.
std::optional<Micros> ParseMalaysianTime(const std::string& text) {
  if (text.size() < 18 || text[10] < '0' || text[10] > '9') return std::nullopt;
  return ParseRfc3339(text.substr(0, 10) + "T" + text.substr(10) + kMalaysianOffset);
}

// The value under `key` in any case (the reference's decoder matches JSON
// keys so), the exact key first; "" when absent or not a scalar.
std::string TextIgnoringCase(const json::ObjectPtr& object, const std::string& key) {
  if (!object) return "";
  if (object->has(key)) return json::GetTextOrEmpty(object, key);
  for (const auto& [name, value] : *object)
    if (EqualsIgnoreCase(name, key)) return json::ScalarText(value).value_or("");
  return "";
}

WebhookResult ReceiveReply(const Channel& channel, const WebhookRequest& request) {
  const std::string short_code = request.ParamInAnyCase("shortcode").value_or("");
  const bool to_short_code = !short_code.empty();
  const std::string to = to_short_code ? short_code : request.ParamInAnyCase("longcode").value_or("");
  const std::string from = request.ParamInAnyCase(to_short_code ? "from" : "msisdn").value_or("");
  if (to.empty() || from.empty()) return WebhookResult::Error("missing shortcode, longcode, from or msisdn parameters");
  if (WithoutPlus(to) != WithoutPlus(channel.address))
    return WebhookResult::Error("invalid to number [" + to + "], expecting [" + channel.address + "]");

  std::optional<Micros> received_on;
  const std::string time = request.ParamInAnyCase("time").value_or("");
  if (!time.empty()) {
    received_on = ParseMalaysianTime(time);
    if (!received_on)
      return WebhookResult::Error("invalid time '" + time + "', must be YYYY-MM-DDhh:mm:ss (Malaysian time)");
  }
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  Msg msg = handlers::IncomingMsg(channel, *urn, request.ParamInAnyCase("text").value_or(""));
  msg.external_id = request.ParamInAnyCase("msgid").value_or("");
  msg.received_on = received_on;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  r.response_body = kReplyTaken;
  r.response_content_type = "text/plain";
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  const std::string msg_id = request.ParamInAnyCase("msgid").value_or("");
  const std::string status = request.ParamInAnyCase("status").value_or("");
  std::vector<std::string> errors;
  if (msg_id.empty()) errors.push_back("field 'msgid' required");
  if (status.empty()) errors.push_back("field 'status' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));

  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Ignored("ignoring unknown status '" + status + "'");
  StatusUpdate update = handlers::StatusForExternalId(channel, msg_id, *mapped);
  if (*mapped == MsgStatus::kFailed) update.error_reason = "macrokiosk status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

}  // namespace

const ChannelTypeInfo& MacrokioskHandler::Type() const {
  static const ChannelTypeInfo type = {
      "MK",
      "Macrokiosk",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user name (user of each send)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password (pass of each send)"},
          {kSenderIdConfig, ConfigNeed::kToSend, false, "the sender id msgs go from (from)"},
          {kServiceIdConfig, ConfigNeed::kToSend, false, "the service id MacroKiosk gave the account (servid)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> MacrokioskHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult MacrokioskHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                         HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveReply(channel, request);
}

SendResult MacrokioskHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  const std::string sender_id = channel.ConfigOr(kSenderIdConfig);
  const std::string service_id = channel.ConfigOr(kServiceIdConfig);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  // Replaced always, so that a text that only looked unicode goes as
  // GSM7 at twice the room per SMS.
  const std::string text = ReplaceGsm7Substitutions(TextAndAttachments(msg));
  const char* type = IsGsm7(text) ? kTypeGsm7 : kTypeUnicode;

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = SplitText(text, handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    auto payload = json::NewObject();
    payload->set("user", username);
    payload->set("pass", password);
    payload->set("to", to);
    payload->set("text", parts[i]);
    payload->set("from", sender_id);
    payload->set("servid", service_id);
    payload->set("type", type);

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.body = json::Stringify(payload);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    auto answer = json::ParseObject(exchange.body);
    const std::string msg_id = answer.ok() ? TextIgnoringCase(*answer, "MsgID") : "";
    if (msg_id.empty()) call.log.error = "unable to get MsgID from response body";
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = msg_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
