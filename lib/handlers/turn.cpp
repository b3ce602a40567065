#include "handlers/turn.h"

#include <iterator>
#include <set>

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/media_download.h"
#include "handlers/meta.h"
#include "handlers/whatsapp_cloud.h"

namespace courier {
namespace {

const char* kNamespaceKey = "fb_namespace";
constexpr size_t kTextMax = 4096;  // WhatsApp's text body limit
constexpr Micros kUploadKept = 24LL * 3600 * kMicrosPerSecond;
constexpr Micros kFailureKept = 15LL * 60 * kMicrosPerSecond;
// Enough for every attachment a busy deployment sends in a day; past it
// the expired entries go, and if none has, all of them.
constexpr size_t kMaxUploadsKept = 50000;

const std::map<std::string, MsgStatus>& Statuses() {
  static const std::map<std::string, MsgStatus> table = {
      {"sending", MsgStatus::kWired},
      {"sent", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered},
      {"read", MsgStatus::kRead},
      {"failed", MsgStatus::kFailed},
  };
  return table;
}

// "scheme://host[:port]" of base_url, where Turn's API paths hang; "" when
// base_url is not an http(s) URL.
std::string ApiRoot(const Channel& channel) {
  const std::string origin = handlers::UrlOrigin(channel.ConfigOr(config_keys::kBaseUrl));
  return StartsWith(origin, "http://") || StartsWith(origin, "https://") ? origin : "";
}

// One entry of Turn's errors[] ({"code", "title", "details"}), in the
// shape meta.h reads Graph errors into.
meta::GraphError TurnError(const json::ObjectPtr& item) {
  meta::GraphError e;
  e.present = true;
  e.code = json::GetIntLoose(item, "code").value_or(0);
  e.text = json::GetStringOrEmpty(item, "title");
  if (e.text.empty()) e.text = json::GetStringOrEmpty(item, "message");
  const std::string details = json::GetStringOrEmpty(item, "details");
  if (!details.empty()) e.text += (e.text.empty() ? "" : ": ") + details;
  return e;
}

// An answer's error: {"error": {...}} as the Graph API gives it, else the
// first of Turn's errors[].
meta::GraphError AnswerError(const json::ObjectPtr& answer) {
  meta::GraphError e = meta::ReadGraphError(answer);
  if (e.present) return e;
  const auto errors = json::GetObjects(answer, "errors");
  return errors.empty() ? e : TurnError(errors[0]);
}

// Codes Turn's docs (Meta's error codes) give for rate limits: 4 the
// app's, 80007 the WhatsApp business account's, 130429 throughput,
// 131048 spam rate, 131056 the pair rate, 133016 registration; 429 is
// Turn's own.
bool IsThrottling(int64_t code) {
  return code == 429 || code == 4 || code == 80007 || code == 130429 || code == 131048 || code == 131056 ||
         code == 133016;
}
constexpr int64_t kMediaUploadError = 131053;

// Unix seconds, as a string (Turn's) or a number.
std::optional<Micros> ReadTimestamp(const std::string& text) {
  if (text.empty() || text.size() > 12 || !AllDigits(text)) return std::nullopt;
  return handlers::MicrosFromSeconds(static_cast<double>(std::stoll(text)));
}

}  // namespace

// ---- the media upload cache -----------------------------------------------

std::optional<TurnHandler::MediaUpload> TurnHandler::MediaUploads::Get(const std::string& key, Micros now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expires_on <= now) return std::nullopt;
  return it->second;
}

void TurnHandler::MediaUploads::Put(const std::string& key, MediaUpload upload, Micros now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxUploadsKept) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.expires_on <= now ? entries_.erase(it) : std::next(it);
    if (entries_.size() >= kMaxUploadsKept) entries_.clear();
  }
  entries_[key] = std::move(upload);
}

// ---- the handler ------------------------------------------------------------

const ChannelTypeInfo& TurnHandler::Type() const {
  static const ChannelTypeInfo type = {
      "TRN",
      "Turn.io",
      {"whatsapp"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true,
           "the Turn API token (Authorization: Bearer), also for downloading media"},
          {config_keys::kBaseUrl, ConfigNeed::kToSend, false,
           "the Turn API root, https://whatsapp.turn.io (its scheme, host and port)"},
          {kNamespaceKey, ConfigNeed::kOptional, false,
           "the WhatsApp template namespace, for templates that name none"},
          handlers::MaxLengthKey(kTextMax),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> TurnHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult TurnHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                   HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const json::ObjectPtr& body = *parsed;

  std::map<std::string, std::string> names;
  for (const auto& contact : json::GetObjects(body, "contacts")) {
    const std::string name = json::GetStringOrEmpty(json::GetObject(contact, "profile"), "name");
    for (const char* key : {"wa_id", "user_id"}) {
      const std::string who = json::GetStringOrEmpty(contact, key);
      if (!who.empty()) names[who] = name;
    }
  }

  handlers::Collector c;
  std::set<std::string> seen;
  for (const auto& m : json::GetObjects(body, "messages")) {
    const std::string id = json::GetStringOrEmpty(m, "id");
    if (id.empty()) return c.Fail("field 'messages.id' required");
    if (!seen.insert(id).second) {
      c.skipped.push_back("ignoring message '" + id + "' seen earlier in this webhook");
      continue;
    }
    if (!json::GetStringOrEmpty(m, "group_id").empty()) {
      c.skipped.push_back("ignoring group message");
      continue;
    }
    const auto timestamp = json::GetText(m, "timestamp");
    if (!timestamp) return c.Fail("field 'messages.timestamp' required");
    const auto received_on = ReadTimestamp(*timestamp);
    if (!received_on) return c.Fail("invalid timestamp: " + *timestamp);

    std::string sender = json::GetStringOrEmpty(m, "from");
    if (sender.empty()) sender = json::GetStringOrEmpty(m, "from_bsuid");
    auto urn = URN::FromParts("whatsapp", sender);
    if (!urn.ok()) return c.Fail("invalid whatsapp id");

    whatsapp_cloud::MessageContent content;
    json::ObjectPtr interactive = json::GetObject(m, "interactive");
    if (json::GetStringOrEmpty(m, "type") == "interactive" &&
        json::GetStringOrEmpty(interactive, "type") == "nfm_reply") {
      content.text = json::GetStringOrEmpty(json::GetObject(interactive, "nfm_reply"), "body");
    } else {
      auto read = whatsapp_cloud::ReadMessageContent(m);
      if (!read.ok()) return c.Fail(read.status().message());
      content = std::move(*read);
    }
    if (!content.skipped.empty()) {
      c.skipped.push_back(content.skipped);
      continue;
    }
    if (!content.media_id.empty()) {
      const std::string root = ApiRoot(channel);
      if (root.empty()) return c.Fail("no base_url set for TRN channel, where its media are");
      std::string mime = BareMimeType(content.media_mime);
      if (mime.empty()) mime = kDefaultMimeType;
      content.attachments.push_back(mime + ":" + root + "/v1/media/" + UrlEscape(content.media_id));
    }

    Msg msg = handlers::IncomingMsg(channel, *urn, content.text);
    msg.external_id = id;
    msg.attachments = std::move(content.attachments);
    msg.received_on = received_on;
    if (auto it = names.find(sender); it != names.end()) msg.contact_name = it->second;
    c.result.msgs.push_back(std::move(msg));
  }

  for (const auto& s : json::GetObjects(body, "statuses")) {
    const std::string id = json::GetStringOrEmpty(s, "id"), status = json::GetStringOrEmpty(s, "status");
    if (id.empty()) return c.Fail("field 'statuses.id' required");
    if (status.empty()) return c.Fail("field 'statuses.status' required");
    if (status == "deleted") {
      c.skipped.push_back("ignoring status: deleted");
      continue;
    }
    auto mapped = handlers::MapStatus(Statuses(), status);
    if (!mapped) {
      c.skipped.push_back("unknown status: " + status);
      continue;
    }
    StatusUpdate update = handlers::StatusForExternalId(channel, id, *mapped);
    const auto errors = json::GetObjects(s, "errors");
    if (*mapped == MsgStatus::kFailed && !errors.empty()) {
      const meta::GraphError e = TurnError(errors[0]);
      update.error_reason = e.text + " (code " + std::to_string(e.code) + ")";
    }
    c.result.statuses.push_back(std::move(update));
  }
  return c.Finish();
}

Result<std::string> TurnHandler::MediaId(const Channel& channel, const Msg& msg, const std::string& api_root,
                                         const std::string& mime, const std::string& url, HandlerContext& ctx,
                                         std::vector<ChannelLog>& logs) const {
  const std::string key = channel.uuid + " " + url;
  const Micros now = ctx.clock.Now();
  if (auto kept = uploads_.Get(key, now)) {
    if (!kept->id.empty()) return kept->id;
    return Status::Unavailable(kept->error + " (kept from an earlier attempt)");
  }

  auto fail = [&](const std::string& error) -> Status {
    uploads_.Put(key, {"", error, now + kFailureKept}, now);
    return Status::Unavailable(error);
  };
  auto download = handlers::DownloadMedia(ctx, channel, msg, url, mime, logs);
  if (!download.ok()) return fail("error downloading media " + url + ": " + download.status().message());
  const std::string& bytes = download->bytes;
  const std::string& type = download->type;

  HttpRequestSpec post;
  post.method = "POST";
  post.url = api_root + "/v1/media";
  post.headers.push_back({"Authorization", "Bearer " + channel.ConfigOr(config_keys::kAuthToken)});
  post.headers.push_back({"Content-Type", type});
  post.body = bytes;
  auto upload = handlers::MakeCall(ctx, channel, msg, post, "Media Upload");
  handlers::ElideBody(upload.log.request, bytes.size(), type);
  // {"media": [{"id": "f043afd0-f0ae-4b9c-ab3d-696fb4c8cd68"}]}
  auto answer = json::ParseObject(upload.exchange.body);
  const auto media = answer.ok() ? json::GetObjects(*answer, "media") : std::vector<json::ObjectPtr>{};
  const std::string id = media.empty() ? "" : json::GetStringOrEmpty(media[0], "id");
  if (upload.ok() && id.empty()) upload.log.error = "no 'media[0].id' in response";
  const std::string error = upload.log.error;
  logs.push_back(std::move(upload.log));
  if (!error.empty()) return fail("error uploading media " + url + ": " + error);
  uploads_.Put(key, {id, "", now + kUploadKept}, now);
  return id;
}

SendResult TurnHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string root = ApiRoot(channel);
  if (root.empty()) {
    const std::string error = "base_url of TRN channel is not an http(s) URL";
    return SendResult::Errored(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
  }
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);

  std::vector<ChannelLog> logs;
  // A template goes alone: its media are links in its parameters.
  std::map<std::string, std::string> media_ids;
  if (!msg.templating) {
    for (const auto& attachment : msg.attachments) {
      const auto [mime, url] = SplitAttachment(attachment);
      if (!StartsWith(url, "http://") && !StartsWith(url, "https://")) continue;
      if (media_ids.count(url)) continue;
      auto id = MediaId(channel, msg, root, mime, url, ctx, logs);
      if (!id.ok()) {
        const std::string error = Redact(id.status().message(), channel.SecretValues());
        if (logs.empty()) logs.push_back(ErrorLog(channel, msg, error, ctx.clock.Now()));
        return SendResult::Errored(error, std::move(logs));
      }
      media_ids[url] = *id;
    }
  }

  meta::WhatsAppShape shape;
  shape.on_premise = true;
  if (!AllDigits(recipient)) shape.recipient_field = "recipient";
  if (msg.templating) {
    shape.template_namespace = msg.templating->name_space;
    if (shape.template_namespace.empty()) shape.template_namespace = channel.ConfigOr(kNamespaceKey);
  }
  shape.media_reference = [&media_ids](const std::string& url) -> std::pair<std::string, std::string> {
    auto it = media_ids.find(url);
    if (it == media_ids.end()) return {"link", url};
    return {"id", it->second};
  };
  // Turn takes the Cloud API's messages in the On-Premises envelope.
  static const MetaHandler kWhatsApp(MetaHandler::Kind::kWhatsApp);
  const auto built = kWhatsApp.MsgPayloads(recipient, msg, handlers::MaxLength(channel, kTextMax), shape);
  if (!built.ok()) {
    logs.push_back(ErrorLog(channel, msg, built.status().message(), ctx.clock.Now()));
    return SendResult::Failed(built.status().message(), std::move(logs));
  }
  if (built->empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const auto secrets = channel.SecretValues();
  std::string external_id;
  for (const auto& payload : *built) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = root + "/v1/messages";
    req.headers.push_back({"Authorization", "Bearer " + token});
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({"Accept", "application/json"});
    req.body = payload;
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    std::string error = call.log.error;

    if (!exchange.error.empty() || exchange.status_code >= 500 || exchange.status_code == 429) {
      logs.push_back(std::move(call.log));
      SendResult r = SendResult::Errored(error, std::move(logs));
      if (exchange.status_code == 429) r.throttled_for_seconds = meta::ThrottleSeconds({}, exchange);
      return r;
    }
    auto parsed = json::ParseObject(exchange.body);
    if (!parsed.ok()) {
      if (error.empty()) error = call.log.error = "unable to parse response body";
      logs.push_back(std::move(call.log));
      return exchange.ok() ? SendResult::Failed(error, std::move(logs))
                           : handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // An error decides by its code, whatever the HTTP status.
    const meta::GraphError e = AnswerError(*parsed);
    if (e.present) {
      error = call.log.error = Redact(meta::GraphErrorText("turn", e), secrets);
      logs.push_back(std::move(call.log));
      if (IsThrottling(e.code)) {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = meta::ThrottleSeconds(e, exchange);
        return r;
      }
      if (e.code == kMediaUploadError) return SendResult::Errored(error, std::move(logs));
      return SendResult::Failed(error, std::move(logs));
    }
    if (!exchange.ok()) {
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // {"messages": [{"id": "gBEGkYiEB1VXAglK1ZEqA1YKPrU"}]}
    const auto messages = json::GetObjects(*parsed, "messages");
    const std::string id = messages.empty() ? "" : json::GetStringOrEmpty(messages[0], "id");
    if (id.empty()) call.log.error = "no 'messages[0].id' in response";
    if (external_id.empty()) external_id = id;
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired(external_id, std::move(logs));
}

// Incoming media are <base_url origin>/v1/media/<id>, which Turn serves
// to its API token. The token goes to base_url's host only, and there only
// over base_url's scheme and port (never in the clear to an http URL on
// an https API's host).
HttpRequestSpec TurnHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  const std::string root = ApiRoot(channel);
  if (!token.empty() && !root.empty() && handlers::UrlOnHosts(url, {}, root) && handlers::UrlOrigin(url) == root)
    req.headers.push_back({"Authorization", "Bearer " + token});
  return req;
}

}  // namespace courier
