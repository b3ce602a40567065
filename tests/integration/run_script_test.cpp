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
#include <thread>

#include "harness.h"

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
  std::map<std::string, std::string> Env(int courier_port, int sink_port, const std::string& bin_dir = COURIER_BIN_DIR) {
    return {{"BIN_DIR", bin_dir},
            {"COURIER_VAR", dir_.File("var")},
            {"COURIER_PORT", std::to_string(courier_port)},
            {"SINK_PORT", std::to_string(sink_port)},
            {"COURIER_LOG_LEVEL", "warn"}};
  }

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
  for (const Case& c : {Case{"COURIER_PORT", "courier-recv"}, Case{"SINK_PORT", "the demo provider (echo sink)"}}) {
    SCOPED_TRACE(c.variable);
    TakenPort taken;
    int free_port = FreePort();
    bool courier_taken = std::string(c.variable) == "COURIER_PORT";
    auto env = Env(courier_taken ? taken.port() : free_port, courier_taken ? free_port : taken.port());
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
  for (const char* tool : {"courier-ctl", "courier-send", "courier-flush"})
    ASSERT_EQ(::symlink(Bin(tool).c_str(), (bin + "/" + tool).c_str()), 0);
  WriteFile(bin + "/courier-recv", "#!/bin/sh\necho 'courier-recv: cannot listen' >&2\nexit 69\n");
  ASSERT_EQ(::chmod((bin + "/courier-recv").c_str(), 0755), 0);

  int sink_port = FreePort();
  Daemon script({"/bin/sh", Script()}, Env(FreePort(), sink_port, bin), dir_.File("run.log"));
  bool left = false;
  EXPECT_EQ(RunToExit(script, left), 69) << script.log();
  EXPECT_FALSE(left) << "the sink, courier-send and courier-flush are stopped";
  std::string log = script.log();
  EXPECT_NE(log.find("make run: courier-recv stopped as it started (exit status 69)"), std::string::npos) << log;
  EXPECT_EQ(log.find("courier is running"), std::string::npos) << log;
}

TEST_F(RunScriptTest, StartsAndStopsOnSigterm) {
  int port = FreePort();
  Daemon script({"/bin/sh", Script()}, Env(port, FreePort()), dir_.File("run.log"));
  std::string running = "courier is running on http://127.0.0.1:" + std::to_string(port) + " (Ctrl-C stops it)";
  for (int i = 0; i < 300 && script.log().find(running) == std::string::npos; ++i) {
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
