#pragma once
// Channel: one account with one provider (a Twilio number, a Telegram bot),
// identified by UUID and handled by the handler for its type code.
//
// Config holds the provider credentials and options as string values under
// the standard keys below plus handler-specific ones. Values are immutable
// once loaded; the store hands out copies.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace courier {

namespace config_keys {
inline constexpr const char* kAuthToken = "auth_token";
inline constexpr const char* kUsername = "username";
inline constexpr const char* kPassword = "password";
inline constexpr const char* kApiKey = "api_key";
inline constexpr const char* kSendUrl = "send_url";
inline constexpr const char* kSendBody = "send_body";
inline constexpr const char* kSendMethod = "send_method";
inline constexpr const char* kContentType = "content_type";
inline constexpr const char* kBaseUrl = "base_url";
inline constexpr const char* kSecret = "secret";
}  // namespace config_keys

struct Channel {
  int64_t id = 0;
  std::string uuid;
  std::string type;     // upper-case code: "EX", "KN", "TG", "TW"
  std::string name;
  std::string address;  // number, short code or bot handle
  std::string country;  // ISO 3166 alpha-2 or ""
  std::vector<std::string> schemes;  // URN schemes this channel speaks
  std::map<std::string, std::string> config;
  int max_workers = 0;  // 0: the sender's default
  int tps = 0;          // sends per second; 0: unlimited
  int64_t created_on = 0;
  // Test seam: when set, ConfigOr adds every key it is asked for here, so
  // that handler tests can hold a handler to the settings its type
  // declares. Null in the programs; not stored.
  std::set<std::string>* config_reads = nullptr;

  // The config value or `fallback` when absent or empty.
  std::string ConfigOr(const std::string& key, const std::string& fallback = "") const;
  // Values of config keys that hold secrets, and the credentials inside
  // other settings' URLs (see UrlCredentials), for redaction in logs.
  std::vector<std::string> SecretValues() const;
};

// True for config keys whose values are credentials (redacted in logs and
// in `channel show` unless asked otherwise).
bool IsSecretConfigKey(const std::string& key);

}  // namespace courier
