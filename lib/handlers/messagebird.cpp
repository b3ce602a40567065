#include "handlers/messagebird.h"

#include <cerrno>
#include <cstdlib>

#include "core/uuid.h"
#include "handlers/common.h"
#include "handlers/google_service_account.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://rest.messagebird.com";
const char* kSignatureHeader = "messagebird-signature-jwt";
// The host MessageBird calls, when it is not the one of courier-recv's
// base_url (a proxy in between): the signed URL is built on it.

// MessageBird's statuses for an outgoing message ("SMS Messaging API",
// recipient statuses).
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"scheduled", MsgStatus::kSent},       {"sent", MsgStatus::kSent},
      {"buffered", MsgStatus::kSent},        {"delivered", MsgStatus::kDelivered},
      {"delivery_failed", MsgStatus::kFailed}, {"expired", MsgStatus::kFailed},
  };
  return table;
}
const std::vector<std::string> kStatusNames = {"scheduled", "sent", "buffered", "delivered", "delivery_failed",
                                               "expired"};

// statusErrorCode 103: the recipient answered STOP and MessageBird will
// not deliver to it any more.
constexpr int64_t kErrorContactStopped = 103;

// The dates of the two receive layouts, as Go layouts in the error text.
const char* kStandardLayout = "2006-01-02T15:04:05+00:00";
const char* kShortCodeLayout = "20060102150405";

// The standard layout's date: RFC 3339 with the offset spelled "+00:00"
// and nothing else; a fraction after the seconds is taken, as Go's parser
// takes one that the layout does not show.
std::optional<Micros> ParseStandardDate(const std::string& date) {
  if (date.size() < 25 || date[10] != 'T' || !EndsWith(date, "+00:00")) return std::nullopt;
  return ParseRfc3339(date);
}

// The short code layout's date: 14 digits, UTC, an optional fraction.
std::optional<Micros> ParseShortCodeDate(const std::string& date) {
  if (date.size() < 14 || !AllDigits(date.substr(0, 14))) return std::nullopt;
  const std::string fraction = date.substr(14);
  if (!fraction.empty() && (fraction[0] != '.' || fraction.size() < 2 || !AllDigits(fraction.substr(1))))
    return std::nullopt;
  return ParseRfc3339(date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2) + "T" + date.substr(8, 2) +
                      ":" + date.substr(10, 2) + ":" + date.substr(12, 2) + fraction + "Z");
}

// One part of a JWT as the JSON object it must be; `what` names the part
// in the error ("header", "claim").
Result<json::ObjectPtr> DecodeJwtPart(const std::string& part, const std::string& what) {
  auto decoded = Base64UrlDecode(part);
  if (!decoded) return Status::InvalidArgument("token is malformed: could not base64 decode " + what);
  auto object = json::ParseObject(*decoded);
  if (!object.ok()) return Status::InvalidArgument("token is malformed: could not JSON decode " + what);
  return object;
}

// A JWT's exp or nbf, when present: a number of seconds since the epoch.
// Present but not a number is an error naming the claim.
Result<std::optional<double>> NumericDate(const json::ObjectPtr& claims, const std::string& name) {
  if (!claims->has(name) || claims->isNull(name)) return std::optional<double>();
  auto value = json::GetNumber(claims, name);
  if (!value) return Status::InvalidArgument("token has invalid claims: " + name + " is invalid");
  return std::optional<double>(*value);
}

// The token's claims when it is an HMAC JWT that `secret` signed and that
// is valid `now` (exp and nbf when present; iat is not checked); else the
// error in the wording of the JWT library the reference uses.
Result<json::ObjectPtr> VerifiedClaims(const std::string& token, const std::string& secret, Micros now) {
  const size_t first = token.find('.');
  const size_t second = first == std::string::npos ? std::string::npos : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos)
    return Status::InvalidArgument("token is malformed: token contains an invalid number of segments");
  const std::string signed_part = token.substr(0, second);
  auto header = DecodeJwtPart(token.substr(0, first), "header");
  if (!header.ok()) return header.status();
  auto claims = DecodeJwtPart(token.substr(first + 1, second - first - 1), "claim");
  if (!claims.ok()) return claims.status();

  // Only HMAC: a key that is a shared secret must never verify a token
  // that claims another kind of signature. HS384 is HMAC too, but neither
  // MessageBird signs with it nor our digests offer SHA-384.
  const std::string alg = json::GetStringOrEmpty(*header, "alg");
  DigestAlgorithm digest;
  if (alg == "HS256") digest = DigestAlgorithm::kSha256;
  else if (alg == "HS512") digest = DigestAlgorithm::kSha512;
  else return Status::InvalidArgument("token is unverifiable: unexpected signing method: " + alg);
  const std::string expected = handlers::Base64Url(Hmac(digest, secret, signed_part));
  if (!ConstantTimeEquals(expected, token.substr(second + 1)))
    return Status::InvalidArgument("token signature is invalid: signature is invalid");

  const double now_seconds = static_cast<double>(now) / kMicrosPerSecond;
  auto exp = NumericDate(*claims, "exp");
  if (!exp.ok()) return exp.status();
  if (*exp && !(now_seconds < **exp)) return Status::InvalidArgument("token has invalid claims: token is expired");
  auto nbf = NumericDate(*claims, "nbf");
  if (!nbf.ok()) return nbf.status();
  if (*nbf && now_seconds < **nbf) return Status::InvalidArgument("token has invalid claims: token is not valid yet");
  return claims;
}

std::string Sha256Hex(const std::string& data) { return HexEncode(Digest(DigestAlgorithm::kSha256, data)); }

// The URL MessageBird signed: the one it called, without the query.
std::string SignedUrl(const Channel& channel, const WebhookRequest& request) {
  const std::string domain = channel.ConfigOr(handlers::kCallbackDomainKey);
  if (!domain.empty()) return "https://" + domain + request.uri.substr(0, request.uri.find('?'));
  return request.url.substr(0, request.url.find('?'));
}

// nullopt when the webhook carries a valid signature for this channel.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request, Micros now) {
  const std::string token = request.Header(kSignatureHeader);
  if (token.empty()) return WebhookResult::Unauthorized("missing request signature");
  // The reference's wording.
  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (secret.empty()) return WebhookResult::Error("missing configsecret");
  auto claims = VerifiedClaims(token, secret, now);
  if (!claims.ok()) return WebhookResult::Unauthorized(claims.status().message());
  if (!ConstantTimeEquals(json::GetStringOrEmpty(*claims, "url_hash"), Sha256Hex(SignedUrl(channel, request))))
    return WebhookResult::Unauthorized(
        "invalid request signature, signature doesn't match expected signature for URL.");
  if ((*claims)->has("payload_hash") &&
      !ConstantTimeEquals(json::GetStringOrEmpty(*claims, "payload_hash"), Sha256Hex(request.body)))
    return WebhookResult::Unauthorized(
        "invalid request signature, signature doesn't match expected signature for body.");
  return std::nullopt;
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request, Micros now) {
  if (auto refused = CheckSignature(channel, request, now)) return *refused;
  handlers::Fields f(request, handlers::Fields::kForm);
  const std::string originator = f.Required("originator");
  if (!f.ok()) return WebhookResult::Error(f.error());

  const bool short_code = !f.Value("shortcode").empty();
  const std::string text = f.Value(short_code ? "message" : "body");
  const std::string id = f.Value(short_code ? "mid" : "id");
  const std::string date = f.Value(short_code ? "receive_datetime" : "createdDatetime");
  const auto received_on = short_code ? ParseShortCodeDate(date) : ParseStandardDate(date);
  if (!received_on)
    return WebhookResult::Error("unable to parse date '" + date + "': not in the layout " +
                                (short_code ? kShortCodeLayout : kStandardLayout));

  std::vector<std::string> attachments;
  for (const auto& [name, value] : request.form)
    if (name == "mediaUrls" && !value.empty()) attachments.push_back(value);
  if (text.empty() && attachments.empty()) return WebhookResult::Error("no text or media");

  auto urn = handlers::TelURN(originator, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.attachments = std::move(attachments);
  msg.received_on = *received_on;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  r.response_body = "OK";
  r.response_content_type = "text/plain";
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  handlers::Fields f(request, handlers::Fields::kQuery);
  // A report we cannot read is answered 200, as the reference does:
  // refusing it would only have MessageBird send it again.
  const std::string date = f.Value("statusDatetime");
  const std::string code_text = f.Value("statusErrorCode");
  std::optional<int64_t> error_code;
  if (!code_text.empty()) {
    errno = 0;
    char* end = nullptr;
    const long long code = std::strtoll(code_text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return WebhookResult::Ignored("no msg status, ignoring");
    error_code = code;
  }
  if (!date.empty() && !ParseRfc3339(date)) return WebhookResult::Ignored("no msg status, ignoring");

  const std::string value = f.Value("status");
  auto status = handlers::MapStatus(StatusTable(), value);
  if (!status) return WebhookResult::Error(handlers::UnknownStatusError(value, kStatusNames));
  // Our msg UUID comes back as `reference`; MessageBird's own id is the
  // way to the msgs sent without one.
  const auto reference = NormalizeUUID(f.Value("reference"));
  const std::string id = reference ? f.Value("id") : f.Required("id");
  if (!f.ok()) return WebhookResult::Error(f.error());

  StatusUpdate update = reference ? handlers::StatusForMsgUuid(channel, *reference, *status)
                                  : handlers::StatusForExternalId(channel, id, *status);
  if (*status == MsgStatus::kFailed) {
    std::string reason = f.Value("statusReason");
    if (error_code) reason += (reason.empty() ? "" : " ") + std::string("(error code ") + std::to_string(*error_code) + ")";
    update.error_reason = reason;
  }
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  // The recipient as MessageBird writes it, in international form: read
  // without the channel's country, as the reference does.
  if (error_code == kErrorContactStopped) {
    auto urn = URN::ForTel(f.Value("recipient"), "");
    if (urn.ok() && !urn->path().empty()) r.stop_urns.push_back(urn->ToString());
  }
  return r;
}

// MessageBird's refusal: {"errors":[{"code":9,"description":"...","parameter":"recipients"}]}.
std::string ErrorDescription(const std::string& body) {
  auto parsed = json::ParseObject(body);
  if (!parsed.ok()) return "";
  auto errors = json::Objects(json::GetArray(*parsed, "errors"));
  return errors.empty() ? "" : json::GetStringOrEmpty(errors.front(), "description");
}

}  // namespace

const ChannelTypeInfo& MessageBirdHandler::Type() const {
  static const ChannelTypeInfo type = {
      "MBD",
      "MessageBird",
      {"tel"},
      {
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the access key (Authorization: AccessKey KEY)"},
          ConfigKeyInfo{config_keys::kSecret, ConfigNeed::kToReceive, true,
                        "the signing key, which signs incoming msgs (Messagebird-Signature-JWT)"}
              .VerifiesWebhooks(),
          {handlers::kCallbackDomainKey, ConfigNeed::kOptional, false,
           "the host MessageBird calls, when not base_url's (the signed URL is https://HOST/c/...)"},
          handlers::WebhookTokenKey(),
          handlers::BaseUrlKey(kDefaultApiUrl),
      },
  };
  return type;
}

std::vector<Route> MessageBirdHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult MessageBirdHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                          HandlerContext& ctx) const {
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request, ctx.clock.Now());
}

SendResult MessageBirdHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  json::ObjectPtr payload = json::NewObject();
  payload->set("recipients", json::StringArray({msg.urn.substr(msg.urn.find(':') + 1)}));
  payload->set("reference", msg.uuid);
  payload->set("originator", channel.address);
  if (!msg.text.empty()) payload->set("body", msg.text);
  if (!msg.attachments.empty()) {
    std::vector<std::string> urls;
    for (const auto& attachment : msg.attachments) urls.push_back(SplitAttachment(attachment).second);
    payload->set("mediaUrls", json::StringArray(urls));
  }

  HttpRequestSpec req;
  req.method = "POST";
  req.url = handlers::BaseUrl(channel, kDefaultApiUrl) + (msg.attachments.empty() ? "/messages" : "/mms");
  req.headers = {{"Authorization", "AccessKey " + channel.ConfigOr(config_keys::kAuthToken)},
                 {"Content-Type", "application/json"}};
  req.body = json::Stringify(payload);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  std::vector<ChannelLog> logs;
  if (!call.ok()) {
    std::string error = call.log.error;
    const std::string description = ErrorDescription(exchange.body);
    if (!description.empty()) error += ": " + description;
    call.log.error = error;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  std::string id;
  if (auto answer = json::ParseObject(exchange.body); answer.ok()) id = json::GetId(*answer, "id");
  // MessageBird took the msg: W even without the id, which only costs us
  // its delivery reports.
  if (id.empty()) call.log.error = "unable to get id from body";
  logs.push_back(std::move(call.log));
  return SendResult::Wired(id, std::move(logs));
}

}  // namespace courier
