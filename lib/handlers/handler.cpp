#include "handlers/handler.h"

namespace courier {
namespace {

std::optional<std::string> FirstValue(const std::vector<std::pair<std::string, std::string>>& pairs,
                                      const std::string& name) {
  for (const auto& [k, v] : pairs)
    if (k == name) return v;
  return std::nullopt;
}

}  // namespace

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
