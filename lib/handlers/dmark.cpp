#include "handlers/dmark.h"

#include "core/uuid.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://smsapi1.dmarkmobile.com";
// DMark's path, trailing slash included: without it DMark redirects.
const char* kSendPath = "/sms/";
// The reference's part length: three concatenated GSM-7 SMS.
constexpr size_t kMaxMsgLength = 453;

// DMark's delivery report codes to ours.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"1", MsgStatus::kDelivered}, {"2", MsgStatus::kErrored}, {"4", MsgStatus::kSent},
      {"8", MsgStatus::kSent},      {"16", MsgStatus::kErrored},
  };
  return table;
}
const std::vector<std::string> kStatusCodes = {"1", "2", "4", "8", "16"};

// `names` read with ParamInAnyCase; an error for each one absent or
// empty.
std::map<std::string, std::string> RequiredParams(const WebhookRequest& request, std::vector<std::string> names,
                                                  std::vector<std::string>& errors) {
  std::map<std::string, std::string> values;
  for (const auto& name : names) {
    const std::string value = request.ParamInAnyCase(name).value_or("");
    if (value.empty()) errors.push_back("field '" + name + "' required");
    values[name] = value;
  }
  return values;
}

// DMark's tstamp, 2017-10-26T15:51:32.906335+03:00: RFC 3339 with a
// numeric offset (not "Z") and an optional fraction.
std::optional<Micros> ParseTstamp(std::string text) {
  // "+03:00" in a form that did not escape the '+' arrives as " 03:00".
  const size_t n = text.size();
  if (n > 6 && text[n - 6] == ' ') text[n - 6] = '+';
  if (text.size() < 11 || text[10] != 'T') return std::nullopt;
  const char last = text.back();
  if (last == 'Z' || last == 'z') return std::nullopt;
  return ParseRfc3339(text);
}

WebhookResult ReceiveReply(const Channel& channel, const WebhookRequest& request) {
  std::vector<std::string> errors;
  auto fields = RequiredParams(request, {"msisdn", "text", "short_code", "tstamp"}, errors);
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  const auto received_on = ParseTstamp(fields["tstamp"]);
  if (!received_on) return WebhookResult::Error("invalid tstamp: " + fields["tstamp"]);
  auto urn = handlers::TelURN(fields["msisdn"], channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, fields["text"]);
  msg.received_on = *received_on;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  std::vector<std::string> errors;
  auto fields = RequiredParams(request, {"uuid", "status"}, errors);
  if (!fields["uuid"].empty() && !NormalizeUUID(fields["uuid"])) errors.push_back("field 'uuid' uuid");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  const std::string& status = fields["status"];
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Error(handlers::UnknownStatusError(status, kStatusCodes));

  StatusUpdate update = handlers::StatusForMsgUuid(channel, *NormalizeUUID(fields["uuid"]), *mapped);
  if (*mapped == MsgStatus::kErrored) update.error_reason = "DMark status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

}  // namespace

const ChannelTypeInfo& DmarkHandler::Type() const {
  static const ChannelTypeInfo type = {
      "DK",
      "DMark",
      {"tel"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the API token (Authorization: Token TOKEN)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          {handlers::kCallbackDomainKey, ConfigNeed::kOptional, false,
           "the host DMark sends delivery reports to, when not courier's base URL's (https://HOST/c/dk/...)"},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> DmarkHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult DmarkHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveReply(channel, request);
}

SendResult DmarkHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  if (msg.text.empty()) {
    if (msg.attachments.empty()) return handlers::NothingToSend(channel, msg, now);
    const std::string error = "msg has no text, and DMark carries no attachments";
    return SendResult::Failed(error, {ErrorLog(channel, msg, error, now)});
  }

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  const std::string sender = WithoutPlus(channel.address);
  const std::string receiver = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  // %s is DMark's: it puts the report's status there.
  const std::string dlr_url = handlers::WithWebhookToken(
      channel, handlers::CallbackBase(channel, ctx) + "/c/dk/" + channel.uuid +
                   "/status?uuid=" + UrlEscape(msg.uuid) + "&status=%s");

  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& part : SplitText(msg.text, handlers::MaxLength(channel, kMaxMsgLength))) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"},
                   {"Authorization", "Token " + token}};
    req.body = FormEncode({{"sender", sender}, {"receiver", receiver}, {"text", part}, {"dlr_url", dlr_url}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // {"sms_id": "...", ...}
    auto answer = json::ParseObject(exchange.body);
    const std::string sms_id = json::GetId(answer.ok() ? *answer : nullptr, "sms_id");
    if (sms_id.empty()) {
      const std::string error = "unable to get sms_id from response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (external_id.empty()) external_id = sms_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
