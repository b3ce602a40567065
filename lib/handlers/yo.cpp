#include "handlers/yo.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

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

std::string StripPlus(const std::string& s) { return !s.empty() && s[0] == '+' ? s.substr(1) : s; }

std::string Trim(const std::string& s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws), e = s.find_last_not_of(ws);
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

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

std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UrlEscape(k) + "=" + UrlEscape(v);
  }
  return out;
}

// The value of `name` in a query-string body
// ("ybs_autocreate_status=OK&ybs_autocreate_message=..."); "" when absent.
std::string BodyValue(const std::string& body, const std::string& name) {
  size_t start = 0;
  const std::string text = Trim(body);
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string value = eq == std::string::npos ? "" : pair.substr(eq + 1);
      for (auto& c : value)
        if (c == '+') c = ' ';
      std::string decoded;
      try {
        Poco::URI::decode(value, decoded);
      } catch (const Poco::Exception&) {
        decoded = value;
      }
      return decoded;
    }
    start = end + 1;
  }
  return "";
}

}  // namespace

std::vector<Route> YoHandler::Routes() const { return {{"GET", "receive", RouteKind::kReceive}}; }

WebhookResult YoHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                 HandlerContext&) const {
  // Yo! does not sign its calls; there is nothing to check. Its callback
  // carries account, dest, message and sender (the v0.2.0 sample); the
  // External-style names from and text are accepted too.
  Fields f(request, Fields::kQuery);
  std::string sender = f.Optional("sender").value_or("");
  if (sender.empty()) sender = f.Optional("from").value_or("");
  // [later] the text is `message`, as Yo! sends it; `text` still works.
  std::string text = f.Optional("message").value_or("");
  if (text.empty()) text = f.Optional("text").value_or("");
  if (sender.empty()) return WebhookResult::Error("must have one of 'sender' or 'from' set");
  if (text.empty()) return WebhookResult::Error("field 'message' required");

  auto urn = handlers::TelURN(sender, channel);
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

SendResult YoHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(channel, msg, {config_keys::kUsername, config_keys::kPassword}, ctx.clock.Now())) return *missing;

  const std::vector<std::string> hosts = Hosts(channel);
  const std::string to = StripPlus(msg.urn.substr(msg.urn.find(':') + 1));
  std::vector<ChannelLog> logs;
  for (const auto& part : handlers::SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    const std::string query = QueryString({{"origin", StripPlus(channel.address)},
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
        SendResult r = handlers::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      return handlers::Errored(error, std::move(logs));
    }
    if (!sent) return handlers::Errored(error.empty() ? "no Yo! host answered" : error, std::move(logs));
  }
  // Yo! answers no id for the msg.
  return handlers::Wired("", std::move(logs));
}

}  // namespace courier
