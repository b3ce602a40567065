#include "handlers/zenvia.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.zenvia.com";
const char* kTokenHeader = "X-API-TOKEN";

// Longest text per content: WhatsApp takes 4096 characters; for SMS we
// keep the reference's Zenvia limit of 1152 (Zenvia concatenates up to
// that); the channel's max_length overrides either. Longer texts become
// several text contents of one request.
constexpr size_t kMaxWhatsAppLength = 4096;
constexpr size_t kMaxSmsLength = 1152;

// messageStatus.code of MESSAGE_STATUS events (Zenvia v2 "Message status
// event", whose enum is REJECTED, SENT, DELIVERED, NOT_DELIVERED, READ,
// DELETED, CLICKED, VERIFIED). The v1 API the reference describes used
// numeric codes (00-02 S, 03 D, 04-10 E); v2 uses these words. READ is R
// now that we track reads, and so is CLICKED (the recipient opened a link
// in it). DELETED and VERIFIED say nothing about delivery: answered 200
// and ignored. Any other code is recorded as E, as Zenvia's codes outside
// the success ones are errors (reference: 04-10 -> E); see Receive.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"SENT", MsgStatus::kSent},         {"DELIVERED", MsgStatus::kDelivered}, {"READ", MsgStatus::kRead},
      {"NOT_DELIVERED", MsgStatus::kFailed}, {"REJECTED", MsgStatus::kFailed},  {"CLICKED", MsgStatus::kRead},
  };
  return table;
}
bool IsIgnoredStatus(const std::string& code) { return code == "DELETED" || code == "VERIFIED"; }

// "reason (details)" of each messageStatus.causes[] entry, joined with
// "; "; "" when there are none.
std::string Causes(const json::ObjectPtr& status) {
  json::ArrayPtr causes = status ? status->getArray("causes") : nullptr;
  std::string out;
  for (size_t i = 0; causes && i < causes->size(); ++i) {
    json::ObjectPtr cause = causes->getObject(i);
    std::string text = json::GetTextOrEmpty(cause, "reason");
    const std::string details = json::GetTextOrEmpty(cause, "details");
    if (!details.empty()) text += text.empty() ? details : " (" + details + ")";
    if (!text.empty()) out += (out.empty() ? "" : "; ") + text;
  }
  return out;
}

}  // namespace

const ChannelTypeInfo& ZenviaHandler::Type() const {
  auto describe = [](const char* code, const char* name, const char* scheme, size_t max_length) {
    return ChannelTypeInfo{code,
                           name,
                           {scheme},
                           {
                               {config_keys::kApiKey, ConfigNeed::kToSend, true, "the API token (X-API-TOKEN)"},
                               handlers::BaseUrlKey(kDefaultApiUrl),
                               handlers::MaxLengthKey(max_length),
                               handlers::WebhookTokenKey(),
                           }};
  };
  static const ChannelTypeInfo whatsapp = describe("ZVW", "Zenvia WhatsApp", "whatsapp", kMaxWhatsAppLength);
  static const ChannelTypeInfo sms = describe("ZVS", "Zenvia SMS", "tel", kMaxSmsLength);
  return kind_ == Kind::kWhatsApp ? whatsapp : sms;
}

std::vector<Route> ZenviaHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult ZenviaHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Zenvia does not sign webhook events; a subscription may add fixed
  // headers (Authorization: Bearer <webhook_token>) or use a URL with it.
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr& event = *body;
  const std::string type = json::GetTextOrEmpty(event, "type");
  if (type.empty()) return WebhookResult::Error("field 'type' required");

  if (route.kind == RouteKind::kStatus) {
    if (type != "MESSAGE_STATUS") return WebhookResult::Ignored("ignoring event of type '" + type + "'");
    const std::string id = json::GetTextOrEmpty(event, "messageId");
    json::ObjectPtr status = event->getObject("messageStatus");
    const std::string code = json::GetTextOrEmpty(status, "code");
    std::vector<std::string> errors;
    if (id.empty()) errors.push_back("field 'messageId' required");
    if (code.empty()) errors.push_back("field 'messageStatus.code' required");
    if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
    if (IsIgnoredStatus(code)) return WebhookResult::Ignored("status '" + code + "' ignored");
    auto mapped = handlers::MapStatus(StatusTable(), code);
    StatusUpdate update = handlers::StatusForExternalId(channel, id, mapped.value_or(MsgStatus::kErrored));
    const std::string causes = Causes(status);
    if (!mapped) {
      // Recorded, not refused: E keeps the reason, with no next attempt,
      // since the provider may have delivered it after all; an operator
      // decides (courier-ctl retry).
      update.error_reason = "unknown status '" + code + "' from zenvia" + (causes.empty() ? "" : ": " + causes);
    } else if (*mapped == MsgStatus::kFailed) {
      update.error_reason = code + (causes.empty() ? "" : ": " + causes);
    }
    WebhookResult r;
    r.statuses.push_back(std::move(update));
    return r;
  }

  if (type != "MESSAGE") return WebhookResult::Ignored("ignoring event of type '" + type + "'");
  json::ObjectPtr message = event->getObject("message");
  if (!message) return WebhookResult::Error("field 'message' required");
  // Our own outgoing messages are echoed with direction OUT.
  if (json::GetTextOrEmpty(message, "direction") == "OUT") return WebhookResult::Ignored("ignoring outgoing message");
  const std::string id = json::GetTextOrEmpty(message, "id");
  const std::string from = json::GetTextOrEmpty(message, "from");
  json::ArrayPtr contents = message->getArray("contents");
  std::vector<std::string> errors;
  if (id.empty()) errors.push_back("field 'message.id' required");
  if (from.empty()) errors.push_back("field 'message.from' required");
  if (!contents) errors.push_back("field 'message.contents' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));

  std::string text;
  std::vector<std::string> attachments;
  for (size_t i = 0; i < contents->size(); ++i) {
    json::ObjectPtr content = contents->getObject(i);
    const std::string ctype = json::GetTextOrEmpty(content, "type");
    if (ctype == "text") {
      text += (text.empty() ? "" : "\n") + json::GetTextOrEmpty(content, "text");
    } else if (ctype == "file") {
      const std::string url = json::GetTextOrEmpty(content, "fileUrl");
      if (url.empty()) continue;
      std::string mime = json::GetTextOrEmpty(content, "fileMimeType");
      if (mime.empty()) mime = MimeTypeFromPath(url);
      attachments.push_back(mime.empty() ? url : mime + ":" + url);
      const std::string caption = json::GetTextOrEmpty(content, "fileCaption");
      if (!caption.empty()) text += (text.empty() ? "" : "\n") + caption;
    } else if (ctype == "location") {
      // geo:lat,long as the other handlers keep locations
      attachments.push_back("geo:" + json::GetTextOrEmpty(content, "latitude") + "," + json::GetTextOrEmpty(content, "longitude"));
    }
  }

  Result<URN> urn = kind_ == Kind::kWhatsApp ? URN::FromParts("whatsapp", from) : handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.attachments = std::move(attachments);
  msg.contact_name = json::GetTextOrEmpty(message->getObject("visitor"), "name");
  const std::string timestamp = json::GetTextOrEmpty(event, "timestamp");
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
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = channel.ConfigOr(config_keys::kApiKey);
  const bool whatsapp = kind_ == Kind::kWhatsApp;
  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/v2/channels/" +
                          (whatsapp ? "whatsapp" : "sms") + "/messages";
  std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  if (!to.empty() && to[0] == '+') to.erase(0, 1);  // Zenvia wants the bare number

  json::ArrayPtr contents = json::NewArray();
  // A WhatsApp template is one "template" content: Zenvia's template id and
  // its fields by name.
  const bool templated = whatsapp && msg.templating.has_value();
  if (templated) {
    const MsgTemplate& t = *msg.templating;
    std::string error;
    json::ObjectPtr fields = json::NewObject();
    for (const auto& component : t.components)
      for (const auto& param : component.params) {
        if (param.name.empty()) error = "Zenvia template fields need names: a value of " + component.type + " has none";
        fields->set(param.name, param.value);
      }
    if (t.external_id.empty()) error = "template '" + t.name + "' has no external_id: Zenvia needs its template id";
    if (!error.empty()) return SendResult::Failed(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
    json::ObjectPtr c = json::NewObject();
    c->set("type", "template");
    c->set("templateId", t.external_id);
    c->set("fields", fields);
    contents->add(c);
  }
  // SMS cannot carry files: attachments go as links in the text.
  const std::string text = templated ? std::string() : whatsapp ? msg.text : TextAndAttachments(msg);
  const size_t max_length = handlers::MaxLength(channel, whatsapp ? kMaxWhatsAppLength : kMaxSmsLength);
  for (const auto& part : SplitText(text, max_length)) {
    if (part.empty()) continue;
    json::ObjectPtr c = json::NewObject();
    c->set("type", "text");
    c->set("text", part);
    contents->add(c);
  }
  if (whatsapp && !templated) {
    for (const auto& attachment : msg.attachments) {
      auto [mime, link] = SplitAttachment(attachment);
      if (mime.find('/') == std::string::npos) {  // a bare URL ("https://...") has no type
        mime.clear();
        link = attachment;
      }
      json::ObjectPtr c = json::NewObject();
      c->set("type", "file");
      c->set("fileUrl", link);
      c->set("fileMimeType", mime.empty() ? MimeTypeFromPath(link) : mime);
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
    const std::string code = parsed.ok() ? json::GetTextOrEmpty(*parsed, "code") : "";
    const std::string message = parsed.ok() ? json::GetTextOrEmpty(*parsed, "message") : "";
    if (!code.empty()) error += ": " + code + (message.empty() ? "" : " " + message);
    log.error = error;
    logs.push_back(std::move(log));
    // A 4xx but 429 is a request Zenvia will never take (bad number,
    // invalid content, a token it refuses): permanent.
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  const std::string id = parsed.ok() ? json::GetTextOrEmpty(*parsed, "id") : "";
  if (id.empty()) {
    // Zenvia may send what it answered without an id: a retry could
    // deliver it twice.
    const std::string error = "unable to get id from response body";
    log.error = error;
    logs.push_back(std::move(log));
    return handlers::AcceptedWithoutId(error, std::move(logs));
  }
  logs.push_back(std::move(log));
  return SendResult::Wired(id, std::move(logs));
}

}  // namespace courier
