#include "handlers/shaqodoon.h"

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

// Shaqodoon publishes no API docs; one plain SMS is the safe unit, so
// longer texts go as several requests (as the reference's first version).
constexpr size_t kMaxMsgLength = 160;

std::string StripPlus(const std::string& s) { return !s.empty() && s[0] == '+' ? s.substr(1) : s; }

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UrlEscape(k) + "=" + UrlEscape(v);
  }
  return out;
}

}  // namespace

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
  // Shaqodoon does not sign its calls; there is nothing to check.
  Fields f(request, Fields::kFormOrQuery);
  if (route.kind == RouteKind::kStatus) {
    const int64_t id = f.RequiredInt("id");
    if (!f.ok()) return WebhookResult::Error(f.error());
    const MsgStatus status = route.action == "sent"        ? MsgStatus::kSent
                             : route.action == "delivered" ? MsgStatus::kDelivered
                                                           : MsgStatus::kFailed;
    WebhookResult r;
    r.statuses.push_back(handlers::StatusForId(channel, id, status));
    return r;
  }

  const std::string from = f.Required("from");
  const std::string text = f.Required("text");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  std::string date = f.Optional("date").value_or("");
  if (date.empty()) date = f.Optional("time").value_or("");
  if (!date.empty()) {
    auto t = ParseRfc3339(date);
    if (!t) return WebhookResult::Error("invalid date format, must be RFC 3339");
    msg.received_on = *t;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

SendResult ShaqodoonHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(channel, msg, {config_keys::kSendUrl, config_keys::kUsername, config_keys::kPassword}, ctx.clock.Now())) return *missing;

  const std::string to = StripPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string from = StripPlus(channel.address);
  std::vector<ChannelLog> logs;
  for (const auto& part : handlers::SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    HttpRequestSpec req;
    req.method = "GET";
    req.url = send_url + (send_url.find('?') == std::string::npos ? "?" : "&") +
              QueryString({{"from", from}, {"msg", part}, {"to", to}, {"username", username}, {"password", password}});
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const bool ok = call.ok();
    const std::string error = call.log.error;
    const HttpExchange exchange = call.exchange;
    logs.push_back(std::move(call.log));
    if (!ok) return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  // Shaqodoon answers no id: statuses come back by our msg id.
  return handlers::Wired("", std::move(logs));
}

}  // namespace courier
