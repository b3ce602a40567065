#include "handlers/burstsms.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.transmitsms.com";
const char* kSendPath = "/send-sms.json";
// Longer texts go as several messages (reference: 612, four concatenated
// GSM-7 SMS), unless the channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 612;

// Delivery report statuses to ours.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"delivered", MsgStatus::kDelivered},
      {"pending", MsgStatus::kSent},
      {"soft-bounce", MsgStatus::kErrored},
      {"hard-bounce", MsgStatus::kFailed},
  };
  return table;
}

WebhookResult ReceiveReply(const Channel& channel, const WebhookRequest& request) {
  const std::string mobile = request.Param("mobile").value_or("");
  if (mobile.empty()) return WebhookResult::Error("missing required field 'mobile'");
  auto urn = handlers::TelURN(mobile, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, request.Param("response").value_or("")));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  const std::string message_id = request.Param("message_id").value_or("");
  if (message_id.empty()) return WebhookResult::Error("missing required field 'message_id'");
  const std::string status = request.Param("status").value_or("");
  if (status.empty()) return WebhookResult::Error("missing required field 'status'");
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Error("unknown status value '" + status + "'");
  StatusUpdate update = handlers::StatusForExternalId(channel, message_id, *mapped);
  if (*mapped == MsgStatus::kErrored || *mapped == MsgStatus::kFailed) update.error_reason = "burst sms status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

// Burst SMS's reason for refusing a request: {"error": {"code":
// "FIELD_INVALID", "description": "..."}}; "" when the answer has none.
std::string BurstSmsError(const json::ObjectPtr& answer) {
  const json::ObjectPtr error = json::GetObject(answer, "error");
  const std::string code = json::GetTextOrEmpty(error, "code");
  const std::string description = json::GetTextOrEmpty(error, "description");
  if (code.empty()) return description;
  return description.empty() ? code : code + ": " + description;
}

}  // namespace

const ChannelTypeInfo& BurstSmsHandler::Type() const {
  static const ChannelTypeInfo type = {
      "BS",
      "Burst SMS",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's API key (basic authentication)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's API secret (basic authentication)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> BurstSmsHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult BurstSmsHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                       HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveReply(channel, request);
}

SendResult BurstSmsHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string api_key = channel.ConfigOr(config_keys::kUsername);
  const std::string api_secret = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));

  std::vector<ChannelLog> logs;
  std::string external_id;
  // SMS only: attachments go as links in the text.
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.basic_user = api_key;
    req.basic_password = api_secret;
    req.body = FormEncode({{"to", to}, {"from", channel.address}, {"message", parts[i]}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    auto parsed = json::ParseObject(exchange.body);
    const json::ObjectPtr answer = parsed.ok() ? *parsed : nullptr;

    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = exchange.error.empty() ? BurstSmsError(answer) : "";
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (!answer) {
      // Burst SMS may have taken it: a retry could send it twice.
      const std::string error = "unable to parse response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return SendResult::Failed(error, std::move(logs));
    }
    const auto message_id = json::GetIntLoose(answer, "message_id");
    if (!message_id || *message_id == 0) {
      const std::string error = "unable to get message_id from response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = std::to_string(*message_id);
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
