// contrib/examples: the shell compositions operators copy, run for real.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/json.h"
#include "harness.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},     {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},       {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_LOG_LEVEL", "warn"},               {"COURIER_CTL", Bin("courier-ctl")}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
    channel_ = Ctl({"channel", "add", "--type", "EX", "--address", "1234", "--country", "RW", "--config",
                    "send_url=http://127.0.0.1:9/send"})
                   .out.substr(0, 36);
  }
  RunResult Ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, input, env_);
  }
  std::string Example(const std::string& name) { return std::string(COURIER_SOURCE_DIR) + "/contrib/examples/" + name; }
  std::vector<json::ObjectPtr> Outgoing() {
    std::vector<json::ObjectPtr> out;
    for (const auto& l : Lines(Ctl({"msgs", "list", "--direction", "out", "--json"}).out)) out.push_back(*json::ParseObject(l));
    return out;
  }

  TempDir dir_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::string channel_;
};

TEST_F(ExamplesTest, AutoReplyBotAnswersEachIncomingMsg) {
  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  // The bot answers what comes after the last event when it starts; told
  // that event (AFTER, as the script allows) rather than given time to
  // start, it answers these msgs however slowly it starts (the sanitized
  // programs on a busy machine take seconds).
  std::string after = "0";
  if (auto events = Lines(Ctl({"events", "--json"}).out); !events.empty())
    after = std::to_string(json::GetInt(*json::ParseObject(events.back()), "seq").value_or(0));
  auto bot_env = env_;
  bot_env["AFTER"] = after;
  Daemon bot({"/bin/sh", Example("auto-reply.sh"), "Murakoze!"}, bot_env, dir_.File("bot.log"));
  auto http = NewLoopbackHttpClient();
  for (const char* from : {"0788000001", "0788000002", "0788000003"}) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel_ + "/receive";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = std::string("from=") + from + "&text=hello";
    ASSERT_EQ(http->Do(req).status_code, 200);
  }
  std::vector<json::ObjectPtr> replies;
  for (int i = 0; i < 600 && replies.size() < 3; ++i) {  // a generous minute
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    replies = Outgoing();
  }
  ASSERT_EQ(replies.size(), 3u) << bot.log();
  std::set<std::string> urns;
  for (const auto& r : replies) {
    EXPECT_EQ(json::GetString(r, "text"), "Murakoze!");
    urns.insert(json::GetString(r, "urn").value_or(""));
  }
  EXPECT_EQ(urns, (std::set<std::string>{"tel:+250788000001", "tel:+250788000002", "tel:+250788000003"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Outgoing().size(), 3u);  // its own replies do not set it off
  bot.Stop(SIGTERM);
}

TEST_F(ExamplesTest, BulkSendFromCsvIsAllOrNothing) {
  WriteFile(dir_.File("ok.csv"), "urn,text\ntel:+250788000001,\"Hello, world\"\ntel:0788000002,Mwaramutse ✓\n");
  auto ok = RunProgram({"/bin/sh", Example("bulk-send-csv.sh"), channel_, dir_.File("ok.csv")}, "", env_);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto out = Outgoing();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(json::GetString(out[1], "text"), "Hello, world");
  EXPECT_EQ(json::GetString(out[0], "urn"), "tel:+250788000002");
  EXPECT_EQ(json::GetString(out[0], "priority"), "bulk");

  WriteFile(dir_.File("bad.csv"), "urn,text\ntel:+250788000003,fine\nnot-a-urn,broken\n");
  auto bad = RunProgram({"/bin/sh", Example("bulk-send-csv.sh"), channel_, dir_.File("bad.csv")}, "", env_);
  EXPECT_EQ(bad.exit_code, 65);
  EXPECT_NE(bad.err.find("line 2"), std::string::npos) << bad.err;
  EXPECT_EQ(Outgoing().size(), 2u);
}

TEST_F(ExamplesTest, SpoolCheckForCron) {
  auto clean = RunProgram({"/bin/sh", Example("spool-check.sh")}, "", env_);
  EXPECT_EQ(clean.exit_code, 0);
  EXPECT_EQ(clean.out, "");
  WriteFile(dir_.File("spool/bad/00000000000000000001-1-000000.json"), "garbage");
  WriteFile(dir_.File("spool/bad/00000000000000000001-1-000000.json.reason"), "not a courier spool file\n");
  auto dirty = RunProgram({"/bin/sh", Example("spool-check.sh")}, "", env_);
  EXPECT_EQ(dirty.exit_code, 1);
  EXPECT_NE(dirty.out.find("00000000000000000001-1-000000.json"), std::string::npos);
  EXPECT_NE(dirty.out.find("not a courier spool file"), std::string::npos);
}

}  // namespace
