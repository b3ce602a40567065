// URN parsing and tel normalisation. The first table is the reference's
// urn_test.go cases (courier-core.md section 3) verbatim; the rest pin the
// same rules down for other numbering plans.
#include "core/urn.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace courier {
namespace {

struct TelCase {
  const char* number;
  const char* country;
  const char* urn;
};

void ExpectTel(const TelCase& c) {
  SCOPED_TRACE(std::string("number='") + c.number + "' country='" + c.country + "'");
  Result<URN> u = URN::ForTel(c.number, c.country);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(c.urn, u->ToString());
  EXPECT_EQ("tel", u->scheme());
  // NormalizeTelNumber is what ForTel puts after "tel:".
  EXPECT_EQ(std::string(c.urn).substr(4), NormalizeTelNumber(c.number, c.country));
}

// Normalised numbers are cached (bounded, sharded, emptied shard by shard):
// many threads and more numbers than the cache holds still get the right
// answer every time.
TEST(Urn, TelNormalisationIsRightThroughTheCacheFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&wrong, t]() {
      for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 20000; i += 7) {
          char local[16];
          std::snprintf(local, sizeof local, "078%07d", (i * 31 + t) % 10000000);
          const std::string expected = std::string("+25078") + (local + 3);
          if (NormalizeTelNumber(local, "RW") != expected) wrong++;
          if (NormalizeTelNumber(expected, "KE") != expected) wrong++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Urn, ReferenceTelCases) {
  const TelCase cases[] = {
      {"0788383383", "RW", "tel:+250788383383"},
      {" +250788383383 ", "KE", "tel:+250788383383"},
      {"250788383383", "", "tel:+250788383383"},
      {"(917)992-5253", "US", "tel:+19179925253"},
      {"62877747666", "ID", "tel:+62877747666"},
      {"07531669965", "GB", "tel:+447531669965"},
      {"12345", "RW", "tel:12345"},
      {"0788383383", "", "tel:0788383383"},
      {"0788383383", "ZZ", "tel:0788383383"},
      {"MTN", "RW", "tel:mtn"},
  };
  for (const auto& c : cases) ExpectTel(c);
}

TEST(Urn, OtherCountriesNationalAndInternational) {
  const TelCase cases[] = {
      // United States: national, with and without the leading 1, and
      // international from a channel in another country.
      {"9179925253", "US", "tel:+19179925253"},
      {"19179925253", "", "tel:+19179925253"},
      {"+1 917 992 5253", "GB", "tel:+19179925253"},
      {"1-917-992-5253", "US", "tel:+19179925253"},
      // United Kingdom.
      {"+44 7531 669965", "", "tel:+447531669965"},
      {"447531669965", "US", "tel:+447531669965"},
      {"07531 669 965", "GB", "tel:+447531669965"},
      // Kenya.
      {"0722123456", "KE", "tel:+254722123456"},
      {"254722123456", "", "tel:+254722123456"},
      {"+254 722 123456", "US", "tel:+254722123456"},
      // Nigeria: an 11-digit national number starting with 0 stays national.
      {"08031234567", "NG", "tel:+2348031234567"},
      {"2348031234567", "", "tel:+2348031234567"},
      {"+234 803 123 4567", "NG", "tel:+2348031234567"},
      // India.
      {"9876543210", "IN", "tel:+919876543210"},
      {"09876543210", "IN", "tel:+919876543210"},
      {"+91 98765 43210", "", "tel:+919876543210"},
      // Brazil.
      {"+55 11 98765-4321", "", "tel:+5511987654321"},
      {"5511987654321", "BR", "tel:+5511987654321"},
      {"011987654321", "BR", "tel:+5511987654321"},
      // Germany.
      {"01701234567", "DE", "tel:+491701234567"},
      {"+49 170 1234567", "", "tel:+491701234567"},
      {"491701234567", "FR", "tel:+491701234567"},
      // The country code is case-insensitive.
      {"0788383383", "rw", "tel:+250788383383"},
  };
  for (const auto& c : cases) ExpectTel(c);
}

TEST(Urn, ElevenDigitsWithoutZeroAreReadAsInternational) {
  // The reference's rule, kept on purpose: a Brazilian national number
  // without its trunk 0 has 11 digits, so it is read as +1 198..., which is
  // not a valid number, and stays as the cleaned digits.
  ExpectTel({"11987654321", "BR", "tel:11987654321"});
  // Same rule, valid outcome: a foreign number without its '+'.
  ExpectTel({"250788383383", "US", "tel:+250788383383"});
}

// A number sent with its '+' is international however short (fuzz_urn
// found the first: "(206) 55E06) 55E" read as +220 655 0655, whose text
// then came back as tel:2206550655, another contact).
TEST(Urn, NormalisedNumbersNormaliseToThemselves) {
  const TelCase cases[] = {
      {"+2206550655", "", "tel:+2206550655"},
      {" +220 655 0655", "RW", "tel:+2206550655"},
      {"+250 123", "RW", "tel:250123"},  // not valid: still cleaned
      // Not valid as international: read as any number, in the country
      // (the second finding, "+65\xff\xff373456": kept as tel:65373456,
      // which then read as +593 65373456).
      {"+65373456", "EC", "tel:+59365373456"},
      {"+65\xff\xff" "373456", "EC", "tel:+59365373456"},
  };
  for (const auto& c : cases) ExpectTel(c);

  using namespace std::string_literals;
  for (const auto& [found, country] : {std::pair{"\0\0\0\x0f(2\0\0\0\x0f(206) 55E06) 55E\0"s, ""s},
                                       std::pair{"+65\xff\xff" "373456"s, "EC"s}}) {
    Result<URN> first = URN::ForTel(found, country);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    Result<URN> again = URN::Parse(first->ToString(), country);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->ToString(), first->ToString());
  }
}

// The normalisation cache keyed (country, number) as "country\0number",
// so a country holding a NUL met another pair's key: fuzz_urn's third
// finding answered ("ll", "\0ll") with the result of ("ll\0ll", "").
TEST(Urn, NormalisationCacheKeepsEveryCountryNumberPairApart) {
  using namespace std::string_literals;
  EXPECT_EQ(courier::NormalizeTelNumber("ll\0ll"s, ""), "llll");
  EXPECT_EQ(courier::NormalizeTelNumber("ll"s, "\0ll"s), "ll");
  Result<URN> tel = URN::ForTel("ll\n", "\0ll"s);
  ASSERT_TRUE(tel.ok()) << tel.status().ToString();
  Result<URN> again = URN::Parse(tel->ToString(), "\0ll"s);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ToString(), "tel:ll");
}

TEST(Urn, ShortCodesAndAlphanumericSendersStayCleaned) {
  const TelCase cases[] = {
      {"1234", "US", "tel:1234"},
      {"*123#", "KE", "tel:123"},
      {"40404", "", "tel:40404"},
      {"Vodacom", "ZA", "tel:vodacom"},
      {"M-PESA", "KE", "tel:mpesa"},
      {"Safaricom 2", "KE", "tel:safaricom2"},
      {"0788", "RW", "tel:0788"},
      // Not a valid number in its country: kept as cleaned digits.
      {"+250 123", "RW", "tel:250123"},
  };
  for (const auto& c : cases) ExpectTel(c);
}

TEST(Urn, ParseTelNormalisesWithCountry) {
  Result<URN> u = URN::Parse("tel:0788383383", "RW");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ("tel", u->scheme());
  EXPECT_EQ("+250788383383", u->path());
  EXPECT_EQ("tel:+250788383383", u->ToString());

  Result<URN> already = URN::Parse("tel:+250788383383");
  ASSERT_TRUE(already.ok());
  EXPECT_EQ(*u, *already);

  Result<URN> no_country = URN::Parse("tel:0788383383");
  ASSERT_TRUE(no_country.ok());
  EXPECT_EQ("tel:0788383383", no_country->ToString());
}

TEST(Urn, SchemeIsLowerCased) {
  Result<URN> u = URN::Parse("TEL:+250788383383");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ("tel", u->scheme());
  Result<URN> t = URN::FromParts("Telegram", "12345");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ("telegram:12345", t->ToString());
}

TEST(Urn, PathsOfOtherSchemes) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"telegram:12345", "telegram:12345"},
      {"telegram:-100123", "telegram:-100123"},  // group chat
      {"twitterid:1234567890", "twitterid:1234567890"},
      {"facebook:1234567890", "facebook:1234567890"},
      {"facebook:ref:AbC-123", "facebook:ref:AbC-123"},
      {"whatsapp:250788383383", "whatsapp:250788383383"},
      {"whatsapp:US.13491208655302741918", "whatsapp:US.13491208655302741918"},  // a username's id
      {"whatsapp:BR.ENT.11815799212886844830", "whatsapp:BR.ENT.11815799212886844830"},
      {"whatsapp:KE.aB3dE9", "whatsapp:KE.aB3dE9"},
      {"twitter:nyaruka", "twitter:nyaruka"},
      {"mailto:someone@example.com", "mailto:someone@example.com"},
      {"ext:abc:def", "ext:abc:def"},
      {"viber:xy5/5y6O81+/kbWHpLhBoA==", "viber:xy5/5y6O81+/kbWHpLhBoA=="},
      {"line:Uabcdef0123", "line:Uabcdef0123"},
      {"slack:U0123ABC", "slack:U0123ABC"},
      {"webchat:65vbbDAQCdPdEWlEhDGy4utO", "webchat:65vbbDAQCdPdEWlEhDGy4utO"},
      {"Rocketchat:abc", "rocketchat:abc"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    Result<URN> u = URN::Parse(c.in, "RW");
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(c.out, u->ToString());
  }
}

TEST(Urn, InvalidPathsAreRejected) {
  const char* cases[] = {
      "tel:",          "tel:+",          "tel:  ()-",        "telegram:",
      "telegram:abc",  "telegram:12a45", "telegram:-", "twitterid:nyaruka",
      "facebook:abc",  "facebook:ref:",  "facebook:ref:a b", "whatsapp:+250788383383",
      "whatsapp:abc",  "whatsapp:us.123", "whatsapp:USA.123", "whatsapp:US.", "whatsapp:US.ENT.",
      "whatsapp:US.12-3", "whatsapp:US.12 3", "twitter:",       "twitter:ny aruka", "mailto:a b@example.com",
      "ext:tab\there", "slack:",         "discord:\n1",
  };
  for (const char* in : cases) {
    SCOPED_TRACE(in);
    Result<URN> u = URN::Parse(in);
    ASSERT_FALSE(u.ok());
    EXPECT_TRUE(u.status().IsInvalidArgument());
    std::string scheme = std::string(in).substr(0, std::string(in).find(':'));
    EXPECT_EQ(0u, u.status().message().find("invalid path for scheme '" + scheme + "': "))
        << u.status().message();
  }
}

TEST(Urn, EmptyPathIsInvalidForEveryScheme) {
  for (const std::string& scheme : URN::KnownSchemes()) {
    SCOPED_TRACE(scheme);
    Result<URN> u = URN::FromParts(scheme, "");
    ASSERT_FALSE(u.ok());
    EXPECT_EQ(0u, u.status().message().find("invalid path for scheme '" + scheme + "'"));
    EXPECT_FALSE(URN::Parse(scheme + ":").ok());
  }
}

TEST(Urn, InvalidSchemes) {
  Result<URN> u = URN::Parse("xyz:123");
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(u.status().IsInvalidArgument());
  EXPECT_EQ("invalid scheme 'xyz'", u.status().message());

  Result<URN> upper = URN::FromParts("XYZ", "123");
  ASSERT_FALSE(upper.ok());
  EXPECT_EQ("invalid scheme 'xyz'", upper.status().message());

  EXPECT_FALSE(URN::Parse("sms:123").ok());
  EXPECT_FALSE(URN::Parse("tel :123").ok());
}

TEST(Urn, MissingScheme) {
  Result<URN> u = URN::Parse("abc");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ("invalid urn 'abc': missing scheme", u.status().message());
  Result<URN> empty = URN::Parse("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ("invalid urn '': missing scheme", empty.status().message());
  EXPECT_FALSE(URN::Parse(":12345").ok());
}

TEST(Urn, KnownSchemes) {
  for (const char* s : {"tel", "facebook", "telegram", "twitter", "twitterid", "whatsapp", "viber",
                        "line", "instagram", "fcm", "ext", "mailto", "slack", "discord", "vk",
                        "wechat", "jiochat", "webchat", "freshchat", "rocketchat"}) {
    EXPECT_TRUE(URN::IsKnownScheme(s)) << s;
  }
  EXPECT_EQ(20u, URN::KnownSchemes().size());
  EXPECT_FALSE(URN::IsKnownScheme("TEL"));  // callers lower-case first
  EXPECT_FALSE(URN::IsKnownScheme(""));
  EXPECT_FALSE(URN::IsKnownScheme("sms"));
}

TEST(Urn, DefaultIsEmpty) {
  URN u;
  EXPECT_TRUE(u.empty());
  Result<URN> t = URN::Parse("telegram:1");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->empty());
  EXPECT_FALSE(u == *t);
}

}  // namespace
}  // namespace courier
