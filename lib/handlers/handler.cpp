#include "handlers/handler.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>

namespace courier {
namespace {

std::optional<std::string> FirstValue(const std::vector<std::pair<std::string, std::string>>& pairs,
                                      const std::string& name) {
  for (const auto& [k, v] : pairs)
    if (k == name) return v;
  return std::nullopt;
}

// Decodes a=1&b=2 pairs in order; '+' is a space in both query strings and
// form bodies as browsers and providers send them.
std::vector<std::pair<std::string, std::string>> DecodePairs(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    std::string pair = text.substr(start, end - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string k = pair.substr(0, eq), v = eq == std::string::npos ? "" : pair.substr(eq + 1);
      for (auto* s : {&k, &v})
        for (auto& c : *s)
          if (c == '+') c = ' ';
      std::string dk, dv;
      try {
        Poco::URI::decode(k, dk);
        Poco::URI::decode(v, dv);
      } catch (const Poco::Exception&) {
        dk = k;  // a malformed escape is kept literally rather than dropped
        dv = v;
      }
      out.emplace_back(std::move(dk), std::move(dv));
    }
    start = end + 1;
  }
  return out;
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
  if (ct != headers.end() && ct->second.find("application/x-www-form-urlencoded") != std::string::npos)
    r.form = DecodePairs(body);
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

}  // namespace courier
