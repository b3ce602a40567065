#include "handlers/telesom.h"

#include "handlers/common.h"

namespace courier {
namespace {

// Without send_url, base_url stands in for this host and kSendPath follows.
const char* kDefaultHost = "http://telesom.com";
const char* kSendPath = "/sendsms";
// One plain SMS.
constexpr size_t kMaxMsgLength = 160;
// Telesom's answer to a request it took contains this word.
const char* kSuccessMarker = "Success";

// DD/MM/YYYY of `now` in UTC, as the key's date.
std::string KeyDate(Micros now) {
  const std::string rfc3339 = FormatRfc3339(now);  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  return rfc3339.substr(8, 2) + "/" + rfc3339.substr(5, 2) + "/" + rfc3339.substr(0, 4);
}

// What proves the request is the account's without sending its password:
// the MD5 of the credentials, the request's own fields and the day.
std::string RequestKey(const Channel& channel, const std::string& to, const std::string& text, const std::string& from,
                       Micros now) {
  const std::string signed_text =
      Join({channel.ConfigOr(config_keys::kUsername), channel.ConfigOr(config_keys::kPassword), to, text, from,
            KeyDate(now), channel.ConfigOr(config_keys::kSecret)},
           "|");
  return ToUpper(HexEncode(Digest(DigestAlgorithm::kMd5, signed_text)));
}

}  // namespace

const ChannelTypeInfo& TelesomHandler::Type() const {
  static const ChannelTypeInfo type = {
      "TS",
      "Telesom",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user (in each request's key)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password (in each request's key)"},
          {config_keys::kSecret, ConfigNeed::kToSend, true,
           "the private key Telesom gave the account (in each request's key)"},
          {config_keys::kSendUrl, ConfigNeed::kOptional, false, "the full URL msgs are posted to, used as is",
           std::string(kDefaultHost) + kSendPath},
          {config_keys::kBaseUrl, ConfigNeed::kOptional, false,
           "without send_url: replaces the host of the send URL, /sendsms appended", kDefaultHost},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> TelesomHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"POST", "receive", RouteKind::kReceive},
  };
}

WebhookResult TelesomHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                      HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  std::vector<std::string> errors;
  const std::string mobile = request.ParamInAnyCase("mobile").value_or("");
  const std::string text = request.ParamInAnyCase("msg").value_or("");
  if (mobile.empty()) errors.push_back("field 'mobile' required");
  if (text.empty()) errors.push_back("field 'msg' required");
  if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
  auto urn = handlers::TelURN(mobile, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, text));
  return r;
}

SendResult TelesomHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string text = TextAndAttachments(msg);
  if (text.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  std::string url = channel.ConfigOr(config_keys::kSendUrl);
  if (url.empty()) url = handlers::BaseUrl(channel, kDefaultHost) + kSendPath;
  // Telesom wants the number as dialled at home: a 0 and the national number.
  const std::string to = "0" + LocalPhoneNumber(msg.urn.substr(msg.urn.find(':') + 1), channel.country);
  const std::string from = WithoutPlus(channel.address);

  std::vector<ChannelLog> logs;
  for (const auto& part : SplitText(text, handlers::MaxLength(channel, kMaxMsgLength))) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = FormEncode({{"to", to},
                           {"from", from},
                           {"msg", part},
                           {"key", RequestKey(channel, to, part, from, ctx.clock.Now())}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (exchange.body.find(kSuccessMarker) == std::string::npos) {
      const std::string error = "response body doesn't contain '" + std::string(kSuccessMarker) + "'";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return SendResult::Failed(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
