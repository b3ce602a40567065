// Channel config: lookups and which keys are secrets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/channel.h"

namespace courier {
namespace {

TEST(CoreChannel, ConfigOr) {
  Channel c;
  c.config = {{"send_url", "https://example.com/send"}, {"empty", ""}};
  EXPECT_EQ("https://example.com/send", c.ConfigOr(config_keys::kSendUrl));
  EXPECT_EQ("https://example.com/send", c.ConfigOr("send_url", "fallback"));
  EXPECT_EQ("fallback", c.ConfigOr("empty", "fallback"));
  EXPECT_EQ("fallback", c.ConfigOr("missing", "fallback"));
  EXPECT_EQ("", c.ConfigOr("missing"));
}

TEST(CoreChannel, IsSecretConfigKey) {
  for (const char* k : {"auth_token", "password", "api_key", "secret", "key", "AUTH_TOKEN",
                        "Api_Key", "access_token", "app_secret", "private_key", "webhook_secret",
                        "bot_token", "ACCOUNT_TOKEN", "encoding_key", "PASSWORD", "FCM_CREDENTIALS_JSON",
                        "credentials"}) {
    EXPECT_TRUE(IsSecretConfigKey(k)) << k;
  }
  for (const char* k : {"send_url", "base_url", "SEND_URL", "username", "send_body", "send_method",
                        "content_type", "use_national", "encoding", "verify_ssl", "ACCOUNT_SID",
                        "messaging_service_sid", ""}) {
    EXPECT_FALSE(IsSecretConfigKey(k)) << k;
  }
}

TEST(CoreChannel, SecretValues) {
  Channel c;
  c.config = {
      {"auth_token", "tok-123"},       {"password", "hunter2"},
      {"api_key", ""},                 {"username", "admin"},
      {"send_url", "https://x/send"},  {"webhook_secret", "s3cr3t"},
      {"base_url", "https://x"},
  };
  std::vector<std::string> got = c.SecretValues();
  std::sort(got.begin(), got.end());
  EXPECT_EQ((std::vector<std::string>{"hunter2", "s3cr3t", "tok-123"}), got);

  Channel none;
  none.config = {{"username", "admin"}};
  EXPECT_TRUE(none.SecretValues().empty());
}

}  // namespace
}  // namespace courier
