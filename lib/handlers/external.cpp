#include "handlers/external.h"

#include "handlers/common.h"

namespace courier {
namespace {

// The reference External default when the channel sets no max_length.
constexpr size_t kDefaultMaxLength = 160;

const char* kDefaultSendBody =
    "id={{id}}&text={{text}}&to={{to}}&to_no_plus={{to_no_plus}}&from={{from}}&from_no_plus={{from_no_plus}}"
    "&channel={{channel}}";
const char* kFormContentType = "application/x-www-form-urlencoded";

std::string JsonQuote(const std::string& s) {
  auto arr = json::NewArray();
  arr->add(s);
  std::string text = json::Stringify(arr);  // ["..."]
  return text.substr(1, text.size() - 2);
}

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Expand(std::string tmpl, const std::vector<std::pair<std::string, std::string>>& vars,
                   std::string (*escape)(const std::string&)) {
  for (const auto& [name, value] : vars) {
    const std::string key = "{{" + name + "}}";
    const std::string escaped = escape(value);
    size_t pos = 0;
    while ((pos = tmpl.find(key, pos)) != std::string::npos) {
      tmpl.replace(pos, key.size(), escaped);
      pos += escaped.size();
    }
  }
  return tmpl;
}

}  // namespace

const ChannelTypeInfo& ExternalHandler::Type() const {
  static const ChannelTypeInfo type = {
      "EX",
      "External",
      {"tel"},
      {
          {config_keys::kSendUrl, ConfigNeed::kToSend, false,
           "URL msgs are sent to; {{text}}, {{to}}, {{from}}, {{id}} ... are replaced, URL-escaped"},
          {config_keys::kSendMethod, ConfigNeed::kOptional, false, "HTTP method of the send", "POST"},
          {config_keys::kSendBody, ConfigNeed::kOptional, false,
           "body of a POST or PUT, with the same variables escaped for content_type",
           "id={{id}}&text={{text}}&to={{to}}&... (every variable)"},
          {config_keys::kContentType, ConfigNeed::kOptional, false, "content type of the body (form, JSON or XML)",
           kFormContentType},
          {"mt_response_check", ConfigNeed::kOptional, false,
           "text a 2xx answer must contain, else the msg fails (F)"},
          handlers::MaxLengthKey(kDefaultMaxLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ExternalHandler::Routes() const {
  std::vector<Route> routes;
  for (const char* method : {"GET", "POST"}) {
    routes.push_back({method, "receive", RouteKind::kReceive});
    routes.push_back({method, "sent", RouteKind::kStatus});
    routes.push_back({method, "delivered", RouteKind::kStatus});
    routes.push_back({method, "failed", RouteKind::kStatus});
    routes.push_back({method, "stopped", RouteKind::kEvent});
  }
  return routes;
}

WebhookResult ExternalHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                       HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  return handlers::ReceiveExternalStyle(route, channel, request);
}

SendResult ExternalHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string method = channel.ConfigOr(config_keys::kSendMethod, "POST");
  const std::string content_type = channel.ConfigOr(config_keys::kContentType, kFormContentType);
  const std::string body_template = channel.ConfigOr(config_keys::kSendBody, kDefaultSendBody);
  const std::string response_check = channel.ConfigOr("mt_response_check");
  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);

  std::string (*body_escape)(const std::string&) = UrlEscape;
  if (content_type.find("json") != std::string::npos) body_escape = JsonQuote;
  else if (content_type.find("xml") != std::string::npos) body_escape = XmlEscape;

  std::vector<ChannelLog> logs;
  for (const auto& part : SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kDefaultMaxLength))) {
    std::vector<std::pair<std::string, std::string>> vars = {
        {"id", std::to_string(msg.id)}, {"text", part},
        {"to", to}, {"to_no_plus", WithoutPlus(to)},
        {"from", channel.address}, {"from_no_plus", WithoutPlus(channel.address)},
        {"channel", channel.uuid}};
    HttpRequestSpec req;
    req.method = method;
    req.url = Expand(send_url, vars, UrlEscape);
    if (method == "POST" || method == "PUT") {
      req.body = Expand(body_template, vars, body_escape);
      req.headers.push_back({"Content-Type", content_type});
    }
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    // The gateway answered 2xx but not with the words that say it took
    // the msg: it may have taken it all the same, so it is not retried.
    if (!response_check.empty() && exchange.body.find(response_check) == std::string::npos) {
      const std::string error = "response did not contain '" + response_check + "'";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
