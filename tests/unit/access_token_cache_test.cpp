#include "handlers/access_token_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace courier::handlers {
namespace {

constexpr Micros kSecond = kMicrosPerSecond;
const std::string kChannel = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";

TEST(AccessTokenCache, ATokenIsReusedUntilAMinuteBeforeItExpires) {
  AccessTokenCache cache;
  int fetches = 0;
  auto fetch = [&]() -> Result<IssuedToken> { return IssuedToken{"t" + std::to_string(++fetches), 600}; };
  const TokenLifetime life{3600, 86400};
  auto first = cache.Get(kChannel, "f", 0, life, fetch);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->value, "t1");
  EXPECT_TRUE(first->fresh);
  auto again = cache.Get(kChannel, "f", 539 * kSecond, life, fetch);
  EXPECT_EQ(again->value, "t1");
  EXPECT_FALSE(again->fresh);
  auto renewed = cache.Get(kChannel, "f", 540 * kSecond, life, fetch);
  EXPECT_EQ(renewed->value, "t2");
  EXPECT_EQ(fetches, 2);
}

TEST(AccessTokenCache, LifetimesAreTheProvidersOrTheFallbackNeverLongerThanTheLongest) {
  AccessTokenCache cache;
  int64_t expires_in = 0;
  int fetches = 0;
  auto fetch = [&]() -> Result<IssuedToken> { return IssuedToken{"t" + std::to_string(++fetches), expires_in}; };
  const TokenLifetime life{100, 1000};
  // Not said: 100 s, so renewed after 50 (half its life, being short).
  ASSERT_TRUE(cache.Get(kChannel, "f", 0, life, fetch).ok());
  EXPECT_EQ(cache.Get(kChannel, "f", 49 * kSecond, life, fetch)->value, "t1");
  EXPECT_EQ(cache.Get(kChannel, "f", 50 * kSecond, life, fetch)->value, "t2");
  // A year claimed: believed for 1000 s only.
  expires_in = 365LL * 86400;
  cache.Forget(kChannel, "t2");
  ASSERT_EQ(cache.Get(kChannel, "f", 0, life, fetch)->value, "t3");
  EXPECT_EQ(cache.Get(kChannel, "f", 939 * kSecond, life, fetch)->value, "t3");
  EXPECT_EQ(cache.Get(kChannel, "f", 940 * kSecond, life, fetch)->value, "t4");
}

TEST(AccessTokenCache, NewCredentialsAForgottenTokenAndAFailureEachMeanAFetch) {
  AccessTokenCache cache;
  int fetches = 0;
  bool fail = false;
  auto fetch = [&]() -> Result<IssuedToken> {
    ++fetches;
    if (fail) return Status::Unavailable("token endpoint answered 500");
    return IssuedToken{"t" + std::to_string(fetches), 3600};
  };
  const TokenLifetime life;
  EXPECT_EQ(cache.Get(kChannel, "key-a", 0, life, fetch)->value, "t1");
  EXPECT_EQ(cache.Get(kChannel, "key-b", 0, life, fetch)->value, "t2");  // config edited
  cache.Forget(kChannel, "t1");  // an older token: the newer one stays
  EXPECT_EQ(cache.Get(kChannel, "key-b", 0, life, fetch)->value, "t2");
  cache.Forget(kChannel, "t2");  // refused with 401
  fail = true;
  auto failed = cache.Get(kChannel, "key-b", 0, life, fetch);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "token endpoint answered 500");
  fail = false;
  EXPECT_EQ(cache.Get(kChannel, "key-b", 0, life, fetch)->value, "t4");  // the failure cached nothing
  EXPECT_EQ(fetches, 4);
  // Another channel has its own token.
  EXPECT_EQ(cache.Get("other", "key-b", 0, life, fetch)->value, "t5");
}

TEST(AccessTokenCache, SendersOfOneChannelWaitForOneFetch) {
  AccessTokenCache cache;
  std::atomic<int> fetches{0};
  auto fetch = [&]() -> Result<IssuedToken> {
    fetches++;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return IssuedToken{"shared", 3600};
  };
  std::vector<std::thread> senders;
  std::atomic<int> right{0};
  for (int i = 0; i < 16; ++i)
    senders.emplace_back([&] {
      auto token = cache.Get(kChannel, "f", 0, TokenLifetime{}, fetch);
      if (token.ok() && token->value == "shared") right++;
    });
  for (auto& t : senders) t.join();
  EXPECT_EQ(fetches.load(), 1);
  EXPECT_EQ(right.load(), 16);
}

TEST(AccessTokenCache, FingerprintsDependOnEveryPartAndHideThem) {
  EXPECT_EQ(TokenFingerprint({"id", "secret"}), TokenFingerprint({"id", "secret"}));
  EXPECT_NE(TokenFingerprint({"id", "secret"}), TokenFingerprint({"id", "secret2"}));
  EXPECT_NE(TokenFingerprint({"ab", "c"}), TokenFingerprint({"a", "bc"}));
  EXPECT_EQ(TokenFingerprint({"id", "secret"}).find("secret"), std::string::npos);
  EXPECT_EQ(TokenFingerprint({"x"}).size(), 64u);
}

}  // namespace
}  // namespace courier::handlers
