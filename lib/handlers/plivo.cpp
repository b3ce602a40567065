#include "handlers/plivo.h"

#include <algorithm>
#include <cstdlib>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.plivo.com";
const char* kXmlResponse = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

// Plivo's text limit; longer texts go as several messages (reference
// v1.2.52: 1600).
constexpr size_t kMaxMsgLength = 1600;
// Plivo sends at most 10 media; read no further than this.
constexpr int64_t kMaxMedia = 100;

// Config keys: auth_id / auth_token, or the reference's PLIVO_AUTH_ID /
// PLIVO_AUTH_TOKEN.
const char* kAuthId = "auth_id";
const char* kLegacyAuthId = "PLIVO_AUTH_ID";
const char* kLegacyAuthToken = "PLIVO_AUTH_TOKEN";

// Status callback values (Plivo "Message object": message_state, and
// "What are the different SMS statuses"). The reference (v1.2.52) maps
// queued -> W, sent -> S, delivered -> D, undelivered -> S, rejected -> F
// and knows no failed or read. Following Plivo: undelivered means the
// carrier could not deliver it (F), failed means Plivo could not pass it
// to a carrier (F), read is a WhatsApp read receipt (R).
const std::map<std::string, MsgStatus> kStatuses = {
    {"queued", MsgStatus::kWired},        {"sent", MsgStatus::kSent},         {"delivered", MsgStatus::kDelivered},
    {"undelivered", MsgStatus::kFailed}, {"failed", MsgStatus::kFailed},     {"rejected", MsgStatus::kFailed},
    {"read", MsgStatus::kRead},
};
const std::vector<std::string> kStatusNames = {"queued", "sent",     "delivered", "undelivered",
                                               "failed", "rejected", "read"};

// Plivo error code 200: the recipient replied STOP and Plivo blocks
// messages to it (Plivo support, "Can I reply to customers who have
// opted out?").
const char* kErrorOptedOut = "200";

std::string AuthToken(const Channel& channel) {
  return channel.ConfigOr(config_keys::kAuthToken, channel.ConfigOr(kLegacyAuthToken));
}

// Parameters by name, each name's values sorted, names sorted (byte order).
std::map<std::string, std::vector<std::string>> SortedParams(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::map<std::string, std::vector<std::string>> sorted;
  for (const auto& [name, value] : params) sorted[name].push_back(value);
  for (auto& [name, values] : sorted) std::sort(values.begin(), values.end());
  return sorted;
}

// What X-Plivo-Signature-V3 signs (Plivo's server SDKs, validate_v3_signature):
// the URL without its query; then, when there are query or (for a POST)
// body parameters, "?" and the query parameters sorted as "k=v" joined by
// "&"; for a POST with body parameters, a "." after a non-empty query and
// the body parameters sorted as "kv" run together; finally "." and the
// nonce. Decoded values, as Plivo signs what it sent.
std::string V3SignedText(const WebhookRequest& request, const std::string& nonce) {
  std::string text = request.url.substr(0, request.url.find('?'));
  std::string query;
  for (const auto& [name, values] : SortedParams(request.query))
    for (const auto& value : values) query += (query.empty() ? "" : "&") + name + "=" + value;
  const bool post_params = request.method == "POST" && !request.form.empty();
  if (!query.empty() || post_params) text += "?" + query;
  if (post_params) {
    if (!query.empty()) text += ".";
    for (const auto& [name, values] : SortedParams(request.form))
      for (const auto& value : values) text += name + value;
  }
  return text + "." + nonce;
}

// True when one of the comma-separated signatures in `header` is `expected`.
bool AnyMatches(const std::string& header, const std::string& expected) {
  bool match = false;
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string::npos) end = header.size();
    match |= ConstantTimeEquals(Trim(std::string_view(header).substr(start, end - start)), expected);
    start = end + 1;
  }
  return match;
}

}  // namespace

// Plivo "Signature validation": V3 is base64(HMAC-SHA256(auth_token,
// V3SignedText)); V2 is base64(HMAC-SHA256(auth_token, url without query +
// nonce)), the nonce in X-Plivo-Signature-V2-Nonce. The -Ma- variants are
// the same with the main account's token; either may match. The reference
// checks nothing; a missing or wrong signature is 401 here (DESIGN.md), a
// missing token a 400 since it is our configuration that is wrong.
std::optional<WebhookResult> PlivoHandler::CheckSignature(const Channel& channel, const WebhookRequest& request,
                                                          Micros now) const {
  const std::string token = AuthToken(channel);
  if (token.empty()) return WebhookResult::Error("invalid or missing auth token in config");

  const std::string v3 = request.Header("x-plivo-signature-v3");
  const std::string main_v3 = request.Header("x-plivo-signature-ma-v3");
  const std::string v3_nonce = request.Header("x-plivo-signature-v3-nonce");
  if (!v3.empty() || !main_v3.empty()) {
    // Signed over everything: held to it, never to the weaker V2 beside it.
    if (v3_nonce.empty()) return WebhookResult::Unauthorized("missing request signature");
    const std::string expected = HmacSha256Base64(token, V3SignedText(request, v3_nonce));
    if (!AnyMatches(v3, expected) && !AnyMatches(main_v3, expected))
      return WebhookResult::Unauthorized("invalid request signature");
    return std::nullopt;
  }

  const std::string signature = request.Header("x-plivo-signature-v2");
  const std::string main_signature = request.Header("x-plivo-signature-ma-v2");
  const std::string nonce = request.Header("x-plivo-signature-v2-nonce");
  if ((signature.empty() && main_signature.empty()) || nonce.empty())
    return WebhookResult::Unauthorized("missing request signature");
  const std::string url = request.url.substr(0, request.url.find('?'));
  const std::string expected = HmacSha256Base64(token, url + nonce);
  const bool valid = (!signature.empty() && ConstantTimeEquals(expected, signature)) ||
                     (!main_signature.empty() && ConstantTimeEquals(expected, main_signature));
  if (!valid) return WebhookResult::Unauthorized("invalid request signature");
  // The V2 signature holds for any body: its nonce may bring only the
  // request it first came with (Plivo retrying it).
  if (!v2_nonces_.Admit(channel.uuid, nonce, request.method + "\n" + request.uri + "\n" + request.body, now))
    return WebhookResult::Unauthorized("request signature replayed with another request");
  return std::nullopt;
}

namespace {

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  // The reference names fields in lower case in its errors
  // ("field 'messageuuid' required").
  handlers::Fields f(request, handlers::Fields::kFormOrQuery);
  f.ErrorsInLowerCase();
  const std::string from = f.Required("From");
  const std::string to = f.Required("To");
  const std::string id = f.Required("MessageUUID");
  if (!f.ok()) return WebhookResult::Error(f.error());
  // The message must be for this channel's number.
  if (WithoutPlus(to) != WithoutPlus(channel.address))
    return WebhookResult::Error("invalid to number [" + to + "], expecting [" + WithoutPlus(channel.address) + "]");

  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  // MMS (US/CA): Body and Media1..MediaN (older docs: Media0..), no types.
  std::vector<std::string> attachments;
  const int64_t count = std::min<int64_t>(std::strtoll(f.Value("MediaCount").c_str(), nullptr, 10), kMaxMedia);
  for (int64_t i = 0; i <= count && static_cast<int64_t>(attachments.size()) < count; ++i) {
    const std::string url = f.Value("Media" + std::to_string(i));
    if (url.empty()) continue;
    const std::string type = MimeTypeFromPath(url);
    attachments.push_back(type.empty() ? url : type + ":" + url);
  }
  const std::string text = f.FirstOf({"Text", "Body"});
  if (text.empty() && attachments.empty()) return WebhookResult::Error("field 'text' required");

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.attachments = std::move(attachments);
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  // Plivo tells us when the text is an opt-out keyword (STOP...); it then
  // blocks messages to the sender, so the contact is stopped too.
  if (f.Value("MessageIntent") == "optout") r.stop_urns.push_back(urn->ToString());
  // Plivo reads the answer to a message_url as Message XML: an empty
  // Response sends no reply.
  r.response_body = kXmlResponse;
  r.response_content_type = "application/xml";
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  // The reference names fields in lower case in its errors
  // ("field 'messageuuid' required").
  handlers::Fields f(request, handlers::Fields::kFormOrQuery);
  f.ErrorsInLowerCase();
  const std::string value = f.Required("Status");
  std::string id = f.Required("MessageUUID");
  if (!f.ok()) return WebhookResult::Error(f.error());
  // Each part of a long message reports on its own, naming the first
  // part (whose uuid the send answered) as ParentMessageUUID.
  const std::string parent = f.Value("ParentMessageUUID");
  if (!parent.empty()) id = parent;
  auto status = handlers::MapStatus(kStatuses, value);
  // A status outside the table is a well-formed report we cannot use:
  // answered 200 so the provider does not retry it forever.
  if (!status) return WebhookResult::Ignored(handlers::UnknownStatusError(value, kStatusNames));
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *status));
  const std::string recipient = f.Value("To");
  if (*status == MsgStatus::kFailed && f.Value("ErrorCode") == kErrorOptedOut && !recipient.empty()) {
    auto urn = handlers::TelURN(recipient, channel);
    if (urn.ok()) r.stop_urns.push_back(urn->ToString());
  }
  return r;
}

// MMS goes only to US and Canadian numbers (Plivo "MMS"); elsewhere
// attachments travel as links in the text.
bool MmsCountry(const Channel& channel) {
  const std::string country = ToLower(channel.country);
  return country == "us" || country == "ca";
}

}  // namespace

const ChannelTypeInfo& PlivoHandler::Type() const {
  static const ChannelTypeInfo type = {
      "PL",
      "Plivo",
      {"tel"},
      {
          {kAuthId, ConfigNeed::kToSend, false, "the account's Auth ID", "", kLegacyAuthId},
          {kLegacyAuthId, ConfigNeed::kOptional, false, "the reference's name for auth_id"},
          ConfigKeyInfo{config_keys::kAuthToken, ConfigNeed::kToSend, true,
           "the account's Auth Token (also checks webhook signatures)", "", kLegacyAuthToken}
              .VerifiesWebhooks(),
          {kLegacyAuthToken, ConfigNeed::kOptional, true, "the reference's name for auth_token"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
      },
  };
  return type;
}

std::vector<Route> PlivoHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult PlivoHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext& ctx) const {
  if (auto failure = CheckSignature(channel, request, ctx.clock.Now())) return *failure;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult PlivoHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string auth_id = channel.ConfigOr(kAuthId, channel.ConfigOr(kLegacyAuthId));
  const std::string auth_token = AuthToken(channel);

  const std::string url =
      handlers::BaseUrl(channel, kDefaultApiUrl) + "/v1/Account/" + UrlEscape(auth_id) + "/Message/";
  const std::string callback = ctx.base_url + "/c/pl/" + channel.uuid + "/status";
  const std::string dst = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string src = WithoutPlus(channel.address);
  const bool mms = !msg.attachments.empty() && MmsCountry(channel);
  const std::string text = mms ? msg.text : TextAndAttachments(msg);

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = SplitText(text, handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    auto body = json::NewObject();
    body->set("src", src);
    body->set("dst", dst);
    body->set("text", parts[i]);
    body->set("url", callback);
    body->set("method", "POST");
    if (mms && i == 0) {
      std::vector<std::string> media;
      for (const auto& attachment : msg.attachments) media.push_back(SplitAttachment(attachment).second);
      body->set("type", "mms");
      body->set("media_urls", json::StringArray(media));
    }

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.body = json::Stringify(body);
    req.basic_user = auth_id;
    req.basic_password = auth_token;
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    // 202 {"message": "message(s) queued", "message_uuid": [...], "api_id"}
    // or 4xx {"api_id", "error": "..."}.
    std::string uuid, plivo_error;
    if (auto o = json::ParseObject(call.exchange.body); o.ok()) {
      auto uuids = json::GetStringArray(*o, "message_uuid");
      if (uuids.ok() && !uuids->empty()) uuid = uuids->front();
      plivo_error = json::GetString(*o, "error").value_or("");
    }
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = plivo_error.empty() ? call.log.error : "received error from plivo: " + plivo_error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (uuid.empty()) {
      const std::string error = "unable to get message_uuid from body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = uuid;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
