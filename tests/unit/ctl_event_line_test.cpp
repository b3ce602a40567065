// courier-ctl events for people: one line an event with what happened,
// never cut.
#include <gtest/gtest.h>

#include <string>

#include "ctl/event_line.h"

using namespace courier;

namespace {

constexpr Micros kAt = 1'764'900'309'189'771LL;  // 2025-12-05T02:05:09.189771Z

struct Case {
  std::string name;
  std::string topic;
  std::string payload;
  std::string line;
};

class EventLineTest : public ::testing::TestWithParam<Case> {};

TEST_P(EventLineTest, SaysWhatHappened) {
  const Case& c = GetParam();
  EXPECT_EQ(EventLine(Event{42, c.topic, c.payload, kAt}), c.line);
}

const std::string kLong(300, 'x');

INSTANTIATE_TEST_SUITE_P(
    Events, EventLineTest,
    ::testing::Values(
        Case{"QueuedTextIsNeverCut", "msg.queued",
             R"({"seq":42,"topic":"msg.queued","msg_id":7,"status":"Q","urn":"tel:+250788383383","text":")" + kLong +
                 R"(","attachments":[],"error_reason":null,"next_attempt_on":"2025-12-05T02:05:09Z"})",
             "42      2025-12-05T02:05:09Z  msg.queued         7        Q       tel:+250788383383   text: " + kLong},
        Case{"ErrorFirstWithTheNextAttempt", "status.updated",
             R"({"seq":42,"topic":"status.updated","msg_id":1234567,"status":"E","urn":"telegram:12345678901234567890",)"
             R"("external_id":"ext-9","error_reason":"connection refused","next_attempt_on":"2025-12-05T02:10:00Z"})",
             "42      2025-12-05T02:05:09Z  status.updated     1234567  E       telegram:12345678901234567890  "
             "error: connection refused; external id: ext-9; next attempt: 2025-12-05T02:10:00Z"},
        Case{"NewlinesAndTabsStayOnTheLine", "msg.received",
             R"({"seq":42,"msg_id":3,"status":"P","urn":"tel:+1","text":"two\nlines\tand a tab",)"
             R"("attachments":["image/jpeg:https://example.com/a.jpg","audio/mp3:https://example.com/b.mp3"]})",
             "42      2025-12-05T02:05:09Z  msg.received       3        P       tel:+1              "
             "text: two lines and a tab; attachments: image/jpeg:https://example.com/a.jpg "
             "audio/mp3:https://example.com/b.mp3"},
        Case{"Contact", "contact.stopped",
             R"({"seq":42,"contact_id":5,"contact_uuid":"c0ffee00-0000-4000-8000-000000000000","urn":"tel:+2","stopped":true})",
             "42      2025-12-05T02:05:09Z  contact.stopped    -        -       tel:+2              "
             "contact: c0ffee00-0000-4000-8000-000000000000"},
        Case{"ChannelEventWithItsExtra", "channel.event",
             R"({"seq":42,"event_id":9,"uuid":"e","event_type":"referral","urn":"facebook:12","contact_name":"Jo",)"
             R"("extra":{"ad_id":"604","source":"ADS"},"contact_id":5,"contact_uuid":"c0ffee00-0000-4000-8000-000000000000"})",
             "42      2025-12-05T02:05:09Z  channel.event      -        -       facebook:12         "
             "contact: c0ffee00-0000-4000-8000-000000000000; event: referral; extra: ad_id=604 source=ADS"},
        Case{"UnknownTopicShowsItsPayload", "hook.failed", R"({"seq":42,"hook":3,"error":"timeout"})",
             R"(42      2025-12-05T02:05:09Z  hook.failed        -        -       -                   {"seq":42,"hook":3,"error":"timeout"})"},
        Case{"NotJson", "msg.sent", "garbage\nhere",
             "42      2025-12-05T02:05:09Z  msg.sent           -        -       -                   garbage here"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(EventHeaderTest, NamesTheColumns) {
  EXPECT_EQ(EventHeader(),
            "SEQ     TIME                  TYPE               MSG      STATUS  URN                 DETAILS");
}

}  // namespace
