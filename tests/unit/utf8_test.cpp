// util/utf8.h: characters of UTF-8 text, UTF-16 and other charsets.
#include "util/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier {
namespace {

TEST(Utf8, DecodeAndEncodeRoundTrip) {
  for (const std::string text : {"", "abc", "é€", "😀 ok", "\x7f\xc2\x80\xdf\xbf\xef\xbf\xbf\xf4\x8f\xbf\xbf"}) {
    SCOPED_TRACE(text);
    std::u32string cps;
    ASSERT_TRUE(DecodeUtf8(text, cps));
    std::string back;
    for (char32_t cp : cps) AppendUtf8(back, cp);
    EXPECT_EQ(back, text);
    EXPECT_EQ(CodePoints(text), cps.size());
  }
}

TEST(Utf8, MalformedInputIsRefusedKeepingWhatCameBefore) {
  std::u32string cps;
  EXPECT_FALSE(DecodeUtf8("ab\xff", cps));
  EXPECT_EQ(cps, U"ab");
  EXPECT_FALSE(DecodeUtf8("a\xe2\x82", cps));  // cut short
  EXPECT_EQ(cps, U"a");
  EXPECT_EQ(CodePoints("a\xff"), 2u);  // still counted: the byte does not continue a sequence
}

TEST(Utf8, TruncateAtCharacters) {
  EXPECT_EQ(Truncate("héllo", 2), "hé");
  EXPECT_EQ(Truncate("héllo", 10), "héllo");
  EXPECT_EQ(Truncate("😀😀", 1), "😀");
  EXPECT_EQ(Truncate("abc", 0), "");
}

TEST(Utf8, SplitTextOnWordBoundaries) {
  struct Case {
    std::string text;
    size_t max;
    std::vector<std::string> parts;
  };
  for (const auto& c : std::vector<Case>{
           {"hello world how are you", 11, {"hello world", "how are you"}},
           {"abcdefghij", 4, {"abcd", "efgh", "ij"}},
           {"short", 160, {"short"}},
           {"", 10, {""}},
           {"ééé ééé", 3, {"ééé", "ééé"}},  // characters, not bytes
           {"one two", 0, {"one two"}},      // no limit
       }) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(SplitText(c.text, c.max), c.parts);
  }
}

TEST(Utf8, Utf16BothWays) {
  EXPECT_EQ(Utf16ToUtf8({0x0048, 0x00E9, 0xD83D, 0xDE00}), "Hé😀");
  EXPECT_EQ(Utf16ToUtf8({0xD83D, 0x0041}), "\uFFFDA");  // a lone high surrogate
  EXPECT_EQ(Utf16ToUtf8({0xDE00}), "\uFFFD");           // a lone low one
  EXPECT_EQ(Utf8ToUtf16("Hé😀"), (std::vector<uint16_t>{0x0048, 0x00E9, 0xD83D, 0xDE00}));
  EXPECT_EQ(Utf8ToUtf16("ab\xff" "cd"), (std::vector<uint16_t>{'a', 'b'}));
}

TEST(Utf8, DecodeCharset) {
  EXPECT_EQ(DecodeCharset(std::string("\x00H\x00\xe9", 4), "UTF-16BE"), "Hé");
  EXPECT_EQ(DecodeCharset(std::string("\x00H\x00\xe9", 4), "ucs-2"), "Hé");
  EXPECT_EQ(DecodeCharset("caf\xe9", "ISO-8859-1"), "café");
  EXPECT_EQ(DecodeCharset("café", "UTF-8"), "café");
  EXPECT_EQ(DecodeCharset("caf\xe9", ""), "café");        // not UTF-8: read as Latin-1
  EXPECT_EQ(DecodeCharset("café", "8-BIT"), "café");      // unknown charset, valid UTF-8: kept
  EXPECT_EQ(DecodeCharset("a\xff", "UTF-8"), "a\uFFFD");  // malformed in its charset
}

}  // namespace
}  // namespace courier
