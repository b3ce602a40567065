// The fault suite: real processes, a real store (a SQLite file, or a
// database on a real PostgreSQL server), real signals and real faults. Every test asserts exact counts: nothing lost, nothing
// twice.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
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
#include "mock_provider.h"
#include "postgres_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

// A deadline against a hung test, not a timing claim: a loaded machine
// replays a 500-file spool slowly.
constexpr std::chrono::seconds kDeadline(60);

class FaultFixture : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    ex_ = AddReceiveOnlyExternal();
  }

  std::set<int> Burst(int from, int to, int threads, std::atomic<bool>* stop = nullptr) {
    return PostWebhooks(ex_, {.from = from, .to = to, .threads = threads, .stop = stop});
  }

  void ExpectExactlyOnce(const std::set<int>& acknowledged, const std::map<std::string, int>& stored) {
    for (int n : acknowledged) {
      auto it = stored.find("webhook-" + std::to_string(n));
      ASSERT_NE(it, stored.end()) << "acknowledged webhook " << n << " was lost";
    }
    for (const auto& [text, count] : stored) EXPECT_EQ(count, 1) << text << " stored " << count << " times";
  }

  std::string ex_;
};

// Every test below runs on both engines (Engines/FaultTest.*/SQLite and .../PostgreSQL), except FaultTestSqlite.*:
// their fault is the SQLite file's (a lock held by another process, a read-only file);
// FaultPgServerTest.ServerStoppedLosesNothing is the PostgreSQL counterpart.
using FaultTest = OnBothEngines<FaultFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(FaultTest);
using FaultTestSqlite = FaultFixture;

// The PostgreSQL counterpart of the SQLite file's faults: a server of the
// test's own (never the shared one, which other tests keep using) is
// stopped while webhooks arrive.
class FaultPgServerTest : public FaultFixture {
 protected:
  void SetUp() override {
    UseOwnPostgresServer();
    if (IsSkipped() || HasFatalFailure()) return;
    FaultFixture::SetUp();
  }
};

// 1. Store locked by another process while 500 webhooks arrive.
TEST_F(FaultTestSqlite, LockedStoreLosesNothing) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  ASSERT_EQ(Burst(0, 1, 1).size(), 1u);  // the channel is cached before the lock
  StoreLock lock(dir_.File("courier.db"));
  ASSERT_TRUE(lock.locked());
  auto ok = Burst(1, 501, 8);
  EXPECT_EQ(ok.size(), 500u);
  EXPECT_EQ(SpoolCount("new"), 500u);
  lock.Release();
  auto flush = Start("courier-flush");
  ASSERT_TRUE(Eventually([&] { return StoredTexts().size() == 501; }, kDeadline)) << flush->log();
  ok.insert(0);
  ExpectExactlyOnce(ok, StoredTexts());
  EXPECT_TRUE(Eventually([&] { return SpoolCount("new") + SpoolCount("cur") == 0; }, kDeadline));
  EXPECT_EQ(SpoolCount("bad"), 0u);
  EXPECT_EQ(flush->Stop(), 0);
  EXPECT_EQ(recv->Stop(), 0);
}

// 1b. The PostgreSQL server stopped while 500 webhooks arrive: each 200
// is spooled; once the server is back courier-flush replays them all.
TEST_F(FaultPgServerTest, ServerStoppedLosesNothing) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  ASSERT_EQ(Burst(0, 1, 1).size(), 1u);  // the channel is cached before the stop
  Status stopped = own_server().Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  auto ok = Burst(1, 501, 8);
  EXPECT_EQ(ok.size(), 500u);
  EXPECT_EQ(SpoolCount("new"), 500u);
  Status started = own_server().Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto flush = Start("courier-flush");
  ASSERT_TRUE(Eventually([&] { return StoredTexts().size() == 501; }, kDeadline)) << flush->log() << recv->log();
  ok.insert(0);
  ExpectExactlyOnce(ok, StoredTexts());
  EXPECT_TRUE(Eventually([&] { return SpoolCount("new") + SpoolCount("cur") == 0; }, kDeadline));
  EXPECT_EQ(SpoolCount("bad"), 0u);
  // courier-recv's own session reconnects: a webhook after the restart is
  // stored directly, not spooled.
  ASSERT_EQ(Burst(501, 502, 1).size(), 1u);
  EXPECT_EQ(StoredTexts().count("webhook-501"), 1u);
  EXPECT_EQ(SpoolCount("new"), 0u);
  EXPECT_EQ(flush->Stop(), 0);
  EXPECT_EQ(recv->Stop(), 0);
}

// 2. The store's files made read-only (immutable, which binds root too),
// then writable again.
TEST_F(FaultTestSqlite, ReadOnlyStoreLosesNothing) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  ASSERT_EQ(Burst(0, 1, 1).size(), 1u);
  const std::vector<std::string> files = {dir_.File("courier.db"), dir_.File("courier.db-wal")};
  for (const auto& f : files) {
    auto chattr = RunProgram({"/usr/bin/chattr", "+i", f});
    if (chattr.exit_code != 0) GTEST_SKIP() << "chattr +i not supported here: " << chattr.err;
  }
  auto ok = Burst(1, 101, 4);
  for (const auto& f : files) RunProgram({"/usr/bin/chattr", "-i", f});
  EXPECT_EQ(ok.size(), 100u);
  EXPECT_GT(SpoolCount("new"), 0u) << "the read-only store took writes: the fault did not happen";
  auto flush = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
  EXPECT_EQ(flush.exit_code, 0) << flush.err;
  ok.insert(0);
  ExpectExactlyOnce(ok, StoredTexts());
  EXPECT_EQ(StoredTexts().size(), 101u);
  EXPECT_EQ(recv->Stop(), 0);
}

// 3. kill -9 of courier-recv in the middle of a burst.
TEST_P(FaultTest, KilledReceiverLosesNothingAcknowledged) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  std::atomic<bool> stop{false};
  std::set<int> ok;
  std::thread burst([&] { ok = Burst(0, 100000, 8, &stop); });
  ASSERT_TRUE(Eventually(
      [&] { return Lines(Ctl({"msgs", "list", "--limit", "300", "--json"}).out).size() >= 200; }, kDeadline));
  recv->Stop(9);
  stop = true;
  burst.join();
  ASSERT_GE(ok.size(), 200u);
  recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  auto flush = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
  EXPECT_EQ(flush.exit_code, 0) << flush.err;
  auto stored = StoredTexts();
  ExpectExactlyOnce(ok, stored);
  // Requests cut off by the kill may or may not have been stored; none twice.
  EXPECT_LE(stored.size(), ok.size() + 8);
  EXPECT_EQ(recv->Stop(), 0);
}

// 5. kill -9 of courier-send in the middle of a run.
TEST_P(FaultTest, KilledSenderSendsNothingTwice) {
  MockProvider provider;
  provider.SetDefault({.status = 200, .body = "ok", .delay_ms = 20});
  std::string ch = AddChannel("EX", {"send_url=" + provider.url() + "/send"});
  std::string lines;
  for (int i = 0; i < 300; ++i)
    lines += "{\"channel\":\"" + ch + "\",\"urn\":\"tel:+250788383383\",\"text\":\"out-" + std::to_string(i) + "\"}\n";
  ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, lines).exit_code, 0);
  auto send = Start("courier-send", {"--max-workers", "8"});
  ASSERT_TRUE(Eventually([&] { return provider.count() >= 80; }, kDeadline));
  send->Stop(9);
  send = Start("courier-send", {"--max-workers", "8"});
  // Everything ends W or interrupted (E, not retried); nothing stays queued.
  auto count = [&](const std::string& status) {
    return Lines(Ctl({"msgs", "list", "--status", status, "--limit", "1000", "--json"}).out).size();
  };
  ASSERT_TRUE(Eventually([&] { return count("W") + count("E") == 300; }, kDeadline)) << send->log();
  auto requests = provider.requests();
  std::set<std::string> texts;
  for (const auto& r : requests) texts.insert(r.form.at("text"));
  EXPECT_EQ(texts.size(), requests.size()) << "a msg was sent twice";
  EXPECT_EQ(count("W") + count("E"), 300u);
  // Every interrupted msg is visible to the operator, and was requested at
  // most once; every W was requested exactly once.
  size_t interrupted = count("E");
  auto queue = Ctl({"queue", "--json"});
  EXPECT_NE(queue.out.find("\"interrupted\":" + std::to_string(interrupted)), std::string::npos) << queue.out;
  EXPECT_GE(requests.size(), count("W"));
  EXPECT_LE(requests.size(), count("W") + interrupted);
  EXPECT_EQ(send->Stop(), 0);
}

// 7. ZeroMQ endpoints gone: no flusher, no subscribers, and a run_dir
// where nothing can be bound. recv and send keep working.
TEST_F(FaultTestSqlite, NoZeroMQPeersNoProblem) {
  WriteFile(dir_.File("not-a-dir"), "x");
  env_["COURIER_RUN_DIR"] = dir_.File("not-a-dir/run");
  MockProvider provider;
  std::string ch = AddChannel("EX", {"send_url=" + provider.url() + "/send"});
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  auto send = Start("courier-send");
  EXPECT_EQ(Burst(0, 50, 4).size(), 50u);
  {
    StoreLock lock(dir_.File("courier.db"));  // spooling pushes a wake to nobody
    ASSERT_TRUE(lock.locked());
    EXPECT_EQ(Burst(50, 60, 2).size(), 10u);
  }
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "z" + std::to_string(i)}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return provider.count() == 10; }, kDeadline)) << send->log();
  EXPECT_EQ(SpoolCount("new"), 10u);
  EXPECT_EQ(StoredTexts().size(), 50u);
  EXPECT_EQ(recv->Stop(), 0);
  EXPECT_EQ(send->Stop(), 0);
}

}  // namespace
