#include "handlers/mblox.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.mblox.com";
// Longer texts go as several batches (reference: 459, three concatenated
// GSM-7 SMS), unless the channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 459;

const char* kTypeReply = "mo_text";
const char* kTypeReport = "recipient_delivery_report_sms";

// Report statuses (Sinch "Delivery report statuses"); the reference's
// six, then the four Sinch documents that it refuses (see mblox.h).
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"Delivered", MsgStatus::kDelivered}, {"Dispatched", MsgStatus::kSent}, {"Aborted", MsgStatus::kFailed},
      {"Rejected", MsgStatus::kFailed},     {"Failed", MsgStatus::kFailed},   {"Expired", MsgStatus::kFailed},
      {"Cancelled", MsgStatus::kFailed},    {"Deleted", MsgStatus::kFailed},  {"Unknown", MsgStatus::kSent},
  };
  return table;
}
// Intermediate: the batch waits in Sinch's own queue, which the msg's W
// already says.
const char* kStatusQueued = "Queued";
const std::vector<std::string> kStatusNames = {"Delivered", "Dispatched", "Aborted", "Rejected", "Failed",
                                               "Expired",   "Cancelled",  "Deleted", "Unknown",  "Queued"};

// Sinch writes times as 2016-10-06T09:28:39.220Z: milliseconds, UTC. The
// reference takes that layout only, so we do too.
std::optional<Micros> ParseReceivedAt(const std::string& text) {
  static const std::string kLayout = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() != kLayout.size()) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kLayout[i] == 'd' ? !digit : text[i] != kLayout[i]) return std::nullopt;
  }
  return ParseRfc3339(text);
}

WebhookResult ReceiveReply(const Channel& channel, const json::ObjectPtr& event) {
  const std::string id = json::GetTextOrEmpty(event, "id");
  const std::string from = json::GetTextOrEmpty(event, "from");
  const std::string to = json::GetTextOrEmpty(event, "to");
  const std::string body = json::GetTextOrEmpty(event, "body");
  const std::string received_at = json::GetTextOrEmpty(event, "received_at");
  if (id.empty() || from.empty() || to.empty() || body.empty() || received_at.empty())
    return WebhookResult::Error("missing one of 'id', 'from', 'to', 'body' or 'received_at' in request body");
  auto received_on = ParseReceivedAt(received_at);
  if (!received_on)
    return WebhookResult::Error("invalid received_at '" + received_at + "', must be like 2016-10-06T09:28:39.220Z");
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, body);
  msg.external_id = id;
  msg.received_on = *received_on;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveReport(const Channel& channel, const json::ObjectPtr& event) {
  const std::string batch_id = json::GetTextOrEmpty(event, "batch_id");
  const std::string status = json::GetTextOrEmpty(event, "status");
  if (batch_id.empty() || status.empty())
    return WebhookResult::Error("missing one of 'batch_id' or 'status' in request body");
  if (status == kStatusQueued) return WebhookResult::Ignored("status 'Queued' says nothing new, ignored");
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Error(handlers::UnknownStatusError(status, kStatusNames));
  StatusUpdate update = handlers::StatusForExternalId(channel, batch_id, *mapped);
  if (*mapped == MsgStatus::kFailed) {
    // Sinch's error code says why (401 dispatch failure, 406 unroutable ...).
    const std::string code = json::GetTextOrEmpty(event, "code");
    update.error_reason = "sinch status " + status + (code.empty() ? "" : " (code " + code + ")");
  }
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

// Sinch's reason for refusing a request: {"code": "syntax_invalid_json",
// "text": "..."}; "" when the answer has none.
std::string SinchError(const std::string& body) {
  auto parsed = json::ParseObject(body);
  if (!parsed.ok()) return "";
  const std::string code = json::GetTextOrEmpty(*parsed, "code");
  const std::string text = json::GetTextOrEmpty(*parsed, "text");
  if (code.empty()) return text;
  return text.empty() ? code : code + ": " + text;
}

}  // namespace

const ChannelTypeInfo& MbloxHandler::Type() const {
  static const ChannelTypeInfo type = {
      "MB",
      "Mblox",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the service plan id (the path of the batches API)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the service plan's API token (Authorization: Bearer)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> MbloxHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult MbloxHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const std::string type = json::GetTextOrEmpty(*body, "type");
  if (type.empty()) return WebhookResult::Error("field 'type' required");
  if (type == kTypeReply) return ReceiveReply(channel, *body);
  if (type == kTypeReport) return ReceiveReport(channel, *body);
  return WebhookResult::Error("not handled, unknown type: " + type);
}

SendResult MbloxHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string service_plan = channel.ConfigOr(config_keys::kUsername);
  const std::string token = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/xms/v1/" + UrlEscape(service_plan) + "/batches";
  // Sinch takes numbers in international format, without the '+'.
  const std::string from = WithoutPlus(channel.address);
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));

  std::vector<ChannelLog> logs;
  std::string external_id;
  // SMS only: attachments go as links in the text.
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    auto recipients = json::NewArray();
    recipients->add(to);
    auto payload = json::NewObject();
    payload->set("from", from);
    payload->set("to", recipients);
    payload->set("body", parts[i]);
    payload->set("delivery_report", "per_recipient");

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"},
                   {"Accept", "application/json"},
                   {"Authorization", "Bearer " + token}};
    req.body = json::Stringify(payload);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = exchange.error.empty() ? SinchError(exchange.body) : "";
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    auto answer = json::ParseObject(exchange.body);
    const std::string batch_id = answer.ok() ? json::GetTextOrEmpty(*answer, "id") : "";
    if (batch_id.empty()) call.log.error = "unable to get id from response body";
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = batch_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
