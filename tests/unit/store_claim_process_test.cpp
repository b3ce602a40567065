// The claim is atomic across processes: several processes claiming from one
// SQLite file at once never claim the same msg twice and leave none behind.
//
// The parent fills the store and closes it, then forks children; each child
// opens its own connection, waits for the start signal so they all contend
// at once, claims (limit 7) until nothing is left and writes the ids it got
// to its own file. The parent checks the union.
#include <gtest/gtest.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/sqlite_store.h"

using namespace courier;

namespace {

constexpr Micros kStart = 1'500'000'000LL * kMicrosPerSecond;
constexpr int kChildren = 4;
constexpr int kMsgs = 2000;

// Runs in the child; returns its exit code.
int ClaimUntilEmpty(const std::string& db, const std::string& out_path, int start_fd) {
  char go = 0;
  if (::read(start_fd, &go, 1) != 1) return 10;
  ManualClock clock(kStart);
  SqliteStore store(db, clock);
  if (!store.Open().ok()) return 11;
  std::ofstream out(out_path);
  const std::string worker = "test:" + std::to_string(::getpid());
  int busy_retries = 0;
  for (;;) {
    ClaimRequest req;
    req.worker = worker;
    req.now = kStart;
    req.limit = 7;
    req.default_max_workers = kMsgs;  // no in-flight cap: this test is about atomicity
    auto claimed = store.ClaimQueued(req);
    if (!claimed.ok()) {
      if (claimed.status().code() == Status::Code::kBusy && ++busy_retries < 100) continue;
      std::fprintf(stderr, "claim failed: %s\n", claimed.status().ToString().c_str());
      return 12;
    }
    if (claimed->empty()) break;
    for (const auto& m : *claimed) {
      if (m.status != MsgStatus::kQueued) return 13;
      out << m.id << "\n";
    }
    out.flush();
    ::usleep(200);  // a sender hands the msgs to its workers; let others in
  }
  return out.good() ? 0 : 14;
}

TEST(StoreClaimProcessTest, ConcurrentProcessesClaimEachMsgExactlyOnce) {
  std::string tmpl = "/tmp/courier-claim-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  const std::string db = dir + "/courier.db";

  std::set<int64_t> queued;
  {
    ManualClock clock(kStart);
    SqliteStore store(db, clock);
    ASSERT_TRUE(store.Migrate().ok());
    std::vector<Channel> channels;
    for (const char* type : {"EX", "KN", "TG"}) {
      Channel c;
      c.type = type;
      auto added = store.AddChannel(c);
      ASSERT_TRUE(added.ok());
      channels.push_back(*added);
    }
    std::vector<Msg> msgs;
    for (int i = 0; i < kMsgs; ++i) {
      Msg m;
      m.channel_uuid = channels[i % channels.size()].uuid;
      m.direction = Direction::kOut;
      m.urn = "tel:+2507880" + std::to_string(10000 + i % 500);
      m.text = "msg " + std::to_string(i);
      m.priority = i % 5 == 0 ? Priority::kHigh : Priority::kBulk;
      msgs.push_back(m);
    }
    auto result = store.QueueOutgoing(msgs);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    for (const auto& m : *result) queued.insert(m.id);
  }  // closed before forking: the children start from clean connections
  ASSERT_EQ(queued.size(), static_cast<size_t>(kMsgs));

  int start_pipe[2];
  ASSERT_EQ(::pipe(start_pipe), 0);
  std::vector<pid_t> pids;
  std::vector<std::string> outs;
  for (int i = 0; i < kChildren; ++i) {
    outs.push_back(dir + "/claimed." + std::to_string(i));
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(start_pipe[1]);
      ::_exit(ClaimUntilEmpty(db, outs.back(), start_pipe[0]));
    }
    pids.push_back(pid);
  }
  ::close(start_pipe[0]);
  const char go[kChildren] = {};
  ASSERT_EQ(::write(start_pipe[1], go, kChildren), kChildren);
  ::close(start_pipe[1]);

  for (pid_t pid : pids) {
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  }

  std::map<int64_t, int> times_claimed;
  std::vector<size_t> per_child;
  for (const auto& path : outs) {
    std::ifstream in(path);
    int64_t id = 0;
    size_t n = 0;
    while (in >> id) {
      ++times_claimed[id];
      ++n;
    }
    per_child.push_back(n);
  }
  std::vector<int64_t> duplicates, unknown;
  for (const auto& [id, n] : times_claimed) {
    if (n > 1) duplicates.push_back(id);
    if (!queued.count(id)) unknown.push_back(id);
  }
  EXPECT_TRUE(duplicates.empty()) << duplicates.size() << " msgs claimed more than once";
  EXPECT_TRUE(unknown.empty());
  EXPECT_EQ(times_claimed.size(), queued.size()) << "some msgs never claimed";
  int working = 0;
  for (size_t n : per_child) working += n > 0;
  EXPECT_GE(working, 2) << "the children did not actually contend";

  // The store agrees: every msg claimed, one open attempt each.
  ManualClock clock(kStart);
  SqliteStore store(db, clock);
  auto summary = store.Queue();
  ASSERT_TRUE(summary.ok());
  int64_t in_flight = 0, waiting = 0;
  for (const auto& q : *summary) {
    in_flight += q.in_flight;
    waiting += q.queued_high + q.queued_bulk;
  }
  EXPECT_EQ(in_flight, kMsgs);
  EXPECT_EQ(waiting, 0);
  auto interrupted = store.FailInterruptedAttempts("", 0);
  ASSERT_TRUE(interrupted.ok());
  EXPECT_EQ(interrupted->size(), static_cast<size_t>(kMsgs));

  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
