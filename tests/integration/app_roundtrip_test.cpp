// An application's whole conversation through courier, every program a
// real process: a provider's webhook into courier-recv -> its event reaches
// the application through courier-hook -> the application replies through
// courier-api -> courier-send delivers the reply to the provider -> the
// provider's delivery report into courier-recv -> the status event reaches
// the application. Exact counts: every event once, in seq order.
#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <thread>

#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "hook/hook_signature.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

struct AppEvent {
  int64_t seq = 0;
  std::string topic;
  json::ObjectPtr data;
};

class AppRoundTripFixture : public CourierFixture {
 protected:
  void SetUp() override {
    api_port_ = FreePort();
    env_["COURIER_API_PORT"] = std::to_string(api_port_);
    InitStore();
    channel_ = AddChannel("EX", {"send_url=" + provider_.url() + "/send"});
  }

  std::unique_ptr<Daemon> Start(const std::string& program) {
    return std::make_unique<Daemon>(std::vector<std::string>{Bin(program)}, env_, dir_.File(program + ".log"));
  }

  HttpExchange Post(const std::string& url, const std::string& content_type, const std::string& body,
                    const std::string& token = "") {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", content_type}};
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = body;
    return http_->Do(req);
  }

  // Every event the application was posted, in arrival order, each
  // request's signature checked with the hook's secret.
  std::vector<AppEvent> AppEvents() {
    std::vector<AppEvent> events;
    for (const auto& r : app_.requests()) {
      auto sig = r.headers.find("x-courier-signature");
      EXPECT_TRUE(sig != r.headers.end() &&
                  VerifyHookSignature(sig->second, secret_, r.body, static_cast<int64_t>(std::time(nullptr))))
          << r.body;
      Poco::JSON::Array::Ptr array;
      try {
        array = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Array::Ptr>();
      } catch (const Poco::Exception&) {
        ADD_FAILURE() << "not a JSON array: " << r.body;
        continue;
      }
      for (const auto& o : json::Objects(array))
        events.push_back({json::GetInt(o, "seq").value_or(0), json::GetStringOrEmpty(o, "topic"),
                          json::GetObject(o, "data")});
    }
    return events;
  }

  std::vector<AppEvent> EventsOf(const std::string& topic) {
    std::vector<AppEvent> of;
    for (auto& e : AppEvents())
      if (e.topic == topic) of.push_back(e);
    return of;
  }

  int api_port_ = 0;
  std::string channel_, secret_;
  MockProvider provider_, app_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
};

// Every test below runs on both engines (Engines/AppRoundTripTest.*/SQLite and .../PostgreSQL).
using AppRoundTripTest = OnBothEngines<AppRoundTripFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(AppRoundTripTest);

TEST_P(AppRoundTripTest, WebhookHookApiSendStatusHook) {
  auto hook_added = Ctl({"hook", "add", "--url", app_.url() + "/courier", "--json"});
  ASSERT_EQ(hook_added.exit_code, 0) << hook_added.err;
  auto hook = json::ParseObject(hook_added.out);
  ASSERT_TRUE(hook.ok()) << hook_added.out;
  secret_ = json::GetStringOrEmpty(*hook, "secret");
  auto token_added = Ctl({"token", "add", "--name", "app", "--scope", "send,read"});
  ASSERT_EQ(token_added.exit_code, 0) << token_added.err;
  const std::string token = Lines(token_added.out).back();

  StartRecv();
  auto send = Start("courier-send");
  auto hookd = Start("courier-hook");
  auto api = Start("courier-api");
  ASSERT_TRUE(api->WaitForHttp(api_port_)) << api->log();
  const std::string recv = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel_;

  // 1. The contact writes; the application hears of it.
  auto webhook = Post(recv + "/receive", "application/x-www-form-urlencoded", "from=0788383383&text=clinic%3F");
  ASSERT_EQ(webhook.status_code, 200) << webhook.body;
  ASSERT_TRUE(Eventually([&] { return EventsOf("msg.received").size() == 1; })) << hookd->log();
  auto received = EventsOf("msg.received")[0].data;
  EXPECT_EQ(json::GetStringOrEmpty(received, "text"), "clinic?");
  const std::string urn = json::GetStringOrEmpty(received, "urn");
  EXPECT_EQ(urn, "tel:+250788383383");

  // 2. The application replies through courier-api, to the URN it was given.
  auto reply = Post("http://127.0.0.1:" + std::to_string(api_port_) + "/api/v1/msgs", "application/json",
                    R"({"channel":")" + channel_ + R"(","urn":")" + urn + R"(","text":"Tuesday 9am"})", token);
  ASSERT_EQ(reply.status_code, 201) << reply.body << api->log();
  auto queued = json::ParseObject(reply.body);
  ASSERT_TRUE(queued.ok());
  const std::string reply_uuid = json::GetStringOrEmpty(*queued, "uuid");

  // 3. courier-send delivers it to the provider, once.
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; })) << send->log();
  EXPECT_EQ(provider_.requests()[0].form.at("text"), "Tuesday 9am");
  EXPECT_EQ(provider_.requests()[0].form.at("to"), "+250788383383");

  // 4. The provider reports delivery; the application hears of each step.
  // The report waits for the send's W: one that overtakes it is kept and
  // the later W is (rightly) not recorded, which is not this test's path.
  ASSERT_TRUE(Eventually([&] {
    auto statuses = EventsOf("status.updated");
    return !statuses.empty() && json::GetStringOrEmpty(statuses.back().data, "status") == "W";
  })) << hookd->log() << send->log();
  // By the msg's UUID, as {{uuid}} in the send gave it to the gateway.
  auto report = Post(recv + "/delivered", "application/x-www-form-urlencoded", "uuid=" + reply_uuid);
  ASSERT_EQ(report.status_code, 200) << report.body;
  ASSERT_TRUE(Eventually([&] {
    auto statuses = EventsOf("status.updated");
    return !statuses.empty() && json::GetStringOrEmpty(statuses.back().data, "status") == "D";
  })) << hookd->log();

  // Every event once, in seq order: received, queued, then the statuses
  // (wired W, delivered D) of the reply.
  auto events = AppEvents();
  for (size_t i = 1; i < events.size(); ++i) EXPECT_EQ(events[i].seq, events[i - 1].seq + 1) << i;
  ASSERT_EQ(EventsOf("msg.queued").size(), 1u);
  EXPECT_EQ(json::GetStringOrEmpty(EventsOf("msg.queued")[0].data, "msg_uuid"), reply_uuid);
  std::vector<std::string> statuses;
  for (auto& e : EventsOf("status.updated")) {
    EXPECT_EQ(json::GetStringOrEmpty(e.data, "msg_uuid"), reply_uuid);
    statuses.push_back(json::GetStringOrEmpty(e.data, "status"));
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"W", "D"}));
  EXPECT_EQ(events.size(), 4u);
  EXPECT_EQ(provider_.count(), 1u);

  for (auto* d : {api.get(), hookd.get(), send.get(), recv_.get()}) EXPECT_EQ(d->Stop(), 0) << d->log();
}

}  // namespace
