// util/hmac.h against published vectors (RFC 2202, RFC 4231, RFC 1321 and
// FIPS 180), so that a signature check is right before any provider's
// sample is.
#include "util/hmac.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier {
namespace {

TEST(Hmac, DigestsMatchTheStandards) {
  EXPECT_EQ(HexEncode(Digest(DigestAlgorithm::kMd5, "abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HexEncode(Digest(DigestAlgorithm::kSha1, "abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(HexEncode(Digest(DigestAlgorithm::kSha256, "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Digest(DigestAlgorithm::kSha512, "abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Hmac, HmacsMatchTheRfcs) {
  struct Case {
    DigestAlgorithm algorithm;
    std::string hex;
  };
  // Key "Jefe", data "what do ya want for nothing?": RFC 2202 case 2, RFC 4231 case 2.
  for (const auto& c : std::vector<Case>{
           {DigestAlgorithm::kMd5, "750c783e6ab0b503eaa86e310a5db738"},
           {DigestAlgorithm::kSha1, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
           {DigestAlgorithm::kSha256, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
           {DigestAlgorithm::kSha512,
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
       }) {
    EXPECT_EQ(HexEncode(Hmac(c.algorithm, "Jefe", "what do ya want for nothing?")), c.hex);
  }
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Base64("Jefe", "what do ya want for nothing?"), "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  EXPECT_EQ(HmacSha1Base64("Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
}

TEST(Hmac, Encodings) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xf0\xff", 4)), "000ff0ff");
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode(std::string(100, 'x')).find('\n'), std::string::npos);  // one line
}

TEST(Hmac, Base64Decodings) {
  // Standard alphabet, padded, whitespace skipped (RFC 4648 section 10's vectors).
  EXPECT_EQ(Base64Decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(Base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(Base64Decode("Zm9v\nYmE=\r\n"), "fooba");
  EXPECT_EQ(Base64Decode("Zm 9v Yg =="), "foob");
  EXPECT_EQ(Base64Decode(Base64Encode(std::string("\x00\xff\xfe", 3))), std::string("\x00\xff\xfe", 3));
  for (const char* bad : {"", "Zm9", "Zm9vYg=", "Zg==Zg==", "Zm9v-_==", "Zm=v", "Zm9v!A=="})
    EXPECT_EQ(Base64Decode(bad), std::nullopt) << bad;
  // URL-safe alphabet, no padding, as JWT parts.
  EXPECT_EQ(Base64UrlDecode("eyJhIjoxfQ"), "{\"a\":1}");
  EXPECT_EQ(Base64UrlDecode("_-8"), "\xff\xef");
  EXPECT_EQ(Base64UrlDecode(""), "");
  for (const char* bad : {"eyJhIjoxfQ==", "a+b", "a/b", "a b"}) EXPECT_EQ(Base64UrlDecode(bad), std::nullopt) << bad;
}

TEST(Hmac, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace courier
