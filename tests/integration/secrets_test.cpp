// Invariants 6 and 9 end to end: a channel whose credentials sit inside a
// setting's URL (userinfo, api_key and token parameters) runs through the
// whole pipeline (courier-recv with a store outage, courier-flush,
// courier-send with a failed then a good attempt, courier-ctl), and not
// one of its secrets appears in any process log, channel log, spool file,
// event or command output, while the provider did receive every one.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/json.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

// Every secret of the channel, and the forms it may travel in.
const std::vector<std::string> kSecrets = {
    "s3cretpw",              // the send_url's userinfo password
    "dXNlcjpzM2NyZXRwdw==",  // user:s3cretpw as Basic auth sends it
    "K3Y123",                // ?api_key=
    "T0KEN456",              // &token=
    "W3BH00KS3CR3T",         // a setting under a secret key
};

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},   {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},     {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_ADDRESS", "127.0.0.1"},          {"COURIER_LOG_LEVEL", "debug"},
            {"COURIER_RETRY_BACKOFF", "1"}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
  }

  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("courier-ctl"));
    RunResult r = RunProgram(args, "", env_);
    seen_.push_back("courier-ctl " + args[1] + ": " + r.out + r.err);
    return r;
  }

  HttpExchange Post(const std::string& path, const std::string& body) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    HttpExchange ex = http_->Do(req);
    seen_.push_back("an answer of courier-recv: " + ex.response_dump);
    return ex;
  }

  // Every file under the spool, as it is now.
  void SeeSpool(const std::string& when) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.File("spool"))) {
      if (entry.is_regular_file()) seen_.push_back("spool file " + entry.path().string() + " " + when + ": " +
                                                   ReadFile(entry.path().string()));
    }
  }

  std::string MsgStatus(const std::string& direction) {
    return Ctl({"msgs", "list", "--direction", direction, "--json"}).out;
  }

  TempDir dir_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  MockProvider provider_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
  std::vector<std::string> seen_;  // everything an operator or a script can read
};

TEST_F(SecretsTest, NoSecretOfAChannelShowsAnywhereAfterAFullRun) {
  const std::string provider = provider_.url();  // http://127.0.0.1:PORT
  const std::string send_url = "http://user:s3cretpw@" + provider.substr(7) +
                               "/send?api_key=K3Y123&token=T0KEN456&to={{to}}";
  auto added = Ctl({"channel", "add", "--type", "EX", "--address", "1234", "--country", "RW", "--config",
                    "send_url=" + send_url, "--config", "secret=W3BH00KS3CR3T", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string channel = json::GetStringOrEmpty(*json::ParseObject(Lines(added.out)[0]), "uuid");
  ASSERT_EQ(channel.size(), 36u) << added.out;
  // The setting is shown, its credentials masked.
  const RunResult shown = Ctl({"channel", "show", channel});
  EXPECT_NE(shown.out.find("send_url=http://user:********@" + provider.substr(7) +
                           "/send?api_key=********&token=********&to={{to}}"),
            std::string::npos)
      << shown.out;
  Ctl({"channel", "show", channel, "--json"});
  Ctl({"channel", "list"});
  Ctl({"channel", "list", "--json"});

  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  Daemon flush({Bin("courier-flush"), "--interval", "1"}, env_, dir_.File("flush.log"));
  Daemon send({Bin("courier-send")}, env_, dir_.File("send.log"));

  // A provider calling back with the token in the URL; a refused request
  // carrying the api key in its query.
  const std::string receive = "/c/ex/" + channel + "/receive?token=T0KEN456";
  ASSERT_EQ(Post(receive, "from=%2B250788383383&text=before").status_code, 200);
  EXPECT_EQ(Post("/c/ex/0b4d2b1e-5f0c-4e43-9d3a-2a7f3c8e9d10/receive?api_key=K3Y123", "from=1&text=x").status_code,
            400);
  EXPECT_EQ(Post(receive, "text=no%20sender").status_code, 400);

  // The store out: webhooks go to the spool; then courier-flush replays them.
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(Post(receive, "from=%2B250788383383&text=during%20" + std::to_string(i)).status_code, 200);
    SeeSpool("during the outage");
    EXPECT_FALSE(seen_.empty());
  }
  ASSERT_TRUE(Eventually([&] { return Lines(MsgStatus("in")).size() == 4; })) << flush.log();
  SeeSpool("after the flush");

  // Sent once in error (a 500 from the provider), then sent.
  provider_.On("/send", {.status = 500, .body = "{\"error\":\"down\"}"});
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "hello"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return MsgStatus("out").find("\"status\":\"W\"") != std::string::npos; }))
      << send.log() << MsgStatus("out");

  // The provider got every credential: the test would see a leak.
  ASSERT_EQ(provider_.count(), 2u);
  for (const auto& r : provider_.requests()) {
    EXPECT_EQ(r.params.at("api_key"), "K3Y123");
    EXPECT_EQ(r.params.at("token"), "T0KEN456");
    EXPECT_EQ(r.headers.at("authorization"), "Basic dXNlcjpzM2NyZXRwdw==");
  }

  Ctl({"logs", "--json"});
  Ctl({"logs", "--channel", channel, "--json"});
  Ctl({"logs"});
  Ctl({"events", "--json"});
  Ctl({"msgs", "list", "--json"});
  Ctl({"queue", "--json"});
  Ctl({"spool", "--json"});
  Ctl({"status", "--json"});
  Ctl({"status"});
  EXPECT_EQ(recv.Stop(), 0);
  EXPECT_EQ(send.Stop(), 0);
  EXPECT_EQ(flush.Stop(), 0);
  seen_.push_back("courier-recv log: " + recv.log());
  seen_.push_back("courier-send log: " + send.log());
  seen_.push_back("courier-flush log: " + flush.log());

  // The logs are there to be searched: the run did log its requests.
  const std::string logs = RunProgram({Bin("courier-ctl"), "logs", "--json"}, "", env_).out;
  EXPECT_NE(logs.find("api_key=********"), std::string::npos) << logs;
  EXPECT_NE(recv.log().find("request refused"), std::string::npos) << recv.log();
  for (const auto& text : seen_) {
    for (const auto& secret : kSecrets) {
      const size_t at = text.find(secret);
      EXPECT_EQ(at, std::string::npos) << secret << " in " << text.substr(0, 80) << " ... "
                                       << text.substr(at == std::string::npos ? 0 : (at > 200 ? at - 200 : 0), 400);
    }
  }
}

}  // namespace
