#include "handlers/smscentral.h"

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

const char* kDefaultSendUrl = "http://smail.smscentral.com.np";
const char* kSendPath = "/bp/ApiSms.php";
const char* kFormContentType = "application/x-www-form-urlencoded";
// SMS Central documents no limit; longer texts go as several requests of
// at most this many characters, as with other aggregators.
constexpr size_t kMaxMsgLength = 1600;

}  // namespace

const ChannelTypeInfo& SmsCentralHandler::Type() const {
  static const ChannelTypeInfo type = {
      "SC",
      "SMS Central",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password"},
          handlers::BaseUrlKey(kDefaultSendUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> SmsCentralHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult SmsCentralHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                         HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // The reference reads the form or the query string.
  Fields f(request, Fields::kFormOrQuery);
  const std::string mobile = f.Required("mobile");
  const std::string message = f.Required("message");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto urn = handlers::TelURN(mobile, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, message));
  return r;
}

SendResult SmsCentralHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string url = handlers::BaseUrl(channel, kDefaultSendUrl) + kSendPath;
  const std::string mobile = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));

  std::vector<ChannelLog> logs;
  // SMS only: attachments go as links in the text.
  for (const auto& part : SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", kFormContentType}};
    req.body = FormEncode({{"user", username}, {"pass", password}, {"mobile", mobile}, {"content", part}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const bool ok = call.ok();
    const std::string error = call.log.error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));
    if (!ok) return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  // SMS Central answers no message id.
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
