// Msg helpers: attachments, incoming text, direction and priority.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/msg.h"

namespace courier {
namespace {

TEST(CoreMsg, SplitAttachment) {
  EXPECT_EQ(std::make_pair(std::string("image/jpeg"), std::string("https://x/y.jpg")),
            SplitAttachment("image/jpeg:https://x/y.jpg"));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("noscheme")), SplitAttachment("noscheme"));
  // Untyped bare URL splits at its scheme (the reference's behaviour).
  EXPECT_EQ(std::make_pair(std::string("https"), std::string("//host/a.png")),
            SplitAttachment("https://host/a.png"));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("")), SplitAttachment(""));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("https://x")),
            SplitAttachment(":https://x"));
}

TEST(CoreMsg, TextAndAttachments) {
  Msg m;
  m.text = "hello";
  EXPECT_EQ("hello", TextAndAttachments(m));
  m.attachments = {"image/jpeg:https://x/a.jpg", "audio/mp3:https://x/b.mp3"};
  EXPECT_EQ("hello\nhttps://x/a.jpg\nhttps://x/b.mp3", TextAndAttachments(m));
  m.text = "";
  EXPECT_EQ("\nhttps://x/a.jpg\nhttps://x/b.mp3", TextAndAttachments(m));
  m.attachments.clear();
  EXPECT_EQ("", TextAndAttachments(m));
}

TEST(CoreMsg, CleanIncomingText) {
  EXPECT_EQ("hello world", CleanIncomingText("hello world"));
  EXPECT_EQ("tab\tlf\ncr\r", CleanIncomingText("tab\tlf\ncr\r"));
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  EXPECT_EQ("\t\n\r", CleanIncomingText(all_controls));
  EXPECT_EQ("ab", CleanIncomingText(std::string("a\0b", 3)));
  EXPECT_EQ("ab", CleanIncomingText("a\x0b\x0c\x1f" "b"));
  EXPECT_EQ("a\x7f" "b", CleanIncomingText("a\x7f" "b"));  // DEL is not stripped
  // Multi-byte UTF-8 passes through intact around stripped bytes.
  EXPECT_EQ("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac",
            CleanIncomingText("caf\xc3\xa9\x01 \xf0\x9f\x98\x80\x02 \xe2\x82\xac\x1b"));
  EXPECT_EQ("", CleanIncomingText(""));
}

TEST(CoreMsg, DirectionAndPriority) {
  EXPECT_STREQ("in", DirectionName(Direction::kIn));
  EXPECT_STREQ("out", DirectionName(Direction::kOut));
  EXPECT_STREQ("bulk", PriorityName(Priority::kBulk));
  EXPECT_STREQ("high", PriorityName(Priority::kHigh));
  EXPECT_EQ(Priority::kHigh, ParsePriority("high"));
  EXPECT_EQ(Priority::kBulk, ParsePriority("bulk"));
  EXPECT_EQ(Priority::kHigh, ParsePriority("normal"));
  EXPECT_EQ(Priority::kHigh, ParsePriority("default"));
  EXPECT_EQ(Priority::kBulk, ParsePriority("BULK"));
  EXPECT_FALSE(ParsePriority("").has_value());
  EXPECT_FALSE(ParsePriority("low").has_value());
  EXPECT_FALSE(ParsePriority("1").has_value());

  Msg m;  // defaults
  EXPECT_EQ(Direction::kIn, m.direction);
  EXPECT_EQ(MsgStatus::kPending, m.status);
  EXPECT_EQ(Priority::kHigh, m.priority);
}

}  // namespace
}  // namespace courier
