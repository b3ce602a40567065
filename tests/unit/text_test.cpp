// util/text.h: the ASCII helpers every layer uses in place of its own.
#include "util/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier {
namespace {

TEST(Text, CaseChangesOnlyAsciiLetters) {
  struct Case {
    std::string in, lower, upper;
  };
  for (const auto& c : std::vector<Case>{
           {"", "", ""},
           {"KN", "kn", "KN"},
           {"Content-Type: JSON", "content-type: json", "CONTENT-TYPE: JSON"},
           {"Ünï 123 _-", "Ünï 123 _-", "ÜNï 123 _-"},  // bytes of UTF-8 letters are left alone
           {"\xff@[`{", "\xff@[`{", "\xff@[`{"},      // the neighbours of A-Z and a-z
       }) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(ToLower(c.in), c.lower);
    EXPECT_EQ(ToUpper(c.in), c.upper);
  }
}

TEST(Text, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("wac", "WAC"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("wac", "wa"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ by the case bit but are no letters
}

TEST(Text, Affixes) {
  EXPECT_TRUE(StartsWith("whatsapp:+250", "whatsapp:"));
  EXPECT_TRUE(StartsWith("abc", ""));
  EXPECT_FALSE(StartsWith("wh", "whatsapp:"));
  EXPECT_TRUE(EndsWith("msg.spool", ".spool"));
  EXPECT_FALSE(EndsWith("spool", ".spool"));
  EXPECT_FALSE(EndsWith("a.spoolx", ".spool"));
}

TEST(Text, TrimDigitsJoinPlus) {
  EXPECT_EQ(Trim(" \t\r\n a b \v\f"), "a b");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_TRUE(AllDigits("0123456789"));
  EXPECT_FALSE(AllDigits(""));
  EXPECT_FALSE(AllDigits("12a"));
  EXPECT_FALSE(AllDigits("-12"));
  EXPECT_EQ(Join({"a", "b", "c"}, "; "), "a; b; c");
  EXPECT_EQ(Join({}, ", "), "");
  EXPECT_EQ(WithoutPlus("+250788"), "250788");
  EXPECT_EQ(WithoutPlus("250788"), "250788");
  EXPECT_EQ(WithoutPlus(""), "");
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue(U'٣'), -1);  // a digit, but not an ASCII one
}

}  // namespace
}  // namespace courier
