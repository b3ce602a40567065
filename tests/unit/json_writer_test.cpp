// JsonWriter must write what Poco's stringifier writes for the same
// fields: event payloads, spool files and `msgs list --json` changed
// writer, and scripts that compare them byte for byte must not notice.
#include "core/json_writer.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/msg_json.h"
#include "util/utf8.h"

namespace courier {
namespace {

std::string WriterString(const std::string& value) {
  std::string out;
  AppendJsonString(out, value);
  return out;
}

std::string PocoString(const std::string& value) {
  auto a = json::NewArray();
  a->add(value);
  std::string text = json::Stringify(a);
  return text.substr(1, text.size() - 2);
}

TEST(JsonWriterTest, StringsEscapeLikePoco) {
  const std::vector<std::string> cases = {
      "",
      "plain",
      "quote \" backslash \\ slash /",
      "\b\f\n\r\t",
      std::string("nul \0 in the middle", 19),
      "\x01\x1f\x7f",
      "é ñ 😀 ملاحظة",
      "\xff\xfe not UTF-8",
  };
  for (const auto& c : cases) {
    EXPECT_EQ(WriterString(c), PocoString(c)) << c;
    auto parsed = json::ParseObject("{\"k\":" + WriterString(c) + "}");
    ASSERT_TRUE(parsed.ok()) << c;
    EXPECT_EQ(json::GetString(*parsed, "k"), ValidUtf8(c));
  }
}

// The writer skips plain ASCII eight bytes at a time: a byte that must be
// escaped or checked is found at every offset of a word, in the last
// partial word, and among plain words either side.
TEST(JsonWriterTest, EveryByteThatMattersIsFoundAtEveryOffset) {
  const std::vector<std::string> specials = {"\"", "\\", std::string(1, '\0'), "\x1f", "\n", "\x7f", "~",
                                             " ",  "é",  "\xe9",               "\xf0\x9f\x98\x80", "\xed\xa0\x80"};
  for (size_t length : {1, 7, 8, 9, 15, 16, 17, 24, 33}) {
    for (size_t at = 0; at < length; ++at) {
      for (const auto& special : specials) {
        std::string value(length, 'a');
        value.replace(at, 1, special);
        SCOPED_TRACE("length " + std::to_string(length) + ", at " + std::to_string(at));
        EXPECT_EQ(WriterString(value), PocoString(ValidUtf8(value)));
      }
    }
  }
  // Two in one word, and the byte just after a word's end.
  EXPECT_EQ(WriterString("ab\"cd\\ef"), "\"ab\\\"cd\\\\ef\"");
  EXPECT_EQ(WriterString("abcdefgh\t"), "\"abcdefgh\\t\"");
}

// Whatever bytes it is given, the writer's text is well-formed UTF-8 that
// a strict parser (POCO's refuses ill-formed UTF-8) reads back, with each
// ill-formed sequence as one U+FFFD per maximal subpart.
TEST(JsonWriterTest, NeverWritesInvalidUtf8) {
  struct Case {
    const char* label;
    std::string in, read_back;
  };
  const std::vector<Case> cases = {
      {"Latin-1 from Kannel", "caf\xe9", "caf\uFFFD"},
      {"Latin-1 before an escape", "caf\xe9\"\n", "caf\uFFFD\"\n"},
      {"cut short at the end", "ok \xf0\x9f\x98", "ok \uFFFD"},
      {"overlong quote cannot end the string", "\xc0\xa2}", "\uFFFD\uFFFD}"},
      {"surrogate (CESU-8)", "\xed\xa0\x80x", "\uFFFD\uFFFD\uFFFDx"},
      {"continuation bytes alone", "\x80\xbf", "\uFFFD\uFFFD"},
      {"valid UTF-8 is untouched", "é 😀", "é 😀"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    JsonWriter w;
    w.BeginObject().Field(c.in, c.in).Field("list", std::vector<std::string>{c.in}).EndObject();
    ASSERT_TRUE(IsValidUtf8(w.text())) << w.text();
    auto parsed = json::ParseObject(w.text());
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(json::GetString(*parsed, c.read_back), c.read_back);
    auto list = json::GetStringArray(*parsed, "list");
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(*list, std::vector<std::string>{c.read_back});
    // Raw text (an event payload stored by an older version) is repaired too.
    JsonWriter raw;
    raw.BeginArray().Raw("{\"text\":\"" + c.in + "\"}").EndArray();
    ASSERT_TRUE(IsValidUtf8(raw.text())) << raw.text();
    // and json::Stringify, Poco's writer, gives the same text.
    auto o = json::NewObject();
    o->set(c.in, c.in);
    o->set("list", json::StringArray({c.in}));
    EXPECT_EQ(json::Stringify(o), w.text());
  }
}

TEST(JsonWriterTest, NestingPlacesCommas) {
  JsonWriter w;
  w.BeginObject()
      .Field("a", 1)
      .Field("b", "x")
      .Key("c")
      .BeginArray()
      .Int(-2)
      .Bool(false)
      .Null()
      .BeginObject()
      .EndObject()
      .BeginArray()
      .EndArray()
      .EndArray()
      .Key("d")
      .StringOrNull("")
      .Key("e")
      .Time(std::nullopt)
      .Field("f", std::vector<std::string>{"p", "q"})
      .Key("g")
      .Raw("{\"r\":1}")
      .EndObject();
  EXPECT_EQ(w.text(), R"({"a":1,"b":"x","c":[-2,false,null,{},[]],"d":null,"e":null,"f":["p","q"],"g":{"r":1}})");
}

TEST(JsonWriterTest, MsgJsonReadsBack) {
  Msg m;
  m.id = 42;
  m.uuid = "0190a0b0-0000-7000-8000-000000000001";
  m.channel_uuid = "8f4ec8a0-5c1e-4d7e-9c6b-3b1f0d2a7e11";
  m.channel_type = "EX";
  m.direction = Direction::kIn;
  m.status = MsgStatus::kPending;
  m.urn = "tel:+250788000001";
  m.text = "line\none \"quoted\"";
  m.attachments = {"image/jpeg:https://example.com/a.jpg"};
  m.created_on = 1700000000123456;
  m.modified_on = 1700000000123456;
  m.received_on = 1700000000000001;
  const std::string text = MsgToJson(m);
  EXPECT_EQ(text.find("{\"id\":42,\"uuid\":\"0190a0b0-0000-7000-8000-000000000001\",\"channel_uuid\":"), 0u) << text;
  auto parsed = json::ParseObject(text);
  ASSERT_TRUE(parsed.ok());
  auto back = MsgFromJsonText(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->id, m.id);
  EXPECT_EQ(back->uuid, m.uuid);
  EXPECT_EQ(back->text, m.text);
  EXPECT_EQ(back->attachments, m.attachments);
  EXPECT_EQ(back->received_on, m.received_on);
  EXPECT_EQ(back->created_on, m.created_on);
  EXPECT_FALSE(back->sent_on.has_value());
  EXPECT_TRUE(json::GetString(*parsed, "external_id") == std::nullopt);
}

TEST(MsgJson, QuickRepliesAndATemplateReadBackAsWritten) {
  Msg m;
  m.uuid = "0190a0b0-0000-7000-8000-000000000002";
  m.channel_uuid = "0190a0b0-0000-7000-8000-0000000000aa";
  m.direction = Direction::kOut;
  m.status = MsgStatus::kQueued;
  m.urn = "whatsapp:250788000001";
  m.quick_replies = {QuickReply::Text("Yes", "say yes"), QuickReply::Location("Where?"),
                     QuickReply::Url("Open", "https://example.com/x")};
  MsgTemplate t;
  t.name = "reminder";
  t.language = "en_US";
  TemplateComponent body;
  body.type = "body";
  body.params = {TemplateParam{"text", "Jane", ""}};
  t.components.push_back(body);
  m.templating = t;
  auto back = MsgFromJsonText(MsgToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->quick_replies, m.quick_replies);
  ASSERT_TRUE(back->templating.has_value());
  EXPECT_EQ(*back->templating, t);

  // What is not of their shape is named.
  std::string text = MsgToJson(m);
  std::string bad_replies = text;
  bad_replies.replace(bad_replies.find("\"quick_replies\":["), 17, "\"quick_replies\":{\"a\":1},\"x\":[");
  EXPECT_EQ(MsgFromJsonText(bad_replies).status().message(), "field 'quick_replies' must be an array");
  std::string bad_template = text;
  bad_template.replace(bad_template.find("\"template\":{"), 12, "\"template\":7,\"y\":{");
  EXPECT_EQ(MsgFromJsonText(bad_template).status().message(), "a template must be an object");
}

}  // namespace
}  // namespace courier
