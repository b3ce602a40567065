// courier-api end to end: the real daemon on a loopback port with a real
// SQLite store, tokens made by courier-ctl, courier-send delivering to a
// local mock provider, courier-recv taking a webhook for the long poll, and
// another process locking the store.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/json.h"
#include "courier_fixture.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

class ApiFixture : public CourierFixture {
 protected:
  void SetUp() override {
    api_port_ = FreePort();
    env_["COURIER_API_PORT"] = std::to_string(api_port_);
    env_["COURIER_RETRY_BACKOFF"] = "1";
    InitStore();
    channel_ = AddChannel("EX", {"send_url=" + provider_.url() + "/send"});
    send_token_ = Token("app", "send,read");
    read_token_ = Token("dashboard", "read");
  }

  std::string Token(const std::string& name, const std::string& scopes) {
    auto added = Ctl({"token", "add", "--name", name, "--scope", scopes});
    EXPECT_EQ(added.exit_code, 0) << added.err;
    auto lines = Lines(added.out);
    return lines.empty() ? "" : lines.back();
  }

  void StartApi() {
    api_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-api")}, env_, dir_.File("api.log"));
    ASSERT_TRUE(api_->WaitForHttp(api_port_)) << api_->log();
  }
  void StartSend() {
    send_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-send")}, env_, dir_.File("send.log"));
  }

  HttpExchange Api(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& token = "", std::vector<std::pair<std::string, std::string>> headers = {},
                   const std::string& content_type = "application/json") {
    HttpRequestSpec req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(api_port_) + path;
    req.body = body;
    req.headers = std::move(headers);
    if (!body.empty()) req.headers.emplace_back("Content-Type", content_type);
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    HttpClientOptions options;
    options.timeout_seconds = 60;
    options.deadline_seconds = 60;
    return NewLoopbackHttpClient(options)->Do(req);
  }

  std::string Msg(const std::string& urn, const std::string& text) {
    return "{\"channel\":\"" + channel_ + "\",\"urn\":\"" + urn + "\",\"text\":\"" + text + "\"}";
  }

  size_t Rows(const std::vector<std::string>& what) {
    auto r = Ctl(what);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Lines(r.out).size();
  }
  size_t MsgCount() { return Rows({"msgs", "list", "--limit", "100000", "--json"}); }
  size_t EventCount() { return Rows({"events", "--json"}); }

  json::ObjectPtr Object(const HttpExchange& e) {
    auto o = json::ParseObject(e.body);
    EXPECT_TRUE(o.ok()) << e.status_code << " " << e.body << " " << e.error;
    return o.ok() ? *o : json::NewObject();
  }

  int api_port_ = 0;
  MockProvider provider_;
  std::string channel_, send_token_, read_token_;
  std::unique_ptr<Daemon> api_, send_;
};

// Every test below runs on both engines (Engines/ApiTest.*/SQLite and .../PostgreSQL), except ApiTestSqlite.*: they
// read the SQLite file's bytes, or lock it from another process.
using ApiTest = OnBothEngines<ApiFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(ApiTest);
using ApiTestSqlite = ApiFixture;

TEST_F(ApiTestSqlite, TokenAddPrintsTheTokenAloneOnItsLastLineAndKeepsOnlyItsHash) {
  auto added = Ctl({"token", "add", "--name", "ops", "--scope", "admin"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string token = Lines(added.out).back();
  EXPECT_EQ(token.rfind("ctk_", 0), 0u) << added.out;
  EXPECT_EQ(token.find(' '), std::string::npos);
  EXPECT_EQ((ReadFile(env_["COURIER_DB"]) + ReadFile(env_["COURIER_DB"] + "-wal")).find(token), std::string::npos);
  auto list = Ctl({"token", "list", "--json"});
  EXPECT_EQ(Lines(list.out).size(), 3u);
  EXPECT_EQ(list.out.find(token), std::string::npos);
  EXPECT_EQ(Ctl({"token", "add", "--name", "ops"}).exit_code, 65);  // the name is taken
  EXPECT_EQ(Ctl({"token", "add", "--name", "x", "--scope", "root"}).exit_code, 64);
  EXPECT_EQ(Ctl({"token", "rm", "nobody"}).exit_code, 66);
  EXPECT_EQ(Ctl({"token", "rm", "ops"}).exit_code, 0);
  EXPECT_EQ(Lines(Ctl({"token", "list", "--json"}).out).size(), 2u);
}

TEST_P(ApiTest, PostedMsgReachesTheProviderAndTheApiReadsItsStatus) {
  StartSend();
  StartApi();
  auto posted = Api("POST", "/api/v1/msgs", Msg("tel:0788383383", "Muraho"), send_token_);
  ASSERT_EQ(posted.status_code, 201) << posted.body << api_->log();
  const std::string uuid = json::GetStringOrEmpty(Object(posted), "uuid");
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; })) << send_->log();
  EXPECT_EQ(provider_.requests()[0].form.at("text"), "Muraho");
  EXPECT_EQ(provider_.requests()[0].form.at("to"), "+250788383383");
  ASSERT_TRUE(Eventually([&] {
    return json::GetStringOrEmpty(Object(Api("GET", "/api/v1/msgs/" + uuid, "", read_token_)), "status") == "W";
  }));
  // An array: all queued in one transaction, each sent once.
  auto many = Api("POST", "/api/v1/msgs",
                  "[" + Msg("tel:+250788000001", "a") + "," + Msg("tel:+250788000002", "b") + "," +
                      Msg("tel:+250788000003", "c") + "]",
                  send_token_);
  ASSERT_EQ(many.status_code, 201) << many.body;
  EXPECT_EQ(json::GetArray(Object(many), "msgs")->size(), 3u);
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 4; }));
  EXPECT_EQ(MsgCount(), 4u);
  // courier-ctl status shows courier-api and its counts.
  auto status = Ctl({"status", "--json"});
  auto report = json::ParseObject(status.out);
  ASSERT_TRUE(report.ok()) << status.out;
  auto api_status = json::GetObject(json::GetObject(*report, "daemons"), "courier-api");
  ASSERT_TRUE(api_status) << status.out;
  EXPECT_EQ(json::GetInt(json::GetObject(json::GetObject(api_status, "requests"), "POST /api/v1/msgs"), "201"), 2);
  EXPECT_EQ(api_->Stop(), 0) << api_->log();
}

TEST_P(ApiTest, AnArrayWithOneBadMsgQueuesNothing) {
  StartApi();
  auto bad = Api("POST", "/api/v1/msgs",
                 "[" + Msg("tel:+250788000001", "a") + "," + Msg("tel:+250788000002", "b") + "," +
                     Msg("tel:+", "c") + "]",
                 send_token_);
  EXPECT_EQ(bad.status_code, 422) << bad.body;
  EXPECT_EQ(json::GetStringOrEmpty(Object(bad), "field"), "[2].urn");
  EXPECT_EQ(MsgCount(), 0u);
  EXPECT_EQ(EventCount(), 0u);
}

TEST_P(ApiTest, IdempotencyKeyQueuesOnceAndRefusesAnotherBody) {
  StartSend();
  StartApi();
  const std::string body = Msg("tel:+250788383383", "once");
  auto first = Api("POST", "/api/v1/msgs", body, send_token_, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status_code, 201) << first.body;
  auto again = Api("POST", "/api/v1/msgs", body, send_token_, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(again.status_code, 201) << again.body;
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  auto other = Api("POST", "/api/v1/msgs", Msg("tel:+250788383383", "twice"), send_token_, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status_code, 409) << other.body;
  EXPECT_EQ(MsgCount(), 1u);
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; }));
  // Sent, and asked again: still the first answer, nothing sent twice.
  auto late = Api("POST", "/api/v1/msgs", body, send_token_, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(late.body, first.body);
  EXPECT_EQ(MsgCount(), 1u);
  // Keys expire with retention (api_idempotency_hours; prune applies it).
  EXPECT_EQ(Ctl({"prune", "--logs-older-than", "1"}).exit_code, 0);
  EXPECT_EQ(Api("POST", "/api/v1/msgs", body, send_token_, {{"Idempotency-Key", "k-1"}}).status_code, 201);
  EXPECT_EQ(MsgCount(), 1u);  // less than a day old: kept
}

// Every refusal, through the real server: its status, and no row stored.
TEST_P(ApiTest, EveryRefusalStoresNothing) {
  env_["COURIER_API_MAX_BODY_BYTES"] = "2048";
  StartApi();
  const size_t msgs = MsgCount(), events = EventCount();
  struct Case {
    std::string name;
    std::string method, path, body, token, content_type;
    int status;
  } cases[] = {
      {"no token", "POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), "", "application/json", 401},
      {"unknown token", "POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), "ctk_forged", "application/json", 401},
      {"read-only token", "POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), read_token_, "application/json", 403},
      {"stop needs admin", "POST", "/api/v1/contacts/stop", "{\"urn\":\"tel:+250788383383\"}", send_token_, "application/json", 403},
      {"malformed JSON", "POST", "/api/v1/msgs", "{\"channel\": ", send_token_, "application/json", 400},
      {"wrong content type", "POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), send_token_, "text/plain", 415},
      {"too big", "POST", "/api/v1/msgs", Msg("tel:+250788383383", std::string(4000, 'x')), send_token_, "application/json", 413},
      {"invalid URN", "POST", "/api/v1/msgs", Msg("tel:+", "x"), send_token_, "application/json", 422},
      {"unknown channel", "POST", "/api/v1/msgs", "{\"channel\":\"00000000-0000-4000-8000-000000000000\",\"urn\":\"tel:+250788383383\",\"text\":\"x\"}", send_token_, "application/json", 422},
      {"no text", "POST", "/api/v1/msgs", Msg("tel:+250788383383", ""), send_token_, "application/json", 422},
      {"no token to stop", "POST", "/api/v1/contacts/stop", "{\"urn\":\"tel:+250788383383\"}", "", "application/json", 401},
  };
  for (const auto& c : cases) {
    auto r = Api(c.method, c.path, c.body, c.token, {}, c.content_type);
    EXPECT_EQ(r.status_code, c.status) << c.name << ": " << r.body << r.error;
    EXPECT_FALSE(json::GetStringOrEmpty(Object(r), "error").empty()) << c.name;
  }
  EXPECT_EQ(MsgCount(), msgs);
  EXPECT_EQ(EventCount(), events);
  EXPECT_TRUE(api_->running());
  // Refused tokens are logged, never written out.
  const std::string log = api_->log();
  EXPECT_NE(log.find("api request with an unknown token"), std::string::npos) << log;
  EXPECT_EQ(log.find("ctk_forged"), std::string::npos) << log;
  EXPECT_EQ(log.find(read_token_), std::string::npos) << log;
}

TEST_P(ApiTest, LongPollReturnsWhenAWebhookArrivesAtCourierRecv) {
  StartRecv();
  StartApi();
  auto now = Api("GET", "/api/v1/events?after=0&limit=1000", "", read_token_);
  ASSERT_EQ(now.status_code, 200) << now.body;
  const int64_t after = *json::GetInt(Object(now), "next_after");
  auto poll = std::async(std::launch::async, [&] {
    return Api("GET", "/api/v1/events?after=" + std::to_string(after) + "&wait=30", "", read_token_);
  });
  // Waiting for sure before the webhook (courier-api says so itself).
  ASSERT_TRUE(Eventually([&] {
    auto s = json::ParseObject(Ctl({"status", "--json"}).out);
    if (!s.ok()) return false;
    auto api = json::GetObject(json::GetObject(*s, "daemons"), "courier-api");
    return api && json::GetInt(api, "long_polls_waiting") == 1;
  }));
  HttpRequestSpec hook;
  hook.method = "POST";
  hook.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel_ + "/receive";
  hook.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  hook.body = "from=0788383383&text=hello%20api";
  ASSERT_EQ(NewLoopbackHttpClient()->Do(hook).status_code, 200);
  auto answered = poll.get();
  ASSERT_EQ(answered.status_code, 200) << answered.body;
  auto events = json::Objects(json::GetArray(Object(answered), "events"));
  ASSERT_EQ(events.size(), 1u) << answered.body;
  EXPECT_EQ(json::GetStringOrEmpty(events[0], "topic"), "msg.received");
  EXPECT_NE(answered.body.find("hello api"), std::string::npos);
}

TEST_F(ApiTestSqlite, StoreLockedByAnotherProcessIs503ThenWorksAgain) {
  StartApi();
  {
    StoreLock lock(env_["COURIER_DB"]);
    ASSERT_TRUE(lock.locked());
    auto r = Api("POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), send_token_);
    EXPECT_EQ(r.status_code, 503) << r.body;
    EXPECT_EQ(r.Header("retry-after"), "1");
    EXPECT_FALSE(json::GetStringOrEmpty(Object(r), "error").empty());
  }
  EXPECT_TRUE(api_->running());
  auto r = Api("POST", "/api/v1/msgs", Msg("tel:+250788383383", "x"), send_token_);
  EXPECT_EQ(r.status_code, 201) << r.body;
  EXPECT_EQ(MsgCount(), 1u);
}

TEST_P(ApiTest, RefusesCourierRecvsPort) {
  env_["COURIER_API_PORT"] = std::to_string(port_);
  auto r = RunProgram({Bin("courier-api")}, "", env_);
  EXPECT_EQ(r.exit_code, 64) << r.err;
  EXPECT_NE(r.err.find("courier-recv's port"), std::string::npos) << r.err;
}

}  // namespace

TEST_P(ApiTest, MetricsAreServedToAReadTokenWithThePipelineInThem) {
  StartApi();
  ASSERT_EQ(Api("POST", "/api/v1/msgs", Msg("tel:0788383383", "queued, no sender"), send_token_).status_code, 201);
  EXPECT_EQ(Api("GET", "/metrics").status_code, 401);
  auto metrics = Api("GET", "/metrics", "", read_token_);
  ASSERT_EQ(metrics.status_code, 200) << metrics.body;
  EXPECT_EQ(metrics.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u) << metrics.headers["content-type"];
  // courier-api answers its own control socket while it serves; no
  // courier-send runs, so the msg is still queued.
  EXPECT_NE(metrics.body.find("courier_up{program=\"courier-api\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("courier_up{program=\"courier-send\"} 0"), std::string::npos) << metrics.body;
  const std::string queued = "courier_channel_queued_msgs{channel=\"" + channel_ + "\",channel_type=\"EX\",priority=\"high\"} 1";
  EXPECT_NE(metrics.body.find(queued), std::string::npos) << metrics.body;
}
