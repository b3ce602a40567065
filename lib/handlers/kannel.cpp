#include "handlers/kannel.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <limits>

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

// Kannel DLR types (the dlr-mask bits): 1 delivered to phone, 2 not
// delivered to phone, 4 queued on SMSC, 8 delivered to SMSC, 16 not
// delivered to SMSC.
const std::map<std::string, MsgStatus> kStatuses = {
    {"1", MsgStatus::kDelivered}, {"2", MsgStatus::kFailed}, {"4", MsgStatus::kSent},
    {"8", MsgStatus::kSent},      {"16", MsgStatus::kFailed},
};
const char* kDefaultDlrMask = "31";  // every DLR type
const char* kSendError = "received error sending message";

// Config keys particular to Kannel.
const char* kEncoding = "encoding";          // "D" default, "U" unicode, "S" smart (the default)
const char* kUseNational = "use_national";   // "true": `to` in national format
const char* kVerifySsl = "verify_ssl";       // "false": skip certificate checks
const char* kDlrMask = "dlr_mask";           // which DLR types Kannel reports

bool IsTrue(const std::string& v) { return v == "true" || v == "True" || v == "TRUE" || v == "1"; }
bool IsFalse(const std::string& v) { return v == "false" || v == "False" || v == "FALSE" || v == "0"; }

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// The number as dialled inside the channel's country, spaces removed
// (+250788383383 in RW -> 0788383383); the path unchanged when it does
// not parse.
std::string NationalNumber(const std::string& path, const std::string& country) {
  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  std::string region = country;
  std::transform(region.begin(), region.end(), region.begin(), [](unsigned char c) { return std::toupper(c); });
  if (util.Parse(path, region.empty() ? "ZZ" : region, &number) != PhoneNumberUtil::NO_PARSING_ERROR) return path;
  std::string national;
  util.Format(number, PhoneNumberUtil::NATIONAL, &national);
  national.erase(std::remove(national.begin(), national.end(), ' '), national.end());
  return national.empty() ? path : national;
}

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UrlEscape(k) + "=" + UrlEscape(v);
  }
  return out;
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
  std::string error = f.error();
  if (!message) error += (error.empty() ? "" : "; ") + std::string("field 'message' required");
  if (!error.empty()) return WebhookResult::Error(error);
  if (ts < 0 || ts > std::numeric_limits<Micros>::max() / kMicrosPerSecond)
    return WebhookResult::Error("field 'ts' must be a unix time in seconds");

  auto urn = handlers::TelURN(sender, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, *message);
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
  if (!mapped) return WebhookResult::Error("unknown status '" + std::to_string(status) + "', must be one of 1,2,4,8,16");
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForId(channel, id, *mapped));
  return r;
}

}  // namespace

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
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult KannelHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(channel, msg, {config_keys::kSendUrl, config_keys::kUsername, config_keys::kPassword}, ctx.clock.Now())) return *missing;

  // No splitting: Kannel concatenates long texts itself (UDH) and the
  // reference sends one request per msg.
  std::string text = TextAndAttachments(msg);
  std::string encoding = channel.ConfigOr(kEncoding, "S");
  std::transform(encoding.begin(), encoding.end(), encoding.begin(), [](unsigned char c) { return std::toupper(c); });
  bool unicode = encoding == "U";
  if (encoding != "U" && encoding != "D") {
    // Smart: look-alikes for the usual non-GSM7 characters; if that makes
    // the text GSM7 send it so, else send the original text as unicode.
    std::string replaced = handlers::ReplaceGsm7Substitutions(text);
    if (handlers::IsGsm7(replaced)) text = replaced;
    else unicode = true;
  }

  const std::string path = msg.urn.substr(msg.urn.find(':') + 1);
  const std::string to = IsTrue(channel.ConfigOr(kUseNational)) ? NationalNumber(path, channel.country) : path;
  std::string dlr_mask = channel.ConfigOr(kDlrMask, kDefaultDlrMask);
  if (!AllDigits(dlr_mask)) dlr_mask = kDefaultDlrMask;
  // Kannel replaces %d with the DLR type when it calls back.
  const std::string dlr_url =
      ctx.base_url + "/c/kn/" + channel.uuid + "/status?id=" + std::to_string(msg.id) + "&status=%d";

  std::vector<std::pair<std::string, std::string>> params = {
      {"username", username}, {"password", password}, {"from", channel.address}, {"to", to},
      {"text", text},         {"dlr-url", dlr_url},   {"dlr-mask", dlr_mask},
  };
  if (unicode) {
    params.push_back({"coding", "2"});
    params.push_back({"charset", "utf8"});
  }

  HttpRequestSpec req;
  req.method = "GET";
  req.url = send_url + (send_url.find('?') == std::string::npos ? "?" : "&") + QueryString(params);
  if (IsFalse(channel.ConfigOr(kVerifySsl))) req.verify_tls = false;

  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const bool ok = call.ok();
  std::vector<ChannelLog> logs;
  logs.push_back(std::move(call.log));
  if (!ok) return handlers::ThrottledIf429(handlers::Errored(kSendError, std::move(logs)), call.exchange);
  return handlers::Wired("", std::move(logs));
}

}  // namespace courier
