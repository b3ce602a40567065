// Typed quick replies (core/quick_reply.h): the JSON every version wrote
// (strings) still reads; each type round-trips; bad replies are refused
// by name.
#include "core/quick_reply.h"

#include <gtest/gtest.h>

#include "core/msg_json.h"
#include "model/outgoing.h"

namespace courier {
namespace {

TEST(QuickReplyTest, StringsAreTextRepliesAndTypesRoundTrip) {
  const std::vector<QuickReply> replies = {"Yes", QuickReply::Text("Kacyiru", "Open 8-17"),
                                           QuickReply::Location("Share where you are"),
                                           QuickReply::Url("Book", "https://clinic.example/book?a=1")};
  const std::string written = QuickRepliesToJson(replies);
  EXPECT_EQ(written, R"(["Yes",{"type":"text","text":"Kacyiru","description":"Open 8-17"},)"
                     R"({"type":"location","text":"Share where you are"},)"
                     R"({"type":"url","text":"Book","url":"https://clinic.example/book?a=1"}])");
  auto read = ParseQuickReplies(written);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, replies);
  EXPECT_EQ(QuickRepliesToJson({}), "[]");
  EXPECT_EQ(TextQuickReplies(replies), (std::vector<std::string>{"Yes", "Kacyiru"}));

  // What stores and spools hold from before typed replies.
  auto old = ParseQuickReplies(R"(["Yes","No"])");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, (std::vector<QuickReply>{"Yes", "No"}));
  // The reference's shape: "extra" for the description or the URL; no type is text.
  auto reference = ParseQuickReplies(R"([{"text":"A","extra":"first"},{"type":"url","text":"B","extra":"https://b.example"}])");
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  EXPECT_EQ(*reference,
            (std::vector<QuickReply>{QuickReply::Text("A", "first"), QuickReply::Url("B", "https://b.example")}));
}

TEST(QuickReplyTest, BadRepliesAreRefusedByName) {
  struct Case {
    std::string json;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{{R"([{"type":"carousel","text":"x"}])", "unknown quick reply type 'carousel'"},
                                         {R"([{"type":"location"}])", "needs its text"},
                                         {R"([7])", "must be a string or an object"},
                                         {R"({"a":1})", "not a JSON array"}}) {
    auto parsed = ParseQuickReplies(c.json);
    ASSERT_FALSE(parsed.ok()) << c.json;
    EXPECT_NE(parsed.status().message().find(c.error), std::string::npos) << parsed.status().message();
  }
  EXPECT_FALSE(ValidateQuickReplies({QuickReply::Url("Book", "ftp://x")}).ok());
  EXPECT_FALSE(ValidateQuickReplies({QuickReply::Location("")}).ok());
  EXPECT_FALSE(ValidateQuickReplies({QuickReply::Text("ok", "\xff")}).ok());
  EXPECT_TRUE(ValidateQuickReplies({QuickReply::Url("Book", "https://x.example"), "Yes"}).ok());
}

// The API's and `send --jsonl`'s request: typed replies reach the msg, a
// bad one names the field.
TEST(QuickReplyTest, AnOutgoingRequestCarriesThem) {
  Channel channel;
  channel.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  channel.type = "WAC";
  channel.schemes = {"whatsapp"};
  auto object = json::ParseObject(R"({"channel":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","urn":"whatsapp:250788383383",)"
                                  R"("text":"Where?","quick_replies":["Here",{"type":"location","text":"Send"}]})");
  ASSERT_TRUE(object.ok());
  auto request = OutgoingRequestFromJson(*object);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  auto msg = BuildOutgoingMsg(channel, *request);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->quick_replies, (std::vector<QuickReply>{"Here", QuickReply::Location("Send")}));
  // And back out as the msg's JSON.
  EXPECT_NE(MsgToJson(*msg).find(R"("quick_replies":["Here",{"type":"location","text":"Send"}])"), std::string::npos);

  request->quick_replies.push_back(QuickReply::Url("Site", "javascript:alert(1)"));
  std::string field;
  auto refused = BuildOutgoingMsg(channel, *request, &field);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(field, "quick_replies");
}

}  // namespace
}  // namespace courier
