#include "handlers/viber.h"

#include <Poco/Exception.h>

#include <cctype>
#include <cstdio>
#include <map>
#include <optional>

#include "core/json_writer.h"
#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultUrl = "https://chatapi.viber.com";
const char* kSenderName = "sender_name";
const char* kWelcomeMessage = "welcome_message";
// Viber's limits: text messages up to 7000 characters; a picture's
// description up to 768; the sender name up to 28.
constexpr size_t kTextMax = 7000;
constexpr size_t kCaptionMax = 768;
constexpr size_t kSenderNameMax = 28;



// The MIME type of received media: the URL's extension when it agrees
// with the kind, else the kind's usual type.
std::string MediaMime(const std::string& type, const std::string& url, const std::string& file_name) {
  std::string guess = MimeTypeFromPath(file_name.empty() ? url : file_name);
  if (guess.empty()) guess = MimeTypeFromPath(url);
  if (type == "picture" || type == "sticker")
    return StartsWith(guess, "image/") ? guess : type == "sticker" ? "image/png" : "image/jpeg";
  if (type == "video") return StartsWith(guess, "video/") ? guess : "video/mp4";
  return guess.empty() ? kDefaultMimeType : guess;
}

const std::map<std::string, MsgStatus>& Statuses() {
  static const std::map<std::string, MsgStatus> table = {
      {"delivered", MsgStatus::kDelivered},
      {"seen", MsgStatus::kRead},
      {"failed", MsgStatus::kFailed},
  };
  return table;
}

// X-Viber-Content-Signature: hex(HMAC-SHA256(auth token, raw body)).
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request) {
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  if (token.empty()) return WebhookResult::Error("invalid or missing auth token in config");
  const std::string header = ToLower(request.Header("x-viber-content-signature"));
  if (header.empty()) return WebhookResult::Unauthorized("missing request signature");
  if (!ConstantTimeEquals(header, HmacSha256Hex(token, request.body)))
    return WebhookResult::Unauthorized("invalid request signature");
  return std::nullopt;
}

WebhookResult ReceiveMessage(const Channel& channel, const json::ObjectPtr& event) {
  json::ObjectPtr sender = json::GetObject(event, "sender");
  const std::string sender_id = json::GetStringOrEmpty(sender, "id");
  if (sender_id.empty()) return WebhookResult::Error("field 'sender.id' required");
  const std::string token = json::GetId(event, "message_token");
  if (token.empty()) return WebhookResult::Error("field 'message_token' required");
  json::ObjectPtr message = json::GetObject(event, "message");
  const std::string type = json::GetStringOrEmpty(message, "type");
  if (type.empty()) return WebhookResult::Error("field 'message.type' required");
  auto urn = URN::FromParts("viber", sender_id);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  std::string text = json::GetStringOrEmpty(message, "text");
  std::vector<std::string> attachments;
  if (type == "text") {
    if (text.empty()) return WebhookResult::Error("field 'message.text' required");
  } else if (type == "picture" || type == "video" || type == "file" || type == "sticker") {
    const std::string media = json::GetStringOrEmpty(message, "media");
    if (media.empty()) return WebhookResult::Error("field 'message.media' required");
    attachments.push_back(MediaMime(type, media, json::GetStringOrEmpty(message, "file_name")) + ":" + media);
  } else if (type == "contact") {
    json::ObjectPtr contact = json::GetObject(message, "contact");
    const std::string name = json::GetStringOrEmpty(contact, "name"), phone = json::GetStringOrEmpty(contact, "phone_number");
    text = name.empty() ? phone : phone.empty() ? name : name + ": " + phone;
  } else if (type == "url") {
    text = json::GetStringOrEmpty(message, "media");
    if (text.empty()) return WebhookResult::Error("field 'message.media' required");
  } else if (type == "location") {
    json::ObjectPtr where = json::GetObject(message, "location");
    auto lat = json::GetNumber(where, "lat"), lon = json::GetNumber(where, "lon");
    if (!lat || !lon) return WebhookResult::Error("field 'message.location.lat' required");
    auto location = handlers::LocationMsg(*lat, *lon, "", json::GetStringOrEmpty(where, "address"));
    text = location.text;
    attachments.push_back(location.attachment);
  } else {
    return WebhookResult::Ignored("ignoring message of type '" + type + "'");
  }

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = token;
  msg.attachments = std::move(attachments);
  msg.contact_name = json::GetStringOrEmpty(sender, "name");
  if (auto ts = json::GetNumber(event, "timestamp")) {
    if (auto micros = handlers::MicrosFromMillis(*ts)) msg.received_on = *micros;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

std::string ViberUrn(const std::string& urn) { return urn.substr(urn.find(':') + 1); }

std::string SenderName(const Channel& channel) {
  return Truncate(channel.ConfigOr(kSenderName, channel.name.empty() ? channel.address : channel.name),
                  kSenderNameMax);
}

// A subscribed or conversation_started callback's user as an event of
// `type`: Viber names the user `user` in these (`sender` in a message).
Result<ChannelEvent> UserEvent(const json::ObjectPtr& callback, ChannelEventType type) {
  json::ObjectPtr user = json::GetObject(callback, "user");
  const std::string id = json::GetStringOrEmpty(user, "id");
  if (id.empty()) return Status::InvalidArgument("field 'user.id' required");
  auto urn = URN::FromParts("viber", id);
  if (!urn.ok()) return urn.status();
  ChannelEvent event;
  event.type = type;
  event.urn = urn->ToString();
  event.contact_name = json::GetStringOrEmpty(user, "name");
  if (auto ts = json::GetNumber(callback, "timestamp")) event.occurred_on = handlers::MicrosFromMillis(*ts);
  return event;
}

json::ObjectPtr Payload(const Channel& channel, const Msg& msg, const std::string& type) {
  json::ObjectPtr o = json::NewObject();
  o->set("receiver", ViberUrn(msg.urn));
  json::ObjectPtr sender = json::NewObject();
  sender->set("name", SenderName(channel));
  o->set("sender", sender);
  o->set("tracking_data", std::to_string(msg.id));
  o->set("type", type);
  return o;
}

// A keyboard of a msg's quick replies, a button a row: a text reply sends
// its text back, a location reply opens the location picker, a url reply
// opens its page. Null for none.
json::ObjectPtr Keyboard(const std::vector<QuickReply>& replies) {
  if (replies.empty()) return nullptr;
  json::ArrayPtr buttons = json::NewArray();
  for (const auto& reply : replies) {
    json::ObjectPtr button = json::NewObject();
    switch (reply.type) {
      case QuickReplyType::kText:
        button->set("ActionType", "reply");
        button->set("ActionBody", reply.text);
        break;
      case QuickReplyType::kLocation:
        button->set("ActionType", "location-picker");
        button->set("ActionBody", reply.text);
        break;
      case QuickReplyType::kUrl:
        button->set("ActionType", "open-url");
        button->set("ActionBody", reply.url);
        break;
    }
    button->set("Text", reply.text);
    button->set("TextSize", "regular");
    buttons->add(button);
  }
  json::ObjectPtr keyboard = json::NewObject();
  keyboard->set("Type", "keyboard");
  keyboard->set("DefaultHeight", false);
  keyboard->set("Buttons", buttons);
  return keyboard;
}

}  // namespace

const ChannelTypeInfo& ViberHandler::Type() const {
  static const ChannelTypeInfo type = {
      "VP",
      "Viber",
      {"viber"},
      {
          ConfigKeyInfo{config_keys::kAuthToken, ConfigNeed::kToSend, true,
                        "the bot's token (also checks webhook signatures)"}
              .VerifiesWebhooks(),
          {kSenderName, ConfigNeed::kOptional, false, "the name messages are sent under (at most 28 characters)",
           "the channel's name, else its address"},
          {kWelcomeMessage, ConfigNeed::kOptional, false,
           "text shown to a user who opens the conversation (the answer to conversation_started)", "none"},
          handlers::BaseUrlKey(kDefaultUrl),
          handlers::MaxLengthKey(kTextMax),
      },
  };
  return type;
}

std::vector<Route> ViberHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult ViberHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext&) const {
  if (auto bad = CheckSignature(channel, request)) return *bad;
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const json::ObjectPtr& event = *parsed;
  const std::string kind = json::GetStringOrEmpty(event, "event");
  if (kind.empty()) return WebhookResult::Error("field 'event' required");

  if (kind == "message") return ReceiveMessage(channel, event);
  if (kind == "delivered" || kind == "seen" || kind == "failed") {
    const std::string token = json::GetId(event, "message_token");
    if (token.empty()) return WebhookResult::Error("field 'message_token' required");
    WebhookResult r;
    r.statuses.push_back(handlers::StatusForExternalId(channel, token, *handlers::MapStatus(Statuses(), kind)));
    return r;
  }
  if (kind == "unsubscribed") {
    const std::string user = json::GetStringOrEmpty(event, "user_id");
    if (user.empty()) return WebhookResult::Error("field 'user_id' required");
    auto urn = URN::FromParts("viber", user);
    if (!urn.ok()) return WebhookResult::Error(urn.status().message());
    WebhookResult r;
    r.stop_urns.push_back(urn->ToString());
    return r;
  }
  if (kind == "webhook") return WebhookResult::Ignored("webhook valid");
  if (kind == "subscribed") {
    auto subscribed = UserEvent(event, ChannelEventType::kNewConversation);
    if (!subscribed.ok()) return WebhookResult::Error(subscribed.status().message());
    WebhookResult r;
    r.events.push_back(std::move(*subscribed));
    return r;
  }
  if (kind == "conversation_started") {
    // The user opened the chat screen (subscribed or not yet). Viber shows
    // what the answer holds as the welcome message; without one there is
    // nothing to record.
    const std::string welcome = channel.ConfigOr(kWelcomeMessage);
    if (welcome.empty()) return WebhookResult::Ignored("ignoring event 'conversation_started': no welcome_message set");
    auto welcomed = UserEvent(event, ChannelEventType::kWelcomeMessage);
    if (!welcomed.ok()) return WebhookResult::Error(welcomed.status().message());
    if (const std::string context = json::GetStringOrEmpty(event, "context"); !context.empty())
      welcomed->extra["context"] = context;
    JsonWriter w;
    w.BeginObject();
    w.Key("sender").BeginObject().Field("name", SenderName(channel)).EndObject();
    w.Field("type", "text").Field("text", welcome);
    w.EndObject();
    WebhookResult r;
    r.events.push_back(std::move(*welcomed));
    r.response_body = w.Take();
    r.response_content_type = "application/json";
    return r;
  }
  if (kind == "client_status") return WebhookResult::Ignored("ignoring event '" + kind + "'");
  // Viber adds event types over time (client_status, action): a signed
  // callback we do not know is answered 200, not refused.
  return WebhookResult::Ignored("unknown event '" + kind +
                              "', must be one of 'message', 'delivered', 'seen', 'failed', 'subscribed', "
                              "'unsubscribed', 'conversation_started', 'webhook'");
}

SendResult ViberHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);

  // Images go as pictures (one image carries a short text as its
  // description). Video and file messages need the file's size, which we
  // do not know without fetching it, so other attachments go as links in
  // the text.
  std::vector<json::ObjectPtr> payloads;
  std::string text = msg.text;
  std::vector<std::string> images;
  for (const auto& a : msg.attachments) {
    auto [mime, url] = SplitAttachment(a);
    if (StartsWith(mime, "image/"))
      images.push_back(url);
    else
      text += (text.empty() ? "" : "\n") + url;
  }
  bool captioned = false;
  for (const auto& url : images) {
    json::ObjectPtr p = Payload(channel, msg, "picture");
    p->set("media", url);
    if (images.size() == 1 && !text.empty() && CodePoints(text) <= kCaptionMax) {
      p->set("text", text);
      captioned = true;
    } else {
      p->set("text", "");
    }
    payloads.push_back(p);
  }
  if (!captioned && !text.empty())
    for (const auto& part : SplitText(text, handlers::MaxLength(channel, kTextMax))) {
      json::ObjectPtr p = Payload(channel, msg, "text");
      p->set("text", part);
      payloads.push_back(p);
    }
  if (payloads.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());
  // Under the last message, which the user reads last.
  if (json::ObjectPtr keyboard = Keyboard(msg.quick_replies)) payloads.back()->set("keyboard", keyboard);

  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& payload : payloads) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = handlers::BaseUrl(channel, kDefaultUrl) + "/pa/send_message";
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({"X-Viber-Auth-Token", token});
    req.body = json::Stringify(payload);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    if (!call.ok()) {
      std::string error = call.log.error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    auto body = json::ParseObject(call.exchange.body);
    json::ObjectPtr answer = body.ok() ? *body : nullptr;
    auto status = answer ? json::GetInt(answer, "status") : std::nullopt;
    if (!status) {
      call.log.error = "no 'status' in response";
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    if (*status != 0) {
      const std::string error = Redact("received error from viber: " + json::GetStringOrEmpty(answer, "status_message") + " (status " +
                                           std::to_string(*status) + ")",
                                       secrets);
      call.log.error = error;
      logs.push_back(std::move(call.log));
      switch (*status) {
        case 6: {  // receiverNotSubscribed: the user unsubscribed
          SendResult r = SendResult::Failed(error, std::move(logs));
          r.stop_contact = true;
          return r;
        }
        case 12: {  // tooManyRequests
          SendResult r = SendResult::Errored(error, std::move(logs));
          r.throttled_for_seconds = 60;
          return r;
        }
        // invalidUrl, badData, missingData, receiverNotRegistered,
        // receiverNoSuitableDevice, apiVersionNotSupported,
        // incompatibleWithVersion, unsupportedCountry: retrying won't help.
        case 1: case 3: case 4: case 5: case 11: case 13: case 14: case 21:
          return SendResult::Failed(error, std::move(logs));
        default:  // token, account, webhook or balance problems: fixable
          return SendResult::Errored(error, std::move(logs));
      }
    }
    const std::string id = json::GetId(answer, "message_token");
    if (id.empty()) {
      call.log.error = "no 'message_token' in response";
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    if (external_id.empty()) external_id = id;
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
