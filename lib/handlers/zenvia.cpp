#include "handlers/zenvia.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.zenvia.com";
const char* kTokenHeader = "X-API-TOKEN";

// Longest text per content: WhatsApp takes 4096 characters; for SMS we
// keep the reference's Zenvia limit of 1152 (Zenvia concatenates up to
// that). Longer texts become several text contents of one request.
constexpr size_t kMaxWhatsAppLength = 4096;
constexpr size_t kMaxSmsLength = 1152;

// messageStatus.code of MESSAGE_STATUS events (Zenvia v2 "Message status
// event"). The v1 API the reference describes used numeric codes
// (00-02 S, 03 D, 04-10 E); v2 uses these words. READ is R now that we
// track reads.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"SENT", MsgStatus::kSent},         {"DELIVERED", MsgStatus::kDelivered}, {"READ", MsgStatus::kRead},
      {"NOT_DELIVERED", MsgStatus::kFailed}, {"REJECTED", MsgStatus::kFailed},
  };
  return table;
}
const std::vector<std::string>& StatusNames() {
  static const std::vector<std::string> names = {"SENT", "DELIVERED", "READ", "NOT_DELIVERED", "REJECTED"};
  return names;
}

std::string Str(const json::ObjectPtr& o, const std::string& key) {
  if (!o || !o->has(key)) return "";
  return handlers::JsonScalarText(o->get(key)).value_or("");
}

std::string JoinErrors(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
  return out;
}

}  // namespace

std::vector<Route> ZenviaHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult ZenviaHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext&) const {
  // Zenvia does not sign webhook events (a subscription may only add
  // fixed headers), so there is nothing to verify.
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr& event = *body;
  const std::string type = Str(event, "type");
  if (type.empty()) return WebhookResult::Error("field 'type' required");

  if (route.kind == RouteKind::kStatus) {
    if (type != "MESSAGE_STATUS") return WebhookResult::Ignored("ignoring event of type '" + type + "'");
    const std::string id = Str(event, "messageId");
    json::ObjectPtr status = event->getObject("messageStatus");
    const std::string code = Str(status, "code");
    std::vector<std::string> errors;
    if (id.empty()) errors.push_back("field 'messageId' required");
    if (code.empty()) errors.push_back("field 'messageStatus.code' required");
    if (!errors.empty()) return WebhookResult::Error(JoinErrors(errors));
    auto mapped = handlers::MapStatus(StatusTable(), code);
    if (!mapped) return WebhookResult::Error(handlers::UnknownStatusError(code, StatusNames()));
    WebhookResult r;
    r.statuses.push_back(handlers::StatusForExternalId(channel, id, *mapped));
    return r;
  }

  if (type != "MESSAGE") return WebhookResult::Ignored("ignoring event of type '" + type + "'");
  json::ObjectPtr message = event->getObject("message");
  if (!message) return WebhookResult::Error("field 'message' required");
  // Our own outgoing messages are echoed with direction OUT.
  if (Str(message, "direction") == "OUT") return WebhookResult::Ignored("ignoring outgoing message");
  const std::string id = Str(message, "id");
  const std::string from = Str(message, "from");
  json::ArrayPtr contents = message->getArray("contents");
  std::vector<std::string> errors;
  if (id.empty()) errors.push_back("field 'message.id' required");
  if (from.empty()) errors.push_back("field 'message.from' required");
  if (!contents) errors.push_back("field 'message.contents' required");
  if (!errors.empty()) return WebhookResult::Error(JoinErrors(errors));

  std::string text;
  std::vector<std::string> attachments;
  for (size_t i = 0; i < contents->size(); ++i) {
    json::ObjectPtr content = contents->getObject(i);
    const std::string ctype = Str(content, "type");
    if (ctype == "text") {
      text += (text.empty() ? "" : "\n") + Str(content, "text");
    } else if (ctype == "file") {
      const std::string url = Str(content, "fileUrl");
      if (url.empty()) continue;
      std::string mime = Str(content, "fileMimeType");
      if (mime.empty()) mime = handlers::MimeTypeFromPath(url);
      attachments.push_back(mime.empty() ? url : mime + ":" + url);
      const std::string caption = Str(content, "fileCaption");
      if (!caption.empty()) text += (text.empty() ? "" : "\n") + caption;
    } else if (ctype == "location") {
      // geo:lat,long as the other handlers keep locations
      attachments.push_back("geo:" + Str(content, "latitude") + "," + Str(content, "longitude"));
    }
  }

  Result<URN> urn = kind_ == Kind::kWhatsApp ? URN::FromParts("whatsapp", from) : handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.attachments = std::move(attachments);
  msg.contact_name = Str(message->getObject("visitor"), "name");
  const std::string timestamp = Str(event, "timestamp");
  if (!timestamp.empty()) {
    auto received_on = ParseRfc3339(timestamp);
    if (!received_on) return WebhookResult::Error("invalid timestamp: " + timestamp);
    msg.received_on = *received_on;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

SendResult ZenviaHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string token = channel.ConfigOr(config_keys::kApiKey);
  if (token.empty()) {
    const std::string error = "no api_key set for " + Code() + " channel";
    return handlers::Errored(error, {handlers::ErrorLog(channel, msg, error, ctx.clock.Now())});
  }
  const bool whatsapp = kind_ == Kind::kWhatsApp;
  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/v2/channels/" +
                          (whatsapp ? "whatsapp" : "sms") + "/messages";
  std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  if (!to.empty() && to[0] == '+') to.erase(0, 1);  // Zenvia wants the bare number

  json::ArrayPtr contents = json::NewArray();
  // SMS cannot carry files: attachments go as links in the text.
  const std::string text = whatsapp ? msg.text : TextAndAttachments(msg);
  for (const auto& part : handlers::SplitText(text, whatsapp ? kMaxWhatsAppLength : kMaxSmsLength)) {
    if (part.empty()) continue;
    json::ObjectPtr c = json::NewObject();
    c->set("type", "text");
    c->set("text", part);
    contents->add(c);
  }
  if (whatsapp) {
    for (const auto& attachment : msg.attachments) {
      auto [mime, link] = SplitAttachment(attachment);
      if (mime.find('/') == std::string::npos) {  // a bare URL ("https://...") has no type
        mime.clear();
        link = attachment;
      }
      json::ObjectPtr c = json::NewObject();
      c->set("type", "file");
      c->set("fileUrl", link);
      c->set("fileMimeType", mime.empty() ? handlers::MimeTypeFromPath(link) : mime);
      contents->add(c);
    }
  }
  json::ObjectPtr payload = json::NewObject();
  payload->set("from", channel.address);
  payload->set("to", to);
  payload->set("contents", contents);

  HttpRequestSpec req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}, {kTokenHeader, token}};
  req.body = json::Stringify(payload);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  const bool ok = call.ok();
  ChannelLog log = std::move(call.log);
  std::vector<ChannelLog> logs;

  auto parsed = json::ParseObject(exchange.body);
  if (!ok) {
    // {"code":"VALIDATION_ERROR","message":"Validation error","details":[...]}
    std::string error = log.error;
    const std::string code = parsed.ok() ? Str(*parsed, "code") : "";
    const std::string message = parsed.ok() ? Str(*parsed, "message") : "";
    if (!code.empty()) error += ": " + code + (message.empty() ? "" : " " + message);
    log.error = error;
    logs.push_back(std::move(log));
    // A 4xx other than 429 is a request Zenvia will never take (bad
    // number, invalid content): permanent.
    if (exchange.status_code >= 400 && exchange.status_code < 500 && exchange.status_code != 429 &&
        exchange.status_code != 401 && exchange.status_code != 403 && exchange.status_code != 408)
      return handlers::Failed(error, std::move(logs));
    return handlers::ThrottledIf429(handlers::Errored(error, std::move(logs)), exchange);
  }
  const std::string id = parsed.ok() ? Str(*parsed, "id") : "";
  if (id.empty()) {
    const std::string error = "unable to get id from response body";
    log.error = error;
    logs.push_back(std::move(log));
    return handlers::Errored(error, std::move(logs));
  }
  logs.push_back(std::move(log));
  return handlers::Wired(id, std::move(logs));
}

}  // namespace courier
