// courier-hook end to end: real webhooks into courier-recv, the real
// courier-hook process, and mock applications on loopback recording every
// request. Faults are real (kill -9, an application answering 500 or 410,
// one that never answers); assertions are exact counts, never times.
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <set>
#include <thread>

#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "hook/hook_batch.h"
#include "hook/hook_signature.h"
#include "http/http_client.h"
#include "mock_provider.h"
#include "tarpit_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

// What a mock recorded, for a failure message.
std::string ShowRequests(MockProvider& app) {
  std::string out;
  for (const RecordedRequest& r : app.requests()) {
    out += r.method + " " + r.uri + " headers:";
    for (const auto& [name, value] : r.headers) out += " " + name;
    out += " body: " + r.body.substr(0, 200) + "\n";
  }
  return out;
}

// One event as an application received it.
struct Received {
  int64_t seq = 0;
  std::string uuid;
  std::string topic;
  json::ObjectPtr data;
};

struct AddedHook {
  int64_t id = 0;
  std::string uuid;
  std::string secret;
  int64_t cursor = 0;
};

class HookFixture : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    channel_ = AddReceiveOnlyExternal();
    StartRecv();
  }

  AddedHook AddHook(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"hook", "add", "--url", url, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto added = Ctl(args);
    EXPECT_EQ(added.exit_code, 0) << added.err;
    auto o = json::ParseObject(added.out);
    EXPECT_TRUE(o.ok()) << added.out;
    AddedHook h;
    if (!o.ok()) return h;
    h.id = json::GetInt(*o, "id").value_or(0);
    h.uuid = json::GetStringOrEmpty(*o, "uuid");
    h.secret = json::GetStringOrEmpty(*o, "secret");
    h.cursor = json::GetInt(*o, "cursor").value_or(-1);
    return h;
  }

  void StartHook(std::map<std::string, std::string> extra_env = {}) {
    auto env = env_;
    for (const auto& [k, v] : extra_env) env[k] = v;
    hook_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-hook")}, env, dir_.File("hook.log"));
  }

  // A provider's webhook into courier-recv: one msg.received event.
  void Receive(const std::string& text) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel_ + "/receive";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = "from=0788383383&text=" + text;
    auto answer = http_->Do(req);
    ASSERT_EQ(answer.status_code, 200) << answer.body;
  }

  // Every event of every request the application got, in arrival order,
  // after checking each request's signature with `secret`.
  std::vector<Received> Events(const MockProvider& app, const std::string& secret, const std::string& hook_uuid) {
    std::vector<Received> out;
    for (const auto& r : app.requests()) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_EQ(r.headers.count("x-courier-hook") ? r.headers.at("x-courier-hook") : "", hook_uuid);
      auto sig = r.headers.find("x-courier-signature");
      EXPECT_TRUE(sig != r.headers.end() &&
                  VerifyHookSignature(sig->second, secret, r.body, static_cast<int64_t>(std::time(nullptr))))
          << r.body;
      Poco::JSON::Array::Ptr array;
      try {
        array = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>();
      } catch (const Poco::Exception& e) {
        ADD_FAILURE() << "not a JSON array: " << r.body;
        continue;
      }
      for (const auto& o : json::Objects(array)) {
        Received e;
        e.seq = json::GetInt(o, "seq").value_or(0);
        e.uuid = json::GetStringOrEmpty(o, "uuid");
        e.topic = json::GetStringOrEmpty(o, "topic");
        e.data = json::GetObject(o, "data");
        out.push_back(e);
      }
    }
    return out;
  }

  json::ObjectPtr ShowHook(int64_t id) {
    auto shown = Ctl({"hook", "show", std::to_string(id), "--json"});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    auto o = json::ParseObject(shown.out);
    return o.ok() ? *o : json::NewObject();
  }

  // The "hooks" array of `courier-ctl status --json`.
  std::vector<json::ObjectPtr> StatusHooks() {
    auto status = Ctl({"status", "--json"});
    auto o = json::ParseObject(status.out);
    if (!o.ok()) return {};
    return json::Objects(json::GetArray(*o, "hooks"));
  }

  std::string channel_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
  std::unique_ptr<Daemon> hook_;
};

// Every test below runs on both engines (Engines/HookTest.*/SQLite and .../PostgreSQL).
using HookTest = OnBothEngines<HookFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(HookTest);

TEST_P(HookTest, DeliversReceivedMsgsInOrderSignedAndReportsItsStatus) {
  MockProvider app;
  AddedHook h = AddHook(app.url() + "/courier", {"--events", "msg.received"});
  ASSERT_EQ(h.secret.size(), 64u);  // generated: 32 random bytes in hex
  StartHook();
  constexpr int kMsgs = 20;
  for (int i = 0; i < kMsgs; ++i) Receive("msg" + std::to_string(i));
  ASSERT_TRUE(Eventually([&] { return app.count() >= kMsgs; })) << hook_->log();

  auto events = Events(app, h.secret, h.uuid);
  ASSERT_EQ(events.size(), static_cast<size_t>(kMsgs));
  for (int i = 0; i < kMsgs; ++i) {
    EXPECT_EQ(events[i].seq, h.cursor + 1 + i);
    EXPECT_EQ(events[i].uuid, HookEventUUID(events[i].seq));
    EXPECT_EQ(events[i].topic, "msg.received");
    EXPECT_EQ(json::GetStringOrEmpty(events[i].data, "text"), "msg" + std::to_string(i));
    EXPECT_EQ(json::GetStringOrEmpty(events[i].data, "channel_uuid"), channel_);
    EXPECT_TRUE(json::GetInt(events[i].data, "msg_id").has_value());
  }
  for (const auto& r : app.requests()) {
    EXPECT_EQ(r.path, "/courier");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("user-agent"), "courier-hook");
  }

  // courier-ctl status: the hook caught up, in the fields metrics read.
  std::vector<json::ObjectPtr> hooks;
  ASSERT_TRUE(Eventually([&] {
    hooks = StatusHooks();
    return hooks.size() == 1 && json::GetInt(hooks[0], "cursor") == h.cursor + kMsgs;
  })) << Ctl({"status", "--json"}).out;
  const auto& s = hooks[0];
  EXPECT_EQ(json::GetInt(s, "id"), h.id);
  EXPECT_EQ(json::GetStringOrEmpty(s, "uuid"), h.uuid);
  EXPECT_EQ(json::GetStringOrEmpty(s, "url"), app.url() + "/courier");
  EXPECT_EQ(json::GetBool(s, "paused"), false);
  EXPECT_EQ(json::GetInt(s, "lag_events"), 0);
  EXPECT_EQ(json::GetInt(s, "oldest_undelivered_age_s"), 0);
  EXPECT_EQ(json::GetInt(s, "failures"), 0);
  EXPECT_EQ(json::GetInt(s, "next_retry_in_s"), 0);
  EXPECT_TRUE(s->has("last_error"));
  EXPECT_TRUE(s->isNull("last_error"));
  EXPECT_EQ(json::GetInt(s, "delivered"), kMsgs);  // from courier-hook itself
  // No secret anywhere an operator looks.
  for (const auto& args : std::vector<std::vector<std::string>>{{"hook", "list"}, {"hook", "list", "--json"},
                                                                {"hook", "show", std::to_string(h.id)},
                                                                {"status", "--json"}, {"status"}}) {
    auto r = Ctl(args);
    EXPECT_EQ(r.out.find(h.secret), std::string::npos) << r.out;
  }
  EXPECT_EQ(hook_->log().find(h.secret), std::string::npos);
  EXPECT_EQ(hook_->Stop(), 0) << hook_->log();
}

TEST_P(HookTest, BatchesUpToTheBatchSize) {
  MockProvider app;
  constexpr int kMsgs = 25;
  for (int i = 0; i < kMsgs; ++i) Receive("b" + std::to_string(i));
  // From the first of these (the events of the channel add came before).
  auto first = Ctl({"events", "--json"});
  auto lines = Lines(first.out);
  ASSERT_GE(lines.size(), static_cast<size_t>(kMsgs));
  auto first_msg = json::ParseObject(lines[lines.size() - kMsgs]);
  ASSERT_TRUE(first_msg.ok());
  const int64_t from = json::GetInt(*first_msg, "seq").value_or(0);
  AddedHook h = AddHook(app.url() + "/batch", {"--batch", "10", "--from", std::to_string(from)});
  EXPECT_EQ(h.cursor, from - 1);
  StartHook();
  ASSERT_TRUE(Eventually([&] { return Events(app, h.secret, h.uuid).size() >= kMsgs; })) << hook_->log();
  auto events = Events(app, h.secret, h.uuid);
  EXPECT_EQ(app.count(), 3u);  // 10 + 10 + 5
  ASSERT_EQ(events.size(), static_cast<size_t>(kMsgs));
  for (int i = 0; i < kMsgs; ++i) EXPECT_EQ(events[i].seq, from + i);
}

TEST_P(HookTest, KillNineMidDeliveryLosesNothingAndRedeliversOnlyWhatWasNotAcknowledged) {
  MockProvider app;
  // Slow answers, so the kill lands while a POST is in flight.
  app.SetDefault(MockResponse{200, "{}", "application/json", {}, 300});
  AddedHook h = AddHook(app.url() + "/courier");
  constexpr int kMsgs = 10;
  for (int i = 0; i < kMsgs; ++i) Receive("k" + std::to_string(i));
  StartHook();
  ASSERT_TRUE(Eventually([&] { return app.count() >= 3; })) << hook_->log();
  EXPECT_EQ(hook_->Stop(9), 128 + 9);
  const size_t before_kill = app.count();
  const int64_t acked = json::GetInt(ShowHook(h.id), "cursor").value_or(-1);
  ASSERT_GE(acked, h.cursor);
  // Received before the kill but never acknowledged: the one in flight,
  // or one answered whose cursor had not committed.
  auto got = Events(app, h.secret, h.uuid);
  int64_t unacknowledged = 0;
  for (const auto& e : got) unacknowledged += e.seq > acked ? 1 : 0;
  EXPECT_LE(unacknowledged, 1);

  app.SetDefault(MockResponse{});
  StartHook();
  ASSERT_TRUE(Eventually([&] {
    return json::GetInt(ShowHook(h.id), "cursor").value_or(0) == h.cursor + kMsgs;
  })) << hook_->log();
  got = Events(app, h.secret, h.uuid);
  // Exactly the unacknowledged ones twice, every other once.
  EXPECT_EQ(got.size(), static_cast<size_t>(kMsgs + unacknowledged));
  std::set<int64_t> seqs;
  for (const auto& e : got) seqs.insert(e.seq);
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kMsgs));
  EXPECT_EQ(*seqs.begin(), h.cursor + 1);
  EXPECT_EQ(*seqs.rbegin(), h.cursor + kMsgs);
  // In order before the kill, and in order after it, from the cursor.
  for (size_t i = 1; i < before_kill; ++i) EXPECT_EQ(got[i].seq, got[i - 1].seq + 1);
  ASSERT_GT(got.size(), before_kill);
  EXPECT_EQ(got[before_kill].seq, acked + 1);
  for (size_t i = before_kill + 1; i < got.size(); ++i) EXPECT_EQ(got[i].seq, got[i - 1].seq + 1);
}

TEST_P(HookTest, ApplicationFailingForAWhileGetsEverythingInOrderAfterwards) {
  MockProvider app;
  for (int i = 0; i < 3; ++i) app.On("/flaky", MockResponse{500, "{\"error\":\"db down\"}"});
  AddedHook h = AddHook(app.url() + "/flaky");
  constexpr int kMsgs = 5;
  for (int i = 0; i < kMsgs; ++i) Receive("f" + std::to_string(i));
  StartHook();
  // After the first failure the hook reports it while it waits.
  std::vector<json::ObjectPtr> hooks;
  ASSERT_TRUE(Eventually([&] {
    hooks = StatusHooks();
    return hooks.size() == 1 && json::GetInt(hooks[0], "failures").value_or(0) >= 1;
  })) << hook_->log();
  EXPECT_EQ(json::GetStringOrEmpty(hooks[0], "last_error").rfind("HTTP 500", 0), 0u)
      << json::GetStringOrEmpty(hooks[0], "last_error");
  EXPECT_GE(json::GetInt(hooks[0], "lag_events").value_or(0), 1);

  ASSERT_TRUE(Eventually([&] {
    return json::GetInt(ShowHook(h.id), "cursor").value_or(0) == h.cursor + kMsgs;
  })) << hook_->log();
  auto got = Events(app, h.secret, h.uuid);
  ASSERT_EQ(got.size(), static_cast<size_t>(kMsgs + 3));
  // The first event four times (three 500s, then the 200), then the rest once each, in order.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i].seq, h.cursor + 1);
  for (int i = 1; i < kMsgs; ++i) EXPECT_EQ(got[3 + i].seq, h.cursor + 1 + i);
  EXPECT_EQ(json::GetInt(ShowHook(h.id), "failures"), 0);
}

TEST_P(HookTest, ADeadApplicationHoldsUpOnlyItsOwnHook) {
  TarpitServer dead(1000, 600);  // accepts, then drips a byte a second for 10 minutes
  MockProvider healthy;
  AddedHook slow = AddHook(dead.url() + "/never", {"--events", "msg.received"});
  AddedHook fine = AddHook(healthy.url() + "/ok", {"--events", "msg.received"});
  StartHook({{"COURIER_HOOK_TIMEOUT", "600"}});
  Receive("first");
  ASSERT_TRUE(dead.WaitForConnections(1));
  constexpr int kMsgs = 20;
  for (int i = 1; i < kMsgs; ++i) Receive("m" + std::to_string(i));
  ASSERT_TRUE(Eventually([&] { return healthy.count() >= kMsgs; })) << hook_->log();
  auto got = Events(healthy, fine.secret, fine.uuid);
  ASSERT_EQ(got.size(), static_cast<size_t>(kMsgs));
  for (int i = 0; i < kMsgs; ++i) EXPECT_EQ(got[i].seq, fine.cursor + 1 + i);

  std::vector<json::ObjectPtr> hooks;
  ASSERT_TRUE(Eventually([&] {
    hooks = StatusHooks();
    // The status is refreshed from the store now and then: wait for one
    // taken after the healthy hook's last delivery, not an early one in
    // which both hooks were trivially level.
    return hooks.size() == 2 && json::GetInt(hooks[1], "cursor") == fine.cursor + kMsgs &&
           json::GetInt(hooks[1], "lag_events") == 0;
  }));
  EXPECT_EQ(json::GetInt(hooks[0], "id"), slow.id);
  EXPECT_EQ(json::GetInt(hooks[0], "cursor"), slow.cursor);
  EXPECT_EQ(json::GetInt(hooks[0], "lag_events"), kMsgs);
  EXPECT_EQ(dead.connections(), 1);
  // courier-recv never waited for either: every webhook above was answered.
  EXPECT_EQ(Lines(Ctl({"msgs", "list", "--json", "--limit", "1000"}).out).size(), static_cast<size_t>(kMsgs));
  // A stop aborts the POST stuck in flight at once.
  EXPECT_EQ(hook_->Stop(), 0) << hook_->log();
}

TEST_P(HookTest, RapidProFormatSendsTheReferenceRequestsToTheUrlAsItIs) {
  MockProvider rapidpro;
  // A URL with a query and no placeholder: the reference's printf bug
  // would have appended "%!(EXTRA string=...)" to it.
  const std::string url = rapidpro.url() + "/handlers/mage/handle_message?org=1";
  AddedHook h = AddHook(url, {"--format", "rapidpro", "--token", "rp-token-123", "--secret", "my-own-secret"});
  EXPECT_EQ(h.secret, "");  // not generated: not printed
  StartHook();
  Receive("hello");
  ASSERT_EQ(Ctl({"send", "--channel", channel_, "--urn", "tel:+250788383383", "--text", "queued"}).exit_code, 0);
  ASSERT_EQ(Ctl({"contact", "stop", "tel:+250788383383"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return rapidpro.count() >= 2; })) << hook_->log();
  auto msgs = Ctl({"msgs", "list", "--direction", "in", "--json"});
  auto msg = json::ParseObject(Lines(msgs.out).at(0));
  ASSERT_TRUE(msg.ok());
  // The contact's id is in the store's contact.stopped event only.
  int64_t contact_id = 0;
  for (const auto& e : JsonLines(Ctl({"events", "--json"}).out))
    if (json::GetStringOrEmpty(e, "topic") == "contact.stopped") contact_id = json::GetInt(e, "contact_id").value_or(0);
  ASSERT_GT(contact_id, 0);

  // The queued msg and anything else is not posted: two requests only,
  // once the cursor is past every event.
  auto last = json::ParseObject(Lines(Ctl({"events", "--json"}).out).back());
  ASSERT_TRUE(last.ok());
  const int64_t last_seq = json::GetInt(*last, "seq").value_or(0);
  ASSERT_TRUE(Eventually([&] { return json::GetInt(ShowHook(h.id), "cursor") == last_seq; }));
  auto requests = rapidpro.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, "action=handle_message&message_id=" + std::to_string(*json::GetInt(*msg, "id")));
  EXPECT_EQ(requests[1].body, "action=stop_contact&contact_id=" + std::to_string(contact_id));
  for (const auto& r : requests) {
    EXPECT_EQ(r.uri, "/handlers/mage/handle_message?org=1");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("authorization"), "Token rp-token-123");
    EXPECT_EQ(r.headers.at("content-type"), "application/x-www-form-urlencoded");
    EXPECT_TRUE(VerifyHookSignature(r.headers.at("x-courier-signature"), "my-own-secret", r.body,
                                    static_cast<int64_t>(std::time(nullptr))));
  }
  // Tokens are masked for operators.
  EXPECT_EQ(Ctl({"hook", "show", std::to_string(h.id), "--json"}).out.find("rp-token-123"), std::string::npos);
  EXPECT_EQ(Ctl({"hook", "show", std::to_string(h.id), "--json"}).out.find("my-own-secret"), std::string::npos);
}

TEST_P(HookTest, GonePausesTheHookUntilResumed) {
  MockProvider app;
  app.On("/gone", MockResponse{410, "{\"error\":\"unsubscribed\"}"});
  AddedHook h = AddHook(app.url() + "/gone");
  StartHook();
  Receive("one");
  Receive("two");
  ASSERT_TRUE(Eventually([&] { return json::GetBool(ShowHook(h.id), "paused") == true; })) << hook_->log();
  auto shown = ShowHook(h.id);
  EXPECT_EQ(json::GetStringOrEmpty(shown, "paused_reason").rfind("410 Gone", 0), 0u);
  EXPECT_EQ(json::GetStringOrEmpty(shown, "last_error").rfind("HTTP 410", 0), 0u);
  EXPECT_EQ(json::GetInt(shown, "cursor"), h.cursor);
  EXPECT_EQ(app.count(), 1u);

  ASSERT_EQ(Ctl({"hook", "resume", h.uuid}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return json::GetInt(ShowHook(h.id), "cursor") == h.cursor + 2; })) << hook_->log();
  auto got = Events(app, h.secret, h.uuid);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].seq, h.cursor + 1);
  EXPECT_EQ(got[1].seq, h.cursor + 1);
  EXPECT_EQ(got[2].seq, h.cursor + 2);
}

TEST_P(HookTest, ReplayPostsTheEventsAgainWithTheSameUuids) {
  MockProvider app;
  AddedHook h = AddHook(app.url() + "/r");
  StartHook();
  for (int i = 0; i < 3; ++i) Receive("r" + std::to_string(i));
  ASSERT_TRUE(Eventually([&] { return json::GetInt(ShowHook(h.id), "cursor") == h.cursor + 3; }));
  auto replay = Ctl({"hook", "replay", std::to_string(h.id), "--from", std::to_string(h.cursor + 2)});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  ASSERT_TRUE(Eventually([&] { return app.count() >= 5; })) << hook_->log();
  auto got = Events(app, h.secret, h.uuid);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[3].seq, h.cursor + 2);
  EXPECT_EQ(got[4].seq, h.cursor + 3);
  EXPECT_EQ(got[3].uuid, got[1].uuid);
  EXPECT_EQ(got[4].uuid, got[2].uuid);
  EXPECT_EQ(json::GetInt(ShowHook(h.id), "cursor"), h.cursor + 3);
}

// courier-api's own writes (msgs queued, contacts stopped) wake
// courier-hook through api-events. Its poll is ten minutes here, so only
// the wake can deliver within the test's waits: without the feed the
// second phase below fails.
TEST_P(HookTest, WritesThroughCourierApiWakeTheHookAtOnce) {
  MockProvider app;
  AddedHook h = AddHook(app.url() + "/from-api");
  auto token_added = Ctl({"token", "add", "--name", "app", "--scope", "send,admin"});
  ASSERT_EQ(token_added.exit_code, 0) << token_added.err;
  const std::string token = Lines(token_added.out).back();
  const int api_port = FreePort();
  env_["COURIER_API_PORT"] = std::to_string(api_port);
  Daemon api({Bin("courier-api")}, env_, dir_.File("api.log"));
  ASSERT_TRUE(api.WaitForHttp(api_port)) << api.log();
  StartHook({{"COURIER_HOOK_POLL_INTERVAL", "600"}});
  const std::string base = "http://127.0.0.1:" + std::to_string(api_port) + "/api/v1/";
  auto post = [&](const std::string& path, const std::string& body) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = base + path;
    req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
    req.body = body;
    return http_->Do(req);
  };
  int queued = 0;
  auto queue = [&] {
    auto answer = post("msgs", R"({"channel":")" + channel_ + R"(","urn":"tel:+250788383383","text":"reply )" +
                                   std::to_string(queued) + R"("})");
    EXPECT_EQ(answer.status_code, 201) << answer.body;
    ++queued;
  };

  // 1. Until courier-hook has subscribed (a PUB drops what it publishes
  // before): msgs queued a few tenths of a second apart, until one arrives.
  for (int i = 0; i < 50 && app.count() == 0; ++i) {
    queue();
    Eventually([&] { return app.count() > 0; }, std::chrono::milliseconds(300));
  }
  ASSERT_GT(app.count(), 0u) << hook_->log() << api.log();
  ASSERT_TRUE(Eventually([&] { return json::GetInt(ShowHook(h.id), "cursor") == h.cursor + queued; }, std::chrono::milliseconds(15000)))
      << hook_->log();

  // 2. Subscribed, and the worker idle on its ten-minute poll: each write
  // is delivered within seconds, by the wake alone.
  queue();
  ASSERT_TRUE(Eventually([&] { return Events(app, h.secret, h.uuid).size() == static_cast<size_t>(queued); }, std::chrono::milliseconds(10000)))
      << hook_->log();
  auto stopped = post("contacts/stop", R"({"urn":"tel:+250788383383"})");
  ASSERT_EQ(stopped.status_code, 200) << stopped.body;
  ASSERT_TRUE(Eventually([&] { return Events(app, h.secret, h.uuid).size() == static_cast<size_t>(queued) + 1; },
                         std::chrono::milliseconds(10000)))
      << hook_->log();

  // Every event once, in seq order: the msgs queued, then the stop.
  auto events = Events(app, h.secret, h.uuid);
  ASSERT_EQ(events.size(), static_cast<size_t>(queued) + 1);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, h.cursor + 1 + static_cast<int64_t>(i));
    EXPECT_EQ(events[i].topic, i + 1 < events.size() ? "msg.queued" : "contact.stopped");
  }
  EXPECT_EQ(json::GetStringOrEmpty(events[queued - 1].data, "text"), "reply " + std::to_string(queued - 1));
  EXPECT_EQ(hook_->Stop(), 0) << hook_->log();
  EXPECT_EQ(api.Stop(), 0) << api.log();
}

// The code block of courier-hook(8) that follows the line holding
// `after`, as the reader copies it (roff escapes undone).
std::string ManSnippet(const std::string& after) {
  const std::string page = ReadFile(std::string(COURIER_SOURCE_DIR) + "/man/courier-hook.8");
  size_t at = page.find(after);
  at = page.find(".EX\n", at);
  const size_t end = page.find(".EE\n", at);
  if (at == std::string::npos || end == std::string::npos) return "";
  std::string text = page.substr(at + 4, end - at - 4), out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "\\-") == 0) {
      out += '-';
      ++i;
    } else if (text.compare(i, 4, "\\(aq") == 0) {
      out += '\'';
      i += 3;
    } else if (text.compare(i, 2, "\\e") == 0) {
      out += '\\';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

TEST_P(HookTest, TheManPageSnippetsVerifyARealRequest) {
  MockProvider app;
  AddedHook h = AddHook(app.url() + "/check");
  StartHook();
  Receive("check%20me%20%E2%9C%93");
  // The hook's own POST: under parallel tests another test's daemon may
  // still post to a port this mock was given after it (seen once, unsigned).
  RecordedRequest r;
  ASSERT_TRUE(Eventually([&] {
    for (const RecordedRequest& seen : app.requests())
      if (seen.path == "/check" && seen.headers.count("x-courier-signature") > 0) r = seen;
    return !r.body.empty();
  })) << hook_->log() << ShowRequests(app);
  WriteFile(dir_.File("body"), r.body);
  const std::string sig = r.headers.at("x-courier-signature");

  const std::string shell = ManSnippet("Checking a request in a shell");
  ASSERT_NE(shell.find("openssl dgst"), std::string::npos) << shell;
  auto run_shell = [&](const std::string& secret) {
    return RunProgram({"/bin/sh", "-c", "cd " + dir_.path() + " && " + shell}, "", {{"SECRET", secret}, {"sig", sig}}).out;
  };
  EXPECT_EQ(run_shell(h.secret), "valid\n");
  EXPECT_EQ(run_shell(h.secret + "x"), "");

  const std::string python = ManSnippet("And in Python:");
  ASSERT_NE(python.find("def valid"), std::string::npos) << python;
  WriteFile(dir_.File("check.py"), python + "\nimport sys\nprint(valid(sys.argv[1], open(sys.argv[2], 'rb').read(), sys.argv[3]))\n");
  auto run_python = [&](const std::string& secret, const std::string& body_file) {
    return RunProgram({"/usr/bin/python3", dir_.File("check.py"), sig, dir_.File(body_file), secret}).out;
  };
  EXPECT_EQ(run_python(h.secret, "body"), "True\n");
  EXPECT_EQ(run_python("wrong", "body"), "False\n");
  WriteFile(dir_.File("tampered"), r.body + " ");
  EXPECT_EQ(run_python(h.secret, "tampered"), "False\n");
}

// contrib/examples/hook-app.py, the demo application, run for real.
TEST_P(HookTest, TheDemoApplicationPrintsEventsAndRefusesForgeries) {
  const int app_port = FreePort();
  auto added = Ctl({"hook", "add", "--url", "http://127.0.0.1:" + std::to_string(app_port) + "/events"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  WriteFile(dir_.File("secret"), Lines(added.out).back() + "\n");
  Daemon app({"/usr/bin/python3", std::string(COURIER_SOURCE_DIR) + "/contrib/examples/hook-app.py",
              std::to_string(app_port), dir_.File("secret")},
             {}, dir_.File("app.out"));
  ASSERT_TRUE(app.WaitForHttp(app_port)) << app.log();
  StartHook();
  Receive("demo%20one");
  Receive("demo%20two");
  ASSERT_TRUE(Eventually([&] { return Lines(app.log()).size() >= 2; })) << app.log() << hook_->log();
  auto lines = Lines(app.log());
  EXPECT_NE(lines[0].find(" msg.received "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("demo one"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("demo two"), std::string::npos) << lines[1];
  HttpRequestSpec forged;
  forged.method = "POST";
  forged.url = "http://127.0.0.1:" + std::to_string(app_port) + "/events";
  forged.headers = {{"X-Courier-Signature", HookSignature("guessed", std::time(nullptr), "[]")}};
  forged.body = "[]";
  EXPECT_EQ(http_->Do(forged).status_code, 401);
  EXPECT_TRUE(Eventually([&] { return app.log().find("refused: bad signature") != std::string::npos; }));
}

TEST_P(HookTest, HooksAreManagedWithCourierCtl) {
  auto bad = Ctl({"hook", "add", "--url", "ftp://x"});
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_EQ(bad.err, "courier-ctl: hook add --url must start with http:// or https://, not 'ftp://x'\n");
  bad = Ctl({"hook", "add", "--url", "http://x", "--events", "msg.recieved"});
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_NE(bad.err.find("unknown topic 'msg.recieved'"), std::string::npos) << bad.err;
  bad = Ctl({"hook", "add", "--url", "http://x", "--channel", "0190f3c2-9a6e-4c41-8d1e-5b7a2f3c4d5e"});
  EXPECT_EQ(bad.exit_code, 66) << bad.err;

  auto added = Ctl({"hook", "add", "--url", "https://user:pw@app.example.com/in?token=abc"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  auto lines = Lines(added.out);
  ASSERT_EQ(lines.size(), 3u) << added.out;
  EXPECT_EQ(lines[2].size(), 64u);  // the secret alone on the last line
  EXPECT_EQ(added.out.find("pw@"), std::string::npos);  // credentials in the URL masked
  auto list = Ctl({"hook", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out.find(lines[2]), std::string::npos);
  // The token's value never shown ("=abc": "abc" alone is found in one
  // hook uuid in about a hundred, and failed this test once).
  EXPECT_EQ(list.out.find("=abc"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(":pw@"), std::string::npos) << list.out;
  // Without courier-hook, status reads the hooks from the store.
  Receive("waiting");
  auto hooks = StatusHooks();
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(json::GetInt(hooks[0], "lag_events"), 1);
  EXPECT_EQ(json::GetStringOrEmpty(hooks[0], "url"), "https://user:********@app.example.com/in?token=********");
  EXPECT_FALSE(hooks[0]->has("delivered"));
  EXPECT_EQ(Ctl({"hook", "pause", "1", "--reason", "maintenance"}).exit_code, 0);
  EXPECT_EQ(json::GetStringOrEmpty(ShowHook(1), "paused_reason"), "maintenance");
  EXPECT_EQ(Ctl({"hook", "resume", "1"}).exit_code, 0);
  EXPECT_EQ(Ctl({"hook", "rm", "1"}).exit_code, 0);
  auto gone = Ctl({"hook", "show", "1"});
  EXPECT_EQ(gone.exit_code, 66);
  EXPECT_EQ(gone.err, "courier-ctl: hook not found: 1\n");
}

}  // namespace
