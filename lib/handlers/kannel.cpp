#include "handlers/kannel.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

// Kannel DLR types (the dlr-mask bits): 1 delivered to phone, 2 not
// delivered to phone, 4 queued on SMSC, 8 delivered to SMSC, 16 not
// delivered to SMSC. Later Kannel releases also report 34 (expired) and
// 66 (unknown): the failure bit with a detail bit above it.
const std::map<std::string, MsgStatus> kStatuses = {
    {"1", MsgStatus::kDelivered}, {"2", MsgStatus::kFailed},  {"4", MsgStatus::kSent},
    {"8", MsgStatus::kSent},      {"16", MsgStatus::kFailed}, {"34", MsgStatus::kFailed},
    {"66", MsgStatus::kFailed},
};
const char* kDefaultDlrMask = "31";  // every DLR type
// The DLR types that say a part was not delivered (2 and 16).
constexpr long kFailureDlrBits = 2 | 16;
const char* kSendError = "received error sending message";

// One SMS holds 160 GSM7 septets or 70 UCS-2 units; a part of a
// concatenated SMS loses 6 octets to the UDH, leaving 153 or 67 (Kannel
// splits exactly so).
constexpr size_t kSingleGsm7 = 160, kSingleUcs2 = 70, kPartGsm7 = 153, kPartUcs2 = 67;
// Kannel's concatenation UDH numbers parts in one octet.
constexpr long kMaxConcatenatedParts = 255;

// Config keys particular to Kannel.
const char* kEncoding = "encoding";          // "D" default, "U" unicode, "S" smart (the default)
const char* kUseNational = "use_national";   // "true": `to` in national format
const char* kVerifySsl = "verify_ssl";       // "false": skip certificate checks
const char* kDlrMask = "dlr_mask";           // which DLR types Kannel reports
const char* kMaxMessages = "max_messages";   // the sendsms-user's max-messages (Kannel's default: 1)

// The number as dialled inside the channel's country, spaces removed
// (+250788383383 in RW -> 0788383383); the path unchanged when it does
// not parse.
std::string NationalNumber(const std::string& path, const std::string& country) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  const std::string region = ToUpper(country);
  if (util.Parse(path, region.empty() ? "ZZ" : region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return path;
  std::string national;
  util.Format(number, PhoneNumberUtil::NATIONAL, &national);
  national.erase(std::remove(national.begin(), national.end(), ' '), national.end());
  return national.empty() ? path : national;
}

// The text of an incoming SMS as Kannel passed it. Kannel hands on the
// SMSC's bytes: without `mo-recode` a UCS-2 SMS arrives as UTF-16BE
// (coding=2, charset=UTF-16BE), a binary one as raw octets (coding=1,
// charset=8-BIT), a GSM7 one as UTF-8 (coding=0). The get-url passes %c
// and %C so we can tell; without them, coding=2 alone still means
// UTF-16BE, and anything else is taken as UTF-8 when it is.
std::string IncomingText(const std::string& raw, const std::string& coding, const std::string& charset) {
  if (!charset.empty()) return DecodeCharset(raw, charset);
  if (coding == "2") return DecodeCharset(raw, "UTF-16BE");
  return DecodeCharset(raw, "");
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  // Kannel's get-url carries everything in the query string, whether it
  // calls us with GET or POST.
  Fields f(request, Fields::kQuery);
  const std::string id = f.Required("id");
  const int64_t ts = f.RequiredInt("ts");
  // Kannel may deliver an empty message (a blank SMS): present is enough.
  const std::optional<std::string> message = f.Optional("message");
  const std::string sender = f.Required("sender");
  if (!message) f.AddError("field 'message' required");
  if (!f.ok()) return WebhookResult::Error(f.error());
  if (ts < 0 || ts > std::numeric_limits<Micros>::max() / kMicrosPerSecond)
    return WebhookResult::Error("field 'ts' must be a unix time in seconds");

  auto urn = handlers::TelURN(sender, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  const std::string text = IncomingText(*message, f.Optional("coding").value_or(""), f.Optional("charset").value_or(""));
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = id;
  msg.received_on = ts * kMicrosPerSecond;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  // The dlr-url we build puts both in the query; accept a form too.
  Fields f(request, Fields::kFormOrQuery);
  const int64_t id = f.RequiredInt("id");
  const int64_t status = f.RequiredInt("status");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto mapped = handlers::MapStatus(kStatuses, std::to_string(status));
  // A DLR type we do not know is still a well-formed report: Kannel
  // would retry a refusal, and nothing in it tells us the msg's fate.
  if (!mapped)
    return WebhookResult::Ignored("unknown status '" + std::to_string(status) +
                                  "', must be one of 1,2,4,8,16,34,66; ignored");
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForId(channel, id, *mapped));
  return r;
}

// How many SMS one sendsms request may carry: the sendsms-user's
// max-messages, which the channel's max_messages must not exceed.
long MaxMessages(const Channel& channel) {
  const std::string value = channel.ConfigOr(kMaxMessages);
  char* end = nullptr;
  const long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < 1) return 1;
  return std::min(n, kMaxConcatenatedParts);
}

// The texts to hand Kannel, one sendsms request each. Kannel cuts a text
// that needs more SMS than its sendsms-user's max-messages (1 unless
// configured) and still answers "0: Accepted for delivery", so no request
// may need more than the channel's max_messages says Kannel takes: one
// SMS by default, so a long text goes as separate SMS and nothing is ever
// cut; with max_messages N (and `concatenation = true` on the
// sendsms-user) up to N concatenated parts, which Kannel joins on the
// phone. The channel's max_length (characters) can only make parts
// shorter. Parts end at word boundaries; when GSM7 extension characters
// or emoji make a part too long for its SMS, every part is made shorter.
std::vector<std::string> Parts(const Channel& channel, const std::string& text, bool unicode) {
  const long messages = MaxMessages(channel);
  const size_t room = messages == 1 ? (unicode ? kSingleUcs2 : kSingleGsm7)
                                    : static_cast<size_t>(messages) * (unicode ? kPartUcs2 : kPartGsm7);
  const size_t chars = std::min(handlers::MaxLength(channel, room), room);
  for (size_t max = chars; max > 1; --max) {
    auto parts = SplitText(text, max);
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return SmsLength(p, unicode) <= room; }))
      return parts;
  }
  return SplitText(text, 1);
}

// The failure, with Kannel's own answer ("Authorization failed for
// sendsms", "Missing receiver number, rejected") when it gave one.
std::string SendError(const HttpExchange& exchange) {
  std::string answer = exchange.body.substr(0, exchange.body.find('\n'));
  while (!answer.empty() && std::isspace(static_cast<unsigned char>(answer.back()))) answer.pop_back();
  if (answer.empty() || !exchange.error.empty()) return kSendError;
  return std::string(kSendError) + ": " + Truncate(answer, 200);
}

}  // namespace

const ChannelTypeInfo& KannelHandler::Type() const {
  static const ChannelTypeInfo type = {
      "KN",
      "Kannel",
      {"tel"},
      {
          {config_keys::kSendUrl, ConfigNeed::kToSend, false,
           "Kannel's sendsms URL (http://HOST:13013/cgi-bin/sendsms)"},
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the sendsms-user's name"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the sendsms-user's password"},
          {kEncoding, ConfigNeed::kOptional, false,
           "D (GSM 7-bit), U (unicode) or S (smart: GSM 7-bit when look-alikes make it fit)", "S"},
          {kMaxMessages, ConfigNeed::kOptional, false,
           "SMS one request may need: the sendsms-user's max-messages", "1"},
          {kDlrMask, ConfigNeed::kOptional, false, "the DLR types Kannel reports (a bit mask)", kDefaultDlrMask},
          {kUseNational, ConfigNeed::kOptional, false, "true: send `to` in the channel country's national format",
           "false"},
          {kVerifySsl, ConfigNeed::kOptional, false, "false: do not check send_url's TLS certificate", "true"},
          {"max_length", ConfigNeed::kOptional, false,
           "most characters in one part; never more than max_messages SMS hold",
           "what max_messages SMS hold (160 GSM 7-bit or 70 unicode characters for one)"},
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> KannelHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult KannelHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult KannelHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;

  std::string text = TextAndAttachments(msg);
  const std::string encoding = ToUpper(channel.ConfigOr(kEncoding, "S"));
  bool unicode = encoding == "U";
  if (encoding != "U" && encoding != "D") {
    // Smart: look-alikes for the usual non-GSM7 characters; if that makes
    // the text GSM7 send it so, else send the original text as unicode.
    std::string replaced = ReplaceGsm7Substitutions(text);
    if (IsGsm7(replaced)) text = replaced;
    else unicode = true;
  }

  const std::string path = msg.urn.substr(msg.urn.find(':') + 1);
  const std::string to = handlers::ConfigFlag(channel, kUseNational, false) ? NationalNumber(path, channel.country) : path;
  std::string dlr_mask = channel.ConfigOr(kDlrMask, kDefaultDlrMask);
  if (!AllDigits(dlr_mask) || dlr_mask.size() > 9) dlr_mask = kDefaultDlrMask;
  // Kannel replaces %d with the DLR type when it calls back.
  const std::string dlr_url =
      handlers::WithWebhookToken(channel, ctx.base_url + "/c/kn/" + channel.uuid + "/status?id=" +
                                              std::to_string(msg.id) + "&status=%d");

  const auto parts = Parts(channel, text, unicode);
  std::vector<ChannelLog> logs;
  for (size_t i = 0; i < parts.size(); ++i) {
    // Every part reports to the msg, and D and F are final: the last part
    // reports every type asked for, the ones before only their failures,
    // so the msg is D when the last part arrives and F when any did not.
    const bool last = i + 1 == parts.size();
    const long mask = last ? std::atol(dlr_mask.c_str()) : std::atol(dlr_mask.c_str()) & kFailureDlrBits;
    std::vector<std::pair<std::string, std::string>> params = {
        {"username", username}, {"password", password}, {"from", channel.address}, {"to", to}, {"text", parts[i]},
    };
    if (mask != 0) {
      params.push_back({"dlr-url", dlr_url});
      params.push_back({"dlr-mask", std::to_string(mask)});
    }
    if (unicode) {
      params.push_back({"coding", "2"});
      params.push_back({"charset", "utf8"});
    }

    HttpRequestSpec req;
    req.method = "GET";
    req.url = AppendQuery(send_url, QueryEncode(params));
    req.verify_tls = handlers::ConfigFlag(channel, kVerifySsl, true);

    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const bool ok = call.ok();
    logs.push_back(std::move(call.log));
    // Kannel answers 202 "0: Accepted for delivery" or "3: Queued for
    // later delivery" (its store holds the msg until an SMSC takes it):
    // both are ours to forget. A 4xx (403 "Authorization failed for
    // sendsms", 400 "Missing receiver number, rejected") cannot get
    // better on retry; a 503 "Temporal failure, try again later" or no
    // answer (smsbox down) can.
    if (!ok) return handlers::FailedAnswer(SendError(call.exchange), std::move(logs), call.exchange);
  }
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
