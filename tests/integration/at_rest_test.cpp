// What courier leaves on disk: the store's mode (it holds every channel
// secret), the warning when an existing store is readable by others, and
// spool tmp/ files a killed writer left, removed at the next start.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

class AtRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The usual umask, which made the store 0644 before.
    old_umask_ = ::umask(022);
    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},
            {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},
            {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_LOG_LEVEL", "info"}};
  }
  void TearDown() override { ::umask(old_umask_); }

  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, "", env_);
  }

  int Post(const std::string& channel) {
    auto http = NewLoopbackHttpClient(HttpClientOptions{10});
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel + "/receive";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = "from=0788383383&text=hi";
    return http->Do(req).status_code;
  }

  TempDir dir_;
  mode_t old_umask_ = 0;
  int port_ = 0;
  std::map<std::string, std::string> env_;
};

TEST_F(AtRestTest, StoreAndItsWalAreCreatedForTheOwnerOnly) {
  ASSERT_EQ(Ctl({"init"}).exit_code, 0);
  EXPECT_EQ(ModeOf(dir_.File("courier.db")), 0600u);
  std::string ex = Ctl({"channel", "add", "--type", "EX", "--address", "1234", "--config",
                        "send_url=http://127.0.0.1:9/send"}).out.substr(0, 36);
  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  EXPECT_EQ(Post(ex), 200);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = dir_.File(std::string("courier.db") + suffix);
    if (::access(file.c_str(), F_OK) != 0) continue;
    EXPECT_EQ(ModeOf(file), 0600u) << file;
  }
  EXPECT_EQ(recv.Stop(), 0);
  EXPECT_EQ(recv.log().find("store readable by others"), std::string::npos) << recv.log();
}

TEST_F(AtRestTest, StoreGroupMakesIt0640ForThatGroup) {
  // A group that exists everywhere; root may give a file any group.
  struct group* g = ::getgrnam("daemon");
  if (g == nullptr || ::geteuid() != 0) GTEST_SKIP() << "needs root and group 'daemon'";
  env_["COURIER_STORE_GROUP"] = "daemon";
  ASSERT_EQ(Ctl({"init"}).exit_code, 0);
  struct stat st;
  ASSERT_EQ(::stat(dir_.File("courier.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, g->gr_gid);
  env_["COURIER_STORE_GROUP"] = "no-such-group-courier";
  env_["COURIER_DB"] = dir_.File("other.db");
  auto r = Ctl({"init"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no such group"), std::string::npos) << r.err;
}

TEST_F(AtRestTest, AStoreReadableByOthersIsReported) {
  ASSERT_EQ(Ctl({"init"}).exit_code, 0);
  ASSERT_EQ(::chmod(dir_.File("courier.db").c_str(), 0644), 0);
  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  auto status = Ctl({"status"});
  EXPECT_NE(status.out.find("warning: store file " + dir_.File("courier.db") + " is readable by every user (mode 0644)"),
            std::string::npos)
      << status.out;
  auto status_json = Ctl({"status", "--json"});
  EXPECT_NE(status_json.out.find("\"warning\""), std::string::npos) << status_json.out;
  EXPECT_EQ(recv.Stop(), 0);
  EXPECT_NE(recv.log().find("level=warn prog=courier-recv msg=\"store readable by others\""), std::string::npos)
      << recv.log();
}

TEST_F(AtRestTest, StaleSpoolTmpFilesAreRemovedAtStartAndCounted) {
  ASSERT_EQ(Ctl({"init"}).exit_code, 0);
  // What a writer killed between its write and its rename leaves.
  const std::string stale = dir_.File("spool/tmp/00000000000000000001-4242-000001.json");
  const std::string fresh = dir_.File("spool/tmp/00000000000000000002-4242-000002.json");
  WriteFile(stale, "courier-spool 1 2 00000000\n{}");
  WriteFile(fresh, "courier-spool 1 2 00000000\n{}");
  struct timeval two_minutes_ago[2];
  ::gettimeofday(&two_minutes_ago[0], nullptr);
  two_minutes_ago[0].tv_sec -= 120;
  two_minutes_ago[1] = two_minutes_ago[0];
  ASSERT_EQ(::utimes(stale.c_str(), two_minutes_ago), 0);

  auto before = Ctl({"spool"});
  EXPECT_NE(before.out.find("0 pending (0 intakes), 0 bad, 2 unfinished in tmp/"), std::string::npos) << before.out;
  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  EXPECT_NE(::access(stale.c_str(), F_OK), 0) << "a stale tmp file survived the start";
  EXPECT_EQ(::access(fresh.c_str(), F_OK), 0) << "a file that may still be being written was removed";
  auto after = Ctl({"spool"});
  EXPECT_NE(after.out.find("0 pending (0 intakes), 0 bad, 1 unfinished in tmp/"), std::string::npos) << after.out;
  EXPECT_EQ(recv.Stop(), 0);
  EXPECT_NE(recv.log().find("removed files a killed writer left in spool tmp/"), std::string::npos) << recv.log();
  EXPECT_NE(recv.log().find("files=1"), std::string::npos) << recv.log();
}

}  // namespace
