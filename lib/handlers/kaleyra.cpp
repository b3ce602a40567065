#include "handlers/kaleyra.h"

#include <cstdlib>
#include <set>

#include "handlers/common.h"
#include "handlers/media_download.h"
#include "http/multipart_form.h"
#include "util/mime.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.kaleyra.io";
const char* kAccountSidConfig = "account_sid";

// The message types Kaleyra forwards that we take; others (locations,
// contacts, button replies ...) are ignored.
const std::set<std::string>& KnownMessageTypes() {
  static const std::set<std::string> types = {"text", "image", "video", "voice", "document"};
  return types;
}

const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"0", MsgStatus::kFailed},
      {"sent", MsgStatus::kWired},
      {"delivered", MsgStatus::kDelivered},
      {"read", MsgStatus::kRead},
  };
  return table;
}

std::optional<Micros> ParseCreatedAt(const std::string& text) {
  if (text.empty() || text.size() > 12 || !AllDigits(text)) return std::nullopt;
  return handlers::MicrosFromSeconds(static_cast<double>(std::strtoll(text.c_str(), nullptr, 10)));
}

WebhookResult ReceiveMessage(const Channel& channel, const WebhookRequest& request) {
  const std::string from = request.QueryParamInAnyCase("from").value_or("");
  if (from.empty()) return WebhookResult::Error("field 'from' required");
  if (!KnownMessageTypes().count(request.QueryParamInAnyCase("type").value_or("")))
    return WebhookResult::Ignored("ignoring request, unknown message type");
  const std::string body = request.QueryParamInAnyCase("body").value_or("");
  const std::string media_url = request.QueryParamInAnyCase("media_url").value_or("");
  if (body.empty() && media_url.empty()) return WebhookResult::Error("no text or media");
  auto urn = URN::FromParts("whatsapp", from);
  if (!urn.ok()) return WebhookResult::Error("invalid whatsapp id");
  const std::string created_at = request.QueryParamInAnyCase("created_at").value_or("");
  const auto received_on = ParseCreatedAt(created_at);
  if (!received_on)
    return WebhookResult::Error("invalid created_at: " + (created_at.empty() ? "none given, unix seconds required" : created_at));

  Msg msg = handlers::IncomingMsg(channel, *urn, body);
  msg.contact_name = request.QueryParamInAnyCase("name").value_or("");
  msg.received_on = *received_on;
  if (!media_url.empty()) {
    const std::string mime = MimeTypeFromPath(media_url);
    msg.attachments.push_back(mime.empty() ? media_url : mime + ":" + media_url);
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  const std::string id = request.QueryParamInAnyCase("id").value_or("");
  const std::string status = request.QueryParamInAnyCase("status").value_or("");
  std::vector<std::string> errors;
  if (id.empty()) errors.push_back("field 'id' required");
  if (status.empty()) errors.push_back("field 'status' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Ignored("unknown status: " + status);
  StatusUpdate update = handlers::StatusForExternalId(channel, id, *mapped);
  if (*mapped == MsgStatus::kFailed) update.error_reason = "Kaleyra status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

// The URL's last path segment (no query or fragment), what the file part
// is named; "media" when the path ends in '/'.
std::string FileName(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const size_t scheme = path.find("://");
  const size_t host_end = path.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  path = host_end == std::string::npos ? "" : path.substr(host_end);
  const std::string name = path.substr(path.rfind('/') + 1);
  return name.empty() ? "media" : name;
}

// `dump` with the media bytes in it replaced by their size.
void ElideBytes(std::string& dump, const std::string& bytes, const std::string& type) {
  if (bytes.empty()) return;
  const size_t at = dump.find(bytes);
  if (at == std::string::npos) return;
  dump.replace(at, bytes.size(), "[" + std::to_string(bytes.size()) + " bytes of " + type + "]");
}

// Kaleyra's reason for refusing a request ({"code": "E413", "message":
// "Invalid/incorrect inputs.", "error": {...}}); "" when it gives none.
std::string KaleyraError(const std::string& body) {
  auto parsed = json::ParseObject(body);
  return parsed.ok() ? json::GetTextOrEmpty(*parsed, "message") : "";
}

bool HasLink(const std::string& text) {
  return text.find("http://") != std::string::npos || text.find("https://") != std::string::npos;
}

}  // namespace

const ChannelTypeInfo& KaleyraHandler::Type() const {
  static const ChannelTypeInfo type = {
      "KWA",
      "Kaleyra WhatsApp",
      {"whatsapp"},
      {
          {kAccountSidConfig, ConfigNeed::kToSend, false, "the account's SID (the path of the send API)"},
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the API key (sent as the form field api-key)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          {handlers::kCallbackDomainKey, ConfigNeed::kOptional, false,
           "the host Kaleyra sends statuses to, when not courier's base URL's (https://HOST/c/kwa/...)"},
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> KaleyraHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult KaleyraHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                      HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMessage(channel, request);
}

SendResult KaleyraHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, now);

  // Every attachment must be one we can download, or none is sent.
  std::vector<std::pair<std::string, std::string>> media;  // (declared type, url)
  for (const auto& attachment : msg.attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    if (mime.find('/') == std::string::npos) {  // a bare URL: "https" is no type
      mime.clear();
      url = attachment;
    }
    if (!StartsWith(url, "http://") && !StartsWith(url, "https://")) {
      const std::string error = "attachment '" + attachment + "' is not an http(s) URL, which Kaleyra needs";
      return SendResult::Failed(error, {ErrorLog(channel, msg, error, now)});
    }
    media.emplace_back(mime, url);
  }

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/v1/" +
                          UrlEscape(channel.ConfigOr(kAccountSidConfig)) + "/messages";
  const std::vector<std::pair<std::string, std::string>> common = {
      {"api-key", channel.ConfigOr(config_keys::kApiKey)},
      {"channel", "WhatsApp"},
      {"from", channel.address},
      {"callback_url", handlers::WithWebhookToken(
                           channel, handlers::CallbackBase(channel, ctx) + "/c/kwa/" + channel.uuid + "/status")},
  };
  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);

  std::vector<ChannelLog> logs;
  std::string external_id;
  // Sends one request and judges its answer; an error result when the
  // msg must stop there.
  auto post = [&](const HttpRequestSpec& req, const std::string& bytes,
                  const std::string& type) -> std::optional<SendResult> {
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    ElideBytes(call.log.request, bytes, type);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = exchange.error.empty() ? KaleyraError(exchange.body) : "";
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // {"id": "...", "channel": "whatsapp", "from": ..., "data": [...]}
    auto answer = json::ParseObject(exchange.body);
    const std::string id = json::GetId(answer.ok() ? *answer : nullptr, "id");
    if (id.empty()) call.log.error = "no id in Kaleyra's answer: statuses cannot be matched";
    else external_id = id;
    logs.push_back(std::move(call.log));
    return std::nullopt;
  };

  if (media.empty()) {
    auto fields = common;
    fields.insert(fields.end(), {{"type", "text"}, {"to", to}, {"body", msg.text}});
    if (HasLink(msg.text)) fields.emplace_back("preview_url", "true");
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
    req.body = FormEncode(fields);
    if (auto stop = post(req, "", "")) return std::move(*stop);
    return SendResult::Wired(external_id, std::move(logs));
  }

  for (size_t i = 0; i < media.size(); ++i) {
    const auto& [declared, media_url] = media[i];
    auto download = handlers::DownloadMedia(ctx, channel, msg, media_url, declared, logs);
    if (!download.ok()) {
      const std::string error = "unable to fetch media " + media_url + ": " + download.status().message();
      return SendResult::Errored(error, std::move(logs));
    }
    FormFile file{"media", FileName(media_url), download->type, std::move(download->bytes)};

    auto fields = common;
    fields.insert(fields.end(), {{"type", "media"}, {"to", to}});
    if (i == 0 && !msg.text.empty()) fields.emplace_back("caption", msg.text);
    auto [body, content_type] = MultipartForm(fields, {file});
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", content_type}, {"Accept", "application/json"}};
    req.body = std::move(body);
    if (auto stop = post(req, file.bytes, file.content_type)) return std::move(*stop);
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
