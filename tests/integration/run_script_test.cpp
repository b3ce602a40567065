// scripts/run.sh, `make run`: it starts the pipeline, and when it cannot
// (a port taken, a daemon that stops at once) it says which port or
// program, stops everything it started and exits 69, never claiming
// "courier is running".
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "harness.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

// A port on 127.0.0.1 that something is listening on, for as long as the
// object lives.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~TakenPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class RunScriptTest : public ::testing::Test {
 protected:
  // Every port the script uses is a free one but those given.
  std::map<std::string, std::string> Env(std::map<std::string, int> ports = {},
                                         const std::string& bin_dir = COURIER_BIN_DIR) {
    std::map<std::string, std::string> env = {
        {"BIN_DIR", bin_dir}, {"COURIER_VAR", dir_.File("var")}, {"COURIER_LOG_LEVEL", "warn"}};
    std::set<int> used;
    for (const auto& [variable, port] : ports) used.insert(port);
    for (const char* variable : kPortVariables) {
      if (!ports.count(variable)) {
        int port = FreePort();
        while (used.count(port)) port = FreePort();  // the script refuses two uses of one port
        ports[variable] = port;
        used.insert(port);
      }
      env[variable] = std::to_string(ports[variable]);
    }
    return env;
  }
  static constexpr const char* kPortVariables[] = {"COURIER_PORT", "COURIER_API_PORT", "SINK_PORT", "APP_PORT"};

  // Runs the script in its own process group until it exits (or 30 s);
  // returns its exit code, and in `left` whether any process it started
  // outlived it by more than 5 s (they are killed then).
  int RunToExit(Daemon& script, bool& left) {
    for (int i = 0; i < 600 && script.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int pgid = script.pid() > 0 ? script.pid() : -script.pid();
    int rc = script.Stop(SIGKILL, 1000);  // the exit code it already had, if it exited
    // What the script waited for is gone; allow a moment for orphans that
    // end on their own (a python3 that is a pyenv shim, killed while
    // starting, leaves its helper commands) and for zombies to be reaped.
    for (int i = 0; i < 100 && ::kill(-pgid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = ::kill(-pgid, 0) == 0;
    if (left) ::kill(-pgid, SIGKILL);
    return rc;
  }

  std::string Script() { return std::string(COURIER_SOURCE_DIR) + "/scripts/run.sh"; }

  TempDir dir_;
};

}  // namespace

TEST_F(RunScriptTest, TakenPortIsNamedAndNothingStarts) {
  struct Case {
    const char* variable;
    const char* who;
  };
  for (const Case& c : {Case{"COURIER_PORT", "courier-recv"}, Case{"COURIER_API_PORT", "courier-api"},
                        Case{"SINK_PORT", "the demo provider (echo sink)"}, Case{"APP_PORT", "the demo application"}}) {
    SCOPED_TRACE(c.variable);
    TakenPort taken;
    auto env = Env({{c.variable, taken.port()}});
    Daemon script({"/bin/sh", Script()}, env, dir_.File(std::string(c.variable) + ".log"));
    bool left = false;
    EXPECT_EQ(RunToExit(script, left), 69) << script.log();
    EXPECT_FALSE(left);
    std::string log = script.log();
    std::string port = std::to_string(taken.port());
    EXPECT_NE(log.find("make run: cannot use port " + port + " on 127.0.0.1 for " + c.who + ": Address already in use."),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("make run: choose another port with " + std::string(c.variable) + ", for example: " +
                       c.variable + "=" + std::to_string(taken.port() + 10) + " make run"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("courier is running"), std::string::npos) << log;
    EXPECT_NE(::access(dir_.File("var/courier.db").c_str(), F_OK), 0) << "checked before anything is made";
  }
}

TEST_F(RunScriptTest, DaemonThatStopsAtStartStopsTheRest) {
  // The real tools, but a courier-recv that fails as one that cannot bind
  // its port would (one taken between the check and the start).
  std::string bin = dir_.File("bin");
  ASSERT_EQ(::mkdir(bin.c_str(), 0755), 0);
  for (const char* tool : {"courier-ctl", "courier-send", "courier-flush", "courier-hook", "courier-api", "courier-fetch"})
    ASSERT_EQ(::symlink(Bin(tool).c_str(), (bin + "/" + tool).c_str()), 0);
  WriteFile(bin + "/courier-recv", "#!/bin/sh\necho 'courier-recv: cannot listen' >&2\nexit 69\n");
  ASSERT_EQ(::chmod((bin + "/courier-recv").c_str(), 0755), 0);

  Daemon script({"/bin/sh", Script()}, Env({}, bin), dir_.File("run.log"));
  bool left = false;
  EXPECT_EQ(RunToExit(script, left), 69) << script.log();
  EXPECT_FALSE(left) << "the sink, the application and the other daemons are stopped";
  std::string log = script.log();
  EXPECT_NE(log.find("make run: courier-recv stopped as it started (exit status 69)"), std::string::npos) << log;
  EXPECT_EQ(log.find("courier is running"), std::string::npos) << log;
}

TEST_F(RunScriptTest, StartsAndStopsOnSigterm) {
  int port = FreePort();
  Daemon script({"/bin/sh", Script()}, Env({{"COURIER_PORT", port}}), dir_.File("run.log"));
  std::string running = "courier is running on http://127.0.0.1:" + std::to_string(port) + " (Ctrl-C stops it)";
  // Up to a minute: the script makes a store and starts six programs,
  // which a loaded machine (a parallel ctest) takes well over 15 s to do.
  for (int i = 0; i < 1200 && script.log().find(running) == std::string::npos; ++i) {
    ASSERT_TRUE(script.running()) << script.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(script.log().find(running), std::string::npos) << script.log();
  int pgid = script.pid();
  // SIGTERM to the script alone, as a supervisor would send it.
  ASSERT_EQ(::kill(pgid, SIGTERM), 0);
  bool left = false;
  EXPECT_EQ(RunToExit(script, left), 0) << script.log();
  EXPECT_FALSE(left) << script.log();
}

// The demo `make run` prints: a webhook's event reaches the demo
// application through courier-hook, and a reply posted to courier-api with
// the demo token reaches the sink, its events the application.
TEST_F(RunScriptTest, DemoReplyThroughTheApiAndEventsAtTheApplication) {
  auto env = Env();
  Daemon script({"/bin/sh", Script()}, env, dir_.File("run.log"));
  auto eventually = [&](auto pred) {
    for (int i = 0; i < 600; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
  };
  auto logged = [&](const std::string& text) { return script.log().find(text) != std::string::npos; };
  ASSERT_TRUE(eventually([&] { return logged("courier is running") || !script.running(); })) << script.log();
  ASSERT_TRUE(logged("courier is running")) << script.log();

  auto http = NewLoopbackHttpClient();
  HttpRequestSpec webhook;
  webhook.method = "POST";
  webhook.url = "http://127.0.0.1:" + env["COURIER_PORT"] + "/c/ex/8f4ec8a0-5c1e-4d7e-9c6b-3b1f0d2a7e11/receive";
  webhook.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  webhook.body = "from=0788383383&text=hello%20demo";
  ASSERT_EQ(http->Do(webhook).status_code, 200) << script.log();
  EXPECT_TRUE(eventually([&] { return logged(" msg.received ") && logged("hello demo"); })) << script.log();

  std::string token = ReadFile(dir_.File("var/demo-token"));
  while (!token.empty() && token.back() == '\n') token.pop_back();
  ASSERT_EQ(token.rfind("ctk_", 0), 0u) << token;
  HttpRequestSpec reply;
  reply.method = "POST";
  reply.url = "http://127.0.0.1:" + env["COURIER_API_PORT"] + "/api/v1/msgs";
  reply.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
  reply.body = R"({"channel":"8f4ec8a0-5c1e-4d7e-9c6b-3b1f0d2a7e11","urn":"tel:+250788383383","text":"hi back"})";
  auto answer = http->Do(reply);
  ASSERT_EQ(answer.status_code, 201) << answer.body << script.log();
  EXPECT_TRUE(eventually([&] { return logged("sink: POST /send") && logged("hi back"); })) << script.log();
  EXPECT_TRUE(eventually([&] { return logged(" msg.queued ") && logged(" status.updated "); })) << script.log();
  EXPECT_FALSE(logged("refused")) << script.log();

  ASSERT_EQ(::kill(script.pid(), SIGTERM), 0);
  bool left = false;
  EXPECT_EQ(RunToExit(script, left), 0) << script.log();
  EXPECT_FALSE(left) << script.log();
}
