// util/gsm7.h: the 7-bit SMS alphabet.
#include "util/gsm7.h"

#include <gtest/gtest.h>

#include <string>

namespace courier {
namespace {

TEST(Gsm7, WhichTextsFit) {
  EXPECT_TRUE(IsGsm7("Hello @£$¥ {}[]~|^€\\ ÄÖÑÜ§¿äöñüà\r\n"));
  EXPECT_TRUE(IsGsm7(""));
  EXPECT_FALSE(IsGsm7("☺"));
  EXPECT_FALSE(IsGsm7("“quoted”"));
  EXPECT_FALSE(IsGsm7("\x1b"));   // the escape is no character of its own
  EXPECT_FALSE(IsGsm7("\xff"));   // not UTF-8
  EXPECT_EQ(ReplaceGsm7Substitutions("“a” ‘b’ c—d e–f g… h\u00a0i"), "\"a\" 'b' c-d e-f g... h i");
  // Accents GSM7 lacks go, those it has stay; a tab is a space.
  EXPECT_EQ(ReplaceGsm7Substitutions("Ação\tÓla é à ü"), "Acao Ola é à ü");
  EXPECT_TRUE(IsGsm7(ReplaceGsm7Substitutions("Ação\tÓla é à ü")));
}

TEST(Gsm7, SmsLength) {
  EXPECT_EQ(SmsLength("abc", false), 3u);
  EXPECT_EQ(SmsLength("a€{}", false), 7u);  // extension characters: escape + character
  EXPECT_EQ(SmsLength("éü", false), 2u);    // in the default alphabet
  EXPECT_EQ(SmsLength("жa", true), 2u);
  EXPECT_EQ(SmsLength("😀a", true), 3u);    // a surrogate pair
}

TEST(Gsm7, SeptetsRoundTrip) {
  const std::string text = "@£$ é {[~]} € ^|\\ Ünï";
  // ï is not GSM7 and drops out
  EXPECT_EQ(Gsm7ToUtf8(Utf8ToGsm7(text)), "@£$ é {[~]} € ^|\\ Ün");
  EXPECT_EQ(Utf8ToGsm7("€"), std::string("\x1B\x65"));
  EXPECT_EQ(Utf8ToGsm7("@A"), std::string("\x00\x41", 2));
  EXPECT_EQ(Gsm7ToUtf8(std::string("\x1B\x01", 2)), " ");  // an unknown extension
  EXPECT_EQ(Gsm7ToUtf8("\x80"), "?");
}

}  // namespace
}  // namespace courier
