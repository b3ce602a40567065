#include "handlers/dialog360.h"

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

}  // namespace

const ChannelTypeInfo& Dialog360Handler::Type() const {
  static const ChannelTypeInfo type = {
      "D3C",
      "360Dialog",
      {"whatsapp"},
      {
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the channel's API key (D360-API-KEY)", "",
           config_keys::kAuthToken},
          {config_keys::kAuthToken, ConfigNeed::kOptional, true, "another name for api_key"},
          handlers::BaseUrlKey(kDefaultUrl),
          handlers::MaxLengthKey(MetaHandler(MetaHandler::Kind::kWhatsApp).ProviderTextMax()),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> Dialog360Handler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult Dialog360Handler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext& ctx) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const std::string object = json::GetStringOrEmpty(*parsed, "object");
  if (object.empty()) return WebhookResult::Error("field 'object' required");
  if (object != "whatsapp_business_account")
    return WebhookResult::Ignored("ignoring object '" + object + "', expected 'whatsapp_business_account'");
  if (!json::GetArray(*parsed, "entry")) return WebhookResult::Error("field 'entry' required");

  handlers::Collector c;
  const whatsapp_cloud::MediaResolver resolve = [&ctx, &channel](const std::string& media_id,
                                                                 const std::string& mime_hint,
                                                                 std::vector<ChannelLog>& logs) {
    return ResolveMedia(ctx, channel, media_id, mime_hint, logs);
  };
  for (const auto& entry : json::GetObjects(*parsed, "entry")) {
    for (const auto& change : json::GetObjects(entry, "changes")) {
      const std::string field = json::GetStringOrEmpty(change, "field");
      if (field != "messages") {
        c.skipped.push_back("ignoring change of field '" + field + "'");
        continue;
      }
      json::ObjectPtr value = json::GetObject(change, "value");
      if (Status read = whatsapp_cloud::ReadValue(channel, value, resolve, c); !read.ok()) {
        WebhookResult failed = c.Fail(read.message());
        failed.temporary = read.IsUnavailable();
        return failed;
      }
    }
  }
  return c.Finish();
}

SendResult Dialog360Handler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string key = ApiKey(channel);
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  // 360Dialog takes the Cloud API message bodies unchanged.
  static const MetaHandler kCloud(MetaHandler::Kind::kWhatsApp);
  const auto built = kCloud.MsgPayloads(recipient, msg, handlers::MaxLength(channel, kCloud.ProviderTextMax()));
  if (!built.ok())
    return SendResult::Failed(built.status().message(), {ErrorLog(channel, msg, built.status().message(), ctx.clock.Now())});
  const std::vector<std::string>& payloads = *built;
  if (payloads.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  HttpRequestSpec request;
  request.method = "POST";
  request.url = handlers::BaseUrl(channel, kDefaultUrl) + "/messages";
  request.headers.push_back({"Content-Type", "application/json"});
  request.headers.push_back({kApiKeyHeader, key});
  // 360Dialog relays Meta's error shape {"error":{"code","message",
  // "error_data":{"details"}}}, so Meta's codes mean what they mean for
  // WAC; its own answers are {"meta":{"success":false,"http_code",
  // "developer_message"}}. Its error list gives its endpoint rate limit as
  // a 400 ("You have exceeded the endpoint rate limit ... implement
  // request throttling or exponential backoff"): throttled, not F.
  static const meta::Relay kRelay{"360dialog", [](const json::ObjectPtr& answer) -> std::optional<meta::Relay::Refusal> {
    const std::string text = json::GetStringOrEmpty(json::GetObject(answer, "meta"), "developer_message");
    if (text.empty()) return std::nullopt;
    return meta::Relay::Refusal{"received error from 360dialog: " + text, text.find("rate limit") != std::string::npos};
  }};
  return meta::SendPayloads(MetaHandler::Kind::kWhatsApp, channel, msg, request, payloads, ctx, &kRelay);
}

// Media URLs were rewritten onto 360Dialog's host at receipt, where the
// API key fetches them.
HttpRequestSpec Dialog360Handler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string key = ApiKey(channel);
  if (!key.empty() && handlers::UrlOnHosts(url, {"360dialog.io"}, handlers::BaseUrl(channel, kDefaultUrl)))
    req.headers.push_back({kApiKeyHeader, key});
  return req;
}

}  // namespace courier
