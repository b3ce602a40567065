#include "handlers/dialog360.h"

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/meta.h"
#include "handlers/whatsapp_cloud.h"

namespace courier {
namespace {

const char* kDefaultUrl = "https://waba-v2.360dialog.io";
const char* kApiKeyHeader = "D360-API-KEY";

std::string ApiKey(const Channel& channel) {
  return channel.ConfigOr(config_keys::kApiKey, channel.ConfigOr(config_keys::kAuthToken));
}

// Meta's media URL fetched through 360Dialog's host: its path and query
// on the channel's base URL (360Dialog docs: "Download media from a media
// URL", GET waba-v2.360dialog.io/whatsapp_business/attachments/?mid=...).
std::string ThroughDialog(const Channel& channel, const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto path = url.find('/', scheme + 3);
  return handlers::BaseUrl(channel, kDefaultUrl) + (path == std::string::npos ? "/" : url.substr(path));
}

// Media arrive as ids, looked up on 360Dialog's host with the API key;
// the media URL is rewritten to be fetched through that host too.
Result<std::string> ResolveMedia(HandlerContext& ctx, const Channel& channel, const std::string& media_id,
                                 const std::string& mime_hint, std::vector<ChannelLog>& logs) {
  const std::string key = ApiKey(channel);
  if (key.empty()) return Status::InvalidArgument("no api_key set for D3C channel");
  auto media = whatsapp_cloud::LookUpMedia(ctx, channel, handlers::BaseUrl(channel, kDefaultUrl),
                                           {kApiKeyHeader, key}, media_id, mime_hint, logs);
  if (!media.ok()) return media.status();
  return media->mime_type + ":" + ThroughDialog(channel, media->url);
}

// Where D3C reads the Cloud API webhook its own way (WAC differs): a
// "voice" message is media, media ids are strings, timestamps may have
// fractions (dropped).
whatsapp_cloud::Dialect WebhookDialect(const Channel& channel, HandlerContext& ctx) {
  whatsapp_cloud::Dialect d;
  d.media_types = {"image", "video", "audio", "voice", "document", "sticker"};
  d.media_id = [](const json::ObjectPtr& media) { return json::GetStringOrEmpty(media, "id"); };
  d.received_on = [](const json::ObjectPtr& m) -> std::optional<Micros> {
    if (auto ts = handlers::JsonNumberLoose(m, "timestamp"); ts && *ts > 0)
      return static_cast<int64_t>(*ts) * kMicrosPerSecond;
    return std::nullopt;
  };
  d.resolve_media = [&ctx, &channel](const std::string& media_id, const std::string& mime_hint,
                                     std::vector<ChannelLog>& logs) {
    return ResolveMedia(ctx, channel, media_id, mime_hint, logs);
  };
  return d;
}

}  // namespace

std::vector<Route> Dialog360Handler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult Dialog360Handler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext& ctx) const {
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const std::string object = json::GetStringOrEmpty(*parsed, "object");
  if (object.empty()) return WebhookResult::Error("field 'object' required");
  if (object != "whatsapp_business_account")
    return WebhookResult::Ignored("ignoring object '" + object + "', expected 'whatsapp_business_account'");
  if (!(*parsed)->has("entry") || !(*parsed)->getArray("entry")) return WebhookResult::Error("field 'entry' required");

  handlers::Collector c;
  const whatsapp_cloud::Dialect dialect = WebhookDialect(channel, ctx);
  for (const auto& entry : json::GetObjects(*parsed, "entry")) {
    for (const auto& change : json::GetObjects(entry, "changes")) {
      const std::string field = json::GetStringOrEmpty(change, "field");
      if (field != "messages") {
        c.skipped.push_back("ignoring change of field '" + field + "'");
        continue;
      }
      json::ObjectPtr value = json::GetObject(change, "value");
      if (Status read = whatsapp_cloud::ReadValue(channel, value, dialect, c); !read.ok())
        return c.Fail(read.message());
    }
  }
  return c.Finish();
}

SendResult Dialog360Handler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string key = ApiKey(channel);
  if (key.empty()) {
    const std::string error = "no api_key set for D3C channel";
    return handlers::Errored(error, {handlers::ErrorLog(channel, msg, error, ctx.clock.Now())});
  }
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  // 360Dialog takes the Cloud API message bodies unchanged.
  static const MetaHandler kCloud(MetaHandler::Kind::kWhatsApp);
  const auto payloads = kCloud.Payloads(recipient, msg.text, msg.attachments, msg.quick_replies);
  if (payloads.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& payload : payloads) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = handlers::BaseUrl(channel, kDefaultUrl) + "/messages";
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({kApiKeyHeader, key});
    req.body = payload;
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    json::ObjectPtr answer = body.ok() ? *body : nullptr;
    if (call.ok()) {
      auto messages = json::GetObjects(answer, "messages");
      std::string id = messages.empty() ? "" : json::GetStringOrEmpty(messages[0], "id");
      if (id.empty()) {
        call.log.error = "no 'messages[0].id' in response";
        std::string error = call.log.error;
        logs.push_back(std::move(call.log));
        return handlers::Errored(error, std::move(logs));
      }
      if (external_id.empty()) external_id = id;
      logs.push_back(std::move(call.log));
      continue;
    }

    // 360Dialog relays Meta's error shape {"error":{"code","message",
    // "error_data":{"details"}}}; its own answers (bad key) come as
    // {"meta":{"developer_message",...}}.
    int64_t code = 0;
    std::string error = call.log.error;
    if (json::ObjectPtr err = json::GetObject(answer, "error")) {
      code = static_cast<int64_t>(handlers::JsonNumberLoose(err, "code").value_or(0));
      std::string text = json::GetStringOrEmpty(err, "message");
      const std::string details = json::GetStringOrEmpty(json::GetObject(err, "error_data"), "details");
      if (!details.empty()) text += (text.empty() ? "" : ": ") + details;
      error = Redact("received error from 360dialog: " + text + " (code " + std::to_string(code) + ")", secrets);
      call.log.error = error;
    } else if (json::ObjectPtr meta = json::GetObject(answer, "meta")) {
      const std::string text = json::GetStringOrEmpty(meta, "developer_message");
      if (!text.empty()) {
        error = Redact("received error from 360dialog: " + text, secrets);
        call.log.error = error;
      }
    }
    const int http_status = call.exchange.status_code;
    logs.push_back(std::move(call.log));
    // Throttling: HTTP 429, Meta's 130429 (throughput), 131056 (pair rate
    // limit: one message every 6 seconds) and 4/80007 (app/business limits).
    if (http_status == 429 || code == 130429 || code == 131056 || code == 4 || code == 80007) {
      SendResult r = handlers::Errored(error, std::move(logs));
      const auto& exchange = call.exchange;
      r.throttled_for_seconds = !exchange.Header("retry-after").empty() ? handlers::RetryAfterSeconds(exchange)
                                : code == 131056                        ? 6
                                : code == 4 || code == 80007            ? 60
                                                                        : 1;
      return r;
    }
    // 131050: the user stopped marketing messages from this business.
    if (code == 131050) {
      SendResult r = handlers::Failed(error, std::move(logs));
      r.stop_contact = true;
      return r;
    }
    // 131047: outside the 24 hour window; 131026: undeliverable.
    if (code == 131047 || code == 131026) return handlers::Failed(error, std::move(logs));
    return handlers::Errored(error, std::move(logs));
  }
  return handlers::Wired(external_id, std::move(logs));
}

}  // namespace courier
