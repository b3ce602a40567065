#include "handlers/clicksend.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://rest.clicksend.com";
const char* kSendPath = "/v3/sms/send";
// Longer texts go as several messages (reference: 1224, eight
// concatenated GSM-7 SMS), unless the channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 1224;
// What ClickSend says of a message it took.
const char* kStatusSuccess = "SUCCESS";

// ClickSend's reason for refusing a request: {"http_code": 401,
// "response_code": "UNAUTHORIZED", "response_msg": "...", "data": ...};
// "" when the answer has none.
std::string ClickSendError(const json::ObjectPtr& answer) {
  const std::string code = json::GetTextOrEmpty(answer, "response_code");
  const std::string text = json::GetTextOrEmpty(answer, "response_msg");
  if (code.empty()) return text;
  return text.empty() ? code : code + ": " + text;
}

}  // namespace

const ChannelTypeInfo& ClickSendHandler::Type() const {
  static const ChannelTypeInfo type = {
      "CS",
      "ClickSend",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user name (basic authentication)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's API key (basic authentication)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ClickSendHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult ClickSendHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  const std::string from = request.Param("from").value_or("");
  if (from.empty()) return WebhookResult::Error("missing required field 'from'");
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, request.Param("body").value_or("")));
  return r;
}

SendResult ClickSendHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string api_key = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  // ClickSend takes the recipient in E.164, with its '+'.
  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);

  std::vector<ChannelLog> logs;
  std::string external_id;
  // SMS only: attachments go as links in the text.
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    auto message = json::NewObject();
    message->set("to", to);
    message->set("from", channel.address);
    message->set("body", parts[i]);
    message->set("source", "courier");
    auto messages = json::NewArray();
    messages->add(message);
    auto payload = json::NewObject();
    payload->set("messages", messages);

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.basic_user = username;
    req.basic_password = api_key;
    req.body = json::Stringify(payload);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    auto parsed = json::ParseObject(exchange.body);
    const json::ObjectPtr answer = parsed.ok() ? *parsed : nullptr;

    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = exchange.error.empty() ? ClickSendError(answer) : "";
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }

    // {"data": {"messages": [{"status": "SUCCESS", "message_id": ...}]}}
    const auto sent = json::GetObjects(json::GetObject(answer, "data"), "messages");
    const json::ObjectPtr first = sent.empty() ? nullptr : sent.front();
    const std::string status = json::GetTextOrEmpty(first, "status");
    const std::string message_id = json::GetTextOrEmpty(first, "message_id");
    if (status != kStatusSuccess) {
      // Refused for good (INVALID_RECIPIENT, INSUFFICIENT_CREDIT ...), or
      // an answer we cannot read, which may hide a message ClickSend took:
      // a retry would be refused again or could send it twice.
      const std::string error = status.empty() ? "unable to get message status from response body"
                                               : "received message status '" + status + "'";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return SendResult::Failed(error, std::move(logs));
    }
    if (message_id.empty()) {
      const std::string error = "unable to get message_id from response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = message_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
