#include "handlers/yo.h"

#include "handlers/common.h"

namespace courier {
namespace {

// Yo!'s gateway hosts, tried in this order until one answers. The
// channel's base_url replaces them; it may list several hosts separated
// by commas, tried in the same way.
const std::vector<std::string>& DefaultHosts() {
  static const std::vector<std::string> hosts = {
      "http://smgw1.yo.co.ug:9100", "http://41.220.12.201:9100", "http://164.40.148.210:9100"};
  return hosts;
}
const char* kSendPath = "/sendsms";

// Yo! publishes no message length limit; one plain SMS is the safe unit,
// so longer texts go as several requests.
constexpr size_t kMaxMsgLength = 160;

std::vector<std::string> Hosts(const Channel& channel) {
  const std::string configured = channel.ConfigOr(config_keys::kBaseUrl);
  if (configured.empty()) return DefaultHosts();
  std::vector<std::string> hosts;
  size_t start = 0;
  while (start <= configured.size()) {
    size_t end = configured.find(',', start);
    if (end == std::string::npos) end = configured.size();
    std::string host = Trim(configured.substr(start, end - start));
    while (!host.empty() && host.back() == '/') host.pop_back();
    if (!host.empty()) hosts.push_back(host);
    start = end + 1;
  }
  return hosts.empty() ? DefaultHosts() : hosts;
}

// The value of `name` in a query-string body
// ("ybs_autocreate_status=OK&ybs_autocreate_message=..."); "" when absent.
std::string BodyValue(const std::string& body, const std::string& name) {
  for (const auto& [k, v] : DecodePairs(Trim(body)))
    if (k == name) return v;
  return "";
}

}  // namespace

const ChannelTypeInfo& YoHandler::Type() const {
  static const ChannelTypeInfo type = {
      "YO",
      "YO!",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account number (ybsacctno)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password"},
          {config_keys::kBaseUrl, ConfigNeed::kOptional, false,
           "the gateway hosts to try in turn, separated by commas", Join(DefaultHosts(), ", ")},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> YoHandler::Routes() const { return {{"GET", "receive", RouteKind::kReceive}}; }

WebhookResult YoHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                 HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Yo! does not sign its calls (a webhook_token is all there is). Its callback
  // carries account, dest, message and sender (the v0.2.0 sample); the
  // External-style names from and text are accepted too.
  return handlers::ReceiveExternalStyle(route, channel, request, {handlers::Fields::kQuery, {"message", "text"}});
}

SendResult YoHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;

  const std::vector<std::string> hosts = Hosts(channel);
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  std::vector<ChannelLog> logs;
  for (const auto& part : SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    const std::string query = QueryEncode({{"origin", WithoutPlus(channel.address)},
                                           {"sms_content", part},
                                           {"destinations", to},
                                           {"ybsacctno", username},
                                           {"password", password}});
    std::string error;
    bool sent = false;
    for (const auto& host : hosts) {
      HttpRequestSpec req;
      req.method = "GET";
      req.url = host + kSendPath + "?" + query;
      auto call = handlers::MakeCall(ctx, channel, msg, req);
      const HttpExchange exchange = call.exchange;
      const int code = exchange.status_code;

      // No answer or a server error: this host is down, try the next.
      if (code == 0 || code >= 500) {
        error = call.log.error;
        logs.push_back(std::move(call.log));
        continue;
      }
      // 429 throttles us; another 4xx refuses this request on any host.
      if (code == 429 || handlers::IsPermanentHttpStatus(code)) {
        error = call.log.error;
        logs.push_back(std::move(call.log));
        return handlers::FailedAnswer(error, std::move(logs), exchange);
      }
      // Success needs 200/201 and ybs_autocreate_status=OK in the body.
      const std::string status = BodyValue(exchange.body, "ybs_autocreate_status");
      const std::string message = BodyValue(exchange.body, "ybs_autocreate_message");
      if ((code == 200 || code == 201) && status == "OK") {
        logs.push_back(std::move(call.log));
        sent = true;
        break;
      }
      // A 2xx that says neither OK nor ERROR may have been taken.
      if (code >= 200 && code < 300 && status.empty()) {
        error = "no ybs_autocreate_status in the answer";
        call.log.error = error;
        logs.push_back(std::move(call.log));
        return handlers::AcceptedWithoutId(error, std::move(logs));
      }
      if (code != 200 && code != 201) error = call.log.error;
      else error = "received error from Yo!: " + (message.empty() ? status : message);
      // Yo! documents no error codes, only messages: apart from a
      // blacklisted contact (below) an ERROR is retried.
      if (call.log.error.empty()) call.log.error = error;
      logs.push_back(std::move(call.log));
      // The contact has blacklisted our origin: permanent, stop them.
      if (message.find("BLACKLISTED") != std::string::npos) {
        SendResult r = SendResult::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      return SendResult::Errored(error, std::move(logs));
    }
    if (!sent) return SendResult::Errored(error.empty() ? "no Yo! host answered" : error, std::move(logs));
  }
  // Yo! answers no id for the msg.
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
