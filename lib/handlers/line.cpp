#include "handlers/line.h"

#include <cstdio>

#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultUrl = "https://api.line.me";
const char* kContentUrl = "https://api-data.line.me/v2/bot/message/";
const char* kSecret = "secret";
// LINE's limits: text messages up to 5000 characters, 5 message objects
// per push request.
constexpr size_t kTextMax = 5000;
constexpr size_t kMaxPerRequest = 5;
// Quick reply buttons: at most 13, labels of at most 20 characters.
constexpr size_t kMaxQuickReplies = 13;
constexpr size_t kQuickReplyLabelMax = 20;




// The attachment for a media message: LINE's content endpoint for media
// it hosts, the sender's URL for external media.
std::string MediaAttachment(const json::ObjectPtr& message, const std::string& type, const std::string& id) {
  json::ObjectPtr provider = json::GetObject(message, "contentProvider");
  std::string url = json::GetStringOrEmpty(provider, "type") == "external" ? json::GetStringOrEmpty(provider, "originalContentUrl") : "";
  if (url.empty()) url = kContentUrl + id + "/content";
  std::string mime = MimeTypeFromPath(type == "file" ? json::GetStringOrEmpty(message, "fileName") : url);
  const std::string major = type == "image" ? "image/" : type == "video" ? "video/" : type == "audio" ? "audio/" : "";
  if (!major.empty() && !StartsWith(mime, major)) mime = "";
  if (mime.empty())  // LINE serves images as JPEG, videos as MP4, audio as M4A
    mime = type == "image" ? "image/jpeg" : type == "video" ? "video/mp4" : type == "audio" ? "audio/mp4"
                                                                                          : kDefaultMimeType;
  return mime + ":" + url;
}

json::ObjectPtr TextMessage(const std::string& text) {
  json::ObjectPtr o = json::NewObject();
  o->set("type", "text");
  o->set("text", text);
  return o;
}

// A retry key per request: the msg uuid for the first, then the uuid with
// its last four hex digits replaced by the request's index.
std::string RetryKey(const std::string& uuid, size_t index) {
  if (index == 0 || uuid.size() < 4) return uuid;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04zx", index & 0xffff);
  return uuid.substr(0, uuid.size() - 4) + buf;
}

}  // namespace

const ChannelTypeInfo& LineHandler::Type() const {
  static const ChannelTypeInfo type = {
      "LN",
      "Line",
      {"line"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the channel access token (also for media lookups)"},
          ConfigKeyInfo{kSecret, ConfigNeed::kToReceive, true, "the channel secret, which signs webhooks"}
              .VerifiesWebhooks(),
          handlers::BaseUrlKey(kDefaultUrl),
          handlers::MaxLengthKey(kTextMax),
      },
  };
  return type;
}

std::vector<Route> LineHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult LineHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                   HandlerContext&) const {
  const std::string secret = channel.ConfigOr(kSecret);
  if (secret.empty()) return WebhookResult::Error("invalid or missing secret in config");
  const std::string signature = request.Header("x-line-signature");
  if (signature.empty()) return WebhookResult::Unauthorized("missing request signature");
  if (!ConstantTimeEquals(signature, HmacSha256Base64(secret, request.body)))
    return WebhookResult::Unauthorized("invalid request signature");

  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  if (!json::GetArray(*parsed, "events")) return WebhookResult::Error("field 'events' required");

  WebhookResult result;
  std::vector<std::string> skipped;
  for (const auto& event : json::GetObjects(*parsed, "events")) {
    const std::string type = json::GetStringOrEmpty(event, "type");
    if (type != "message" && type != "unfollow" && type != "follow") {
      skipped.push_back("ignoring event '" + type + "'");
      continue;
    }
    const std::string user = json::GetStringOrEmpty(json::GetObject(event, "source"), "userId");
    if (user.empty()) return WebhookResult::Error("field 'source.userId' required");
    auto urn = URN::FromParts("line", user);
    if (!urn.ok()) return WebhookResult::Error(urn.status().message());
    if (type == "unfollow") {
      result.stop_urns.push_back(urn->ToString());
      continue;
    }
    if (type == "follow") {  // added as a friend, or unblocked
      ChannelEvent followed;
      followed.type = ChannelEventType::kNewConversation;
      followed.urn = urn->ToString();
      if (json::GetBool(json::GetObject(event, "follow"), "isUnblocked").value_or(false))
        followed.extra["unblocked"] = "true";
      if (auto ts = json::GetNumber(event, "timestamp")) followed.occurred_on = handlers::MicrosFromMillis(*ts);
      result.events.push_back(std::move(followed));
      continue;
    }

    json::ObjectPtr message = json::GetObject(event, "message");
    const std::string id = json::GetStringOrEmpty(message, "id"), mtype = json::GetStringOrEmpty(message, "type");
    if (id.empty()) return WebhookResult::Error("field 'message.id' required");
    if (mtype.empty()) return WebhookResult::Error("field 'message.type' required");
    std::string text;
    std::vector<std::string> attachments;
    if (mtype == "text") {
      text = json::GetStringOrEmpty(message, "text");
      if (text.empty()) return WebhookResult::Error("field 'message.text' required");
    } else if (mtype == "image" || mtype == "video" || mtype == "audio" || mtype == "file") {
      attachments.push_back(MediaAttachment(message, mtype, id));
    } else if (mtype == "location") {
      auto lat = json::GetNumber(message, "latitude"), lng = json::GetNumber(message, "longitude");
      if (!lat || !lng) return WebhookResult::Error("field 'message.latitude' required");
      auto location = handlers::LocationMsg(*lat, *lng, json::GetStringOrEmpty(message, "title"),
                                            json::GetStringOrEmpty(message, "address"));
      text = location.text;
      attachments.push_back(location.attachment);
    } else {  // sticker and anything newer
      skipped.push_back("ignoring message of type '" + mtype + "'");
      continue;
    }
    Msg msg = handlers::IncomingMsg(channel, *urn, text);
    msg.external_id = id;
    msg.attachments = std::move(attachments);
    if (auto ts = json::GetNumber(event, "timestamp")) {
      if (auto micros = handlers::MicrosFromMillis(*ts)) msg.received_on = *micros;
    }
    result.msgs.push_back(std::move(msg));
  }
  if (result.msgs.empty() && result.stop_urns.empty() && result.events.empty())
    return WebhookResult::Ignored(handlers::SkippedReason(skipped, "no events"));
  return result;
}

SendResult LineHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);

  // Image messages need HTTPS JPEG or PNG URLs (previewImageUrl is the
  // same image); other media need a preview or a duration we don't have,
  // so they go as links in the text.
  std::vector<json::ObjectPtr> messages;
  std::string text = msg.text;
  for (const auto& a : msg.attachments) {
    auto [mime, url] = SplitAttachment(a);
    if ((mime == "image/jpeg" || mime == "image/png") && StartsWith(url, "https://")) {
      json::ObjectPtr o = json::NewObject();
      o->set("type", "image");
      o->set("originalContentUrl", url);
      o->set("previewImageUrl", url);
      messages.push_back(o);
    } else {
      text += (text.empty() ? "" : "\n") + url;
    }
  }
  // A quick reply cannot open a page: url replies are links in the text.
  for (const auto& reply : msg.quick_replies)
    if (reply.type == QuickReplyType::kUrl) text += (text.empty() ? "" : "\n") + reply.text + ": " + reply.url;
  if (!text.empty())
    for (const auto& part : SplitText(text, handlers::MaxLength(channel, kTextMax)))
      messages.push_back(TextMessage(part));
  if (messages.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());
  // The buttons under the last message: a text reply sends its text, a
  // location reply opens the location picker.
  json::ArrayPtr items = json::NewArray();
  for (const auto& reply : msg.quick_replies) {
    if (reply.type == QuickReplyType::kUrl || items->size() == kMaxQuickReplies) continue;
    json::ObjectPtr action = json::NewObject();
    action->set("type", reply.type == QuickReplyType::kLocation ? "location" : "message");
    action->set("label", Truncate(reply.text, kQuickReplyLabelMax));
    if (reply.type == QuickReplyType::kText) action->set("text", reply.text);
    json::ObjectPtr item = json::NewObject();
    item->set("type", "action");
    item->set("action", action);
    items->add(item);
  }
  if (items->size() > 0) {
    json::ObjectPtr quick_reply = json::NewObject();
    quick_reply->set("items", items);
    messages.back()->set("quickReply", quick_reply);
  }

  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (size_t start = 0, index = 0; start < messages.size(); start += kMaxPerRequest, ++index) {
    json::ArrayPtr batch = json::NewArray();
    for (size_t i = start; i < messages.size() && i < start + kMaxPerRequest; ++i) batch->add(messages[i]);
    json::ObjectPtr body = json::NewObject();
    body->set("to", to);
    body->set("messages", batch);

    HttpRequestSpec req;
    req.method = "POST";
    req.url = handlers::BaseUrl(channel, kDefaultUrl) + "/v2/bot/message/push";
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({"Authorization", "Bearer " + token});
    if (!msg.uuid.empty()) req.headers.push_back({"X-Line-Retry-Key", RetryKey(msg.uuid, index)});
    req.body = json::Stringify(body);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return SendResult::Errored(error, std::move(logs));
    }
    auto answer = json::ParseObject(call.exchange.body);
    json::ObjectPtr obj = answer.ok() ? *answer : nullptr;
    const int status = call.exchange.status_code;
    // 409: this retry key was already accepted, i.e. a previous attempt
    // went through (LINE's "Retry failed API requests").
    if (call.ok() || status == 409) {
      // LINE sends no delivery reports, so no id is needed to match one:
      // the first sent message's id when LINE gives it, else the request's
      // own id (x-line-request-id, what LINE's support asks for). An
      // answer without either is still an accepted request.
      auto sent = json::GetObjects(obj, "sentMessages");
      std::string id = sent.empty() ? "" : json::GetStringOrEmpty(sent[0], "id");
      if (id.empty()) id = call.exchange.Header("x-line-request-id");
      if (status == 409) call.log.error = "";
      if (index == 0) external_id = id;
      logs.push_back(std::move(call.log));
      continue;
    }
    // {"message": "...", "details": [{"message", "property"}]}
    std::string error = call.log.error;
    std::string text = json::GetStringOrEmpty(obj, "message");
    for (const auto& d : json::GetObjects(obj, "details")) {
      const std::string m = json::GetStringOrEmpty(d, "message"), p = json::GetStringOrEmpty(d, "property");
      if (!m.empty()) text += (text.empty() ? "" : "; ") + (p.empty() ? m : p + ": " + m);
    }
    if (!text.empty()) {
      error = Redact("received error from line: " + text + " (status " + std::to_string(status) + ")", secrets);
      call.log.error = error;
    }
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));
    if (status == 429) {  // rate limit (or the monthly message limit)
      SendResult r = SendResult::Errored(error, std::move(logs));
      r.throttled_for_seconds = exchange.Header("retry-after").empty() ? 60 : handlers::RetryAfterSeconds(exchange);
      return r;
    }
    // 400: the request is invalid (bad user id, bad message object), 401
    // and 403: the token cannot do this; none succeeds when retried. 5xx
    // is retried.
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  return SendResult::Wired(external_id, std::move(logs));
}

// LINE's content endpoint needs the channel access token; a sender's
// external media URL does not get it.
HttpRequestSpec LineHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  if (!token.empty() && handlers::UrlOnHosts(url, {"line.me"}, handlers::BaseUrl(channel, kDefaultUrl)))
    req.headers.push_back({"Authorization", "Bearer " + token});
  return req;
}

}  // namespace courier
