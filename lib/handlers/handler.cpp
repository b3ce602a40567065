#include "handlers/handler.h"

#include <algorithm>

#include "core/redact.h"
#include "util/text.h"
#include "util/utf8.h"

namespace courier {

HttpRequestSpec ChannelHandler::MediaRequest(const Channel& /*channel*/, const std::string& url) const {
  HttpRequestSpec req;
  req.method = "GET";
  req.url = url;
  return req;
}

Result<HttpRequestSpec> ChannelHandler::MediaRequestWithToken(const Channel& channel, const std::string& url,
                                                             HandlerContext&, std::vector<ChannelLog>&) const {
  return MediaRequest(channel, url);
}

namespace {

std::optional<std::string> FirstValue(const std::vector<std::pair<std::string, std::string>>& pairs,
                                      const std::string& name) {
  for (const auto& [k, v] : pairs)
    if (k == name) return v;
  return std::nullopt;
}

// The charset a Content-Type declares ("application/x-www-form-urlencoded;
// charset=ISO-8859-1" -> "ISO-8859-1"); "" when none.
std::string DeclaredCharset(const std::string& content_type) {
  const std::string lower = ToLower(content_type);
  const size_t at = lower.find("charset=");
  if (at == std::string::npos) return "";
  std::string value = content_type.substr(at + 8);
  value = value.substr(0, value.find(';'));
  value = Trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

}  // namespace

WebhookRequest WebhookRequest::Build(const std::string& method, const std::string& uri,
                                     const std::map<std::string, std::string>& headers, const std::string& body,
                                     const std::string& base_url, const std::string& action) {
  WebhookRequest r;
  r.method = method;
  r.uri = uri;
  r.url = base_url + uri;
  r.action = action;
  r.headers = headers;
  r.body = body;
  auto q = uri.find('?');
  if (q != std::string::npos) r.query = DecodePairs(uri.substr(q + 1));
  auto ct = headers.find("content-type");
  if (ct != headers.end() && ct->second.find("application/x-www-form-urlencoded") != std::string::npos) {
    r.form = DecodePairs(body);
    // A form in another charset than UTF-8 says so (a gateway posting
    // windows-1252): its values are read in it. Undeclared, they are
    // taken as UTF-8, and what is not is repaired on its way to the store.
    const std::string charset = DeclaredCharset(ct->second);
    const std::string upper = ToUpper(charset);
    if (!charset.empty() && upper != "UTF-8" && upper != "UTF8" && upper != "US-ASCII") {
      // Names are the provider's ASCII field names; only values are text.
      for (auto& field : r.form) field.second = DecodeCharset(field.second, charset);
    }
  }
  return r;
}

std::string WebhookRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::optional<std::string> WebhookRequest::Param(const std::string& name) const {
  if (auto v = FirstValue(form, name)) return v;
  return FirstValue(query, name);
}

std::optional<std::string> WebhookRequest::QueryParam(const std::string& name) const {
  return FirstValue(query, name);
}

std::optional<std::string> WebhookRequest::FormParam(const std::string& name) const { return FirstValue(form, name); }

namespace {
void LastValueInAnyCase(const std::vector<std::pair<std::string, std::string>>& params, const std::string& name,
                        std::optional<std::string>& found) {
  for (const auto& [key, value] : params)
    if (EqualsIgnoreCase(key, name)) found = value;
}
}  // namespace

std::optional<std::string> WebhookRequest::ParamInAnyCase(const std::string& name) const {
  std::optional<std::string> found;
  LastValueInAnyCase(form, name, found);
  LastValueInAnyCase(query, name, found);
  return found;
}

std::optional<std::string> WebhookRequest::QueryParamInAnyCase(const std::string& name) const {
  std::optional<std::string> found;
  LastValueInAnyCase(query, name, found);
  return found;
}

WebhookResult WebhookResult::Error(std::string message) {
  WebhookResult r;
  r.error = std::move(message);
  return r;
}

WebhookResult WebhookResult::Unauthorized(std::string message) {
  WebhookResult r;
  r.error = std::move(message);
  r.unauthorized = true;
  return r;
}

WebhookResult WebhookResult::Ignored(std::string reason) {
  WebhookResult r;
  r.ignored = std::move(reason);
  return r;
}

SendResult SendResult::Wired(std::string external_id, std::vector<ChannelLog> logs) {
  SendResult r;
  r.status = MsgStatus::kWired;
  r.external_id = std::move(external_id);
  r.logs = std::move(logs);
  return r;
}

SendResult SendResult::Errored(std::string error, std::vector<ChannelLog> logs) {
  SendResult r;
  r.status = MsgStatus::kErrored;
  r.error = std::move(error);
  r.logs = std::move(logs);
  return r;
}

SendResult SendResult::Failed(std::string error, std::vector<ChannelLog> logs) {
  SendResult r = Errored(std::move(error), std::move(logs));
  r.status = MsgStatus::kFailed;
  return r;
}

ChannelLog ErrorLog(const Channel& channel, const Msg& msg, const std::string& error, Micros now) {
  ChannelLog log;
  log.channel_id = channel.id;
  log.channel_uuid = channel.uuid;
  if (msg.id) log.msg_id = msg.id;
  log.description = "Error";
  log.status_code = kNilStatusCode;
  log.error = Redact(error, channel.SecretValues());
  log.created_on = now;
  return log;
}

std::vector<std::string> RouteList(const ChannelHandler& handler) {
  std::vector<std::string> routes;
  for (const auto& r : handler.Routes())
    routes.push_back(r.method + " " + (r.action.empty() ? "/c/" + ToLower(handler.Code()) + "/{uuid}" : r.action));
  if (const AppWebhooks* app = handler.AppLevel())
    for (const auto& r : app->AppRoutes())
      routes.push_back(r.method + " /c/" + ToLower(handler.Code()) + "/" + r.action);
  return routes;
}

std::vector<std::string> RouteSummary(const ChannelHandler& handler) {
  std::vector<std::pair<std::string, std::vector<std::string>>> actions;
  for (const auto& route : RouteList(handler)) {
    const size_t space = route.find(' ');
    const std::string method = route.substr(0, space), action = route.substr(space + 1);
    auto it = std::find_if(actions.begin(), actions.end(), [&](const auto& a) { return a.first == action; });
    if (it == actions.end()) actions.push_back({action, {method}});
    else it->second.push_back(method);
  }
  std::vector<std::string> out;
  for (const auto& [action, methods] : actions) out.push_back(Join(methods, "|") + " " + action);
  return out;
}

}  // namespace courier
