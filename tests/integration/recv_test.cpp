// courier-recv end to end: the real daemon on a free loopback port, a real
// SQLite file, real HTTP and ZeroMQ.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <zmq.hpp>

#include "bus/bus.h"
#include "core/json.h"
#include "handlers/common.h"
#include "courier_fixture.h"
#include "harness.h"
#include "eventually.h"
#include "mock_provider.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

class RecvFixture : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    ex_ = AddReceiveOnlyExternal();
    kn_ = AddReceiveOnlyKannel();
  }

  HttpExchange Post(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/x-www-form-urlencoded",
                    const std::string& method = "POST") {
    HttpRequestSpec req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers.push_back({"Content-Type", content_type});
    return http_->Do(req);
  }

  json::ObjectPtr Body(const HttpExchange& ex) {
    auto o = json::ParseObject(ex.body);
    EXPECT_TRUE(o.ok()) << ex.body;
    return o.ok() ? *o : json::NewObject();
  }

  size_t CountMsgs() { return Lines(Ctl({"msgs", "list", "--limit", "100000", "--json"}).out).size(); }

  std::string ex_, kn_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
};

// Every test below runs on both engines (Engines/RecvTest.*/SQLite and .../PostgreSQL), except RecvTestSqlite.*:
// their fault is the SQLite file's (a lock held by another process, a store file whose directory is gone).
using RecvTest = OnBothEngines<RecvFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(RecvTest);
using RecvTestSqlite = RecvFixture;

TEST_P(RecvTest, ReceivesStoresAndAnswersWithTheMsgUuid) {
  StartRecv();
  auto r = Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=Muraho%20%E2%9C%93");
  ASSERT_EQ(r.status_code, 200) << r.body;
  auto body = Body(r);
  EXPECT_EQ(json::GetString(body, "message"), "Message Accepted");
  auto item = body->getArray("data")->getObject(0);
  EXPECT_EQ(json::GetString(item, "type"), "msg");
  EXPECT_EQ(json::GetString(item, "urn"), "tel:+250788383383");
  std::string uuid = json::GetString(item, "msg_uuid").value_or("");

  auto shown = Ctl({"msgs", "show", uuid, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"text\":\"Muraho ✓\""), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\"status\":\"P\""), std::string::npos);
  // One channel log for the msg, with request and response.
  auto logs = Ctl({"logs", "--json"});
  EXPECT_NE(logs.out.find("Message Received"), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("text=Muraho"), std::string::npos);
  // The trailing slash form (the reference's) works too.
  EXPECT_EQ(Post("/c/ex/" + ex_ + "/receive/", "from=0788383383&text=again").status_code, 200);
  EXPECT_EQ(CountMsgs(), 2u);
  EXPECT_EQ(recv_->Stop(), 0);
}

TEST_P(RecvTest, ProviderRetryWithSameExternalIdIsStoredOnce) {
  StartRecv();
  std::string uri = "/c/kn/" + kn_ + "/receive?id=abc123&ts=1500000000&message=hi&sender=0788383383";
  auto first = Post(uri, "");
  auto second = Post(uri, "");
  ASSERT_EQ(first.status_code, 200) << first.body;
  ASSERT_EQ(second.status_code, 200) << second.body;
  auto uuid1 = json::GetString(Body(first)->getArray("data")->getObject(0), "msg_uuid");
  auto uuid2 = json::GetString(Body(second)->getArray("data")->getObject(0), "msg_uuid");
  EXPECT_EQ(uuid1, uuid2);
  EXPECT_EQ(CountMsgs(), 1u);
}

// External webhooks carry no id of the msg: a provider's retry is known by
// its words (courier-recv(8), Duplicates). The same words from the same
// URN again are the first msg, answered with its uuid, until a msg is sent
// to the URN in between; then they are heard again. The window is wide
// here, so a slow machine cannot end it before a step.
TEST_P(RecvTest, AProvidersRetryWithoutAnIdIsTheFirstMsgUntilAReplyIsSent) {
  MockProvider provider;
  provider.SetDefault({.status = 200, .body = "ok"});
  const std::string ex = AddChannel("EX", {"send_url=" + provider.url() + "/send"});
  ASSERT_FALSE(ex.empty());
  StartRecv({"--duplicate-window", "600"});
  auto send = Start("courier-send");
  auto post = [&](const std::string& body) {
    auto r = Post("/c/ex/" + ex + "/receive", body);
    EXPECT_EQ(r.status_code, 200) << r.body;
    auto data = Body(r)->getArray("data");
    return data && data->size() == 1 ? json::GetString(data->getObject(0), "msg_uuid").value_or("") : "";
  };
  const std::string first = post("from=0788383383&text=yes");
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(post("from=0788383383&text=yes"), first);
  EXPECT_EQ(post("from=0788383383&text=yes"), first);
  // Other words, or another sender, are other msgs.
  EXPECT_NE(post("from=0788383384&text=yes"), first);
  const std::string other = post("from=0788383383&text=no");
  EXPECT_NE(other, first);
  EXPECT_EQ(post("from=0788383383&text=no"), other);
  EXPECT_EQ(CountMsgs(), 3u);

  // A question sent to the URN: the same answer again is heard.
  ASSERT_EQ(Ctl({"send", "--channel", ex, "--urn", "tel:+250788383383", "--text", "sure?"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 1; })) << send->log();
  const std::string again = post("from=0788383383&text=no");
  EXPECT_NE(again, other);
  EXPECT_EQ(post("from=0788383383&text=no"), again);
  EXPECT_EQ(CountMsgs(), 5u);  // three in, one out, one in
  EXPECT_EQ(send->Stop(), 0) << send->log();
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();

  // With the window off, every webhook is a msg.
  StartRecv({"--duplicate-window", "0"});
  EXPECT_NE(post("from=0788383383&text=no"), again);
  EXPECT_EQ(CountMsgs(), 6u);
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

// A retry that came while the store was locked is spooled with the first
// one and judged at the replay as courier-recv would have judged it: by the
// times the two were received, however late courier-flush writes them.
TEST_F(RecvTestSqlite, ARetrySpooledWithTheFirstIsOneMsgAfterTheReplay) {
  StartRecv({"--duplicate-window", "600"});
  ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=warm").status_code, 200);
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=spooled").status_code, 200);
    }
  }
  EXPECT_EQ(SpoolCount("new"), 3u);
  auto flush = Start("courier-flush");
  ASSERT_TRUE(Eventually([&] { return SpoolCount("new") + SpoolCount("cur") == 0; })) << flush->log();
  EXPECT_EQ(SpoolCount("bad"), 0u);
  EXPECT_EQ(StoredTexts(), (std::map<std::string, int>{{"spooled", 1}, {"warm", 1}}));
  EXPECT_EQ(flush->Stop(), 0) << flush->log();
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

// A channel event end to end: Telegram's Start button is answered "Event
// Accepted" with the event's uuid, stored once with its contact, and read
// by `courier-ctl events` as a channel.event; the provider's retry of the
// same update is a new event only by its uuid, which courier gives, so it
// is not deduplicated (Telegram sends an update until it is answered 2xx).
TEST_P(RecvTest, TelegramsStartIsAChannelEventWithItsContact) {
  const std::string tg = AddChannel("TG", {"auth_token=110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}, "courierbot");
  ASSERT_FALSE(tg.empty());
  StartRecv();
  const std::string update =
      R"({"update_id":174114370,"message":{"message_id":41,"from":{"id":3527065,"first_name":"Nic",)"
      R"("last_name":"Pottier"},"chat":{"id":3527065,"type":"private"},"date":1454119029,"text":"/start clinic-7"}})";
  auto r = Post("/c/tg/" + tg + "/receive", update, "application/json");
  ASSERT_EQ(r.status_code, 200) << r.body;
  auto body = Body(r);
  EXPECT_EQ(json::GetString(body, "message"), "Event Accepted");
  auto item = body->getArray("data")->getObject(0);
  EXPECT_EQ(json::GetString(item, "type"), "event");
  EXPECT_EQ(json::GetString(item, "event_type"), "new_conversation");
  EXPECT_EQ(json::GetString(item, "urn"), "telegram:3527065");
  EXPECT_EQ(json::GetString(item, "received_on"), "2016-01-30T01:57:09.000000Z");
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(item, "extra"), "start_parameter"), "clinic-7");
  const std::string event_uuid = json::GetStringOrEmpty(item, "event_uuid");
  ASSERT_FALSE(event_uuid.empty());
  EXPECT_EQ(CountMsgs(), 0u);

  auto events = Ctl({"events", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  std::vector<json::ObjectPtr> channel_events;
  for (const auto& line : Lines(events.out)) {
    auto event = json::ParseObject(line);
    ASSERT_TRUE(event.ok()) << line;
    if (json::GetStringOrEmpty(*event, "topic") == "channel.event") channel_events.push_back(*event);
  }
  ASSERT_EQ(channel_events.size(), 1u) << events.out;
  const json::ObjectPtr& payload = channel_events[0];
  EXPECT_EQ(json::GetStringOrEmpty(payload, "uuid"), event_uuid);
  EXPECT_EQ(json::GetStringOrEmpty(payload, "event_type"), "new_conversation");
  EXPECT_EQ(json::GetStringOrEmpty(payload, "channel_uuid"), tg);
  EXPECT_EQ(json::GetStringOrEmpty(payload, "contact_name"), "Nic Pottier");
  // The contact exists with its name and URN.
  auto contacts = Ctl({"contact", "list", "--json"});
  ASSERT_EQ(contacts.exit_code, 0) << contacts.err;
  EXPECT_NE(contacts.out.find("telegram:3527065"), std::string::npos) << contacts.out;
  EXPECT_NE(contacts.out.find(json::GetStringOrEmpty(payload, "contact_uuid")), std::string::npos) << contacts.out;
  EXPECT_NE(contacts.out.find("Nic Pottier"), std::string::npos) << contacts.out;
  // The text form says what happened.
  auto lines = Ctl({"events"});
  EXPECT_NE(lines.out.find("event: new_conversation; extra: start_parameter=clinic-7"), std::string::npos)
      << lines.out;
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

TEST_P(RecvTest, ErrorsAreClearJsonWithTheRightCodes) {
  StartRecv({"--max-body-bytes", "1000"});
  auto unknown = Post("/c/ex/0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10/receive", "from=1&text=x");
  EXPECT_EQ(unknown.status_code, 400);
  EXPECT_NE(unknown.body.find("channel not found"), std::string::npos);
  auto wrong = Post("/c/ex/" + kn_ + "/receive", "from=1&text=x");
  EXPECT_EQ(wrong.status_code, 400);
  EXPECT_NE(wrong.body.find("channel type wrong"), std::string::npos);
  auto malformed = Post("/c/ex/not-a-uuid/receive", "from=1&text=x");
  EXPECT_EQ(malformed.status_code, 400);
  EXPECT_EQ(Post("/c/zz/" + ex_ + "/receive", "").status_code, 404);
  EXPECT_EQ(Post("/c/ex/" + ex_ + "/frobnicate", "").status_code, 404);
  EXPECT_EQ(Post("/nowhere", "").status_code, 404);
  auto put = Post("/c/ex/" + ex_ + "/receive", "", "text/plain", "PUT");
  EXPECT_EQ(put.status_code, 405);
  EXPECT_EQ(Post("/c/ex/" + ex_ + "/receive", "text=" + std::string(2000, 'a') + "&from=1").status_code, 413);
  auto missing = Post("/c/ex/" + ex_ + "/receive", "from=0788383383");
  EXPECT_EQ(missing.status_code, 400);
  EXPECT_EQ(json::GetString(Body(missing), "message"), "Error");
  EXPECT_NE(missing.body.find("field 'text' required"), std::string::npos);
  // A status for a msg we do not have is acknowledged, not refused.
  auto status = Post("/c/ex/" + ex_ + "/delivered", "id=999");
  EXPECT_EQ(status.status_code, 200);
  EXPECT_EQ(json::GetString(Body(status), "message"), "Ignored");
  EXPECT_EQ(CountMsgs(), 0u);
  // The process survived all of it.
  EXPECT_TRUE(recv_->running());
  EXPECT_EQ(recv_->Stop(), 0);
}

TEST_P(RecvTest, BadSignatureIs401AndStoresNothing) {
  std::string tw = Ctl({"channel", "add", "--type", "T", "--address", "+12065551212", "--country", "US", "--config",
                        "account_sid=AC123", "--config", "auth_token=sekrit-token"}).out.substr(0, 36);
  StartRecv();
  HttpRequestSpec req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/t/" + tw + "/receive";
  req.body = "MessageSid=SM1&AccountSid=AC123&From=%2B12065551213&To=%2B12065551212&Body=hi";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Twilio-Signature", "forged"}};
  auto r = http_->Do(req);
  EXPECT_EQ(r.status_code, 401) << r.body;
  EXPECT_EQ(json::GetString(Body(r), "message"), "Unauthorized");
  EXPECT_EQ(CountMsgs(), 0u);
  // The attempt is logged for the operator, without the token.
  std::string logs;
  for (int i = 0; i < 50 && logs.find("Channel Error") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    logs = Ctl({"logs", "--json"}).out;
  }
  EXPECT_NE(logs.find("invalid request signature"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("sekrit-token"), std::string::npos);
}

// A provider that needs its own answer gets it for what we ignore too:
// Jasmin re-sends a receipt until it is answered "ACK/Jasmin", so one with
// a status we do not know is ignored with that answer, and the reason is
// in the channel log.
TEST_P(RecvTest, AnIgnoredWebhookStillGetsTheProvidersAnswer) {
  std::string js = Ctl({"channel", "add", "--type", "JS", "--address", "2020", "--country", "RW", "--config",
                        "username=foo", "--config", "password=js-s3cret", "--config", "send_url=http://x/send"})
                       .out.substr(0, 36);
  StartRecv();
  auto r = Post("/c/js/" + js + "/status", "id=ext1&message_status=BORKED&level=1");
  EXPECT_EQ(r.status_code, 200) << r.body;
  EXPECT_EQ(r.body, "ACK/Jasmin");
  std::string logs;
  for (int i = 0; i < 50 && logs.find("Request Ignored") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    logs = Ctl({"logs", "--json"}).out;
  }
  EXPECT_NE(logs.find("Request Ignored: ignoring unknown status 'BORKED'"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("js-s3cret"), std::string::npos);
}

TEST_P(RecvTest, EventsFollowCatchesUpThenGoesLiveWithoutGapOrDuplicate) {
  StartRecv();
  // Each text its own: the same words again from one URN would be taken
  // for the provider's retry of the first (courier-recv(8), Duplicates).
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=before+" + std::to_string(i)).status_code, 200);
  }
  Daemon follow({Bin("courier-ctl"), "events", "--after", "2", "--follow", "--json"}, env_, dir_.File("follow.out"));
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=live+" + std::to_string(i)).status_code, 200);
  }
  // courier-ctl's own events are not published; follow still prints them.
  ASSERT_EQ(Ctl({"contact", "stop", "tel:+250788383399"}).exit_code, 0);
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && lines.size() < 24; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    lines = Lines(ReadFile(dir_.File("follow.out")));
  }
  ASSERT_EQ(lines.size(), 24u);  // seqs 3..26: 3 caught up, 20 live, 1 stop
  for (size_t i = 0; i < lines.size(); ++i) {
    auto event = json::ParseObject(lines[i]);
    ASSERT_TRUE(event.ok());
    EXPECT_EQ(json::GetInt(*event, "seq"), static_cast<int64_t>(i + 3));
  }
  EXPECT_EQ(json::GetString(*json::ParseObject(lines.back()), "topic"), "contact.stopped");
  EXPECT_EQ(follow.Stop(SIGINT), 0);
}

TEST_P(RecvTest, IndexAndHealth) {
  StartRecv();
  HttpRequestSpec req;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/";
  auto index = http_->Do(req);
  EXPECT_EQ(index.status_code, 200);
  EXPECT_NE(index.body.find("POST /c/ex/{uuid}/receive"), std::string::npos);
  EXPECT_NE(index.body.find("/c/kn/{uuid}/status"), std::string::npos);
  req.url += "status";
  auto health = http_->Do(req);
  EXPECT_EQ(health.status_code, 200) << health.body;
  EXPECT_NE(health.body.find("\"healthy\":true"), std::string::npos);
}

TEST_F(RecvTestSqlite, LockedStoreSpoolsAndStillAnswers200) {
  StartRecv();
  // Warm the channel cache, then lock the store from another process.
  ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=before").status_code, 200);
  StoreLock lock(dir_.File("courier.db"));
  ASSERT_TRUE(lock.locked());
  std::vector<std::string> uuids;
  for (int i = 0; i < 20; ++i) {
    auto r = Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=during%20" + std::to_string(i));
    ASSERT_EQ(r.status_code, 200) << r.body;
    uuids.push_back(json::GetString(Body(r)->getArray("data")->getObject(0), "msg_uuid").value_or(""));
  }
  lock.Release();
  auto spool = Ctl({"spool", "--json"});
  EXPECT_EQ(Lines(spool.out).size(), 20u) << spool.out;
  // Health reflects the backlog only above the limit; the store is back.
  auto status = AskDaemon("ipc://" + dir_.File("run") + "/recv-ctl.sock", "status", 2000);
  ASSERT_TRUE(status.ok());
  EXPECT_NE(status->find("\"spooled\":20"), std::string::npos) << *status;
  EXPECT_EQ(CountMsgs(), 1u);
  EXPECT_EQ(recv_->Stop(), 0);
}

TEST_F(RecvTestSqlite, StoreUnavailableAtStartSpools) {
  // The store file's directory vanishes: recv starts anyway and spools.
  env_["COURIER_DB"] = dir_.File("missing/courier.db");
  std::vector<std::string> argv = {Bin("courier-recv")};
  recv_ = std::make_unique<Daemon>(argv, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv_->WaitForHttp(port_)) << recv_->log();
  // Without the store no channel can be looked up: the provider is asked
  // to retry rather than told the channel does not exist.
  auto r = Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=x");
  EXPECT_EQ(r.status_code, 503) << r.body;
  HttpRequestSpec req;
  req.url = "http://127.0.0.1:" + std::to_string(port_) + "/status";
  EXPECT_EQ(http_->Do(req).status_code, 503);
}

TEST_P(RecvTest, SecondRecvOnTheSamePortRefusesToStart) {
  StartRecv();
  // Another store and run dir, same port: it must not share the port
  // (SO_REUSEPORT would let the kernel split webhooks between the two).
  auto env2 = env_;
  env2["COURIER_DB"] = dir_.File("other.db");
  env2["COURIER_RUN_DIR"] = dir_.File("run2");
  Daemon second({Bin("courier-recv")}, env2, dir_.File("recv2.log"));
  for (int i = 0; i < 100 && second.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(second.running()) << "a second courier-recv listens on the same port";
  EXPECT_EQ(second.Stop(), 69) << second.log();
  EXPECT_NE(second.log().find("cannot listen"), std::string::npos) << second.log();
  // The first still takes every webhook.
  EXPECT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=x").status_code, 200);
}

TEST_P(RecvTest, PublishesStoredEventsOnZeroMQ) {
  StartRecv();
  zmq::socket_t sub(BusContext(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  sub.connect("ipc://" + dir_.File("run") + "/recv-events.sock");
  // PUB drops until the subscription has propagated; post until one arrives.
  zmq::message_t topic, payload;
  bool got = false;
  for (int i = 0; i < 20 && !got; ++i) {
    ASSERT_EQ(Post("/c/ex/" + ex_ + "/receive", "from=0788383383&text=evt").status_code, 200);
    sub.set(zmq::sockopt::rcvtimeo, 250);
    got = sub.recv(topic).has_value();
  }
  ASSERT_TRUE(got);
  ASSERT_TRUE(sub.recv(payload).has_value());
  EXPECT_EQ(topic.to_string(), "msg.received");
  auto event = json::ParseObject(payload.to_string());
  ASSERT_TRUE(event.ok());
  EXPECT_GT(json::GetInt(*event, "seq").value_or(0), 0);
  // The same event is in the store (invariant 4).
  auto stored = Ctl({"events", "--json"});
  EXPECT_NE(stored.out.find(payload.to_string()), std::string::npos);
}

// A handler that makes a request of its own while receiving (a WhatsApp
// media lookup) runs off courier-recv's event loops: while the provider's
// API is slow, other webhooks are answered, and the media webhook gets its
// answer with the looked-up attachment once the lookup returns.
TEST_P(RecvTest, ASlowMediaLookupHoldsUpNoOtherWebhook) {
  const std::string secret = "app-secret-for-this-test";
  MockProvider provider;
  MockResponse media;
  media.body = R"({"url":"https://lookaside.example/img.jpg","mime_type":"image/jpeg","id":"m1"})";
  media.delay_ms = 2500;
  provider.SetDefault(media);
  std::string wac = Ctl({"channel", "add", "--type", "WAC", "--address", "12345", "--config",
                         "access_token=token-for-this-test", "--config", "app_secret=" + secret, "--config",
                         "verify_token=verify", "--config", "phone_number_id=8548", "--config",
                         "base_url=" + provider.url()})
                        .out;
  ASSERT_FALSE(wac.empty());
  wac.pop_back();
  StartRecv();

  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{)"
      R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"12345","phone_number_id":"8548"},)"
      R"("contacts":[{"profile":{"name":"Kerry"},"wa_id":"250788383383"}],)"
      R"("messages":[{"from":"250788383383","id":"wamid.1","timestamp":"1454119029","type":"image",)"
      R"("image":{"mime_type":"image/jpeg","id":"m1"}}]}}]}]})";
  // Eight keep-alive connections, opened first, so they are spread over
  // every event loop, including the one the media webhook will land on.
  std::vector<std::unique_ptr<HttpClient>> clients;
  auto post_ex = [&](HttpClient& http, const std::string& text) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + ex_ + "/receive";
    req.body = "from=0788383383&text=" + text;
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    return http.Do(req).status_code;
  };
  for (int i = 0; i < 8; ++i) {
    clients.push_back(NewLoopbackHttpClient());
    ASSERT_EQ(post_ex(*clients.back(), "before" + std::to_string(i)), 200);
  }
  std::atomic<bool> media_answered{false};
  auto media_webhook = std::async(std::launch::async, [&]() {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/wac/" + wac + "/receive";
    req.body = body;
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({"X-Hub-Signature-256", "sha256=" + courier::HmacSha256Hex(secret, body)});
    auto http = NewLoopbackHttpClient();
    HttpExchange ex = http->Do(req);
    media_answered = true;
    return ex;
  });
  // Wait until the lookup has reached the provider (it answers 2.5 s later).
  for (int i = 0; i < 200 && provider.count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(provider.count(), 1u);
  // Each connection is answered while the lookup is still out.
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(post_ex(*clients[i], "meanwhile" + std::to_string(i)), 200);
    EXPECT_FALSE(media_answered) << "an EX webhook waited for the media lookup";
  }
  HttpExchange ex = media_webhook.get();
  EXPECT_EQ(ex.status_code, 200) << ex.body;
  EXPECT_NE(ex.body.find("image/jpeg:https://lookaside.example/img.jpg"), std::string::npos) << ex.body;
  EXPECT_EQ(provider.requests()[0].path.rfind("/m1"), provider.requests()[0].path.size() - 3);
  EXPECT_EQ(CountMsgs(), 17u);
}

// WeChat gives an account one URL, the channel's root (/c/wc/<uuid>):
// through the running daemon, its GET verification and a POST push there,
// with and without a trailing slash, beside the /receive route kept for
// accounts set up before.
TEST_F(RecvTestSqlite, WeChatIsServedAtTheChannelsRoot) {
  const std::string wc = AddChannel("WC", {"secret=secret-token", "wechat_app_id=app", "wechat_app_secret=s3cret"});
  ASSERT_FALSE(wc.empty());
  StartRecv();
  // sha1 of "1518430722", "nonce1" and "secret-token", sorted.
  const std::string signed_query =
      "signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430722&nonce=nonce1";
  for (const std::string& path : {"/c/wc/" + wc, "/c/wc/" + wc + "/", "/c/wc/" + wc + "/receive"}) {
    auto verified = Post(path + "?" + signed_query + "&echostr=hello", "", "text/plain", "GET");
    EXPECT_EQ(verified.status_code, 200) << path << ": " << verified.body;
    EXPECT_EQ(verified.body, "hello") << path;
  }
  auto push = Post("/c/wc/" + wc + "?" + signed_query,
                   "<xml><ToUserName><![CDATA[gh_wechat]]></ToUserName><FromUserName><![CDATA[1234]]>"
                   "</FromUserName><CreateTime>1518774424</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                   "<Content><![CDATA[at the root]]></Content><MsgId>123456</MsgId></xml>",
                   "text/xml");
  EXPECT_EQ(push.status_code, 200) << push.body;
  EXPECT_EQ(Post("/c/wc/" + wc + "?signature=0&timestamp=1518430722&nonce=nonce1&echostr=x", "", "text/plain", "GET")
                .status_code,
            400);
  EXPECT_EQ(Post("/c/wc/" + wc, "", "text/plain", "PUT").status_code, 405);
  auto stored = Lines(Ctl({"msgs", "list", "--direction", "in", "--json"}).out);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_NE(stored[0].find("\"text\":\"at the root\""), std::string::npos) << stored[0];
  EXPECT_NE(stored[0].find("wechat:1234"), std::string::npos) << stored[0];
}

}  // namespace
