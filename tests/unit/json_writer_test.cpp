// JsonWriter must write what Poco's stringifier writes for the same
// fields: event payloads, spool files and `msgs list --json` changed
// writer, and scripts that compare them byte for byte must not notice.
#include "core/json_writer.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/msg_json.h"

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
    if (c.find('\xff') != std::string::npos) continue;  // POCO's parser refuses invalid UTF-8
    auto parsed = json::ParseObject("{\"k\":" + WriterString(c) + "}");
    ASSERT_TRUE(parsed.ok()) << c;
    EXPECT_EQ(json::GetString(*parsed, "k"), c);
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
  auto back = MsgFromJson(*parsed);
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

}  // namespace
}  // namespace courier
