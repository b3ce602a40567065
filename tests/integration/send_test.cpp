// courier-send end to end: the real daemon, a real SQLite file, a local
// mock provider that records every request.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include <zmq.hpp>

#include "bus/bus.h"
#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

class SendFixture : public CourierFixture {
 protected:
  void SetUp() override {
    env_["COURIER_RETRY_BACKOFF"] = "1";
    InitStore();
  }

  std::string AddExChannel(const std::string& path, const std::vector<std::string>& options = {}) {
    return AddChannel("EX", {"send_url=" + provider_.url() + path}, "1234", options);
  }

  void StartSend(std::vector<std::string> extra = {}) { send_ = Start("courier-send", std::move(extra)); }

  MockProvider provider_;
  std::unique_ptr<Daemon> send_;
};

// Every test below runs on both engines (Engines/SendTest.*/SQLite and .../PostgreSQL).
using SendTest = OnBothEngines<SendFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(SendTest);

TEST_P(SendTest, SendsQueuedMsgsOnceAndWritesStatusAndLogs) {
  std::string ch = AddExChannel("/send");
  StartSend();
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+25078838" + std::to_string(3000 + i), "--text",
                   "msg " + std::to_string(i)}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 20; })) << send_->log();
  EXPECT_EQ(provider_.count(), 20u);
  std::set<std::string> texts;
  for (const auto& r : provider_.requests()) texts.insert(r.form.at("text"));
  EXPECT_EQ(texts.size(), 20u);  // each msg exactly once
  auto w = OutgoingMsgs("W");
  EXPECT_FALSE(w[0]->isNull("sent_on"));
  auto logs = Ctl({"logs", "--msg", std::to_string(*json::GetInt(w[0], "id")), "--json"});
  EXPECT_NE(logs.out.find("Message Sent"), std::string::npos) << logs.out;
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
}

TEST_P(SendTest, ErrorsAreRetriedWithBackoffThenFailed) {
  std::string ch = AddExChannel("/flaky");
  provider_.SetDefault({.status = 500, .body = "down"});
  StartSend({"--max-retries", "3"});
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("F").size() == 1; })) << send_->log();
  EXPECT_EQ(provider_.count(), 3u);  // max_retries attempts, then F
  auto f = OutgoingMsgs("F")[0];
  EXPECT_EQ(json::GetInt(f, "error_count"), 3);
  EXPECT_NE(json::GetString(f, "error_reason").value_or("").find("gave up after 3"), std::string::npos);
  // An operator retry sends again, and this time the provider is back.
  provider_.SetDefault({.status = 200, .body = "ok"});
  ASSERT_EQ(Ctl({"retry", std::to_string(*json::GetInt(f, "id"))}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 1; })) << send_->log();
  EXPECT_EQ(provider_.count(), 4u);
}

// A delivery report can send a msg back for a retry (E, its error counted,
// a next attempt): the sender sends it again when due, and once its errors
// have reached max_retries fails it without sending.
TEST_P(SendTest, MsgsSentBackByADeliveryReportAreRetriedUpToMaxRetries) {
  std::string ch = AddExChannel("/send");
  auto line = [&](const std::string& urn, int errors) {
    return "{\"channel_uuid\":\"" + ch + "\",\"direction\":\"out\",\"status\":\"E\",\"urn\":\"" + urn +
           "\",\"text\":\"hi\",\"error_count\":" + std::to_string(errors) +
           ",\"error_reason\":\"twilio error 63018: rate limit exceeded for channel\","
           "\"next_attempt_on\":\"2020-01-01T00:00:00Z\"}\n";
  };
  auto imported = Ctl({"msgs", "import", "--jsonl", "-"}, line("tel:+250788383301", 1) + line("tel:+250788383302", 3));
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  StartSend({"--max-retries", "3"});
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 1 && OutgoingMsgs("F").size() == 1; })) << send_->log();
  EXPECT_EQ(provider_.count(), 1u);
  auto w = OutgoingMsgs("W")[0];
  EXPECT_EQ(json::GetString(w, "urn"), "tel:+250788383301");
  auto f = OutgoingMsgs("F")[0];
  EXPECT_EQ(json::GetString(f, "urn"), "tel:+250788383302");
  EXPECT_EQ(json::GetString(f, "error_reason"),
            "twilio error 63018: rate limit exceeded for channel (gave up after 3 attempts)");
  EXPECT_EQ(json::GetInt(f, "error_count"), 3);
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
}

TEST_P(SendTest, StoppedContactIsNotSentTo) {
  std::string ch = AddExChannel("/send");
  ASSERT_EQ(Ctl({"contact", "stop", "tel:+250788383383"}).exit_code, 0);
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  StartSend();
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("F").size() == 1; })) << send_->log();
  EXPECT_EQ(provider_.count(), 0u);
  EXPECT_EQ(json::GetString(OutgoingMsgs("F")[0], "error_reason"), "contact stopped");
}

TEST_P(SendTest, OneBusyChannelDoesNotDelayAnother) {
  std::string bulk = AddExChannel("/bulk", {"--tps", "20"});
  std::string other = AddExChannel("/other");
  std::string lines;
  for (int i = 0; i < 200; ++i)
    lines += "{\"channel\":\"" + bulk + "\",\"urn\":\"tel:+250788383383\",\"text\":\"bulk " + std::to_string(i) +
             "\",\"priority\":\"bulk\"}\n";
  ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, lines).exit_code, 0);
  StartSend();
  ASSERT_TRUE(Eventually([&] { return provider_.count() >= 20; }));
  ASSERT_EQ(Ctl({"send", "--channel", other, "--urn", "tel:+250788383384", "--text", "urgent"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] {
    for (const auto& r : provider_.requests())
      if (r.path == "/other") return true;
    return false;
  }));
  // The single msg went out while the TPS-limited bulk was still draining.
  size_t bulk_sent = 0;
  for (const auto& r : provider_.requests()) bulk_sent += r.path == "/bulk";
  EXPECT_LT(bulk_sent, 200u);
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
  // Nothing claimed is left in flight after a graceful stop.
  auto queue = Ctl({"queue", "--json"});
  EXPECT_EQ(queue.out.find("\"in_flight\":1"), std::string::npos) << queue.out;
  EXPECT_NE(queue.out.find("\"in_flight\":0"), std::string::npos);
}

TEST_P(SendTest, KilledMidRequestIsInterruptedNotResent) {
  std::string ch = AddExChannel("/slow");
  // The provider answers after 3 s: the sender is killed while it waits,
  // after the provider has the msg and before courier knows the outcome.
  provider_.SetDefault({.status = 200, .body = "ok", .delay_ms = 3000});
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "once"}).exit_code, 0);
  StartSend();
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; }));
  EXPECT_EQ(send_->Stop(9), 128 + 9);
  auto queue = Ctl({"queue", "--json"});
  EXPECT_NE(queue.out.find("\"in_flight\":1"), std::string::npos) << queue.out;

  StartSend();
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("E").size() == 1; })) << send_->log();
  auto msg = OutgoingMsgs("E")[0];
  EXPECT_EQ(json::GetString(msg, "error_reason"), "interrupted, outcome unknown");
  EXPECT_TRUE(msg->isNull("next_attempt_on"));  // not retried automatically
  queue = Ctl({"queue", "--json"});
  EXPECT_NE(queue.out.find("\"interrupted\":1"), std::string::npos) << queue.out;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(provider_.count(), 1u);  // never sent twice

  // The operator decides: retry sends it again, once.
  provider_.SetDefault({.status = 200, .body = "ok"});
  ASSERT_EQ(Ctl({"retry", std::to_string(*json::GetInt(msg, "id"))}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 1; })) << send_->log();
  EXPECT_EQ(provider_.count(), 2u);
}

TEST_P(SendTest, TwoSendersOnOneStoreSendEachMsgOnce) {
  std::string a = AddExChannel("/a");
  std::string b = AddExChannel("/b");
  std::string lines;
  for (int i = 0; i < 150; ++i)
    for (const auto& [ch, label] : {std::pair{a, "a"}, std::pair{b, "b"}})
      lines += "{\"channel\":\"" + ch + "\",\"urn\":\"tel:+250788383383\",\"text\":\"" + label +
               std::to_string(i) + "\"}\n";
  ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, lines).exit_code, 0);
  // Two senders with their own control sockets, on one store.
  StartSend({"--max-workers", "8"});
  auto env2 = env_;
  env2["COURIER_RUN_DIR"] = dir_.File("run2");
  Daemon second({Bin("courier-send"), "--max-workers", "8"}, env2, dir_.File("send2.log"));
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 300; })) << send_->log() << second.log();
  auto requests = provider_.requests();
  EXPECT_EQ(requests.size(), 300u);
  std::set<std::string> texts;
  for (const auto& r : requests) texts.insert(r.form.at("text"));
  EXPECT_EQ(texts.size(), 300u);
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_EQ(send_->Stop(), 0);
}

TEST_P(SendTest, PublishesStatusChangesOnSendEvents) {
  std::string ch = AddExChannel("/send");
  StartSend();
  zmq::socket_t sub(BusContext(), zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "status.");
  sub.set(zmq::sockopt::rcvtimeo, 250);
  sub.connect("ipc://" + dir_.File("run") + "/send-events.sock");
  // PUB drops until the subscription has propagated: send until one arrives.
  zmq::message_t topic, payload;
  bool got = false;
  for (int i = 0; i < 40 && !got; ++i) {
    ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "e" + std::to_string(i)}).exit_code, 0);
    got = sub.recv(topic).has_value();
  }
  ASSERT_TRUE(got) << send_->log();
  ASSERT_TRUE(sub.recv(payload).has_value());
  EXPECT_EQ(topic.to_string(), "status.updated");
  auto event = json::ParseObject(payload.to_string());
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(json::GetString(*event, "status"), "W");
  // The same event, with its seq, is in the store (invariant 4).
  EXPECT_NE(Ctl({"events", "--json"}).out.find(payload.to_string()), std::string::npos);
}

TEST_P(SendTest, ControlSocketReportsCounters) {
  std::string ch = AddExChannel("/send");
  StartSend();
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 1; }));
  std::string endpoint = "ipc://" + dir_.File("run") + "/send-ctl.sock";
  Result<std::string> status = Status::Unavailable("");
  ASSERT_TRUE(Eventually([&] {
    status = AskDaemon(endpoint, "status", 1000);
    return status.ok() && status->find("\"sent\":1") != std::string::npos;
  })) << (status.ok() ? *status : status.status().message());
  EXPECT_NE(status->find("\"pid\""), std::string::npos);
}

}  // namespace

namespace {

// What an application asks for beyond text reaches the provider as its
// API wants it, through the store and the real courier-send: quick
// replies as WhatsApp buttons, and a template with its language and
// variables.
TEST_P(SendTest, QuickRepliesAndTemplatesReachTheProviderThroughTheQueue) {
  const std::string ch = AddChannel("WAC", {"access_token=wac-token", "app_secret=s", "verify_token=v",
                                            "base_url=" + provider_.url()},
                                    "106540352242922");
  provider_.SetDefault({.body = R"({"messages":[{"id":"wamid.1"}]})"});
  auto asked = Ctl({"send", "--channel", ch, "--urn", "whatsapp:250788383383", "--text", "Coming?",
                    "--quick-reply", "Yes", "--quick-reply", "No"});
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  auto templated = Ctl({"send", "--channel", ch, "--urn", "whatsapp:250788383383", "--text", "Hi Nic, see you at 9",
                        "--template", "visit_reminder", "--language", "en_US", "--var", "Nic", "--var", "9"});
  ASSERT_EQ(templated.exit_code, 0) << templated.err;
  StartSend();
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("W").size() == 2; })) << send_->log();
  EXPECT_EQ(send_->Stop(), 0) << send_->log();

  auto requests = provider_.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::map<std::string, json::ObjectPtr> by_type;
  std::map<std::string, std::string> raw;
  for (const auto& r : requests) {
    EXPECT_EQ(r.path, "/v21.0/106540352242922/messages");
    EXPECT_EQ(r.headers.at("authorization"), "Bearer wac-token");
    auto body = json::ParseObject(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    by_type[json::GetStringOrEmpty(*body, "type")] = *body;
    raw[json::GetStringOrEmpty(*body, "type")] = r.body;
  }
  ASSERT_TRUE(by_type.count("interactive")) << requests[0].body;
  auto interactive = json::GetObject(by_type["interactive"], "interactive");
  EXPECT_EQ(json::GetStringOrEmpty(interactive, "type"), "button");
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(interactive, "body"), "text"), "Coming?");
  auto buttons = json::GetArray(json::GetObject(interactive, "action"), "buttons");
  ASSERT_TRUE(buttons && buttons->size() == 2u);
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(buttons->getObject(1), "reply"), "title"), "No");

  ASSERT_TRUE(by_type.count("template")) << requests[1].body;
  auto templ = json::GetObject(by_type["template"], "template");
  EXPECT_EQ(json::GetStringOrEmpty(templ, "name"), "visit_reminder");
  EXPECT_EQ(json::GetStringOrEmpty(json::GetObject(templ, "language"), "code"), "en_US");
  const std::string& body = raw["template"];
  EXPECT_NE(body.find(R"({"type":"text","text":"Nic"})"), std::string::npos) << body;
  EXPECT_NE(body.find(R"({"type":"text","text":"9"})"), std::string::npos) << body;
}

}  // namespace
