// Templates on msgs (core/msg_template.h): the JSON round-trips, what is
// refused is refused before any request, and a queued msg keeps its
// template and locale through the store on both engines (StoreTest).
#include "core/msg_template.h"

#include <gtest/gtest.h>

#include "core/msg_json.h"
#include "model/outgoing.h"

namespace courier {
namespace {

MsgTemplate Reminder() {
  return MsgTemplate{.name = "appointment_reminder",
                     .language = "en_US",
                     .name_space = "ns-1",
                     .external_id = "HX123",
                     .components = {{.type = "header", .params = {{"image", "https://c.example/m.png", ""}}},
                                    {.type = "body", .params = {{"text", "Jane", "patient"}, {"text", "12 May", ""}}},
                                    {.type = "button/url", .index = 1, .params = {{"text", "abc", ""}}}}};
}

TEST(MsgTemplateTest, RoundTripsThroughJson) {
  const std::string written = TemplateToJson(Reminder());
  EXPECT_EQ(written, R"({"name":"appointment_reminder","language":"en_US","namespace":"ns-1","external_id":"HX123",)"
                     R"("components":[{"type":"header","params":[{"type":"image","value":"https://c.example/m.png"}]},)"
                     R"({"type":"body","params":[{"type":"text","value":"Jane","name":"patient"},)"
                     R"({"type":"text","value":"12 May"}]},)"
                     R"({"type":"button/url","index":1,"params":[{"type":"text","value":"abc"}]}]})");
  auto read = ParseTemplate(written);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, Reminder());
  EXPECT_TRUE(ValidateTemplate(Reminder()).ok());
}

TEST(MsgTemplateTest, RefusesWhatCannotBeSent) {
  struct Case {
    const char* name;
    MsgTemplate t;
    std::string error;
  };
  MsgTemplate no_value = Reminder();
  no_value.components[1].params[1].value.clear();
  MsgTemplate bad_media = Reminder();
  bad_media.components[0].params[0].value = "file:///etc/passwd";
  MsgTemplate bad_component = Reminder();
  bad_component.components[0].type = "carousel";
  MsgTemplate bad_type = Reminder();
  bad_type.components[1].params[0].type = "currency";
  for (const Case& c : std::vector<Case>{
           {"no name or id", MsgTemplate{}, "needs its name or external_id"},
           {"a missing variable", no_value, "body param 2 has no value"},
           {"media not by URL", bad_media, "header param 1: a image needs an http:// or https:// URL"},
           {"an unknown component", bad_component, "unknown template component 'carousel'"},
           {"an unknown param type", bad_type, "unknown type 'currency'"}}) {
    Status st = ValidateTemplate(c.t);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_NE(st.message().find(c.error), std::string::npos) << c.name << ": " << st.message();
  }
}

// The API's and `send --jsonl`'s request: a template (and a locale) make a
// msg without text; a bad one names the field.
TEST(MsgTemplateTest, AnOutgoingRequestCarriesIt) {
  Channel channel;
  channel.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  channel.type = "WAC";
  channel.schemes = {"whatsapp"};
  auto object = json::ParseObject(R"({"channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","urn":"whatsapp:250788383383",)"
                                  R"("locale":"rw","template":{"name":"welcome",)"
                                  R"("components":[{"type":"body","params":[{"type":"text","value":"Jane"}]}]}})");
  ASSERT_TRUE(object.ok());
  auto request = OutgoingRequestFromJson(*object);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto msg = BuildOutgoingMsg(channel, *request);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  ASSERT_TRUE(msg->templating.has_value());
  EXPECT_EQ(msg->templating->name, "welcome");
  EXPECT_EQ(msg->locale, "rw");
  const std::string json = MsgToJson(*msg);
  EXPECT_NE(json.find(R"("template":{"name":"welcome","components":[{"type":"body","params":[{"type":"text","value":"Jane"}]}]},"locale":"rw")"),
            std::string::npos)
      << json;

  request->templating->components[0].params[0].value.clear();
  std::string field;
  auto refused = BuildOutgoingMsg(channel, *request, &field);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(field, "template");
  EXPECT_NE(refused.status().message().find("has no value"), std::string::npos);
}

}  // namespace
}  // namespace courier
