// Ill-formed UTF-8 from a provider (Kannel passing on Latin-1, a form
// post in windows-1252) end to end through the real programs: the answer,
// the store, `courier-ctl msgs list / events / logs --json`, the ZeroMQ
// event feed and a spool replay all carry well-formed UTF-8 and valid
// JSON, with U+FFFD where the bytes were ill-formed, and nothing goes to
// spool/bad/ for it.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <zmq.hpp>

#include "bus/bus.h"
#include "core/json.h"
#include "core/uuid.h"
#include "courier_fixture.h"
#include "harness.h"
#include "http/http_client.h"
#include "spool/intake_codec.h"
#include "spool/spool.h"
#include "util/utf8.h"

using namespace courier;
using namespace courier::testing;

namespace {

class Utf8Fixture : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    ex_ = AddReceiveOnlyExternal();
    kn_ = AddReceiveOnlyKannel();
  }

  // Every line of a --json listing: well-formed UTF-8 and a JSON object.
  std::vector<json::ObjectPtr> JsonLines(std::vector<std::string> args) {
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& line : Lines(r.out)) EXPECT_TRUE(IsValidUtf8(line)) << line;
    return courier::testing::JsonLines(r.out);
  }

  std::vector<std::string> Texts() {
    std::vector<std::string> texts;
    for (const auto& o : JsonLines({"msgs", "list", "--limit", "1000", "--json"}))
      texts.push_back(json::GetStringOrEmpty(o, "text"));
    return texts;
  }

  // The msg uuid of a 200 answer, which must be valid JSON.
  std::string AnsweredUuid(const HttpExchange& r) {
    EXPECT_EQ(r.status_code, 200) << r.body << r.error;
    EXPECT_TRUE(IsValidUtf8(r.body)) << r.body;
    auto body = json::ParseObject(r.body);
    EXPECT_TRUE(body.ok()) << r.body;
    if (!body.ok()) return "";
    auto data = json::GetObjects(*body, "data");
    return data.empty() ? "" : json::GetStringOrEmpty(data[0], "msg_uuid");
  }

  size_t SpoolCount(const std::string& state) {
    auto names = Env::Default().ListDir(dir_.File("spool/" + state));
    if (!names.ok()) return 0;
    size_t n = 0;
    for (const auto& name : *names) n += name.find(".reason") == std::string::npos ? 1 : 0;
    return n;
  }

  std::string ex_, kn_;
};

// Every test below runs on both engines (Engines/Utf8Test.*/SQLite and .../PostgreSQL), except Utf8TestSqlite.*: its
// outage is a lock on the SQLite file held by another process.
using Utf8Test = OnBothEngines<Utf8Fixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(Utf8Test);
using Utf8TestSqlite = Utf8Fixture;

TEST_P(Utf8Test, IllFormedTextIsStoredWithReplacementsAndEveryOutputIsValidJson) {
  StartRecv();
  zmq::socket_t sub(BusContext(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.connect("ipc://" + dir_.File("run") + "/recv-events.sock");
  // PUB drops until the subscription has propagated: a first msg until
  // its event arrives.
  zmq::message_t topic, payload;
  bool subscribed = false;
  int warms = 0;  // a slow first event means more than one: each is stored
  for (; warms < 40 && !subscribed; ++warms) {
    ASSERT_EQ(PostForm("/c/ex/" + ex_ + "/receive", "from=0788383383&text=warm").status_code, 200);
    sub.set(zmq::sockopt::rcvtimeo, 250);
    subscribed = sub.recv(topic).has_value() && sub.recv(payload).has_value();
  }
  ASSERT_TRUE(subscribed);
  while (sub.recv(topic, zmq::recv_flags::dontwait).has_value()) {
  }

  struct Case {
    const char* label;
    std::string path, body, stored;
  };
  const std::vector<Case> cases = {
      // A form post in Latin-1, percent-encoded and raw (the raw byte also
      // lands in the channel log's request body).
      {"percent-encoded Latin-1", "/c/ex/" + ex_ + "/receive", "from=0788383383&text=caf%E9", "caf\uFFFD"},
      {"raw Latin-1 byte in the body", "/c/ex/" + ex_ + "/receive", "from=0788383383&text=na\xefve",
       "na\uFFFDve"},
      {"cut-short emoji", "/c/ex/" + ex_ + "/receive", "from=0788383383&text=ok%F0%9F%98", "ok\uFFFD"},
      {"Kannel declaring ISO-8859-1", "/c/kn/" + kn_ + "/receive?id=k1&ts=1500000000&sender=0788383383" +
                                          "&message=caf%E9&coding=0&charset=ISO-8859-1",
       "", "café"},
      {"Kannel declaring UTF-8 that is not", "/c/kn/" + kn_ + "/receive?id=k2&ts=1500000000&sender=0788383383" +
                                                 "&message=caf%E9&coding=0&charset=UTF-8",
       "", "caf\uFFFD"},
      {"Kannel UCS-2", "/c/kn/" + kn_ + "/receive?id=k3&ts=1500000000&sender=0788383383" +
                           "&message=%00c%00a%00f%00%E9&coding=2&charset=UTF-16BE",
       "", "café"},
  };
  std::vector<std::string> expected(warms, "warm");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = PostForm(c.path, c.body);
    std::string uuid = AnsweredUuid(r);
    ASSERT_FALSE(uuid.empty()) << r.body;
    // The feed's event for it is valid JSON too.
    sub.set(zmq::sockopt::rcvtimeo, 10000);
    ASSERT_TRUE(sub.recv(topic).has_value());
    ASSERT_TRUE(sub.recv(payload).has_value());
    EXPECT_TRUE(IsValidUtf8(payload.to_string())) << payload.to_string();
    EXPECT_TRUE(json::ParseObject(payload.to_string()).ok()) << payload.to_string();
    auto shown = JsonLines({"msgs", "show", uuid, "--json"});
    ASSERT_EQ(shown.size(), 1u);
    EXPECT_EQ(json::GetStringOrEmpty(shown[0], "text"), c.stored);
    expected.push_back(c.stored);
  }
  auto texts = Texts();
  std::sort(texts.begin(), texts.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(texts, expected);
  EXPECT_EQ(JsonLines({"events", "--json"}).size(), expected.size());
  auto logs = JsonLines({"logs", "--limit", "100", "--json"});
  EXPECT_EQ(logs.size(), expected.size());
  EXPECT_EQ(recv_->Stop(), 0);
}

// The store is locked: courier-recv spools the ill-formed webhook and
// answers 200; courier-flush replays it into the store, nothing in bad/.
TEST_F(Utf8TestSqlite, SpooledDuringAnOutageReachesTheStore) {
  StartRecv();
  ASSERT_EQ(PostForm("/c/ex/" + ex_ + "/receive", "from=0788383383&text=warm").status_code, 200);
  std::string uuid;
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    uuid = AnsweredUuid(PostForm("/c/ex/" + ex_ + "/receive", "from=0788383383&text=caf%E9+na\xefve"));
    ASSERT_EQ(SpoolCount("new"), 1u);
    for (const auto& o : JsonLines({"spool", "--json"})) (void)o;  // what the operator sees parses too
  }
  auto flushed = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
  EXPECT_EQ(flushed.exit_code, 0) << flushed.err;
  EXPECT_EQ(SpoolCount("new") + SpoolCount("cur") + SpoolCount("bad"), 0u) << flushed.err;
  auto shown = JsonLines({"msgs", "show", uuid, "--json"});
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(json::GetStringOrEmpty(shown[0], "text"), "caf\uFFFD na\uFFFDve");
  EXPECT_EQ(Texts().size(), 2u);
  EXPECT_EQ(recv_->Stop(), 0);
}

// A spool file written by a version before the repair, with the
// provider's raw bytes in its JSON: replayed with U+FFFD, not rejected.
TEST_P(Utf8Test, AnOldSpoolFileWithRawBytesIsReplayedNotRejected) {
  Intake in;
  in.channel_uuid = ex_;
  Msg m;
  m.uuid = NewUUID();
  m.channel_uuid = ex_;
  m.channel_type = "EX";
  m.direction = Direction::kIn;
  m.status = MsgStatus::kPending;
  m.urn = "tel:+250788383383";
  m.text = "caf@LATIN1@ \xF0\x9F\x98\x80";
  m.contact_name = "Jos@LATIN1@";
  m.received_on = 1500000000 * kMicrosPerSecond;
  in.msgs.push_back(m);
  ChannelLog log;
  log.channel_uuid = ex_;
  log.description = "Message Received";
  log.method = "POST";
  log.url = "http://127.0.0.1/c/ex/" + ex_ + "/receive";
  log.status_code = 200;
  log.request = "POST /c/ex/receive HTTP/1.1\r\n\r\ntext=caf@LATIN1@";
  log.created_on = 1500000000 * kMicrosPerSecond;
  in.msg_logs.push_back(log);
  // What an older EncodeIntake wrote: the bytes as they came.
  std::string body = EncodeIntake(in);
  for (size_t at; (at = body.find("@LATIN1@")) != std::string::npos;) body.replace(at, 8, "\xE9");
  ASSERT_FALSE(IsValidUtf8(body));
  SpoolDir spool(dir_.File("spool"));
  ASSERT_TRUE(spool.Write(body, 1700000000 * kMicrosPerSecond).ok());

  auto flushed = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
  EXPECT_EQ(flushed.exit_code, 0) << flushed.err;
  EXPECT_EQ(SpoolCount("bad"), 0u) << flushed.err;
  EXPECT_EQ(SpoolCount("new") + SpoolCount("cur"), 0u) << flushed.err;
  auto shown = JsonLines({"msgs", "show", m.uuid, "--json"});
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(json::GetStringOrEmpty(shown[0], "text"), "caf\uFFFD \xF0\x9F\x98\x80");
  auto logs = JsonLines({"logs", "--json"});
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_NE(json::GetStringOrEmpty(logs[0], "request").find("text=caf\uFFFD"), std::string::npos);
}

}  // namespace
