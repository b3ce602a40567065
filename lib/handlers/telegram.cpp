#include "handlers/telegram.h"

#include <cstdio>
#include <optional>

#include "core/json_writer.h"
#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.telegram.org";
// setWebhook's secret_token, sent back in X-Telegram-Bot-Api-Secret-Token.
const char* kSecretToken = "secret_token";
// Where a file's URL has the bot token, which stored URLs leave empty.
const char* kFilePrefix = "/file/bot";

// A received file as stored: its URL with the token's place empty.
std::string StoredFileUrl(const std::string& api, const std::string& file_path) {
  return api + kFilePrefix + "/" + file_path;
}

// With a secret_token set, the update must carry it (Bot API setWebhook:
// "the header X-Telegram-Bot-Api-Secret-Token with the secret token as
// content"). Without one every update is taken, as Telegram sends no
// other proof of origin.
std::optional<WebhookResult> CheckSecretToken(const Channel& channel, const WebhookRequest& request) {
  const std::string secret = channel.ConfigOr(kSecretToken);
  if (secret.empty()) return std::nullopt;
  const std::string header = request.Header("x-telegram-bot-api-secret-token");
  if (header.empty()) return WebhookResult::Unauthorized("missing secret token");
  if (!ConstantTimeEquals(header, secret)) return WebhookResult::Unauthorized("invalid secret token");
  return std::nullopt;
}
const char* kFormContentType = "application/x-www-form-urlencoded";

// sendMessage takes 1-4096 characters of text; media captions 0-1024.
constexpr size_t kMaxTextLength = 4096;
constexpr size_t kMaxCaptionLength = 1024;
// Of a photo's sizes we keep the largest that is at most this many bytes.
constexpr int64_t kMaxPhotoBytes = 100000;


// A Location object as "lat,lng" (%f, as the reference); nullopt when it
// lacks either coordinate.
std::optional<std::string> LatLng(const json::ObjectPtr& location) {
  auto lat = json::GetNumber(location, "latitude"), lng = json::GetNumber(location, "longitude");
  if (!lat || !lng) return std::nullopt;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%f,%f", *lat, *lng);
  return std::string(buf);
}

// A file to look up with getFile, with the MIME type the message gave for
// it (Video, Voice, Audio and Document carry mime_type; PhotoSize does not).
struct FileRef {
  std::string file_id;
  std::string mime;
};

// photo is an array of PhotoSize, smallest first. We walk up from the
// smallest and keep the largest whose file_size is known and fits; when none
// fits, the smallest.
std::optional<FileRef> PickPhoto(const json::ArrayPtr& sizes) {
  if (!sizes || sizes->size() == 0) return std::nullopt;
  json::ObjectPtr best;
  for (size_t i = 0; i < sizes->size(); ++i) {
    json::ObjectPtr size = sizes->getObject(static_cast<unsigned>(i));
    auto bytes = json::GetInt(size, "file_size");
    if (size && bytes && *bytes <= kMaxPhotoBytes) best = size;
  }
  if (!best) best = sizes->getObject(0);
  std::string id = json::GetStringOrEmpty(best, "file_id");
  if (id.empty()) return std::nullopt;
  return FileRef{id, ""};
}

std::optional<FileRef> FileOf(const json::ObjectPtr& file) {
  std::string id = json::GetStringOrEmpty(file, "file_id");
  if (id.empty()) return std::nullopt;
  return FileRef{id, json::GetStringOrEmpty(file, "mime_type")};
}

// Resolves a file id to "<mime>:<base>/file/bot/<file_path>" through
// getFile: the stored form, without the token Telegram's own URL has
// (TelegramFetchUrl adds it back). The request URL carries the token; the
// channel log of the lookup is redacted by MakeCall.
Result<std::string> ResolveFile(HandlerContext& ctx, const Channel& channel, const std::string& api,
                                const std::string& token, const FileRef& file, std::vector<ChannelLog>& logs) {
  HttpRequestSpec req;
  req.method = "POST";
  req.url = api + "/bot" + token + "/getFile";
  req.headers.push_back({"Content-Type", kFormContentType});
  req.body = FormEncode({{"file_id", file.file_id}});
  Msg none;  // id 0: the log belongs to the channel, not to a msg
  auto call = handlers::MakeCall(ctx, channel, none, req, "Media Lookup");
  std::string transport_error = call.exchange.error.empty() ? "" : call.log.error;
  logs.push_back(call.log);
  if (!transport_error.empty()) return Status::Unavailable(transport_error);

  // Telegram answers a bad file id with a non-2xx and ok:false, so the body
  // decides, not the HTTP status.
  auto body = json::ParseObject(call.exchange.body);
  std::optional<bool> ok = body.ok() ? json::GetBool(*body, "ok") : std::nullopt;
  if (!ok) return Status::InvalidArgument("no 'ok' in response");
  if (!*ok) return Status::InvalidArgument("file id '" + file.file_id + "' not present");
  std::string path = json::GetStringOrEmpty(json::GetObject(*body, "result"), "file_path");
  if (path.empty()) return Status::InvalidArgument("no 'result.file_path' in response");

  std::string mime = file.mime;
  if (mime.empty()) mime = MimeTypeFromPath(path);
  if (mime.empty()) mime = kDefaultMimeType;
  return mime + ":" + StoredFileUrl(api, path);
}

WebhookResult ErrorWithLogs(const std::string& error, std::vector<ChannelLog> logs) {
  WebhookResult r = WebhookResult::Error(error);
  r.extra_logs = std::move(logs);
  return r;
}

// One request of a send: a Bot API method and its form.
struct Part {
  std::string method;
  std::vector<std::pair<std::string, std::string>> form;
};

// The reply_markup for a msg's quick replies, "" for none. Text and
// location replies make a one-time keyboard under the input, a reply a
// row (a location button sends the user's location); url replies are
// links under the message (an inline keyboard), used only when there is
// nothing else, as a message takes one kind of keyboard.
std::string ReplyMarkup(const std::vector<QuickReply>& replies) {
  JsonWriter w;
  w.BeginObject();
  bool any = false;
  for (const auto& reply : replies) {
    if (reply.type == QuickReplyType::kUrl) continue;
    if (!any) w.Key("keyboard").BeginArray();
    any = true;
    w.BeginArray().BeginObject().Field("text", reply.text);
    if (reply.type == QuickReplyType::kLocation) w.Field("request_location", true);
    w.EndObject().EndArray();
  }
  if (any) {
    w.EndArray().Field("resize_keyboard", true).Field("one_time_keyboard", true).EndObject();
    return w.Take();
  }
  for (const auto& reply : replies) {
    if (reply.type != QuickReplyType::kUrl) continue;
    if (!any) w.Key("inline_keyboard").BeginArray();
    any = true;
    w.BeginArray().BeginObject().Field("text", reply.text).Field("url", reply.url).EndObject().EndArray();
  }
  if (!any) return "";
  w.EndArray().EndObject();
  return w.Take();
}

// The Bot API method and form field for an attachment's MIME type.
// The reference sends only image/video/audio and errors on the rest
// ("unknown media type"); Telegram's sendDocument takes any file, so every
// other type (application/*, text/*, ...) goes as a document.
std::pair<std::string, std::string> MethodFor(const std::string& mime) {
  const std::string major = mime.substr(0, mime.find('/'));
  if (major == "image") return {"sendPhoto", "photo"};
  if (major == "video") return {"sendVideo", "video"};
  if (major == "audio") return {"sendAudio", "audio"};
  return {"sendDocument", "document"};
}

}  // namespace

Result<std::string> TelegramFetchUrl(const Channel& channel, const std::string& stored_url) {
  const std::string prefix = StoredFileUrl(handlers::BaseUrl(channel, kDefaultApiUrl), "");
  if (!StartsWith(stored_url, prefix) || stored_url.size() == prefix.size())
    return Status::InvalidArgument("not a Telegram file URL of this channel");
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  if (token.empty()) return Status::InvalidArgument("no auth_token set for TG channel");
  return prefix.substr(0, prefix.size() - 1) + token + "/" + stored_url.substr(prefix.size());
}

const ChannelTypeInfo& TelegramHandler::Type() const {
  static const ChannelTypeInfo type = {
      "TG",
      "Telegram",
      {"telegram"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true,
           "the bot's token from @BotFather (also for media lookups)"},
          ConfigKeyInfo{kSecretToken, ConfigNeed::kOptional, true,
                        "set: webhooks must carry it in X-Telegram-Bot-Api-Secret-Token (setWebhook's secret_token)"}
              .VerifiesWebhooks(),
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxTextLength),
      },
  };
  return type;
}

std::vector<Route> TelegramHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult TelegramHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                       HandlerContext& ctx) const {
  if (auto refused = CheckSecretToken(channel, request)) return *refused;
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const json::ObjectPtr& update = *parsed;

  // update_id is required (a zero counts as missing, as the reference's
  // validation does).
  if (json::GetInt(update, "update_id").value_or(0) == 0) return WebhookResult::Error("field 'update_id' required");

  json::ObjectPtr message = json::GetObject(update, "message");
  int64_t message_id = json::GetInt(message, "message_id").value_or(0);
  if (!message || message_id == 0) return WebhookResult::Ignored("Ignoring request, no message");

  json::ObjectPtr from = json::GetObject(message, "from");
  auto from_id = json::GetInt(from, "id");
  if (!from_id) return WebhookResult::Error("field 'message.from.id' required");
  auto urn = URN::FromParts("telegram", std::to_string(*from_id));
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  std::string text = json::GetStringOrEmpty(message, "text");
  const std::string contact_name = handlers::NameFromParts(json::GetStringOrEmpty(from, "first_name"),
                                                           json::GetStringOrEmpty(from, "last_name"),
                                                           json::GetStringOrEmpty(from, "username"));
  // The Start button, or a t.me/<bot>?start=<parameter> link: the user
  // opened a conversation with the bot, an event rather than a msg.
  if (text == "/start" || StartsWith(text, "/start ")) {
    ChannelEvent started;
    started.type = ChannelEventType::kNewConversation;
    started.urn = urn->ToString();
    started.contact_name = contact_name;
    const std::string parameter = Trim(text.substr(std::string("/start").size()));
    if (!parameter.empty()) started.extra["start_parameter"] = parameter;
    if (auto date = json::GetInt(message, "date")) started.occurred_on = handlers::MicrosFromSeconds(static_cast<double>(*date));
    WebhookResult r;
    r.events.push_back(std::move(started));
    return r;
  }
  if (text.empty()) text = json::GetStringOrEmpty(message, "caption");

  std::optional<FileRef> file;
  std::vector<std::string> attachments;
  json::ObjectPtr sticker = json::GetObject(message, "sticker");
  json::ObjectPtr venue = json::GetObject(message, "venue");
  json::ObjectPtr location = json::GetObject(message, "location");
  json::ObjectPtr contact = json::GetObject(message, "contact");
  if (message->has("photo") && !message->isNull("photo")) {
    file = PickPhoto(message->getArray("photo"));
  } else if (json::ObjectPtr video = json::GetObject(message, "video")) {
    file = FileOf(video);
  } else if (json::ObjectPtr voice = json::GetObject(message, "voice")) {
    file = FileOf(voice);
  } else if (json::ObjectPtr document = json::GetObject(message, "document")) {
    file = FileOf(document);
  } else if (json::ObjectPtr audio = json::GetObject(message, "audio")) {
    file = FileOf(audio);
  } else if (sticker) {
    // Bot API 6.6 renamed Sticker.thumb to thumbnail; accept both.
    json::ObjectPtr thumb = json::GetObject(sticker, "thumbnail");
    if (!thumb) thumb = json::GetObject(sticker, "thumb");
    file = FileOf(thumb);
  } else if (venue) {
    // The reference reads message.location; the API puts the venue's own
    // location in venue.location (message.location is also set, kept for
    // older clients), so venue.location first.
    text = json::GetStringOrEmpty(venue, "title") + ", " + json::GetStringOrEmpty(venue, "address");
    json::ObjectPtr where = json::GetObject(venue, "location");
    if (!where) where = location;
    if (auto geo = LatLng(where)) attachments.push_back("geo:" + *geo);
  } else if (location) {
    if (auto geo = LatLng(location)) {
      text = *geo;
      attachments.push_back("geo:" + *geo);
    }
  } else if (contact) {
    std::string name = handlers::NameFromParts(json::GetStringOrEmpty(contact, "first_name"), json::GetStringOrEmpty(contact, "last_name"), "");
    std::string phone = json::GetStringOrEmpty(contact, "phone_number");
    text = name.empty() ? phone : phone.empty() ? name : name + " (" + phone + ")";
  }

  std::vector<ChannelLog> logs;
  if (file) {
    const std::string token = channel.ConfigOr(config_keys::kAuthToken);
    if (token.empty()) return WebhookResult::Error("error retrieving media: no auth_token set for TG channel");
    auto media = ResolveFile(ctx, channel, handlers::BaseUrl(channel, kDefaultApiUrl), token, *file, logs);
    if (!media.ok()) return ErrorWithLogs("error retrieving media: " + media.status().message(), std::move(logs));
    attachments.push_back(*media);
  }

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = std::to_string(message_id);
  msg.contact_name = contact_name;
  if (auto date = json::GetInt(message, "date")) {
    if (auto micros = handlers::MicrosFromSeconds(static_cast<double>(*date))) msg.received_on = *micros;
  }
  msg.attachments = std::move(attachments);

  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  r.extra_logs = std::move(logs);
  return r;
}

SendResult TelegramHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  const std::string api = handlers::BaseUrl(channel, kDefaultApiUrl);
  const std::string chat_id = msg.urn.substr(msg.urn.find(':') + 1);

  // The text rides as the caption when there is exactly one attachment and
  // it fits; captions are limited to 1024 characters by the API (the
  // reference does not check), so a longer text goes as its own messages.
  const bool as_caption =
      msg.attachments.size() == 1 && !msg.text.empty() && CodePoints(msg.text) <= kMaxCaptionLength;
  std::vector<Part> parts;
  if (!as_caption && (!msg.text.empty() || msg.attachments.empty())) {
    for (const auto& text : SplitText(msg.text, handlers::MaxLength(channel, kMaxTextLength)))
      parts.push_back({"sendMessage", {{"chat_id", chat_id}, {"text", text}}});
  }
  for (const auto& attachment : msg.attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    auto [method, field] = MethodFor(mime);
    Part part{method, {{"chat_id", chat_id}, {field, url}}};
    if (as_caption) part.form.push_back({"caption", msg.text});
    parts.push_back(std::move(part));
  }
  // The keyboard with the last part, which the user reads last.
  if (const std::string markup = ReplyMarkup(msg.quick_replies); !markup.empty() && !parts.empty())
    parts.back().form.push_back({"reply_markup", markup});

  // Fixes the reference's [bug]: every part must succeed, the first part's
  // message_id is the external id, and we stop at the first failure.
  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& part : parts) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = api + "/bot" + token + "/" + part.method;
    req.headers.push_back({"Content-Type", kFormContentType});
    req.body = FormEncode(part.form);
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    if (!call.exchange.error.empty()) {  // no response at all
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return SendResult::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    std::optional<bool> ok = body.ok() ? json::GetBool(*body, "ok") : std::nullopt;
    if (ok && *ok && call.ok()) {
      auto message_id = json::GetInt(json::GetObject(*body, "result"), "message_id");
      if (!message_id) {
        call.log.error = "no 'result.message_id' in response";
        std::string error = call.log.error;
        logs.push_back(std::move(call.log));
        return handlers::AcceptedWithoutId(error, std::move(logs));
      }
      if (external_id.empty()) external_id = std::to_string(*message_id);
      logs.push_back(std::move(call.log));
      continue;
    }

    // A failure: {"ok":false,"error_code":N,"description":"..."} with the
    // same HTTP status, or something else entirely.
    if (!ok) {
      std::string error = call.log.error.empty() ? "no 'ok' in response" : call.log.error;
      call.log.error = error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));
      // A 2xx we cannot read may have been taken: not retried.
      if (exchange.ok()) return handlers::AcceptedWithoutId(error, std::move(logs));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    int64_t code = json::GetInt(*body, "error_code").value_or(call.exchange.status_code);
    std::string description = Redact(json::GetStringOrEmpty(*body, "description"), secrets);
    std::string error = "received error from telegram: " + description;
    call.log.error = error;
    logs.push_back(std::move(call.log));
    // The contact blocked the bot or deleted their account: permanent, and
    // the contact is stopped (the reference's [later] behaviour).
    if (code == 403 && (description.find("bot was blocked by the user") != std::string::npos ||
                        description.find("user is deactivated") != std::string::npos)) {
      SendResult r = SendResult::Failed(error, std::move(logs));
      r.stop_contact = true;
      return r;
    }
    // Bot API error codes are HTTP statuses: 400 (chat not found, bad
    // request), 401 and 403 (bot kicked) never get better; 429 and 5xx do.
    if (handlers::IsPermanentHttpStatus(static_cast<int>(code))) return SendResult::Failed(error, std::move(logs));
    SendResult r = SendResult::Errored(error, std::move(logs));
    if (code == 429) {
      // Flood control: parameters.retry_after is the wait in seconds.
      int64_t wait = json::GetInt(json::GetObject(*body, "parameters"), "retry_after").value_or(1);
      r.throttled_for_seconds = static_cast<int>(wait > 0 ? wait : 1);
    }
    return r;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

// A received file is stored without the bot token (see telegram.h); the
// download puts it back. MakeCall's log redacts it again.
HttpRequestSpec TelegramHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  if (auto with_token = TelegramFetchUrl(channel, url); with_token.ok()) req.url = *with_token;
  return req;
}

}  // namespace courier
