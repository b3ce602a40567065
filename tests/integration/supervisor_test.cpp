// contrib/supervisord.conf under a real supervisord: the daemons run,
// one killed with SIGKILL is restarted, and a webhook, its event's
// delivery to an application, a send and a send through courier-api still
// go through end to end.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// pid of `program` in `supervisorctl status` output, or 0 unless RUNNING.
int RunningPid(const std::string& status, const std::string& program) {
  std::smatch m;
  std::regex re(program + R"(\s+RUNNING\s+pid (\d+))");
  return std::regex_search(status, m, re) ? std::stoi(m[1]) : 0;
}

TEST(SupervisorTest, RunsRestartsAndKeepsWorking) {
  TempDir dir;
  int port = FreePort();
  int api_port = FreePort();
  MockProvider provider;
  WriteFile(dir.File("courier.toml"), "db = \"" + dir.File("courier.db") + "\"\nspool_dir = \"" + dir.File("spool") +
                                          "\"\nrun_dir = \"" + dir.File("run") +
                                          "\"\nmedia_dir = \"" + dir.File("media") + "\"\nport = " + std::to_string(port) +
                                          "\napi_port = " + std::to_string(api_port) +
                                          "\nlog_level = \"warn\"\n");
  // The shipped file, with its install paths pointed at this build and
  // this test's directory.
  std::string conf = ReadFile(std::string(COURIER_SOURCE_DIR) + "/contrib/supervisord.conf");
  ASSERT_FALSE(conf.empty());
  conf = ReplaceAll(conf, "/usr/local/bin", COURIER_BIN_DIR);
  conf = ReplaceAll(conf, "/etc/courier", dir.path());
  conf = ReplaceAll(conf, "/var/log/courier", dir.path());
  conf = ReplaceAll(conf, "/run/courier", dir.path());
  WriteFile(dir.File("supervisord.conf"), conf);
  std::map<std::string, std::string> env = {{"COURIER_CONFIG", dir.File("courier.toml")}};
  ASSERT_EQ(RunProgram({Bin("courier-ctl"), "init"}, "", env).exit_code, 0);
  std::string channel = RunProgram({Bin("courier-ctl"), "channel", "add", "--type", "EX", "--address", "1234",
                                    "--country", "RW", "--config", "send_url=" + provider.url() + "/send"},
                                   "", env).out.substr(0, 36);

  Daemon supervisord({"/usr/bin/supervisord", "-n", "-c", dir.File("supervisord.conf")}, {}, dir.File("sd.out"));
  auto status = [&] { return RunProgram({"/usr/bin/supervisorctl", "-c", dir.File("supervisord.conf"), "status"}).out; };
  auto eventually = [](auto pred) {
    for (int i = 0; i < 300; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  std::string s;
  ASSERT_TRUE(eventually([&] {
    s = status();
    return RunningPid(s, "courier-recv") && RunningPid(s, "courier-send") && RunningPid(s, "courier-flush") &&
           RunningPid(s, "courier-hook") && RunningPid(s, "courier-api") && RunningPid(s, "courier-fetch");
  })) << s << supervisord.log();
  MockProvider app;
  ASSERT_EQ(RunProgram({Bin("courier-ctl"), "hook", "add", "--url", app.url() + "/events", "--events", "msg.received"},
                       "", env).exit_code, 0);

  int recv_pid = RunningPid(s, "courier-recv");
  ASSERT_EQ(::kill(recv_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    s = status();
    int pid = RunningPid(s, "courier-recv");
    return pid && pid != recv_pid;
  })) << s;

  auto http = NewLoopbackHttpClient();
  HttpRequestSpec req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/c/ex/" + channel + "/receive";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = "from=0788383383&text=after%20restart";
  HttpExchange answer;
  ASSERT_TRUE(eventually([&] { return (answer = http->Do(req)).status_code == 200; })) << answer.body;
  ASSERT_TRUE(eventually([&] { return app.count() == 1; })) << ReadFile(dir.File("courier-hook.log"));
  EXPECT_NE(app.requests()[0].body.find("after restart"), std::string::npos);
  ASSERT_EQ(RunProgram({Bin("courier-ctl"), "send", "--channel", channel, "--urn", "tel:+250788383383", "--text",
                        "reply"}, "", env).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return provider.count() == 1; }));
  EXPECT_EQ(provider.requests()[0].form.at("text"), "reply");

  // courier-api, restarted after a kill too, queues for courier-send.
  const std::string token = Lines(RunProgram({Bin("courier-ctl"), "token", "add", "--name", "app"}, "", env).out).back();
  int api_pid = RunningPid(s, "courier-api");
  ASSERT_EQ(::kill(api_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] {
    s = status();
    int pid = RunningPid(s, "courier-api");
    return pid && pid != api_pid;
  })) << s;
  HttpRequestSpec post;
  post.method = "POST";
  post.url = "http://127.0.0.1:" + std::to_string(api_port) + "/api/v1/msgs";
  post.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
  post.body = "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"via api\"}";
  ASSERT_TRUE(eventually([&] { return (answer = http->Do(post)).status_code == 201; })) << answer.body;
  ASSERT_TRUE(eventually([&] { return provider.count() == 2; }));
  EXPECT_EQ(provider.requests()[1].form.at("text"), "via api");

  // Stopping supervisord stops the daemons cleanly.
  EXPECT_EQ(supervisord.Stop(), 0);
  EXPECT_EQ(ReadFile(dir.File("courier-send.log")).find("exiting now"), std::string::npos);
}

}  // namespace
