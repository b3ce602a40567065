#include "handlers/shaqodoon.h"

#include "handlers/common.h"

namespace courier {
namespace {

// Shaqodoon publishes no API docs; one plain SMS is the safe unit, so
// longer texts go as several requests (as the reference's first version).
constexpr size_t kMaxMsgLength = 160;

}  // namespace

const ChannelTypeInfo& ShaqodoonHandler::Type() const {
  static const ChannelTypeInfo type = {
      "SQ",
      "Shaqodoon",
      {"tel"},
      {
          {config_keys::kSendUrl, ConfigNeed::kToSend, false, "the gateway's send URL"},
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password"},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ShaqodoonHandler::Routes() const {
  std::vector<Route> routes;
  for (const char* method : {"GET", "POST"}) {
    routes.push_back({method, "receive", RouteKind::kReceive});
    routes.push_back({method, "sent", RouteKind::kStatus});
    routes.push_back({method, "delivered", RouteKind::kStatus});
    routes.push_back({method, "failed", RouteKind::kStatus});
  }
  return routes;
}

WebhookResult ShaqodoonHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Shaqodoon does not sign its calls: a webhook_token is all there is.
  return handlers::ReceiveExternalStyle(route, channel, request);
}

SendResult ShaqodoonHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;

  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string from = WithoutPlus(channel.address);
  std::vector<ChannelLog> logs;
  for (const auto& part : SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    HttpRequestSpec req;
    req.method = "GET";
    req.url = AppendQuery(send_url, QueryEncode({{"from", from},
                                                 {"msg", part},
                                                 {"to", to},
                                                 {"username", username},
                                                 {"password", password}}));
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const bool ok = call.ok();
    const std::string error = call.log.error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));
    if (!ok) return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  // Shaqodoon answers no id: statuses come back by our msg id.
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
