#include "core/channel.h"

#include "util/text.h"

#include "core/redact.h"

namespace courier {

std::string Channel::ConfigOr(const std::string& key, const std::string& fallback) const {
  if (config_reads) config_reads->insert(key);
  auto it = config.find(key);
  if (it == config.end() || it->second.empty()) return fallback;
  return it->second;
}

std::vector<std::string> Channel::SecretValues() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : config) {
    if (value.empty()) continue;
    if (IsSecretConfigKey(key)) {
      out.push_back(value);
      continue;
    }
    // A credential inside a setting: send_url=https://user:pw@host/send?api_key=K.
    for (auto& credential : UrlCredentials(value)) out.push_back(std::move(credential));
  }
  return out;
}

// Errs on the side of redaction: any key naming a token, password, secret,
// key, credentials or an authorization counts (api_key, auth_token,
// ACCOUNT_TOKEN, private_key, FCM_CREDENTIALS_JSON: a service account's
// JSON, private key inside; send_authorization: a whole Authorization
// header). URLs are configuration an operator needs to see, so they are
// never treated as secrets by name; a credential inside one (userinfo, an
// api_key parameter) is found by SecretValues and masked by
// MaskUrlCredentials.
bool IsSecretConfigKey(const std::string& key) {
  const std::string lower = ToLower(key);
  if (lower == config_keys::kSendUrl || lower == config_keys::kBaseUrl) return false;
  for (const char* word : {"token", "password", "secret", "key", "credential", "authorization"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace courier
