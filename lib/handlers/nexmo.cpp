#include "handlers/nexmo.h"

#include <algorithm>
#include <cstdlib>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://rest.nexmo.com";
const char* kFormContentType = "application/x-www-form-urlencoded";

// Longer texts go as several requests (reference v1.0.28: 1600), or
// shorter ones when the channel's max_length says so; Vonage concatenates
// each request's text itself.
constexpr size_t kMaxMsgLength = 1600;

// Config keys. The reference's nexmo_api_key / nexmo_api_secret are the
// names; api_key / api_secret are accepted too.
const char* kApiKey = "nexmo_api_key";
const char* kApiSecret = "nexmo_api_secret";
const char* kOtherApiSecret = "api_secret";
// Signed webhooks (Vonage "Signing Messages"): the account's signature
// secret and the algorithm chosen in the dashboard: md5hash (Vonage's
// default), md5 (HMAC-MD5), sha1, sha256 or sha512 (HMAC).
const char* kSignatureSecret = "signature_secret";
const char* kSignatureMethod = "signature_method";

// Delivery receipt `status` values (Vonage "Delivery receipts"). The
// reference: delivered -> D, accepted/buffered -> S, expired/failed/
// rejected -> F, unknown -> W. Any other value is answered 200 and
// ignored with an info entry: Vonage resends a refused receipt for a day.
const std::map<std::string, MsgStatus> kStatuses = {
    {"delivered", MsgStatus::kDelivered}, {"accepted", MsgStatus::kSent}, {"buffered", MsgStatus::kSent},
    {"expired", MsgStatus::kFailed},      {"failed", MsgStatus::kFailed}, {"rejected", MsgStatus::kFailed},
    {"unknown", MsgStatus::kWired},
};

// Vonage DLR err-code 9 on a failed/rejected receipt: "the user has
// requested not to receive messages from the sending number" (Vonage
// "Messaging Opted-out Numbers"). The reference ignores err-code; we stop
// the contact.
const char* kDlrOptedOut = "9";

// SMS API response `status` codes (Vonage "Troubleshooting SMS", "SMS API
// errors"): 0 success; 1 throttled and 10 too many binds ("back-off and
// retry") re-queue the msg; 5 internal error is E. The rest can only be
// answered the same way again, so the msg fails at once:
//   2 missing parameters, 3 invalid parameters, 4 invalid credentials,
//   6 invalid message (unroutable), 7 number barred (the recipient is
//   blacklisted: the contact is stopped too), 8 partner account barred,
//   9 partner quota violation (no credit left), 11 account not enabled for
//   HTTP, 12 message too long, 14 invalid signature, 15 invalid sender
//   address, 22 invalid network code, 23 invalid callback URL,
//   29 non-whitelisted destination, 32 signature and API secret
//   disallowed, 33 number de-activated.
// A code outside the table is E: it may be one Vonage added since.
const char* kStatusOk = "0";
const char* kStatusThrottled = "1";
const char* kStatusTooManyBinds = "10";
const char* kStatusNumberBarred = "7";
const std::vector<std::string> kPermanentStatuses = {"2",  "3",  "4",  "6",  "7",  "8",  "9",  "11",
                                                     "12", "14", "15", "22", "23", "29", "32", "33"};

using ParamMap = std::map<std::string, std::string>;

// Vonage's signature over a webhook's params (Vonage "Signing Messages",
// manual generation): every param but `sig`, sorted by name, each as
// "&name=value" with '&' and '=' in values replaced by '_'; md5hash is
// md5(that + secret), the others HMAC(secret, that), in hex. nullopt for
// an unknown method.
std::optional<std::string> VonageSignature(const std::string& method, const std::string& secret,
                                           const ParamMap& params) {
  std::string data;
  for (const auto& [k, v] : params) {  // std::map: sorted by name
    if (k == "sig") continue;
    std::string value = v;
    std::replace(value.begin(), value.end(), '&', '_');
    std::replace(value.begin(), value.end(), '=', '_');
    data += "&" + k + "=" + value;
  }
  if (method == "md5hash") return HexEncode(Digest(DigestAlgorithm::kMd5, data + secret));
  if (method == "md5") return HexEncode(Hmac(DigestAlgorithm::kMd5, secret, data));
  if (method == "sha1") return HexEncode(Hmac(DigestAlgorithm::kSha1, secret, data));
  if (method == "sha256") return HexEncode(Hmac(DigestAlgorithm::kSha256, secret, data));
  if (method == "sha512") return HexEncode(Hmac(DigestAlgorithm::kSha512, secret, data));
  return std::nullopt;
}

// Checks `sig` when the channel has a signature secret (signed webhooks
// are opt-in at Vonage; without a secret every webhook is accepted, as in
// the reference). Answers nullopt when the request may proceed.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const ParamMap& params) {
  const std::string secret = channel.ConfigOr(kSignatureSecret);
  if (secret.empty()) return std::nullopt;
  const std::string method = ToLower(channel.ConfigOr(kSignatureMethod, "md5hash"));
  auto it = params.find("sig");
  if (it == params.end() || it->second.empty()) return WebhookResult::Unauthorized("missing request signature");
  auto expected = VonageSignature(method, secret, params);
  if (!expected) return WebhookResult::Error("unknown signature_method '" + method + "' in config");
  // Hex case differs between Vonage's algorithms and libraries.
  if (!ConstantTimeEquals(*expected, ToLower(it->second)))
    return WebhookResult::Unauthorized("invalid request signature");
  return std::nullopt;
}

// "2020-01-01 12:00:00" (UTC) as a time; nullopt when malformed.
std::optional<Micros> ParseVonageTime(const std::string& text) {
  if (text.size() != 19 || text[10] != ' ') return std::nullopt;
  return ParseRfc3339(text.substr(0, 10) + "T" + text.substr(11) + "Z");
}

WebhookResult ReceiveMsg(const Channel& channel, const ParamMap& params) {
  handlers::Fields f(params);
  // Binary messages carry `data` and `udh` instead of text.
  if (f.Value("type") == "binary") return WebhookResult::Ignored("binary message, ignored");
  const std::string from = f.Required("msisdn");
  const std::string id = f.Required("messageId");
  const std::string text = f.Required("text");
  if (!f.ok()) return WebhookResult::Error(f.error());

  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  // Parts of a long message arrive as separate webhooks (concat-ref,
  // concat-part, concat-total); with no state between calls each part is
  // a msg of its own, as in the reference.
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  const std::string when = f.Value("message-timestamp");
  if (!when.empty()) {
    auto t = ParseVonageTime(when);
    if (!t) return WebhookResult::Error("invalid message-timestamp '" + when + "', must be YYYY-MM-DD HH:MM:SS");
    msg.received_on = *t;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const ParamMap& params) {
  handlers::Fields f(params);
  const std::string id = f.Required("messageId");
  const std::string value = f.Required("status");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto status = handlers::MapStatus(kStatuses, value);
  if (!status) return WebhookResult::Ignored("unknown status '" + value + "', ignored");
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *status));
  // In a receipt, msisdn is the recipient.
  const std::string recipient = f.Value("msisdn");
  if (*status == MsgStatus::kFailed && f.Value("err-code") == kDlrOptedOut && !recipient.empty()) {
    auto urn = handlers::TelURN(recipient, channel);
    if (urn.ok()) r.stop_urns.push_back(urn->ToString());
  }
  return r;
}

// messages[0] of a send answer (or the top level of an error answer).
struct SendAnswer {
  std::string status;  // "" when the body is not the SMS API's JSON
  std::string message_id;
  std::string error_text;
};

SendAnswer ParseAnswer(const std::string& body) {
  SendAnswer a;
  auto o = json::ParseObject(body);
  if (!o.ok()) return a;
  json::ObjectPtr m = *o;
  auto messages = json::GetArray(*o, "messages");
  if (messages && messages->size() > 0) {
    if (auto first = messages->getObject(0)) m = first;
  }
  a.status = json::GetTextOrEmpty(m, "status");
  a.message_id = json::GetTextOrEmpty(m, "message-id");
  a.error_text = json::GetTextOrEmpty(m, "error-text");
  return a;
}

// "Throughput Rate Exceeded - please wait [ 1000 ] and retry": the wait
// is in milliseconds; rounded up to whole seconds, at least 1.
int ThrottleSeconds(const std::string& error_text) {
  size_t open = error_text.find('['), close = error_text.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return 1;
  long ms = std::strtol(error_text.substr(open + 1, close - open - 1).c_str(), nullptr, 10);
  if (ms <= 0) return 1;
  return static_cast<int>(std::min<long>((ms + 999) / 1000, 3600));
}

}  // namespace

const ChannelTypeInfo& NexmoHandler::Type() const {
  static const ChannelTypeInfo type = {
      "NX",
      "Nexmo",
      {"tel"},
      {
          {kApiKey, ConfigNeed::kToSend, true, "the Vonage account's API key", "", config_keys::kApiKey},
          {config_keys::kApiKey, ConfigNeed::kOptional, true, "another name for nexmo_api_key"},
          {kApiSecret, ConfigNeed::kToSend, true, "the account's API secret", "", kOtherApiSecret},
          {kOtherApiSecret, ConfigNeed::kOptional, true, "another name for nexmo_api_secret"},
          ConfigKeyInfo{kSignatureSecret, ConfigNeed::kOptional, true,
                        "set: webhooks must carry Vonage's signature (sig)"}
              .VerifiesWebhooks(),
          {kSignatureMethod, ConfigNeed::kOptional, false,
           "the signing algorithm chosen in Vonage's dashboard: md5hash, md5, sha1, sha256 or sha512", "md5hash"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
      },
  };
  return type;
}

std::vector<Route> NexmoHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult NexmoHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext&) const {
  // Vonage sends GET query, POST form or POST-JSON as the dashboard says.
  auto params = handlers::FlatParams(request);
  if (!params.ok()) return WebhookResult::Error(params.status().message());
  // Vonage checks a newly set webhook URL with a request that carries no
  // message; the reference answers any inbound without `to` with Ignored.
  if (route.kind == RouteKind::kReceive && params->find("to") == params->end())
    return WebhookResult::Ignored("no to parameter, ignored");
  if (auto failure = CheckSignature(channel, *params)) return *failure;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, *params);
  return ReceiveMsg(channel, *params);
}

SendResult NexmoHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string api_key = channel.ConfigOr(kApiKey, channel.ConfigOr(config_keys::kApiKey));
  const std::string api_secret = channel.ConfigOr(kApiSecret, channel.ConfigOr(kOtherApiSecret));

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/sms/json";
  const std::string callback = ctx.base_url + "/c/nx/" + channel.uuid + "/status";
  // Vonage wants numbers in international format without '+'.
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string from = WithoutPlus(channel.address);
  // SMS only: attachments go as links in the text.
  const std::string text = TextAndAttachments(msg);
  const std::string type = IsGsm7(text) ? "text" : "unicode";

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = SplitText(text, handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", kFormContentType}, {"Accept", "application/json"}};
    req.body = FormEncode({{"api_key", api_key},
                           {"api_secret", api_secret},
                           {"from", from},
                           {"to", to},
                           {"text", parts[i]},
                           {"type", type},
                           {"status-report-req", "1"},
                           {"callback", callback},
                           {"client-ref", std::to_string(msg.id)}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const SendAnswer answer = ParseAnswer(call.exchange.body);

    std::string error;
    if (!answer.status.empty() && answer.status != kStatusOk)
      error = "received error status '" + answer.status + "' from nexmo" +
              (answer.error_text.empty() ? "" : ": " + answer.error_text);
    else if (!call.ok()) error = call.log.error;
    else if (answer.status.empty() || answer.message_id.empty()) error = "unable to get message-id from body";
    if (!error.empty() && call.log.error.empty()) call.log.error = error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));

    if (!error.empty()) {
      // The SMS API answers 200 with a status code; anything else is an
      // HTTP-level refusal or outage.
      if (!exchange.ok()) return handlers::FailedAnswer(error, std::move(logs), exchange);
      if (answer.status == kStatusNumberBarred) {
        SendResult r = SendResult::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      if (std::find(kPermanentStatuses.begin(), kPermanentStatuses.end(), answer.status) != kPermanentStatuses.end())
        return SendResult::Failed(error, std::move(logs));
      // The reference waited and retried up to 3 times in the handler; we
      // hand the wait to the sender, which re-queues without counting.
      if (answer.status == kStatusThrottled || answer.status == kStatusTooManyBinds) {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = ThrottleSeconds(answer.error_text);
        return r;
      }
      if (!answer.status.empty() && answer.status != kStatusOk) return SendResult::Errored(error, std::move(logs));
      // Accepted without the id its receipts will carry: Vonage may send
      // it, so sending it again could deliver it twice.
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    if (i == 0) external_id = answer.message_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
