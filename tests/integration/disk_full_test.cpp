// A full disk, for real: the store and the spool on a small tmpfs of
// their own (mount(2) needs root; the tests are skipped otherwise), a
// filler file taking the space, the real programs. Exact counts: every
// webhook answered 200 is stored exactly once after recovery, nothing is
// in bad/.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

constexpr int64_t kMiB = 1024 * 1024;

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

int64_t FreeBytes(const std::string& path) {
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) != 0) return -1;
  return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
}

// Appends to `path` until it holds `bytes` more, or the disk is full
// (ENOSPC) when `bytes` is negative. Returns the file's size.
int64_t Fill(const std::string& path, int64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return -1;
  std::string block(64 * 1024, 'x');
  int64_t written = 0;
  while (bytes < 0 || written < bytes) {
    size_t n = bytes < 0 ? block.size() : static_cast<size_t>(std::min<int64_t>(block.size(), bytes - written));
    ssize_t w = ::write(fd, block.data(), n);
    if (w <= 0) break;
    written += w;
  }
  // A few bytes at a time take the last partial block too.
  if (bytes < 0)
    while (::write(fd, "x", 1) == 1) {}
  struct stat st;
  ::fstat(fd, &st);
  ::close(fd);
  return st.st_size;
}

class DiskFullTest : public CourierFixture {
 protected:
  void SetUp() override {
    disk_ = dir_.File("disk");
    ASSERT_EQ(0, ::mkdir(disk_.c_str(), 0700));
    if (::mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << std::strerror(errno);
    mounted_ = true;
    env_["COURIER_DB"] = disk_ + "/courier.db";
    env_["COURIER_SPOOL_DIR"] = disk_ + "/spool";
    env_["COURIER_SPOOL_RESERVE_MB"] = "1";
    env_["COURIER_HEALTH_MIN_FREE_MB"] = "1";
    env_["COURIER_LOG_LEVEL"] = "info";
    InitStore();
    ex_ = AddReceiveOnlyExternal();
  }
  void TearDown() override {
    recv_.reset();
    if (mounted_) ::umount2(disk_.c_str(), MNT_DETACH);
  }

  // About 2 KB each, so the spool fills in a few hundred files.
  std::set<int> Burst(int from, int to, int threads, std::atomic<int>* refused = nullptr) {
    return PostWebhooks(ex_, {.from = from, .to = to, .threads = threads, .pad = 2000, .refused = refused});
  }

  HttpExchange Status() {
    auto http = NewLoopbackHttpClient(HttpClientOptions{10});
    HttpRequestSpec req;
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/status";
    return http->Do(req);
  }

  std::string disk_;
  bool mounted_ = false;
  std::string ex_;
};

TEST_F(DiskFullTest, SpoolKeepsItsReserveAndTheStoreRecoversFromSmallAmountsFreed) {
  StartRecv();
  std::set<int> ok = Burst(0, 1, 1);  // caches the channel before the lock
  ASSERT_EQ(ok.size(), 1u);

  // 2.5 MB left, and the store locked: everything goes to the spool, which
  // must stop at its reserve (1 MB) and answer 503.
  const std::string filler = disk_ + "/filler";
  ASSERT_GT(Fill(filler, FreeBytes(disk_) - 5 * kMiB / 2), 0);
  std::atomic<int> refused{0};
  {
    StoreLock lock(disk_ + "/courier.db");
    ASSERT_TRUE(lock.locked());
    std::set<int> spooled = Burst(1, 1001, 4, &refused);
    ok.insert(spooled.begin(), spooled.end());
    EXPECT_GT(spooled.size(), 100u);
    EXPECT_GT(refused.load(), 0) << "the spool never reached its reserve";
    EXPECT_EQ(spooled.size() + refused.load(), 1000u);
    EXPECT_GE(FreeBytes(disk_), 1 * kMiB) << "the spool ate into its reserve";
    EXPECT_EQ(SpoolCount("new"), spooled.size());

    auto status = Status();
    EXPECT_EQ(status.status_code, 503) << status.body;
    EXPECT_NE(status.body.find("writes refused by store and spool"), std::string::npos) << status.body;
    EXPECT_NE(status.body.find("spool file system has"), std::string::npos) << status.body;
  }
  EXPECT_EQ(StoredTexts().size(), 1u);

  // Now the disk is full to the last byte, as after a runaway log; the
  // store cannot grow at all. Space comes back 256 KB at a time, and each
  // time courier-flush runs once.
  const std::string filler2 = disk_ + "/filler2";
  int64_t size2 = Fill(filler2, -1);
  ASSERT_GT(size2, 0);
  ASSERT_LT(FreeBytes(disk_), 64 * 1024);
  int64_t size1 = FileSize(filler);
  int rounds = 0;
  std::string last_flush;
  for (; rounds < 80 && SpoolCount("new") + SpoolCount("cur") > 0; ++rounds) {
    auto flush = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
    last_flush = flush.err;
    EXPECT_EQ(SpoolCount("bad"), 0u) << flush.err;
    // 256 KB more room: from the second filler, then the first.
    int64_t& size = size2 > 0 ? size2 : size1;
    const std::string& file = &size == &size2 ? filler2 : filler;
    size = std::max<int64_t>(0, size - 256 * 1024);
    ASSERT_EQ(0, ::truncate(file.c_str(), size));
  }
  std::cout << "spool replayed after " << rounds << " rounds of 256 KB freed\n";
  EXPECT_EQ(SpoolCount("new") + SpoolCount("cur"), 0u) << last_flush;
  EXPECT_EQ(SpoolCount("bad"), 0u);
  auto stored = StoredTexts();
  for (int n : ok) EXPECT_EQ(stored["webhook-" + std::to_string(n)], 1) << "webhook " << n;
  EXPECT_EQ(stored.size(), ok.size()) << "stored what was refused";

  // With room again /status turns healthy (once the refusals are older
  // than its window).
  ::unlink(filler.c_str());
  ::unlink(filler2.c_str());
  EXPECT_TRUE(Eventually([&] { return Status().status_code == 200; }, std::chrono::seconds(90))) << Status().body;
  EXPECT_EQ(recv_->Stop(), 0);
  // One line per refusal would be hundreds; the log's rate limit keeps a
  // few and counts the rest.
  const std::string log = recv_->log();
  size_t lines = 0;
  for (size_t pos = log.find("spool write failed"); pos != std::string::npos;
       pos = log.find("spool write failed", pos + 1))
    ++lines;
  EXPECT_LE(lines, 20u) << log;
  EXPECT_NE(log.find("suppressed="), std::string::npos) << log;
}

}  // namespace
