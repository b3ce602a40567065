#include "handlers/africastalking.h"

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

const char* kDefaultApiUrl = "https://api.africastalking.com";
const char* kMessagingPath = "/version1/messaging";
const char* kFormContentType = "application/x-www-form-urlencoded";

// Config keys particular to Africa's Talking.
const char* kIsShared = "is_shared";  // "true": a shared short code, send without `from`

// Africa's Talking takes a message of up to 1600 characters and splits it
// into billed SMS parts itself; longer texts go as several messages (the
// reference sends one request whatever the length).
constexpr size_t kMaxMsgLength = 1600;

// Per-recipient statusCode values of the send API (Africa's Talking "SMS
// API response" docs) that we treat specially. 100 Processed, 101 Sent and
// 102 Queued are acceptance; the others are failures.
constexpr int64_t kCodeProcessed = 100;
constexpr int64_t kCodeSent = 101;
constexpr int64_t kCodeQueued = 102;
constexpr int64_t kCodeInvalidSenderId = 402;
constexpr int64_t kCodeInvalidPhoneNumber = 403;
constexpr int64_t kCodeUnsupportedNumberType = 404;
constexpr int64_t kCodeUserInBlacklist = 406;  // the contact opted out of our sender
constexpr int64_t kCodeCouldNotRoute = 407;
constexpr int64_t kCodeDoNotDisturbRejection = 409;

// Delivery report status values, to ours. The reference (v0.2.0) knows
// Success -> D, Sent and Buffered -> S, Rejected and Failed -> F, and later
// Expired -> F. Africa's Talking's current delivery report docs also list
// Submitted (handed to the mobile operator), which we map to S like Sent.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"Success", MsgStatus::kDelivered}, {"Sent", MsgStatus::kSent},       {"Submitted", MsgStatus::kSent},
      {"Buffered", MsgStatus::kSent},     {"Rejected", MsgStatus::kFailed}, {"Failed", MsgStatus::kFailed},
      {"Expired", MsgStatus::kFailed},
  };
  return table;
}
const std::vector<std::string>& StatusNames() {
  static const std::vector<std::string> names = {"Success",  "Sent",   "Submitted", "Buffered",
                                                 "Rejected", "Failed", "Expired"};
  return names;
}

// The reference accepts only "2006-01-02T15:04:05Z". Africa's Talking has
// sent that form, with milliseconds ("2017-05-03T06:04:45.123Z"), and
// without a zone or with a space for the T ("2017-05-03 06:04:45"); all
// are UTC. nullopt when the text is none of these.
std::optional<Micros> ParseDate(std::string date) {
  if (date.size() > 10 && date[10] == ' ') date[10] = 'T';
  if (date.size() >= 19) {
    const std::string zone = date.substr(19);
    const bool has_zone = zone.find_first_of("Zz+-") != std::string::npos;
    if (!has_zone) date += 'Z';
  }
  return ParseRfc3339(date);
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kFormOrQuery);
  const std::string id = f.Required("id");
  const std::string text = f.Required("text");
  const std::string from = f.Required("from");
  f.Required("to");
  const std::string date = f.Required("date");
  if (!f.ok()) return WebhookResult::Error(f.error());
  // linkId (on-demand premium replies) is not kept, as in the reference.

  auto received_on = ParseDate(date);
  if (!received_on) return WebhookResult::Error("invalid date format: " + date);
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.received_on = *received_on;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kFormOrQuery);
  const std::string id = f.Required("id");
  const std::string value = f.Required("status");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto status = handlers::MapStatus(StatusTable(), value);
  // A status outside the table is a well-formed report we cannot use:
  // answered 200 so the provider does not retry it forever.
  if (!status) return WebhookResult::Ignored(handlers::UnknownStatusError(value, StatusNames()));

  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *status));
  // failureReason UserInBlacklist (docs spell it UserInBlackList): the
  // contact blocked our sender, so stop them as a send answer 406 would.
  const std::string reason = ToLower(f.Value("failureReason"));
  const std::string phone = f.Optional("phoneNumber").value_or("");
  if (reason == "userinblacklist" && !phone.empty()) {
    auto urn = handlers::TelURN(phone, channel);
    if (urn.ok()) r.stop_urns.push_back(urn->ToString());
  }
  return r;
}

// Bulk SMS opt-out notification (Africa's Talking "SMS notifications"
// docs, not in the reference): senderId and phoneNumber, sent when a
// contact opts out of our alphanumeric sender id.
WebhookResult ReceiveOptOut(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kFormOrQuery);
  const std::string phone = f.Required("phoneNumber");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto urn = handlers::TelURN(phone, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.stop_urns.push_back(urn->ToString());
  return r;
}

// What one answer of the messaging API says about our recipient.
struct Outcome {
  std::string external_id;
  std::string error;  // "" on acceptance
  bool permanent = false;
  bool stopped = false;
};

// Recipient codes that the same request can only meet again. The rest
// (401 RiskHold, 405 InsufficientBalance, 5xx gateway errors) may clear
// once the account or the route recovers, so they are retried.
bool IsPermanentCode(int64_t code) {
  return code == kCodeInvalidSenderId || code == kCodeInvalidPhoneNumber || code == kCodeUnsupportedNumberType ||
         code == kCodeCouldNotRoute || code == kCodeDoNotDisturbRejection;
}

Outcome ReadResponse(const std::string& body) {
  Outcome out;
  auto parsed = json::ParseObject(body);
  // A 2xx we cannot read may still have been taken: a retry could send
  // twice, so these fail the msg (AcceptedWithoutId's rule).
  if (!parsed.ok()) {
    out.error = "unable to parse response body";
    out.permanent = true;
    return out;
  }
  json::ObjectPtr data = json::GetObject(*parsed, "SMSMessageData");
  if (!data) {
    out.error = "no SMSMessageData in response body";
    out.permanent = true;
    return out;
  }
  json::ArrayPtr recipients = json::GetArray(data, "Recipients");
  json::ObjectPtr recipient = recipients && recipients->size() > 0 ? recipients->getObject(0) : nullptr;
  if (!recipient) {
    // e.g. {"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}
    // The whole request was refused (sender id, number format): the same
    // request gets the same answer.
    out.error = "no recipients in response: '" + json::GetString(data, "Message").value_or("") + "'";
    out.permanent = true;
    return out;
  }
  const std::string status = json::GetString(recipient, "status").value_or("");
  const int64_t code = json::GetInt(recipient, "statusCode").value_or(0);
  out.external_id = json::GetString(recipient, "messageId").value_or("");
  // The reference checks status == "Success"; the current docs make
  // statusCode the authority (101 Sent comes with status "Success").
  const bool accepted = code == kCodeProcessed || code == kCodeSent || code == kCodeQueued ||
                        (code == 0 && status == "Success");
  if (accepted) {
    if (out.external_id.empty() || out.external_id == "None") {
      out.error = "no messageId in the accepted recipient";
      out.permanent = true;
    }
    return out;
  }
  out.external_id.clear();
  out.error = "received non-success status '" + status + "'";
  if (code == kCodeUserInBlacklist || status == "UserInBlacklist") {
    out.permanent = true;
    out.stopped = true;
  } else if (IsPermanentCode(code)) {
    out.permanent = true;
  }
  return out;
}

}  // namespace

const ChannelTypeInfo& AfricasTalkingHandler::Type() const {
  static const ChannelTypeInfo type = {
      "AT",
      "Africas Talking",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the Africa's Talking app's username"},
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the app's API key"},
          {kIsShared, ConfigNeed::kOptional, false, "true: a shared short code, sent without `from`", "false"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> AfricasTalkingHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "callback", RouteKind::kReceive},  // [later] alias of receive
      {"POST", "status", RouteKind::kStatus},
      {"POST", "delivery", RouteKind::kStatus},   // [later] alias of status
      {"POST", "optout", RouteKind::kEvent},
  };
}

WebhookResult AfricasTalkingHandler::Receive(const Route& route, const Channel& channel,
                                             const WebhookRequest& request, HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Africa's Talking does not sign its callbacks: a webhook_token in the
  // callback URL is all there is.
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  if (route.kind == RouteKind::kEvent) return ReceiveOptOut(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult AfricasTalkingHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string api_key = channel.ConfigOr(config_keys::kApiKey);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const bool shared = handlers::ConfigFlag(channel, kIsShared, false);
  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kMessagingPath;
  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    std::vector<std::pair<std::string, std::string>> form = {
        {"username", username}, {"to", to}, {"message", parts[i]}};
    // A shared short code belongs to Africa's Talking: sending "from" it
    // is refused, so such channels send without.
    if (!shared) form.push_back({"from", channel.address});

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", kFormContentType}, {"Accept", "application/json"}, {"apiKey", api_key}};
    req.body = FormEncode(form);
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    if (!call.ok()) {
      const std::string error = call.log.error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    Outcome outcome = ReadResponse(call.exchange.body);
    if (!outcome.error.empty() && call.log.error.empty()) call.log.error = outcome.error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));

    if (!outcome.error.empty()) {
      if (outcome.permanent) {
        SendResult r = SendResult::Failed(outcome.error, std::move(logs));
        r.stop_contact = outcome.stopped;
        return r;
      }
      return handlers::ThrottledIf429(SendResult::Errored(outcome.error, std::move(logs)), exchange);
    }
    if (i == 0) external_id = outcome.external_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
