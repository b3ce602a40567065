// UUIDs: v7 for what courier creates, v4 at random, normalisation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/uuid.h"

namespace courier {
namespace {

bool LooksLikeV7(const std::string& u) {
  if (u.size() != 36) return false;
  for (size_t i = 0; i < u.size(); ++i) {
    char c = u[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return u[14] == '7' && std::string("89ab").find(u[19]) != std::string::npos;
}

TEST(CoreUuid, NewIsV7LowerCase) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUUID();
    ASSERT_TRUE(LooksLikeV7(u)) << u;
    EXPECT_EQ(u, NormalizeUUID(u));
    seen.insert(u);
  }
  EXPECT_EQ(1000u, seen.size());
}

TEST(CoreUuid, RandomIsV4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewRandomUUID();
    ASSERT_EQ(u[14], '4') << u;
    ASSERT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    seen.insert(u.substr(0, 8));
  }
  EXPECT_GT(seen.size(), 990u);  // the leading digits tell them apart
}

TEST(CoreUuid, NewSortsByCreationTime) {
  std::string first = NewUUID();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  std::string second = NewUUID();
  EXPECT_LT(first, second);
  // The leading 48 bits are the Unix time in milliseconds.
  auto ms_of = [](const std::string& u) {
    return std::stoull(u.substr(0, 8) + u.substr(9, 4), nullptr, 16);
  };
  const auto now_ms = static_cast<unsigned long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  EXPECT_LE(ms_of(second), now_ms);
  EXPECT_GT(ms_of(second) + 10000, now_ms);
}

TEST(CoreUuid, NewIsThreadSafe) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 500; ++i) out.push_back(NewUUID());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : per_thread) {
    for (const auto& u : v) {
      EXPECT_TRUE(LooksLikeV7(u)) << u;
      all.insert(u);
    }
  }
  EXPECT_EQ(2000u, all.size());
}

TEST(CoreUuid, Normalize) {
  EXPECT_EQ("8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
            NormalizeUUID("8eb23e93-5ecb-45ba-b726-3b064e0c56ab"));
  EXPECT_EQ("8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
            NormalizeUUID("8EB23E93-5ECB-45BA-B726-3B064E0C56AB"));
  // Any version passes: only the textual form is checked.
  EXPECT_EQ("00000000-0000-0000-0000-000000000000",
            NormalizeUUID("00000000-0000-0000-0000-000000000000"));
  const char* bad[] = {
      "",
      "8eb23e93",
      "8eb23e935ecb45bab7263b064e0c56ab",        // no dashes
      "8eb23e93-5ecb-45ba-b726-3b064e0c56a",     // short
      "8eb23e93-5ecb-45ba-b726-3b064e0c56abc",   // long
      "8eb23e93-5ecb-45ba-b7263-b064e0c56ab",    // dash misplaced
      "8eb23e93_5ecb_45ba_b726_3b064e0c56ab",
      "8eb23e93-5ecb-45ba-b726-3b064e0c56ag",    // non-hex
      "{8eb23e93-5ecb-45ba-b726-3b064e0c56ab}",
      " 8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
      "8eb23e93-5ecb-45ba-b726-3b064e0c56a ",
  };
  for (const char* b : bad) EXPECT_FALSE(NormalizeUUID(b).has_value()) << "'" << b << "'";
}

}  // namespace
}  // namespace courier
