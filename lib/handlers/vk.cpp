#include "handlers/vk.h"

#include <algorithm>

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/media_download.h"
#include "http/multipart_form.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.vk.com";
const char* kApiVersion = "5.103";
const char* kVerificationStringKey = "callback_verification_string";
// What VK must read back to count an event as handled.
const char* kEventHandled = "ok";

// VK's keyboard limits: a standard keyboard holds at most 10 rows of 5
// buttons and 40 buttons in all; a label at most 40 characters.
constexpr size_t kMaxKeyboardRows = 10;
constexpr size_t kMaxKeyboardButtons = 40;
constexpr size_t kMaxButtonLabel = 40;

// VK API error codes ("Errors" in VK's API docs).
constexpr int64_t kErrorUnknown = 1;
constexpr int64_t kErrorTooManyRequests = 6;  // per second
constexpr int64_t kErrorFloodControl = 9;
constexpr int64_t kErrorInternal = 10;

WebhookResult HandledWith(WebhookResult r) {
  r.response_body = kEventHandled;
  r.response_content_type = "text/plain";
  return r;
}

// The URL's own type when its extension tells one, else `fallback`.
std::string Typed(const std::string& url, const std::string& fallback) {
  const std::string guess = MimeTypeFromPath(url);
  return (guess.empty() ? fallback : guess) + ":" + url;
}

// One attachment of an incoming message, as "<mime>:<url>"; "" for kinds
// (video, wall posts, links ...) and shapes we cannot carry.
std::string ReadAttachment(const json::ObjectPtr& attachment) {
  const std::string kind = json::GetStringOrEmpty(attachment, "type");
  const json::ObjectPtr item = json::GetObject(attachment, kind);
  if (kind == "photo") {
    // Sizes are named by letter; "x" is up to 604 px wide.
    const auto sizes = json::GetObjects(item, "sizes");
    std::string url;
    for (const auto& size : sizes)
      if (json::GetStringOrEmpty(size, "type") == "x") url = json::GetStringOrEmpty(size, "url");
    if (url.empty() && !sizes.empty()) url = json::GetStringOrEmpty(sizes.back(), "url");
    return url.empty() ? "" : Typed(url, "image/jpeg");
  }
  if (kind == "graffiti") {
    const std::string url = json::GetStringOrEmpty(item, "url");
    return url.empty() ? "" : Typed(url, "image/png");
  }
  if (kind == "sticker") {
    const auto images = json::GetObjects(item, "images");
    std::string url;
    for (const auto& image : images)
      if (url.empty() && json::GetIntLoose(image, "width").value_or(0) == 128) url = json::GetStringOrEmpty(image, "url");
    if (url.empty() && !images.empty()) url = json::GetStringOrEmpty(images.back(), "url");
    return url.empty() ? "" : Typed(url, "image/png");
  }
  if (kind == "audio_message") {
    const std::string url = json::GetStringOrEmpty(item, "link_mp3");
    return url.empty() ? "" : Typed(url, "audio/mpeg");
  }
  if (kind == "doc") {
    // A document's URL has no extension; its `ext` field tells the type.
    const std::string url = json::GetStringOrEmpty(item, "url");
    if (url.empty()) return "";
    std::string mime = MimeTypeFromPath("file." + json::GetStringOrEmpty(item, "ext"));
    if (mime.empty()) mime = MimeTypeFromPath(url);
    return (mime.empty() ? kDefaultMimeType : mime) + ":" + url;
  }
  return "";
}

WebhookResult ReceiveMessage(const Channel& channel, const json::ObjectPtr& object) {
  const json::ObjectPtr message = json::GetObject(object, "message");
  const std::optional<int64_t> id = json::GetIntLoose(message, "id");
  const std::optional<int64_t> date = json::GetIntLoose(message, "date");
  const std::optional<int64_t> from = json::GetIntLoose(message, "from_id");
  std::vector<std::string> errors;
  if (!id) errors.push_back("field 'object.message.id' required");
  if (!date) errors.push_back("field 'object.message.date' required");
  if (!from) errors.push_back("field 'object.message.from_id' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  auto urn = URN::FromParts("vk", std::to_string(*from));
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  const std::string text = json::GetStringOrEmpty(message, "text");
  std::vector<std::string> attachments;
  for (const auto& attachment : json::Objects(json::GetArray(message, "attachments"))) {
    std::string read = ReadAttachment(attachment);
    if (!read.empty()) attachments.push_back(std::move(read));
  }
  const json::ObjectPtr coordinates = json::GetObject(json::GetObject(message, "geo"), "coordinates");
  const double lat = json::GetNumberLoose(coordinates, "latitude").value_or(0);
  const double lng = json::GetNumberLoose(coordinates, "longitude").value_or(0);
  if (lat != 0 || lng != 0) attachments.push_back("geo:" + handlers::Coordinate(lat) + "," + handlers::Coordinate(lng));
  if (text.empty() && attachments.empty())
    return HandledWith(WebhookResult::Ignored("ignoring message without text or attachments"));

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = std::to_string(*id);
  msg.attachments = std::move(attachments);
  msg.received_on = handlers::MicrosFromSeconds(static_cast<double>(*date));
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return HandledWith(std::move(r));
}

// ---- send -------------------------------------------------------------------

using Params = std::vector<std::pair<std::string, std::string>>;

std::string MethodUrl(const Channel& channel, const std::string& method, const Params& params) {
  return handlers::BaseUrl(channel, kDefaultApiUrl) + "/method/" + method + ".json?" + FormEncode(params);
}

// VK's error object, {"error": {"error_code", "error_msg", ...}}.
struct VkError {
  bool present = false;
  int64_t code = 0;
  std::string text;  // "received error from VK: <error_msg> (code <error_code>)"
};

VkError ReadVkError(const json::ObjectPtr& answer) {
  VkError e;
  const json::ObjectPtr error = json::GetObject(answer, "error");
  if (!error) return e;
  e.present = true;
  e.code = json::GetIntLoose(error, "error_code").value_or(0);
  e.text = "received error from VK: " + json::GetStringOrEmpty(error, "error_msg") + " (code " + std::to_string(e.code) +
           ")";
  return e;
}

// The answer of a VK method as an object; Status with the reason (the
// exchange's, or VK's error) when it is not a success.
Result<json::ObjectPtr> MethodAnswer(handlers::Call& call) {
  if (!call.ok()) return Status::Unavailable(call.log.error);
  auto parsed = json::ParseObject(call.exchange.body);
  if (!parsed.ok()) return Status::InvalidArgument("unable to parse response body");
  const VkError e = ReadVkError(*parsed);
  if (e.present) return Status::InvalidArgument(e.text);
  return *parsed;
}

// Uploads the image at `url` to the community's messages album and
// returns it as an attachment of messages.send ("photo<owner_id>_<id>").
// Every request made goes to `logs`; the first that fails ends it.
Result<std::string> UploadPhoto(HandlerContext& ctx, const Channel& channel, const Msg& msg, const Params& base,
                                const std::string& mime, const std::string& url, std::vector<ChannelLog>& logs) {
  auto fail = [&logs](handlers::Call& call, const std::string& why) -> Status {
    call.log.error = why;
    logs.push_back(std::move(call.log));
    return Status::InvalidArgument(why);
  };

  HttpRequestSpec server_req;
  server_req.method = "POST";
  server_req.url = MethodUrl(channel, "photos.getMessagesUploadServer", base);
  auto server = handlers::MakeCall(ctx, channel, msg, server_req, "Photo Upload Server");
  auto server_answer = MethodAnswer(server);
  if (!server_answer.ok()) return fail(server, server_answer.status().message());
  const std::string upload_url = json::GetStringOrEmpty(json::GetObject(*server_answer, "response"), "upload_url");
  if (upload_url.empty()) return fail(server, "no 'response.upload_url' in response");
  logs.push_back(std::move(server.log));

  auto download = handlers::DownloadMedia(ctx, channel, msg, url, mime, logs);
  if (!download.ok()) {
    const std::string why = "error downloading " + url + ": " + download.status().message();
    logs.back().error = why;
    return Status::InvalidArgument(why);
  }
  const std::string& bytes = download->bytes;
  const std::string& type = download->type;

  const std::string subtype = type.substr(type.find('/') + 1);
  auto [body, content_type] = MultipartForm({}, {{"photo", "photo." + subtype, type, bytes}});
  HttpRequestSpec post;
  post.method = "POST";
  post.url = upload_url;
  post.headers.push_back({"Content-Type", content_type});
  post.body = std::move(body);
  auto upload = handlers::MakeCall(ctx, channel, msg, post, "Photo Upload");
  handlers::ElideBody(upload.log.request, bytes.size(), type);
  // {"server": 123, "photo": "[{...}]", "hash": "..."}; "photo": "[]"
  // when the upload server did not take the file.
  auto uploaded = MethodAnswer(upload);
  if (!uploaded.ok()) return fail(upload, uploaded.status().message());
  const std::string server_id = json::GetTextOrEmpty(*uploaded, "server");
  const std::string photo = json::GetStringOrEmpty(*uploaded, "photo");
  const std::string hash = json::GetStringOrEmpty(*uploaded, "hash");
  if (server_id.empty() || photo.empty() || photo == "[]" || hash.empty())
    return fail(upload, "upload not taken: no 'server', 'photo' or 'hash' in response");
  logs.push_back(std::move(upload.log));

  Params save_params = base;
  save_params.insert(save_params.end(), {{"server", server_id}, {"photo", photo}, {"hash", hash}});
  HttpRequestSpec save_req;
  save_req.method = "POST";
  save_req.url = MethodUrl(channel, "photos.saveMessagesPhoto", save_params);
  auto save = handlers::MakeCall(ctx, channel, msg, save_req, "Photo Saved");
  auto saved = MethodAnswer(save);
  if (!saved.ok()) return fail(save, saved.status().message());
  const auto photos = json::GetObjects(*saved, "response");
  const std::string owner = photos.empty() ? "" : json::GetTextOrEmpty(photos[0], "owner_id");
  const std::string id = photos.empty() ? "" : json::GetTextOrEmpty(photos[0], "id");
  if (owner.empty() || id.empty()) return fail(save, "no 'response[0].owner_id' or 'response[0].id' in response");
  logs.push_back(std::move(save.log));
  return "photo" + owner + "_" + id;
}

// A one-time keyboard with a button per text reply: one a row while they
// fit in VK's 10 rows, else as many a row as it takes.
std::string Keyboard(const std::vector<std::string>& replies) {
  const size_t count = std::min(replies.size(), kMaxKeyboardButtons);
  const size_t per_row = (count + kMaxKeyboardRows - 1) / kMaxKeyboardRows;
  json::ArrayPtr rows = json::NewArray();
  json::ArrayPtr row;
  for (size_t i = 0; i < count; ++i) {
    if (i % per_row == 0) {
      row = json::NewArray();
      rows->add(row);
    }
    json::ObjectPtr action = json::NewObject();
    action->set("type", "text");
    action->set("label", Truncate(replies[i], kMaxButtonLabel));
    json::ObjectPtr button = json::NewObject();
    button->set("action", action);
    button->set("color", "primary");
    row->add(button);
  }
  json::ObjectPtr keyboard = json::NewObject();
  keyboard->set("one_time", true);
  keyboard->set("buttons", rows);
  return json::Stringify(keyboard);
}

}  // namespace

const ChannelTypeInfo& VkHandler::Type() const {
  static const ChannelTypeInfo type = {
      "VK",
      "VK",
      {"vk"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the community's access token"},
          ConfigKeyInfo{config_keys::kSecret, ConfigNeed::kToReceive, true,
                        "the Callback API secret key, which every event carries"}
              .VerifiesWebhooks(),
          {kVerificationStringKey, ConfigNeed::kToReceive, false,
           "the string VK's confirmation event must be answered with"},
          handlers::BaseUrlKey(kDefaultApiUrl),
      },
  };
  return type;
}

std::vector<Route> VkHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult VkHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                 HandlerContext&) const {
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const std::string type = json::GetStringOrEmpty(*parsed, "type");
  const std::string secret = json::GetStringOrEmpty(*parsed, "secret");
  std::vector<std::string> errors;
  if (type.empty()) errors.push_back("field 'type' required");
  if (secret.empty()) errors.push_back("field 'secret' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  const std::string want = channel.ConfigOr(config_keys::kSecret);
  if (want.empty()) return WebhookResult::Error("no secret set for VK channel");
  if (!ConstantTimeEquals(secret, want)) return WebhookResult::Unauthorized("wrong secret key");

  if (type == "confirmation") {
    const std::string confirmation = channel.ConfigOr(kVerificationStringKey);
    if (confirmation.empty()) return WebhookResult::Error("no callback_verification_string set for VK channel");
    WebhookResult r;
    r.response_body = confirmation;
    r.response_content_type = "text/plain";
    return r;
  }
  if (type == "message_new") return ReceiveMessage(channel, json::GetObject(*parsed, "object"));
  return HandledWith(WebhookResult::Ignored("ignoring request, no message or server verification event"));
}

SendResult VkHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());
  const Params base = {{"access_token", channel.ConfigOr(config_keys::kAuthToken)}, {"v", kApiVersion}};

  std::vector<ChannelLog> logs;
  std::string text = msg.text;
  auto add_link = [&text](const std::string& url) { text += (text.empty() ? "" : "\n\n") + url; };
  std::vector<std::string> photos;
  for (const auto& attachment : msg.attachments) {
    const auto [mime, url] = SplitAttachment(attachment);
    if (mime.find('/') == std::string::npos) continue;  // no type to go by
    if (!StartsWith(mime, "image/")) {
      add_link(url);
      continue;
    }
    auto photo = UploadPhoto(ctx, channel, msg, base, mime, url, logs);
    if (photo.ok()) {
      photos.push_back(*photo);
    } else {
      add_link(url);
    }
  }

  Params params = base;
  params.insert(params.end(), {{"user_id", msg.urn.substr(msg.urn.find(':') + 1)},
                               {"random_id", std::to_string(msg.id % 2147483648LL)},
                               {"message", text},
                               {"attachment", Join(photos, ",")}});
  if (const auto replies = TextQuickReplies(msg.quick_replies); !replies.empty())
    params.push_back({"keyboard", Keyboard(replies)});
  HttpRequestSpec req;
  req.method = "POST";
  req.url = MethodUrl(channel, "messages.send", params);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  if (!call.ok()) {
    std::string error = call.log.error;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }

  // {"response": 123} with the message id, or {"error": {...}}.
  auto parsed = json::ParseObject(exchange.body);
  const json::ObjectPtr answer = parsed.ok() ? *parsed : nullptr;
  const VkError e = ReadVkError(answer);
  if (e.present) {
    const std::string error = Redact(e.text, channel.SecretValues());
    call.log.error = error;
    logs.push_back(std::move(call.log));
    if (e.code == kErrorTooManyRequests || e.code == kErrorFloodControl) {
      SendResult r = SendResult::Errored(error, std::move(logs));
      r.throttled_for_seconds = e.code == kErrorTooManyRequests ? 1 : 60;
      return r;
    }
    if (e.code == kErrorUnknown || e.code == kErrorInternal) return SendResult::Errored(error, std::move(logs));
    return SendResult::Failed(error, std::move(logs));
  }
  const std::optional<int64_t> id = json::GetInt(answer, "response");
  if (!id) {
    call.log.error = "no integer 'response' in response";
    std::string error = call.log.error;
    logs.push_back(std::move(call.log));
    return handlers::AcceptedWithoutId(error, std::move(logs));
  }
  logs.push_back(std::move(call.log));
  return SendResult::Wired(std::to_string(*id), std::move(logs));
}

}  // namespace courier
