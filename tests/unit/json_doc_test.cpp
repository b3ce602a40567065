// jsondoc: the fast reads give core/json.h's answers, and what simdjson
// refuses that the decoders must still read.
#include <gtest/gtest.h>

#include <simdjson.h>

#include "core/json.h"
#include "core/json_doc.h"

namespace courier {
namespace {

TEST(JsonDoc, ReadsAsCoreJsonDoes) {
  const std::string text =
      R"({"s":"caf\u00e9 \"q\"","n":-42,"big":18446744073709551615,"d":5.0,"b":true,"z":null,)"
      R"("a":["x","y"],"mixed":["x",1],"o":{"k":"v","i":1},"objs":[{"i":1},{"i":2}],"notobjs":[{"i":1},2]})";
  jsondoc::Parser parser;
  auto parsed = parser.ParseObject(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const jsondoc::Object& o = **parsed;
  auto poco = json::ParseObject(text);
  ASSERT_TRUE(poco.ok());
  for (const char* key : {"s", "n", "big", "d", "b", "z", "a", "o", "absent"}) {
    EXPECT_EQ(jsondoc::GetString(o, key), json::GetString(*poco, key)) << key;
    // Poco reads true as the integer 1; a boolean is no count here.
    if (std::string(key) != "b") {
      EXPECT_EQ(jsondoc::GetInt(o, key), json::GetInt(*poco, key)) << key;
    }
    EXPECT_EQ(jsondoc::GetBool(o, key), json::GetBool(*poco, key)) << key;
  }
  EXPECT_EQ(jsondoc::GetInt(o, "b"), std::nullopt);
  EXPECT_EQ(*jsondoc::GetString(o, "s"), "caf\u00e9 \"q\"");
  EXPECT_TRUE(jsondoc::Has(o, "z"));
  EXPECT_TRUE(jsondoc::IsAbsentOrNull(o, "z"));
  EXPECT_FALSE(jsondoc::Has(o, "absent"));
  EXPECT_FALSE(jsondoc::IsAbsentOrNull(o, "n"));
  EXPECT_EQ(*jsondoc::GetStringArray(o, "a"), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(jsondoc::GetStringArray(o, "absent")->empty());
  EXPECT_EQ(jsondoc::GetStringArray(o, "mixed").status().message(), "field 'mixed' must be an array of strings");
  EXPECT_EQ(jsondoc::GetObjects(o, "objs")->size(), 2u);
  EXPECT_EQ(jsondoc::GetObjects(o, "notobjs").status().message(), "'notobjs' must hold objects");
  EXPECT_EQ(jsondoc::GetObjects(o, "s").status().message(), "'s' must be an array");
  ASSERT_TRUE(jsondoc::GetObject(o, "o").has_value());
  EXPECT_FALSE(jsondoc::GetObject(o, "a").has_value());
  auto members = jsondoc::StringMembers(*jsondoc::GetObject(o, "o"));
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].first, "k");
  EXPECT_EQ(members[0].second, "v");
  EXPECT_EQ(members[1].second, std::nullopt);
  EXPECT_EQ(jsondoc::Text(o, "o"), R"({"k":"v","i":1})");
  EXPECT_EQ(jsondoc::Text(o, "absent"), "");
}

TEST(JsonDoc, HalfASurrogatePairReadsAsTheReplacementCharacter) {
  jsondoc::Parser parser;
  struct Case {
    std::string text, want;
  } cases[] = {
      {R"({"s":"a\ud800b"})", "a\uFFFDb"},
      {R"({"s":"a\udc00"})", "a\uFFFD"},
      {R"({"s":"\ud800\ud800\udc00"})", "\uFFFD\U00010000"},
      {R"({"s":"\\ud800","t":"\ud83d\ude00"})", "\\ud800"},  // an escaped backslash, then text
  };
  for (const auto& c : cases) {
    auto parsed = parser.ParseObject(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().ToString();
    EXPECT_EQ(jsondoc::GetString(**parsed, "s"), c.want) << c.text;
  }
}

TEST(JsonDoc, IllFormedUtf8ReadsAsTheReplacementCharacterAndIsReported) {
  jsondoc::Parser parser;
  bool repaired = true;
  auto parsed = parser.ParseObject(R"({"s":"ok","t":"\u00e9"})", &repaired);
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(repaired);
  // A raw Latin-1 byte, a truncated sequence, then a lone surrogate escape
  // in the same document: both repairs apply.
  parsed = parser.ParseObject("{\"s\":\"caf\xE9\",\"t\":\"a\xE2\x82\",\"u\":\"\\ud800\"}", &repaired);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(repaired);
  EXPECT_EQ(jsondoc::GetString(**parsed, "s"), "caf\uFFFD");
  EXPECT_EQ(jsondoc::GetString(**parsed, "t"), "a\uFFFD");
  EXPECT_EQ(jsondoc::GetString(**parsed, "u"), "\uFFFD");
  // Ill-formed bytes outside a string do not make bad JSON good.
  EXPECT_FALSE(parser.ParseObject("{\"s\":1\xFF}", &repaired).ok());
}

TEST(JsonDoc, RefusesWhatIsNotAnObject) {
  jsondoc::Parser parser;
  for (const char* text : {"", "[1]", "{", "{\"a\":1} x", "nul", "\"s\""}) {
    auto parsed = parser.ParseObject(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument) << text;
  }
  // A parser is reused: one failure leaves the next document readable.
  auto parsed = parser.ParseObject(R"({"k":"v"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(jsondoc::GetString(**parsed, "k"), "v");
}

}  // namespace
}  // namespace courier
