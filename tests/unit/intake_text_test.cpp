// intake/intake_text.h: every string of an Intake repaired, none missed.
#include "intake/intake_text.h"

#include <gtest/gtest.h>

#include "util/utf8.h"

namespace courier {
namespace {

const std::string kBad = "caf\xE9";
const std::string kRepaired = "caf\uFFFD";

ChannelLog BadLog() {
  ChannelLog l;
  l.channel_uuid = kBad;
  l.description = kBad;
  l.method = kBad;
  l.url = "https://example.com/" + kBad;
  l.error = kBad;
  l.request = "POST /c/kn HTTP/1.1\r\nX-Name: " + kBad + "\r\n\r\nmessage=" + kBad;
  l.response = kBad;
  return l;
}

TEST(IntakeText, EveryStringOfAnIntakeIsRepaired) {
  Intake in;
  in.channel_uuid = kBad;
  Msg m;
  m.uuid = kBad;
  m.channel_uuid = kBad;
  m.channel_type = kBad;
  m.urn = "telegram:" + kBad;
  m.text = kBad;
  m.attachments = {"image/jpeg:https://example.com/" + kBad};
  m.quick_replies = {kBad};
  m.external_id = kBad;
  m.contact_name = kBad;
  m.urn_auth = kBad;
  m.error_reason = kBad;
  in.msgs.push_back(m);
  in.msg_logs.push_back(BadLog());
  StatusUpdate s;
  s.channel_uuid = kBad;
  s.external_id = kBad;
  s.new_external_id = kBad;
  s.error_reason = kBad;
  s.logs.push_back(BadLog());
  in.statuses.push_back(s);
  in.stop_urns = {"tel:" + kBad};
  in.urn_auths.push_back({"fcm:" + kBad, kBad, kBad, 0});
  ChannelEvent event;
  event.uuid = kBad;
  event.urn = "viber:" + kBad;
  event.contact_name = kBad;
  event.extra = {{kBad, kBad}};
  in.channel_events.push_back(event);
  in.logs.push_back(BadLog());

  // 11 msg fields (one attachment, one quick reply), 7 per log (three
  // logs), 4 status fields, a stop, 3 URN auth fields, 5 of the channel
  // event (an extra's key and value), the channel.
  EXPECT_EQ(RepairUtf8(in), 1 + 11 + 7 + 4 + 7 + 1 + 3 + 5 + 7);
  EXPECT_EQ(in.channel_events[0].extra.begin()->first, kRepaired);
  EXPECT_EQ(in.channel_events[0].extra.begin()->second, kRepaired);
  EXPECT_EQ(in.msgs[0].text, kRepaired);
  EXPECT_EQ(in.msgs[0].contact_name, kRepaired);
  EXPECT_EQ(in.msgs[0].attachments[0], "image/jpeg:https://example.com/" + kRepaired);
  EXPECT_EQ(in.msg_logs[0].request, "POST /c/kn HTTP/1.1\r\nX-Name: " + kRepaired + "\r\n\r\nmessage=" + kRepaired);
  EXPECT_EQ(in.statuses[0].error_reason, kRepaired);
  EXPECT_EQ(in.urn_auths[0].contact_name, kRepaired);
  // Nothing is left to repair.
  EXPECT_EQ(RepairUtf8(in), 0);
}

TEST(IntakeText, WellFormedIntakeIsUntouched) {
  Intake in;
  in.channel_uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  Msg m;
  m.text = "Muraho ✓ 😀";
  m.contact_name = "José";
  in.msgs.push_back(m);
  const Intake before = in;
  EXPECT_EQ(RepairUtf8(in), 0);
  EXPECT_EQ(in.msgs[0].text, before.msgs[0].text);
  EXPECT_EQ(in.msgs[0].contact_name, before.msgs[0].contact_name);
}

}  // namespace
}  // namespace courier
