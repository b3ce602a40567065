// The spooled intake: what courier-recv spools is what courier-flush
// replays, URN auths included; files spooled by the version before URN
// auths still replay; a newer format is refused, not half read.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/uuid.h"
#include "spool/intake_codec.h"
#include "spool/spool_file.h"
#include "store/sqlite_store.h"
#include "util/utf8.h"

using namespace courier;

namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;
constexpr const char* kChannel = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";

Intake Sample() {
  Intake in;
  in.channel_uuid = kChannel;
  Msg m;
  m.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";
  m.channel_uuid = kChannel;
  m.urn = "fcm:12345";
  m.text = "hi";
  m.contact_name = "Jane";
  m.received_on = kStart;
  in.msgs.push_back(m);
  in.stop_urns = {"tel:+250788383383"};
  in.urn_auths.push_back({"fcm:12345", "dQw4w9WgXcQ:APA91bF-token", "Jane", kStart + 123456});
  in.urn_auths.push_back({"fcm:777", "other-token", "", 0});
  return in;
}

TEST(IntakeCodecTest, UrnAuthsRoundTrip) {
  const Intake in = Sample();
  auto out = DecodeIntake(DecodeSpoolFile(EncodeSpoolFile(EncodeIntake(in))).value().at(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->urn_auths.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(out->urn_auths[i].urn, in.urn_auths[i].urn);
    EXPECT_EQ(out->urn_auths[i].auth, in.urn_auths[i].auth);
    EXPECT_EQ(out->urn_auths[i].contact_name, in.urn_auths[i].contact_name);
    EXPECT_EQ(out->urn_auths[i].sent_on, in.urn_auths[i].sent_on);  // to the microsecond; 0 stays 0
  }
  ASSERT_EQ(out->msgs.size(), 1u);
  EXPECT_EQ(out->msgs[0].uuid, in.msgs[0].uuid);
  EXPECT_EQ(out->stop_urns, in.stop_urns);
}

// A body as courier-recv spooled it before version 2 (no "version", no
// "urn_auths"): a file left in spool/new across the upgrade.
TEST(IntakeCodecTest, VersionOneFilesStillDecode) {
  const std::string v1 =
      R"({"kind":"intake","channel_uuid":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab","msgs":[{"id":0,)"
      R"("uuid":"0191e180-7d60-7000-aded-7d8b151cbd5b","channel_uuid":"8eb23e93-5ecb-45ba-b726-3b064e0c56ab",)"
      R"("channel_type":"FCM","direction":"in","status":"P","urn":"fcm:12345","text":"hi","attachments":[],)"
      R"("quick_replies":[],"external_id":null,"contact_name":"Jane","priority":"high","error_count":0,)"
      R"("error_reason":null,"created_on":null,"modified_on":null,"received_on":"2023-11-14T22:13:20.000000Z",)"
      R"("sent_on":null,"next_attempt_on":null}],"msg_logs":[],"statuses":[],"stop_urns":[],"logs":[]})";
  auto out = DecodeIntake(v1);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->msgs.size(), 1u);
  EXPECT_EQ(out->msgs[0].text, "hi");
  EXPECT_TRUE(out->urn_auths.empty());
}

// EncodeIntake never writes ill-formed UTF-8; DecodeIntake reads what an
// older version wrote with the bytes as they came.
TEST(IntakeCodecTest, IllFormedUtf8IsNeitherWrittenNorRefused) {
  Intake in = Sample();
  in.msgs[0].text = "caf\xE9";
  in.msgs[0].contact_name = "Jos\xE9";
  ChannelLog log;
  log.request = "GET /c/kn/receive?message=caf%E9 HTTP/1.1\r\nX-Forwarded-For: \xFF\r\n\r\n";
  in.logs.push_back(log);
  const std::string body = EncodeIntake(in);
  EXPECT_TRUE(IsValidUtf8(body)) << body;
  bool repaired = true;
  auto decoded = DecodeIntake(body, &repaired);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->msgs[0].text, "caf\uFFFD");
  EXPECT_FALSE(repaired) << "written repaired, so read as it is";

  // An older file: raw bytes inside its strings.
  std::string old = EncodeIntake(Sample());
  old.replace(old.find("\"hi\""), 4, "\"h\xE9\xE2\x82\"");
  old.replace(old.find("\"Jane\""), 6, "\"Jan\xE9\"");
  ASSERT_FALSE(IsValidUtf8(old));
  auto replayed = DecodeIntake(old, &repaired);
  ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
  EXPECT_TRUE(repaired);
  EXPECT_EQ(replayed->msgs[0].text, "h\uFFFD\uFFFD");
  EXPECT_EQ(replayed->msgs[0].contact_name, "Jan\uFFFD");
  EXPECT_EQ(replayed->msgs[0].uuid, Sample().msgs[0].uuid);
}

TEST(IntakeCodecTest, NewerOrMalformedVersionsAreRefused) {
  std::string body = EncodeIntake(Sample());
  const std::string current = "\"version\":" + std::to_string(kIntakeFormatVersion);
  ASSERT_NE(body.find(current), std::string::npos) << body;

  struct Case {
    std::string version;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{{"\"version\":5", "intake format version 5 is newer"},
                                         {"\"version\":0", "'version' must be a positive integer"},
                                         {"\"version\":\"2\"", "'version' must be a positive integer"}}) {
    std::string changed = body;
    changed.replace(changed.find(current), current.size(), c.version);
    auto out = DecodeIntake(changed);
    ASSERT_FALSE(out.ok()) << c.version;
    EXPECT_NE(out.status().message().find(c.error), std::string::npos) << out.status().message();
  }
}

// The receiver's duplicate window travels with the file, so a replay
// judges content duplicates as the receiver would have (version 3); files
// of the versions before it replay with none.
TEST(IntakeCodecTest, DuplicateWindowRoundTrips) {
  Intake in = Sample();
  in.duplicate_window = 4 * kMicrosPerSecond;
  auto out = DecodeIntake(EncodeIntake(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->duplicate_window, 4 * kMicrosPerSecond);

  auto none = DecodeIntake(EncodeIntake(Sample()));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->duplicate_window, 0);

  const std::string version_two = R"({"kind":"intake","version":2,"channel_uuid":"c","msgs":[]})";
  auto old = DecodeIntake(version_two);
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->duplicate_window, 0);

  auto negative = DecodeIntake(R"({"kind":"intake","version":3,"channel_uuid":"c","duplicate_window_ms":-1})");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("duplicate_window_ms"), std::string::npos);
}

// Channel events travel with their uuids and extras (version 4), so a
// replay writes each once; a bad one makes the file bad data, by name.
TEST(IntakeCodecTest, ChannelEventsRoundTrip) {
  Intake in = Sample();
  ChannelEvent referral;
  referral.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5c";
  referral.type = ChannelEventType::kReferral;
  referral.urn = "facebook:1234";
  referral.contact_name = "Jane";
  referral.extra = {{"source", "ADS"}, {"ref", "summer \"sale\""}, {"ad_id", "6045246247433"}};
  referral.occurred_on = kStart + 7;
  ChannelEvent started;
  started.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5d";
  started.type = ChannelEventType::kNewConversation;
  started.urn = "telegram:99";
  in.channel_events = {referral, started};
  auto out = DecodeIntake(DecodeSpoolFile(EncodeSpoolFile(EncodeIntake(in))).value().at(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->channel_events.size(), 2u);
  const ChannelEvent& back = out->channel_events[0];
  EXPECT_EQ(back.uuid, referral.uuid);
  EXPECT_EQ(back.type, ChannelEventType::kReferral);
  EXPECT_EQ(back.urn, referral.urn);
  EXPECT_EQ(back.contact_name, "Jane");
  EXPECT_EQ(back.extra, referral.extra);
  EXPECT_EQ(back.occurred_on, referral.occurred_on);
  EXPECT_EQ(out->channel_events[1].type, ChannelEventType::kNewConversation);
  EXPECT_FALSE(out->channel_events[1].occurred_on.has_value());

  for (const std::string& item :
       {std::string(R"({"uuid":"u","event_type":"unknown","urn":"tel:+1"})"),
        std::string(R"({"event_type":"referral","urn":"tel:+1"})"),
        std::string(R"({"uuid":"u","event_type":"referral","urn":"tel:+1","extra":{"n":1}})")}) {
    const std::string body = R"({"kind":"intake","version":4,"channel_uuid":"c","channel_events":[)" + item + "]}";
    auto bad = DecodeIntake(body);
    EXPECT_FALSE(bad.ok()) << item;
    if (!bad.ok()) {
      EXPECT_NE(bad.status().message().find("channel_events[0]"), std::string::npos);
    }
  }
}

TEST(IntakeCodecTest, StatusesByMsgUuidRoundTrip) {
  Intake in = Sample();
  StatusUpdate by_uuid;
  by_uuid.channel_uuid = in.channel_uuid;
  by_uuid.msg_uuid = "0191e180-7d60-7000-aded-7d8b151cbd5e";
  by_uuid.status = MsgStatus::kDelivered;
  in.statuses = {by_uuid};
  auto out = DecodeIntake(DecodeSpoolFile(EncodeSpoolFile(EncodeIntake(in))).value().at(0));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->statuses.size(), 1u);
  EXPECT_EQ(out->statuses[0].msg_uuid, by_uuid.msg_uuid);
  EXPECT_FALSE(out->statuses[0].msg_id.has_value());
  EXPECT_EQ(out->statuses[0].external_id, "");

  const std::string unnamed = R"({"kind":"intake","version":4,"channel_uuid":"c","statuses":[{"status":"D"}]})";
  auto bad = DecodeIntake(unnamed);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("msg_id, msg_uuid or external_id"), std::string::npos)
      << bad.status().message();
}

TEST(IntakeCodecTest, UrnAuthsNeedUrnAndAuth) {
  for (const std::string& item : {std::string(R"({"urn":"fcm:1"})"), std::string(R"({"auth":"t"})"),
                                  std::string(R"({"urn":"fcm:1","auth":"t","sent_on":"yesterday"})")}) {
    const std::string body = R"({"kind":"intake","version":2,"channel_uuid":"c","urn_auths":[)" + item + "]}";
    auto out = DecodeIntake(body);
    EXPECT_FALSE(out.ok()) << item;
    EXPECT_NE(out.status().message().find("urn_auths[0]"), std::string::npos) << out.status().message();
  }
}

// Spooled while the store was down, replayed after the app registered a
// newer token: the late file does not bring the old token back.
TEST(IntakeCodecTest, ASpooledUrnAuthReplaysIntoTheStoreWithoutUndoingANewerOne) {
  std::string tmpl = "/tmp/courier-codec-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  {
    ManualClock clock(kStart);
    SqliteStore store(dir + "/courier.db", clock);
    ASSERT_TRUE(store.Migrate().ok());
    Channel ch;
    ch.uuid = kChannel;
    ch.type = "FCM";
    ch.schemes = {"fcm"};
    ASSERT_TRUE(store.AddChannel(ch).ok());

    Intake spooled;
    spooled.channel_uuid = kChannel;
    spooled.urn_auths.push_back({"fcm:12345", "token-spooled", "Jane", kStart + 1 * kMicrosPerSecond});
    const std::string file = EncodeSpoolFile(EncodeIntake(spooled));

    Intake newer;
    newer.channel_uuid = kChannel;
    newer.urn_auths.push_back({"fcm:12345", "token-newer", "", kStart + 2 * kMicrosPerSecond});
    ASSERT_TRUE(store.WriteIntakes({newer}, nullptr).ok());

    auto replayed = DecodeIntake(DecodeSpoolFile(file).value().at(0));
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    auto outcomes = store.WriteIntakes({*replayed}, nullptr);
    ASSERT_TRUE(outcomes.ok());
    ASSERT_EQ((*outcomes)[0].urn_auths.size(), 1u);
    EXPECT_FALSE((*outcomes)[0].urn_auths[0].applied);

    Msg out;
    out.channel_uuid = kChannel;
    out.urn = "fcm:12345";
    out.text = "reply";
    ASSERT_TRUE(store.QueueOutgoing({out}).ok());
    ClaimRequest req;
    req.worker = "test:1";
    req.now = kStart;
    req.urn_auth_types = {"FCM"};
    auto claimed = store.ClaimQueued(req);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u);
    EXPECT_EQ((*claimed)[0].urn_auth, "token-newer");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
