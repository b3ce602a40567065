// courier-hook's pure pieces: the signature an application checks, the
// retry waits, which events a hook posts and in what batches, the stable
// event uuid, and the exact requests of both formats.
#include <gtest/gtest.h>

#include <set>

#include "core/json.h"
#include "hook/hook_backoff.h"
#include "hook/hook_batch.h"
#include "hook/hook_signature.h"

using namespace courier;

namespace {

constexpr int64_t kNow = 1764919600;  // 2025-12-05T07:26:40Z

// Expected values computed outside courier (Python's hmac and uuid
// modules), so the test fails if both sides drift together.
TEST(HookSignatureTest, IsHmacSha256HexOfTimestampDotBody) {
  EXPECT_EQ(HookSignature("whsec-test", kNow, R"([{"seq":1}])"),
            "t=1764919600,v1=653af1dc6eb3374dc17e47da919e9b098182bf940cf353e14b7cb8bcaa69d76f");
}

TEST(HookSignatureTest, VerifiesWhatItSignsAndNothingElse) {
  const std::string body = R"([{"seq":1}])";
  const std::string header = HookSignature("s3cret", kNow, body);
  struct Case {
    const char* name;
    std::string header, secret, body;
    int64_t now;
    bool valid;
  } cases[] = {
      {"as signed", header, "s3cret", body, kNow, true},
      {"within tolerance", header, "s3cret", body, kNow + 299, true},
      {"too old: a replay", header, "s3cret", body, kNow + 301, false},
      {"from the future", header, "s3cret", body, kNow - 301, false},
      {"other secret", header, "s3cret2", body, kNow, false},
      {"body changed", header, "s3cret", R"([{"seq":2}])", kNow, false},
      {"timestamp changed", "t=1764919601," + header.substr(header.find("v1=")), "s3cret", body, kNow, false},
      {"second v1 matches", "t=1764919600,v1=00," + header.substr(header.find("v1=")), "s3cret", body, kNow, true},
      {"spaces after commas", "t=1764919600, " + header.substr(header.find("v1=")), "s3cret", body, kNow, true},
      {"no v1", "t=1764919600", "s3cret", body, kNow, false},
      {"no t", header.substr(header.find("v1=")), "s3cret", body, kNow, false},
      {"garbage", "hello", "s3cret", body, kNow, false},
  };
  for (const auto& c : cases) EXPECT_EQ(VerifyHookSignature(c.header, c.secret, c.body, c.now), c.valid) << c.name;
}

TEST(HookBackoffTest, DoublesFromOneSecondWithJitterUpToTenMinutes) {
  struct Case {
    int failures;
    Micros low, high;  // jitter 0 and jitter ~1
  } cases[] = {
      {1, 500'000, 1'000'000},
      {2, 1'000'000, 2'000'000},
      {3, 2'000'000, 4'000'000},
      {10, 256'000'000, 512'000'000},
      {11, 300'000'000, 600'000'000},  // 1024 s capped to 600: 300-600 s
      {1000, 300'000'000, 600'000'000},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(HookRetryDelay(c.failures, 0.0), c.low) << c.failures;
    EXPECT_LE(HookRetryDelay(c.failures, 0.999999), c.high) << c.failures;
    EXPECT_GT(HookRetryDelay(c.failures, 0.999999), c.high - 2 * kMicrosPerSecond / 1000) << c.failures;
  }
  EXPECT_EQ(HookRetryDelay(9, 0.0), 256 * kMicrosPerSecond / 2);
  // Jitter spreads hooks failing together.
  EXPECT_NE(HookRetryDelay(5, 0.1), HookRetryDelay(5, 0.7));
}

Event Ev(int64_t seq, const std::string& topic, const std::string& channel = "c1", int64_t id = 0) {
  Event e;
  e.seq = seq;
  e.topic = topic;
  e.created_on = kNow * kMicrosPerSecond;
  std::string fields = "\"channel_uuid\":\"" + channel + "\"";
  if (topic == "contact.stopped") fields = "\"contact_id\":" + std::to_string(id) + ",\"channel_uuid\":null";
  else if (id) fields += ",\"msg_id\":" + std::to_string(id);
  e.payload = "{\"seq\":" + std::to_string(seq) + ",\"topic\":\"" + topic + "\"," + fields + "}";
  return e;
}

std::vector<int64_t> Seqs(const HookBatch& b) {
  std::vector<int64_t> seqs;
  for (const Event* e : b.events) seqs.push_back(e->seq);
  return seqs;
}

TEST(HookBatchTest, FiltersAndBatchesInSeqOrderMovingPastWhatIsFilteredOut) {
  const std::vector<Event> events = {Ev(11, "msg.queued"),     Ev(12, "msg.received", "c1", 7),
                                     Ev(13, "status.updated"), Ev(14, "msg.received", "c2", 8),
                                     Ev(15, "contact.stopped", "", 3), Ev(16, "msg.received", "c1", 9)};
  Hook all;
  Hook received;
  received.topics = {"msg.received"};
  Hook received3 = received;
  received3.batch_size = 3;
  Hook channel1;
  channel1.channel_uuid = "c1";
  channel1.batch_size = 10;
  Hook rapidpro;
  rapidpro.format = "rapidpro";
  rapidpro.batch_size = 5;  // ignored: one event a POST
  struct Case {
    const char* name;
    const Hook& hook;
    size_t first;
    std::vector<int64_t> seqs;
    int64_t through;
    size_t next;
  } cases[] = {
      {"every event, one a POST", all, 0, {11}, 11, 1},
      {"topic: skips the queued one", received, 0, {12}, 12, 2},
      {"topic, from the second", received, 2, {14}, 14, 4},
      {"topic, batches of 3: the rest", received3, 0, {12, 14, 16}, 16, 6},
      {"channel: contact event (no channel) left out", channel1, 0, {11, 12, 13, 16}, 16, 6},
      {"rapidpro: msg.received first", rapidpro, 0, {12}, 12, 2},
      {"rapidpro: stop after a msg", rapidpro, 4, {15}, 15, 5},
      {"past the end", all, 6, {}, 0, 6},
  };
  for (const auto& c : cases) {
    HookBatch b = NextHookBatch(c.hook, events, c.first);
    EXPECT_EQ(Seqs(b), c.seqs) << c.name;
    EXPECT_EQ(b.through_seq, c.through) << c.name;
    EXPECT_EQ(b.next, c.next) << c.name;
  }
  // Nothing wanted: an empty batch that still moves the cursor.
  Hook failed_only;
  failed_only.topics = {"msg.failed"};
  HookBatch none = NextHookBatch(failed_only, events);
  EXPECT_TRUE(none.events.empty());
  EXPECT_EQ(none.through_seq, 16);
}

TEST(HookEventUuidTest, IsStableVersion5AndDistinctPerSeq) {
  EXPECT_EQ(HookEventUUID(42), "a171e0fa-342e-526f-af2b-555bb9d46a70");  // Python: uuid5(NS, "courier-event:42")
  EXPECT_EQ(HookEventUUID(42), HookEventUUID(42));
  std::set<std::string> seen;
  for (int64_t seq = 1; seq <= 1000; ++seq) seen.insert(HookEventUUID(seq));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(HookRequestTest, JsonBatchIsASignedArrayOfWholeEvents) {
  Hook hook;
  hook.uuid = "0190f3c2-9a6e-7c41-8d1e-5b7a2f3c4d5e";
  hook.url = "https://app.example.com/courier?x=1";
  hook.secret = "s3cret";
  const std::vector<Event> events = {Ev(12, "msg.received", "c1", 7), Ev(13, "status.updated")};
  auto req = HookRequest(hook, {&events[0], &events[1]}, kNow);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->method, "POST");
  EXPECT_EQ(req->url, hook.url);
  EXPECT_EQ(req->body,
            "[{\"seq\":12,\"uuid\":\"" + HookEventUUID(12) +
                "\",\"topic\":\"msg.received\",\"created_on\":\"2025-12-05T07:26:40.000000Z\",\"data\":" +
                events[0].payload + "},{\"seq\":13,\"uuid\":\"" + HookEventUUID(13) +
                "\",\"topic\":\"status.updated\",\"created_on\":\"2025-12-05T07:26:40.000000Z\",\"data\":" +
                events[1].payload + "}]");
  std::map<std::string, std::string> headers(req->headers.begin(), req->headers.end());
  EXPECT_EQ(headers["Content-Type"], "application/json");
  EXPECT_EQ(headers["X-Courier-Hook"], hook.uuid);
  EXPECT_TRUE(VerifyHookSignature(headers["X-Courier-Signature"], "s3cret", req->body, kNow));
  EXPECT_EQ(headers.count("Authorization"), 0u);
}

TEST(HookRequestTest, RapidProIsTheReferenceFormPostToTheUrlAsItIs) {
  Hook hook;
  hook.uuid = "0190f3c2-9a6e-7c41-8d1e-5b7a2f3c4d5e";
  hook.format = "rapidpro";
  hook.url = "https://rapidpro.example.com/handlers/mage/handle_message";  // no %s: used as it is
  hook.secret = "s3cret";
  hook.auth_token = "rp-token-1";
  struct Case {
    Event event;
    std::string body;
  } cases[] = {
      {Ev(12, "msg.received", "c1", 7), "action=handle_message&message_id=7"},
      {Ev(15, "contact.stopped", "", 3), "action=stop_contact&contact_id=3"},
  };
  for (const auto& c : cases) {
    auto req = HookRequest(hook, {&c.event}, kNow);
    ASSERT_TRUE(req.ok()) << req.status().ToString();
    EXPECT_EQ(req->url, hook.url);
    EXPECT_EQ(req->body, c.body);
    std::map<std::string, std::string> headers(req->headers.begin(), req->headers.end());
    EXPECT_EQ(headers["Content-Type"], "application/x-www-form-urlencoded");
    EXPECT_EQ(headers["Authorization"], "Token rp-token-1");
    EXPECT_TRUE(VerifyHookSignature(headers["X-Courier-Signature"], "s3cret", req->body, kNow));
  }
  // A msg event without its id is a store bug, said as such.
  Event bad = Ev(16, "msg.received", "c1", 0);
  auto req = HookRequest(hook, {&bad}, kNow);
  ASSERT_FALSE(req.ok());
  EXPECT_EQ(req.status().message(), "event 16 (msg.received) has no msg_id");
}

}  // namespace
