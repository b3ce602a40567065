#include "handlers/external.h"

#include <algorithm>

#include "core/json_writer.h"
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

// One pass over `tmpl`: each {{name}} of `vars` becomes its value through
// `escape`, each of `rendered` its value as it is (already in the target's
// syntax). What a value holds is never read again, so a msg saying
// "{{to}}" is sent as written.
std::string Expand(const std::string& tmpl, const std::vector<std::pair<std::string, std::string>>& vars,
                   std::string (*escape)(const std::string&),
                   const std::vector<std::pair<std::string, std::string>>& rendered = {}) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    const size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    const size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    const std::string name = tmpl.substr(open + 2, close - open - 2);
    const std::string* value = nullptr;
    bool escaped = true;
    for (const auto& [n, v] : vars)
      if (n == name) value = &v;
    for (const auto& [n, v] : rendered)
      if (n == name) value = &v, escaped = false;
    out += tmpl.substr(pos, open - pos);
    if (value == nullptr) {
      out += "{{";  // not ours: kept, and the search goes on after it
      pos = open + 2;
      continue;
    }
    out += escaped ? escape(*value) : *value;
    pos = close + 2;
  }
  out += tmpl.substr(std::min(pos, tmpl.size()));
  return out;
}

// {{quick_replies}}: the msg's text replies as the target's syntax wants
// them (the URL and form bodies repeat quick_reply=, JSON an array of
// strings, XML an <item> each); `none` on every part but the last.
std::string QuickRepliesFor(const std::vector<std::string>& replies, const std::string& syntax) {
  std::string out;
  if (syntax == "json") {
    JsonWriter w;
    w.Strings(replies);
    return w.Take();
  }
  for (const auto& reply : replies) {
    if (syntax == "xml") out += "<item>" + XmlEscape(reply) + "</item>";
    else out += "&quick_reply=" + UrlEscape(reply);
  }
  return out;
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

  const std::string body_syntax = body_escape == JsonQuote ? "json" : body_escape == XmlEscape ? "xml" : "form";
  const std::vector<std::string> replies = TextQuickReplies(msg.quick_replies);
  std::vector<ChannelLog> logs;
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kDefaultMaxLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    std::vector<std::pair<std::string, std::string>> vars = {
        {"id", std::to_string(msg.id)}, {"text", part},
        {"to", to}, {"to_no_plus", WithoutPlus(to)},
        {"from", channel.address}, {"from_no_plus", WithoutPlus(channel.address)},
        {"channel", channel.uuid}};
    HttpRequestSpec req;
    req.method = method;
    req.url = Expand(send_url, vars, UrlEscape, {{"quick_replies", QuickRepliesFor(last ? replies : std::vector<std::string>{}, "url")}});
    if (method == "POST" || method == "PUT") {
      req.body = Expand(body_template, vars, body_escape,
                        {{"quick_replies", QuickRepliesFor(last ? replies : std::vector<std::string>{}, body_syntax)}});
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
