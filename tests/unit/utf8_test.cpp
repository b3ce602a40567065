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
  // A named UTF-8 is repaired by maximal subpart, not byte by byte.
  EXPECT_EQ(DecodeCharset("\xe2\x82x", "utf-8"), "\uFFFDx");
  EXPECT_EQ(DecodeCharset("\x80\x81", "windows-1252"), "€\uFFFD");  // 0x81 is unassigned in cp1252
}

// The cases of Unicode 15 section 3.9 (tables 3-8 to 3-11) and the edges
// of table 3-7: one U+FFFD per maximal subpart.
TEST(Utf8, ValidUtf8ReplacesEachMaximalSubpart) {
  struct Case {
    const char* label;
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"valid text is kept", "café 😀 \xf4\x8f\xbf\xbf", "café 😀 \xf4\x8f\xbf\xbf"},
      {"Latin-1 byte", "caf\xe9", "caf\uFFFD"},
      {"Latin-1 byte before ASCII", "caf\xe9s", "caf\uFFFDs"},
      {"table 3-8", "\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
       "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
      {"table 3-9: non-shortest forms", "\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41",
       "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA"},
      {"table 3-10: surrogates", "\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41",
       "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA"},
      {"table 3-11: above U+10FFFF", "\xf4\x91\x92\x93\xff\x41\x80\xbf\x42",
       "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDA\uFFFD\uFFFDB"},
      {"truncated 3-byte sequence at the end", "a\xe2\x82", "a\uFFFD"},
      {"truncated 4-byte sequence before ASCII", "\xf0\x9f\x98x", "\uFFFDx"},
      {"five- and six-byte forms are no UTF-8", "\xf8\x88\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"},
      {"NUL and controls are valid", std::string("a\0b\x01", 4), std::string("a\0b\x01", 4)},
      {"U+FFFD itself is kept", "\uFFFD", "\uFFFD"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    EXPECT_EQ(ValidUtf8(c.in), c.out);
    EXPECT_EQ(IsValidUtf8(c.in), c.in == c.out);
    EXPECT_TRUE(IsValidUtf8(ValidUtf8(c.in)));
    std::string in_place = c.in;
    EXPECT_EQ(MakeValidUtf8(in_place), c.in != c.out);
    EXPECT_EQ(in_place, c.out);
    std::u32string cps;
    EXPECT_EQ(DecodeUtf8(c.in, cps), c.in == c.out);
  }
}

TEST(Utf8, AByteAnywhereInALongAsciiRunIsSeen) {
  // ASCII is skipped eight bytes at a time: a byte at each offset of and
  // around a word must still be judged.
  for (size_t at = 0; at < 41; ++at) {
    std::string text(41, 'a');
    text[at] = '\xFF';
    EXPECT_FALSE(IsValidUtf8(text)) << at;
    EXPECT_EQ(ValidUtf8(text), std::string(at, 'a') + "\uFFFD" + std::string(40 - at, 'a')) << at;
    std::string good = std::string(at, 'a') + "\u00E9" + std::string(40 - at, 'a');
    EXPECT_TRUE(IsValidUtf8(good)) << at;
    EXPECT_EQ(ValidUtf8(good), good) << at;
    EXPECT_FALSE(IsValidUtf8(good.substr(0, at + 1))) << "a sequence cut at the end, at " << at;
  }
}

TEST(Utf8, DecodeRefusesOverlongAndSurrogates) {
  std::u32string cps;
  EXPECT_FALSE(DecodeUtf8("\xc0\xaf", cps));      // overlong '/'
  EXPECT_FALSE(DecodeUtf8("\xed\xa0\x80", cps));  // U+D800 (CESU-8)
  EXPECT_FALSE(DecodeUtf8("\xf4\x90\x80\x80", cps));  // U+110000
}

}  // namespace
}  // namespace courier
