#include "handlers/twilio.h"

#include <algorithm>
#include <cstdlib>

#include "core/json_writer.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kFormContentType = "application/x-www-form-urlencoded";
const char* kTwiMLResponse = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
const char* kDefaultApiUrl = "https://api.twilio.com";
const char* kApiVersionPath = "/2010-04-01/Accounts/";

// Config keys particular to Twilio and its kin. account_sid is the later
// name of v0.2.0's ACCOUNT_SID; both work.
const char* kAccountSid = "account_sid";
const char* kLegacyAccountSid = "ACCOUNT_SID";
const char* kMessagingServiceSid = "messaging_service_sid";
const char* kSpace = "space";  // SignalWire: the customer's space, <space>.signalwire.com

// Twilio's Body limit is 1600 characters; longer texts go as several
// messages (reference [later] maxMsgLength), or shorter ones when the
// channel's max_length says so.
constexpr size_t kMaxMsgLength = 1600;
// At most this many MediaUrlN fields are read (Twilio sends at most 10).
constexpr int64_t kMaxMedia = 100;

// What a Twilio error code means for the msg (Twilio's error dictionary,
// https://www.twilio.com/docs/api/errors). A code not listed here is
// judged by the HTTP status of the answer (a send) or stays a failure (a
// status callback saying failed/undelivered).
enum class CodeKind {
  kStop,       // the recipient opted out: F, and the contact is stopped
  kThrottled,  // we are too fast: back to the queue after Retry-After, no error counted
  kTransient,  // the same msg may well go through later: E, sent again after `retry_seconds`
  kPermanent,  // the same request can only fail again: F at once
};
struct TwilioCode {
  int64_t code;
  CodeKind kind;
  int retry_seconds;  // kTransient: how long to wait before sending again
  const char* meaning;
};
// Answers to a send (REST API, mostly HTTP 400) and ErrorCode values of
// failed/undelivered status callbacks. Transient, from Twilio's own
// "possible solutions": 30001/21611 (queues full: slow down), 30003 (the
// handset is off or out of coverage: "retry ... a one-time downstream
// issue"), 30008 and 30500 ("try sending again"), 30036 (queued past the
// validity period), 63017/63018 (rate limits). 63016 (outside the WhatsApp
// session window) is permanent for this msg: a template is needed, and a
// resend of the same free-form text fails the same way.
const std::vector<TwilioCode>& CodeTable() {
  static const std::vector<TwilioCode> table = {
      {21610, CodeKind::kStop, 0, "unsubscribed recipient"},
      {20429, CodeKind::kThrottled, 0, "too many requests"},
      {21611, CodeKind::kTransient, 600, "'From' number has exceeded the maximum number of queued messages"},
      {30001, CodeKind::kTransient, 300, "queue overflow"},
      {30003, CodeKind::kTransient, 900, "unreachable destination handset"},
      {30008, CodeKind::kTransient, 300, "unknown error"},
      {30036, CodeKind::kTransient, 300, "validity period expired"},
      {30500, CodeKind::kTransient, 300, "Twilio internal error"},
      {63017, CodeKind::kTransient, 60, "rate limit exceeded"},
      {63018, CodeKind::kTransient, 60, "rate limit exceeded for channel"},
      {21211, CodeKind::kPermanent, 0, "invalid 'To' phone number"},
      {21212, CodeKind::kPermanent, 0, "invalid 'From' phone number"},
      {21408, CodeKind::kPermanent, 0, "permission to send to this region is not enabled"},
      {21602, CodeKind::kPermanent, 0, "message body is required"},
      {21606, CodeKind::kPermanent, 0, "'From' number is not SMS-capable"},
      {21608, CodeKind::kPermanent, 0, "unverified 'To' number on a trial account"},
      {21612, CodeKind::kPermanent, 0, "'To' and 'From' cannot be connected"},
      {21614, CodeKind::kPermanent, 0, "'To' number is not a mobile number"},
      {21617, CodeKind::kPermanent, 0, "message body exceeds 1600 characters"},
      {21635, CodeKind::kPermanent, 0, "'To' number is a landline"},
      {30004, CodeKind::kPermanent, 0, "message blocked"},
      {30005, CodeKind::kPermanent, 0, "unknown destination handset"},
      {30006, CodeKind::kPermanent, 0, "landline or unreachable carrier"},
      {30007, CodeKind::kPermanent, 0, "message filtered"},
      {63016, CodeKind::kPermanent, 0, "outside the allowed window, a template is needed"},
  };
  return table;
}
const TwilioCode* FindCode(int64_t code) {
  for (const auto& c : CodeTable())
    if (c.code == code) return &c;
  return nullptr;
}

// Twilio's MessageStatus values for outbound messages, to ours. The
// reference (v0.2.0) knows queued/sent -> S, delivered -> D, failed and
// undelivered -> F, and later read -> R; we keep those and, following
// Twilio's docs ("Outbound Message Status in Status Callbacks", Message
// resource status values), also accept:
//   accepted, scheduled -> W  (a Messaging Service holds it; not yet queued)
//   sending             -> S  (between queued and sent, which both are S)
//   canceled            -> F  (a scheduled message that will never be sent)
// failed/undelivered with a transient ErrorCode (CodeTable) are E instead.
// Any other value (receiving/received are inbound-only;
// partially_delivered has no meaning for one recipient) is answered 200
// and ignored: refusing it would only make Twilio send it again.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"queued", MsgStatus::kSent},        {"failed", MsgStatus::kFailed},    {"sent", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered}, {"undelivered", MsgStatus::kFailed}, {"read", MsgStatus::kRead},
      {"accepted", MsgStatus::kWired},     {"scheduled", MsgStatus::kWired},  {"sending", MsgStatus::kSent},
      {"canceled", MsgStatus::kFailed},
  };
  return table;
}

// X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + key1 + value1 +
// key2 + value2 ...)) over the POST form keys in sorted order. Twilio's
// validators also sort the values of a repeated key, so we order pairs by
// key, then value. The url is the one Twilio called (base_url + uri,
// query string included). Answers nullopt when the request is genuine.
//
// The reference answers 400 on every failure; a missing or wrong
// signature is 401 here (DESIGN.md), a missing token stays a 400 since
// it is our configuration that is wrong.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request) {
  const std::string token = channel.ConfigOr(config_keys::kAuthToken);
  if (token.empty()) return WebhookResult::Error("invalid or missing auth token in config");
  const std::string signature = request.Header("x-twilio-signature");
  if (signature.empty()) return WebhookResult::Unauthorized("missing request signature");

  auto pairs = request.form;
  std::stable_sort(pairs.begin(), pairs.end());
  std::string data = request.url;
  for (const auto& [k, v] : pairs) data += k + v;
  if (!ConstantTimeEquals(HmacSha1Base64(token, data), signature))
    return WebhookResult::Unauthorized("invalid request signature");
  return std::nullopt;
}

// The contact's URN from a Twilio address: "whatsapp:+2348..." is a
// whatsapp URN (digits only), as is any number on a WhatsApp channel;
// anything else is a phone number in `country`.
Result<URN> ContactURN(const std::string& address, const std::string& country, bool whatsapp_channel) {
  std::string number = address;
  bool whatsapp = whatsapp_channel;
  if (StartsWith(number, "whatsapp:")) {
    number = number.substr(9);
    whatsapp = true;
  }
  if (whatsapp) {
    if (StartsWith(number, "+")) number = number.substr(1);
    return URN::FromParts("whatsapp", number);
  }
  return URN::ForTel(number, country);
}

// A Twilio address for WhatsApp: "whatsapp:+<number>".
std::string WhatsAppAddress(std::string number) {
  if (StartsWith(number, "whatsapp:")) return number;
  if (!StartsWith(number, "+")) number = "+" + number;
  return "whatsapp:" + number;
}

}  // namespace

ChannelTypeInfo TwilioHandler::Describe(std::string code, std::string name, Flavor flavor) {
  ChannelTypeInfo type{std::move(code), std::move(name), {flavor == Flavor::kWhatsApp ? "whatsapp" : "tel"}, {}};
  const bool signalwire = flavor == Flavor::kSignalWire;
  type.config = {
      {kAccountSid, ConfigNeed::kToSend, false, signalwire ? "the project id" : "the account SID", "",
       kLegacyAccountSid},
      {kLegacyAccountSid, ConfigNeed::kOptional, false, "the older name of account_sid"},
      {config_keys::kAuthToken, ConfigNeed::kToSend, true,
       signalwire ? "the project's API token" : "the account's auth token (also checks webhook signatures)"},
      {kMessagingServiceSid, flavor == Flavor::kMessagingService ? ConfigNeed::kToSend : ConfigNeed::kOptional,
       false, "send through this Messaging Service instead of from the channel's number"},
  };
  // SignalWire's webhooks are not checked; Twilio's are, with auth_token.
  for (auto& key : type.config)
    if (key.name == config_keys::kAuthToken) key.verifies_webhooks = !signalwire;
  if (signalwire) {
    type.config.push_back({config_keys::kBaseUrl, ConfigNeed::kToSend, false,
                           "the space's LaML API (https://SPACE.signalwire.com/api/laml)", "", kSpace});
    type.config.push_back({kSpace, ConfigNeed::kOptional, false, "the space's name, when base_url is not set"});
  } else {
    type.config.push_back(handlers::BaseUrlKey(kDefaultApiUrl));
  }
  type.config.push_back(handlers::MaxLengthKey(kMaxMsgLength));
  return type;
}

std::vector<Route> TwilioHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult TwilioHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext& ctx) const {
  // SignalWire signs with its own scheme; the reference does not check it.
  if (flavor_ != Flavor::kSignalWire) {
    if (auto failure = CheckSignature(channel, request)) return *failure;
  }
  const bool whatsapp = flavor_ == Flavor::kWhatsApp;
  // The reference names fields in lower case in its errors ("field
  // 'messagesid' required").
  handlers::Fields f(request, handlers::Fields::kForm);
  f.ErrorsInLowerCase();

  if (route.kind == RouteKind::kStatus) {
    const std::string sid = f.Required("MessageSid");
    const std::string value = f.Required("MessageStatus");
    if (!f.ok()) return WebhookResult::Error(f.error());
    auto status = handlers::MapStatus(StatusTable(), value);
    if (!status) return WebhookResult::Ignored("unknown status '" + value + "', ignored");
    StatusUpdate update = handlers::StatusForExternalId(channel, sid, *status);
    // ErrorCode says why a message failed or was not delivered.
    const std::string error_code = f.Value("ErrorCode");
    const TwilioCode* known = nullptr;
    if (*status == MsgStatus::kFailed && !error_code.empty()) {
      char* end = nullptr;
      const long long code = std::strtoll(error_code.c_str(), &end, 10);
      if (*end == '\0') known = FindCode(code);
      update.error_reason = "twilio error " + error_code + (known ? std::string(": ") + known->meaning : "");
      if (known && known->kind == CodeKind::kTransient) {
        // The msg goes back to the queue: E with a time for the next
        // attempt, which the sender claims when due; counting it as an
        // error lets max_retries end the retries.
        update.status = MsgStatus::kErrored;
        update.count_error = true;
        update.next_attempt_on = ctx.clock.Now() + static_cast<Micros>(known->retry_seconds) * kMicrosPerSecond;
      }
    }
    WebhookResult r;
    r.statuses.push_back(std::move(update));
    // 21610: the recipient (To, in a status callback) has opted out, so
    // stop the contact as a send would (reference [later]).
    const std::string to = f.Value("To");
    if (known && known->kind == CodeKind::kStop && !to.empty()) {
      auto urn = ContactURN(to, channel.country, whatsapp);
      if (urn.ok()) r.stop_urns.push_back(urn->ToString());
    }
    return r;
  }

  // Body is required by the reference but Twilio sends it empty for a
  // media-only MMS/WhatsApp message: require text or media instead.
  const std::string sid = f.Required("MessageSid");
  f.Required("AccountSid");
  const std::string from = f.Required("From");
  f.Required("To");
  if (!f.ok()) return WebhookResult::Error(f.error());

  std::string country = f.Value("FromCountry");
  if (country.empty()) country = channel.country;
  auto urn = ContactURN(from, country, whatsapp);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  std::vector<std::string> attachments;
  const int64_t num_media = std::min<int64_t>(std::strtoll(f.Value("NumMedia").c_str(), nullptr, 10), kMaxMedia);
  for (int64_t i = 0; i < num_media; ++i) {
    const std::string url = f.Value("MediaUrl" + std::to_string(i));
    if (url.empty()) continue;
    const std::string type = f.Value("MediaContentType" + std::to_string(i));
    // "mime:url"; without a type, the bare URL as the reference stores it.
    attachments.push_back(type.empty() ? url : type + ":" + url);
  }
  const std::string body = f.Value("Body");
  if (body.empty() && attachments.empty()) return WebhookResult::Error("field 'body' required");

  Msg msg = handlers::IncomingMsg(channel, *urn, handlers::DecodePossibleBase64(body));
  msg.external_id = sid;
  msg.attachments = std::move(attachments);
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  r.response_body = kTwiMLResponse;
  r.response_content_type = "text/xml";
  return r;
}

SendResult TwilioHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string account_sid = channel.ConfigOr(kAccountSid, channel.ConfigOr(kLegacyAccountSid));
  const std::string auth_token = channel.ConfigOr(config_keys::kAuthToken);
  const std::string service_sid = channel.ConfigOr(kMessagingServiceSid);

  std::string api;
  if (flavor_ == Flavor::kSignalWire) {
    // SignalWire's Twilio-compatible API lives under /api/laml of the
    // customer's space: https://<space>.signalwire.com/api/laml/2010-04-01.
    const std::string space = channel.ConfigOr(kSpace);
    const std::string fallback =
        space.empty() ? ""
                      : "https://" + (space.find('.') == std::string::npos ? space + ".signalwire.com" : space) +
                            "/api/laml";
    api = handlers::BaseUrl(channel, fallback);
  } else {
    api = handlers::BaseUrl(channel, kDefaultApiUrl);
  }
  const std::string url = api + kApiVersionPath + UrlEscape(account_sid) + "/Messages.json";
  // [bug] fixed: v0.2.0 put "kn" where the channel's type belongs.
  const std::string callback = ctx.base_url + "/c/" + ToLower(Code()) + "/" + channel.uuid + "/status";

  const auto colon = msg.urn.find(':');
  const std::string scheme = colon == std::string::npos ? "" : msg.urn.substr(0, colon);
  std::string to = colon == std::string::npos ? msg.urn : msg.urn.substr(colon + 1);
  std::string from = channel.address;
  if (scheme == "whatsapp" || flavor_ == Flavor::kWhatsApp) {
    to = WhatsAppAddress(to);
    from = WhatsAppAddress(from);
  }

  // A WhatsApp template is Twilio's content template: its SID (HX...)
  // and the values of its numbered variables ({{1}}, {{2}} ... in the
  // order given, or by each value's name), in one message without a body.
  std::vector<std::pair<std::string, std::string>> content;
  if (msg.templating && (scheme == "whatsapp" || flavor_ == Flavor::kWhatsApp)) {
    const MsgTemplate& t = *msg.templating;
    if (t.external_id.empty()) {
      const std::string error = "template '" + t.name + "' has no external_id: Twilio needs its content SID (HX...)";
      return SendResult::Failed(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
    }
    JsonWriter variables;
    variables.BeginObject();
    int number = 0;
    for (const auto& component : t.components)
      for (const auto& param : component.params)
        variables.Field(param.name.empty() ? std::to_string(++number) : param.name, param.value);
    variables.EndObject();
    content = {{"ContentSid", t.external_id}, {"ContentVariables", variables.Take()}};
  }

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = content.empty() ? SplitText(msg.text, handlers::MaxLength(channel, kMaxMsgLength))
                                     : std::vector<std::string>{""};
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool with_media = content.empty() && i == 0 && !msg.attachments.empty();
    std::vector<std::pair<std::string, std::string>> form = {{"To", to}};
    if (!service_sid.empty()) form.push_back({"MessagingServiceSid", service_sid});
    else form.push_back({"From", from});
    form.insert(form.end(), content.begin(), content.end());
    if (content.empty() && (!parts[i].empty() || !with_media)) form.push_back({"Body", parts[i]});
    // [bug] fixed: Twilio's parameter is MediaUrl (not MediaURL), repeated
    // once per attachment; the attachments go with the first part.
    if (with_media)
      for (const auto& attachment : msg.attachments) form.push_back({"MediaUrl", SplitAttachment(attachment).second});
    form.push_back({"StatusCallback", callback});

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", kFormContentType}, {"Accept", "application/json"}};
    req.body = FormEncode(form);
    // [bug] fixed: v0.2.0 sent no credentials; Twilio needs basic auth.
    req.basic_user = account_sid;
    req.basic_password = auth_token;
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    // A 2xx body is the Message resource (error_code null or a number);
    // a 4xx body is Twilio's error object {"code": 21211, "message": ...}.
    int64_t code = 0;
    std::string sid, message;
    if (auto body = json::ParseObject(call.exchange.body); body.ok()) {
      code = json::GetIntLoose(*body, "error_code").value_or(0);
      if (code == 0) code = json::GetIntLoose(*body, "code").value_or(0);
      sid = json::GetString(*body, "sid").value_or("");
      message = json::GetString(*body, "message").value_or("");
    }
    std::string error;
    if (code != 0) {
      error = "received error code from twilio '" + std::to_string(code) + "'";
      if (!message.empty()) error += ": " + message;
      else if (const TwilioCode* known = FindCode(code)) error += ": " + std::string(known->meaning);
    } else if (!call.ok()) {
      error = call.log.error;
    } else if (sid.empty()) {
      error = "unable to get sid from body";
    }
    if (!error.empty() && call.log.error.empty()) call.log.error = error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));

    if (!error.empty()) {
      const TwilioCode* known = code != 0 ? FindCode(code) : nullptr;
      if (known && known->kind == CodeKind::kStop) {
        SendResult r = SendResult::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      // Twilio: a throttled request was never processed and is safe to
      // retry, also when the code comes without HTTP 429.
      if ((known && known->kind == CodeKind::kThrottled) || exchange.status_code == 429) {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = handlers::RetryAfterSeconds(exchange);
        return r;
      }
      if (known && known->kind == CodeKind::kTransient) return SendResult::Errored(error, std::move(logs));
      if (known && known->kind == CodeKind::kPermanent) return SendResult::Failed(error, std::move(logs));
      // Twilio may have taken a message it answered without a sid: sending
      // it again could deliver it twice.
      if (code == 0 && exchange.ok()) return handlers::AcceptedWithoutId(error, std::move(logs));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (i == 0) external_id = sid;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

// Twilio's media URLs are public unless the account enforces HTTP auth
// on them; then the account SID and auth token open them. Sent to
// Twilio's (or SignalWire's) own hosts only.
HttpRequestSpec TwilioHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string account_sid = channel.ConfigOr(kAccountSid, channel.ConfigOr(kLegacyAccountSid));
  const std::string auth_token = channel.ConfigOr(config_keys::kAuthToken);
  if (!account_sid.empty() && !auth_token.empty() &&
      handlers::UrlOnHosts(url, {"twilio.com", "signalwire.com"}, handlers::BaseUrl(channel, kDefaultApiUrl))) {
    req.basic_user = account_sid;
    req.basic_password = auth_token;
  }
  return req;
}

}  // namespace courier
