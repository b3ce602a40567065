#include "handlers/facebook_legacy.h"

#include <set>

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/meta.h"

namespace courier {
namespace {

const char* kDefaultGraphUrl = "https://graph.facebook.com";
// The Graph API version channels of this type were made against. Meta
// serves a call to a retired version as its oldest live one.
const char* kGraphVersion = "/v3.3";
const char* kAppSecret = "app_secret";

// The reference's split length, well under the Send API's 2000.
constexpr size_t kMaxMsgLength = 640;

// The page webhook fields this handler reads.
const char* kSubscribedFields = "messages,message_deliveries,messaging_optins,messaging_postbacks,messaging_referrals";

// Messenger's Like button sends one of these stickers (small, medium,
// large thumbs up).
bool IsLikeSticker(int64_t sticker_id) {
  return sticker_id == 369239263222822 || sticker_id == 369239343222814 || sticker_id == 369239383222810;
}
const char* kThumbsUp = "\U0001F44D";

std::string GraphRoot(const Channel& channel) { return handlers::BaseUrl(channel, kDefaultGraphUrl) + kGraphVersion; }

// Makes the page's events reach the app (and so this channel's URL). Its
// outcome goes to the channel log only: the verification is answered
// whatever the Graph API says.
ChannelLog SubscribePage(const Channel& channel, const std::string& token, HandlerContext& ctx) {
  HttpRequestSpec req;
  req.method = "POST";
  req.url = GraphRoot(channel) + "/me/subscribed_apps";
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  req.body = FormEncode({{"access_token", token}, {"subscribed_fields", kSubscribedFields}});
  Msg none;  // id 0: the log belongs to the channel, not to a msg
  auto call = handlers::MakeCall(ctx, channel, none, req, "Page Subscribed");
  if (call.ok()) {
    auto answer = json::ParseObject(call.exchange.body);
    if (!answer.ok() || !json::GetBool(*answer, "success").value_or(false))
      call.log.error = "page subscription not confirmed: no 'success' in response";
  }
  return std::move(call.log);
}

WebhookResult Verify(const Channel& channel, const WebhookRequest& request, HandlerContext& ctx) {
  if (request.QueryParam("hub.mode").value_or("") != "subscribe") return WebhookResult::Error("unknown request");
  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (secret.empty()) return WebhookResult::Error("no secret set for FB channel");
  const std::string token = request.QueryParam("hub.verify_token").value_or("");
  if (!ConstantTimeEquals(token, secret)) return WebhookResult::Unauthorized("token does not match secret");
  const std::string auth_token = channel.ConfigOr(config_keys::kAuthToken);
  if (auth_token.empty()) return WebhookResult::Error("missing auth token for FB channel");
  const std::string challenge = request.QueryParam("hub.challenge").value_or("");
  if (challenge.empty()) return WebhookResult::Error("field 'hub.challenge' required");

  WebhookResult r;
  r.extra_logs.push_back(SubscribePage(channel, auth_token, ctx));
  r.response_body = challenge;
  r.response_content_type = "text/plain";
  return r;
}

// A message event's text and attachments; false when it holds nothing
// a msg can carry.
bool ReadMessage(const json::ObjectPtr& message, std::string& text, std::vector<std::string>& attachments) {
  text = json::GetStringOrEmpty(message, "text");
  if (IsLikeSticker(json::GetIntLoose(message, "sticker_id").value_or(0))) text = kThumbsUp;
  for (const auto& a : json::Objects(json::GetArray(message, "attachments"))) {
    const std::string kind = json::GetStringOrEmpty(a, "type");
    json::ObjectPtr payload = json::GetObject(a, "payload");
    if (kind == "location") {
      json::ObjectPtr where = json::GetObject(payload, "coordinates");
      auto lat = json::GetNumberLoose(where, "lat"), lng = json::GetNumberLoose(where, "long");
      if (lat && lng) attachments.push_back("geo:" + handlers::Coordinate(*lat) + "," + handlers::Coordinate(*lng));
      continue;
    }
    if (kind == "image" && IsLikeSticker(json::GetIntLoose(payload, "sticker_id").value_or(0))) text = kThumbsUp;
    const std::string url = json::GetStringOrEmpty(payload, "url");
    if (kind == "fallback" || !StartsWith(url, "http")) continue;  // a shared link is no media
    attachments.push_back(meta::TypedMime(kind, url) + ":" + url);
  }
  return !text.empty() || !attachments.empty();
}

WebhookResult ReceiveEvents(const Channel& channel, const WebhookRequest& request) {
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  if (json::GetStringOrEmpty(*parsed, "object") != "page") return WebhookResult::Ignored("ignoring non-page request");
  const auto entries = json::GetObjects(*parsed, "entry");
  if (entries.empty()) return WebhookResult::Ignored("ignoring request, no entries");

  handlers::Collector c;
  std::set<std::string> seen_mids;
  for (const auto& entry : entries) {
    json::ArrayPtr messaging = json::GetArray(entry, "messaging");
    if (!messaging) {  // standby (handover protocol), changes (feed) ...
      c.skipped.push_back("ignoring entry without messaging events");
      continue;
    }
    for (const auto& event : json::Objects(messaging)) {
      json::ObjectPtr message = json::GetObject(event, "message");
      // An echo names the contact as its recipient: told apart first.
      if (message && json::GetBool(message, "is_echo").value_or(false)) {
        c.skipped.push_back("ignoring echo");
        continue;
      }
      const std::string recipient = json::GetId(json::GetObject(event, "recipient"), "id");
      if (recipient != channel.address) {
        c.skipped.push_back("ignoring event for page '" + recipient + "'");
        continue;
      }
      const std::string sender = json::GetId(json::GetObject(event, "sender"), "id");
      const std::optional<int64_t> timestamp = json::GetIntLoose(event, "timestamp");
      const std::optional<Micros> when =
          timestamp ? handlers::MicrosFromMillis(static_cast<double>(*timestamp)) : std::nullopt;
      auto sender_urn = [&]() -> Result<URN> {
        if (sender.empty() || !AllDigits(sender))
          return Status::InvalidArgument("invalid facebook id: '" + sender + "'");
        return URN::FromParts("facebook", sender);
      };
      auto event_for = [&](ChannelEventType type, const URN& urn) {
        ChannelEvent e;
        e.type = type;
        e.urn = urn.ToString();
        e.occurred_on = when;
        return e;
      };

      if (json::ObjectPtr optin = json::GetObject(event, "optin")) {
        if (sender.empty()) {
          c.skipped.push_back("ignoring opt-in without a sender");
          continue;
        }
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        ChannelEvent e = event_for(ChannelEventType::kReferral, *urn);
        if (const std::string ref = json::GetStringOrEmpty(optin, "ref"); !ref.empty()) e.extra["ref"] = ref;
        c.result.events.push_back(std::move(e));
      } else if (json::ObjectPtr postback = json::GetObject(event, "postback")) {
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        json::ObjectPtr referral = json::GetObject(postback, "referral");
        const bool referred = referral && !json::GetStringOrEmpty(referral, "ref").empty();
        ChannelEvent e = event_for(referred ? ChannelEventType::kReferral : ChannelEventType::kNewConversation, *urn);
        if (referred) e.extra = meta::ReferralExtra(referral);
        if (const std::string title = json::GetStringOrEmpty(postback, "title"); !title.empty()) e.extra["title"] = title;
        e.extra["payload"] = json::GetStringOrEmpty(postback, "payload");
        c.result.events.push_back(std::move(e));
      } else if (json::ObjectPtr referral = json::GetObject(event, "referral")) {
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        ChannelEvent e = event_for(ChannelEventType::kReferral, *urn);
        e.extra = meta::ReferralExtra(referral);
        c.result.events.push_back(std::move(e));
      } else if (message) {
        auto urn = sender_urn();
        if (!urn.ok()) return c.Fail(urn.status().message());
        const std::string mid = json::GetStringOrEmpty(message, "mid");
        if (mid.empty()) return c.Fail("field 'message.mid' required");
        if (!seen_mids.insert(mid).second) {
          c.skipped.push_back("ignoring message '" + mid + "' seen earlier in this request");
          continue;
        }
        std::string text;
        std::vector<std::string> attachments;
        if (!ReadMessage(message, text, attachments)) {
          c.skipped.push_back("ignoring message without text or attachments");
          continue;
        }
        Msg msg = handlers::IncomingMsg(channel, *urn, text);
        msg.external_id = mid;
        msg.attachments = std::move(attachments);
        if (when) msg.received_on = when;
        c.result.msgs.push_back(std::move(msg));
      } else if (json::ObjectPtr delivery = json::GetObject(event, "delivery")) {
        const size_t before = c.result.statuses.size();
        json::ArrayPtr mids = json::GetArray(delivery, "mids");
        for (unsigned i = 0; mids && i < mids->size(); ++i) {
          const Poco::Dynamic::Var mid = mids->get(i);
          if (mid.isString())
            c.result.statuses.push_back(
                handlers::StatusForExternalId(channel, mid.extract<std::string>(), MsgStatus::kDelivered));
        }
        if (c.result.statuses.size() == before) c.skipped.push_back("ignoring delivery without message ids");
      } else {
        c.skipped.push_back("ignoring unknown entry type");
      }
    }
  }
  return c.Finish();
}

}  // namespace

const ChannelTypeInfo& FacebookLegacyHandler::Type() const {
  static const ChannelTypeInfo type = {
      "FB",
      "Facebook Page",
      {"facebook"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true,
           "the page's access token (sends, and subscribes the page to the app)"},
          {config_keys::kSecret, ConfigNeed::kToReceive, true,
           "the token Meta's webhook verification must present (hub.verify_token)"},
          ConfigKeyInfo{kAppSecret, ConfigNeed::kOptional, true,
                        "the Meta app's secret: when set, webhooks must be signed with it"}
              .VerifiesWebhooks(),
          handlers::BaseUrlKey(kDefaultGraphUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
      },
  };
  return type;
}

std::vector<Route> FacebookLegacyHandler::Routes() const {
  return {{"GET", "receive", RouteKind::kReceive}, {"POST", "receive", RouteKind::kReceive}};
}

WebhookResult FacebookLegacyHandler::Receive(const Route& route, const Channel& channel,
                                             const WebhookRequest& request, HandlerContext& ctx) const {
  if (route.method == "GET") return Verify(channel, request, ctx);
  if (!channel.ConfigOr(kAppSecret).empty())
    if (auto refused = meta::CheckSignature(channel, request, Code())) return *refused;
  return ReceiveEvents(channel, request);
}

SendResult FacebookLegacyHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  static const MetaHandler kMessenger(MetaHandler::Kind::kMessenger);
  const auto payloads = kMessenger.Payloads(recipient, msg.text, msg.attachments, msg.quick_replies,
                                            handlers::MaxLength(channel, kMaxMsgLength));
  if (payloads.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  HttpRequestSpec request;
  request.method = "POST";
  request.url = GraphRoot(channel) + "/me/messages?" +
                FormEncode({{"access_token", channel.ConfigOr(config_keys::kAuthToken)}});
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  return meta::SendPayloads(MetaHandler::Kind::kMessenger, channel, msg, request, payloads, ctx);
}

}  // namespace courier
