#include "handlers/justcall.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.justcall.io";
const char* kSendPath = "/v1/texts/new";
// The most media JustCall takes with one text; more go as links.
constexpr size_t kMaxMedia = 5;
// What a webhook about a text says it is, and which way the text went.
const char* kTypeSms = "sms";
const char* kDirectionIn = "I";
const char* kDirectionOut = "O";
const char* kNoMessage = "Ignoring request, no message";
// What JustCall's answer says of a text it took.
const char* kStatusSuccess = "success";

// Delivery statuses to ours.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"delivered", MsgStatus::kDelivered},
      {"sent", MsgStatus::kSent},
      {"undelivered", MsgStatus::kErrored},
      {"failed", MsgStatus::kFailed},
  };
  return table;
}

// The name under which `object` holds `key`, matched as the reference's
// decoder matches JSON keys: exactly, else in any case; `key` when it
// holds none.
std::string KeyIgnoringCase(const json::ObjectPtr& object, const std::string& key) {
  if (!object || object->has(key)) return key;
  for (auto it = object->begin(); it != object->end(); ++it)
    if (EqualsIgnoreCase(it->first, key)) return it->first;
  return key;
}
std::string Text(const json::ObjectPtr& object, const std::string& key) {
  return json::GetTextOrEmpty(object, KeyIgnoringCase(object, key));
}

// JustCall's "2020-06-25 12:34:56", UTC. A fraction of a second is taken,
// as the reference's parser takes one.
std::optional<Micros> ParseDatetime(const std::string& text) {
  if (text.size() < 19 || text[10] != ' ') return std::nullopt;
  return ParseRfc3339(text.substr(0, 10) + "T" + text.substr(11) + "Z");
}

WebhookResult ReceiveReply(const Channel& channel, const json::ObjectPtr& data) {
  const std::string datetime = Text(data, "datetime");
  std::optional<Micros> received_on;
  if (!datetime.empty()) {
    received_on = ParseDatetime(datetime);
    if (!received_on)
      return WebhookResult::Error("invalid datetime '" + datetime + "', must be YYYY-MM-DD hh:mm:ss (UTC)");
  }
  const std::string number = Text(data, "contact_number");
  if (number.empty()) return WebhookResult::Error("field 'contact_number' required");
  auto urn = handlers::TelURN(number, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  Msg msg = handlers::IncomingMsg(channel, *urn, Text(data, "content"));
  msg.external_id = json::GetId(data, KeyIgnoringCase(data, "messageid"));
  msg.received_on = received_on;
  // Only the first medium, as the reference takes (see justcall.h).
  const auto media = json::GetObjects(data, KeyIgnoringCase(data, "mms"));
  const std::string url = media.empty() ? "" : Text(media.front(), "media_url");
  if (!url.empty()) {
    const std::string mime = MimeTypeFromPath(url);
    msg.attachments.push_back(mime.empty() ? url : mime + ":" + url);
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const json::ObjectPtr& data) {
  const std::string message_id = json::GetId(data, KeyIgnoringCase(data, "messageid"));
  if (message_id.empty()) return WebhookResult::Error("field 'messageid' required");
  const std::string status = Text(data, "delivery_status");
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped)
    return WebhookResult::Error("unknown status '" + status + "', must be one of sent, delivered, undelivered, failed");
  StatusUpdate update = handlers::StatusForExternalId(channel, message_id, *mapped);
  if (*mapped == MsgStatus::kErrored || *mapped == MsgStatus::kFailed) update.error_reason = "justcall status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

// The URL of an attachment, which may come bare ("https" is no type).
std::string AttachmentUrl(const std::string& attachment) {
  auto [mime, url] = SplitAttachment(attachment);
  return mime.find('/') == std::string::npos ? attachment : url;
}

}  // namespace

const ChannelTypeInfo& JustCallHandler::Type() const {
  static const ChannelTypeInfo type = {
      "JCL",
      "JustCall",
      {"tel"},
      {
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the account's API key (Authorization)"},
          {config_keys::kSecret, ConfigNeed::kToSend, true, "the account's API secret (Authorization)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> JustCallHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult JustCallHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                       HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr data = json::GetObject(*body, KeyIgnoringCase(*body, "data"));
  const std::string type = Text(data, "type");
  const std::string direction = Text(data, "direction");
  const bool is_status = route.kind == RouteKind::kStatus;
  if (type != kTypeSms || direction != (is_status ? kDirectionOut : kDirectionIn))
    return WebhookResult::Ignored(kNoMessage);
  return is_status ? ReceiveStatus(channel, data) : ReceiveReply(channel, data);
}

SendResult JustCallHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string api_key = channel.ConfigOr(config_keys::kApiKey);
  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  auto payload = json::NewObject();
  payload->set("from", channel.address);
  payload->set("to", msg.urn.substr(msg.urn.find(':') + 1));
  if (msg.attachments.size() > kMaxMedia) {
    payload->set("body", TextAndAttachments(msg));
  } else {
    payload->set("body", msg.text);
    std::vector<std::string> urls;
    for (const auto& attachment : msg.attachments) urls.push_back(AttachmentUrl(attachment));
    if (!urls.empty()) payload->set("media_url", Join(urls, ","));
  }

  HttpRequestSpec req;
  req.method = "POST";
  req.url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  req.headers = {{"Authorization", api_key + ":" + secret},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = json::Stringify(payload);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  auto parsed = json::ParseObject(exchange.body);
  const json::ObjectPtr answer = parsed.ok() ? *parsed : nullptr;
  // JustCall's reason for refusing a text: {"status": "error", "message": ...}.
  const std::string reason = Text(answer, "message");
  std::vector<ChannelLog> logs;

  if (!call.ok()) {
    std::string error = call.log.error;
    if (exchange.error.empty() && !reason.empty()) error += ": " + reason;
    call.log.error = error;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  const std::string status = Text(answer, "status");
  if (status != kStatusSuccess) {
    // Refused, or an answer we cannot read, which may hide a text JustCall
    // took: a retry would be refused again or could send it twice.
    std::string error = status.empty() ? "unable to get status from response body"
                                       : "received status '" + status + "'";
    if (!reason.empty()) error += ": " + reason;
    call.log.error = error;
    logs.push_back(std::move(call.log));
    return SendResult::Failed(error, std::move(logs));
  }
  const std::string id = json::GetId(answer, KeyIgnoringCase(answer, "id"));
  if (id.empty()) call.log.error = "unable to get id from response body";
  logs.push_back(std::move(call.log));
  return SendResult::Wired(id, std::move(logs));
}

}  // namespace courier
