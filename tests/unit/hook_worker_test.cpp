// HookWorker against a real SQLite store and a real HTTP application on
// loopback: what it does with a cursor behind pruned events, with a
// rewind while a POST is in flight, and with its hook removed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "eventually.h"
#include "hook/hook_worker.h"
#include "mock_provider.h"
#include "pass_through_env.h"
#include "store/sqlite_store.h"
#include "store_test_helpers.h"

using namespace courier;
using namespace courier::testing;

namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;
constexpr Micros kDay = 86400LL * kMicrosPerSecond;

class HookWorkerTest : public ::testing::Test {
 protected:
  HookWorkerTest() : clock_(kStart) {
    std::string tmpl = "/tmp/courier-hook-worker-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ + "/courier.db";
  }
  ~HookWorkerTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    store_ = std::make_unique<SqliteStore>(path_, clock_);
    ASSERT_TRUE(store_->Migrate().ok());
    auto added = AddTelChannel(*store_, "EX", "1234");
    ASSERT_TRUE(added.ok());
    channel_ = *added;
  }

  int64_t Incoming(const std::string& text) {
    Msg m;
    m.channel_uuid = channel_.uuid;
    m.urn = "tel:+250788383383";
    m.text = text;
    EXPECT_TRUE(WriteIncoming(*store_, m, {}).ok());
    return *store_->LastEventSeq();
  }

  Hook AddHook(const std::string& url, int64_t cursor) {
    Hook h;
    h.url = url;
    h.secret = "s3cret";
    h.cursor = cursor;
    auto added = store_->AddHook(h);
    EXPECT_TRUE(added.ok());
    return *added;
  }

  std::unique_ptr<HookWorker> Worker(int64_t id, Env* env = nullptr) {
    HookWorkerOptions options;
    options.env = env;
    options.db = path_;
    options.poll = std::chrono::milliseconds(50);
    options.http.outbound = OutboundPolicy::Unrestricted();
    options.http.deadline_seconds = 10;
    auto opener = [this]() -> Result<std::unique_ptr<Store>> {
      return std::unique_ptr<Store>(std::make_unique<SqliteStore>(path_, clock_));
    };
    return std::make_unique<HookWorker>(id, opener, options, clock_);
  }

  std::vector<int64_t> PostedSeqs(const MockProvider& app) {
    std::vector<int64_t> seqs;
    for (const auto& r : app.requests()) {
      for (size_t at = r.body.find("{\"seq\":"); at != std::string::npos; at = r.body.find("},{\"seq\":", at + 1)) {
        const size_t digits = r.body.find(':', at) + 1;
        seqs.push_back(std::stoll(r.body.substr(digits)));
      }
    }
    return seqs;
  }

  std::string dir_, path_;
  ManualClock clock_;
  std::unique_ptr<SqliteStore> store_;
  Channel channel_;
};

TEST_F(HookWorkerTest, ACursorBehindPrunedEventsIsReportedAndDeliveryGoesOn) {
  const int64_t first = Incoming("old 1");
  Incoming("old 2");
  const int64_t last_old = Incoming("old 3");
  clock_.Advance(2 * kDay);
  const int64_t new1 = Incoming("new 1");
  const int64_t new2 = Incoming("new 2");
  PruneRequest prune;
  prune.events_before = clock_.Now() - kDay;
  ASSERT_TRUE(store_->Prune(prune).ok());
  ASSERT_EQ(*store_->OldestEventSeq(), new1);

  MockProvider app;
  Hook hook = AddHook(app.url() + "/in", first - 1);
  auto worker = Worker(hook.id);
  worker->Start();
  ASSERT_TRUE(Eventually([&] { return store_->GetHook(hook.uuid)->cursor == new2; }));
  worker->Stop();
  EXPECT_EQ(PostedSeqs(app), (std::vector<int64_t>{new1, new2}));
  EXPECT_EQ(worker->delivered(), 2);
  Hook after = *store_->GetHook(hook.uuid);
  EXPECT_EQ(after.last_error, "events " + std::to_string(first) + " to " + std::to_string(last_old) +
                                  " were pruned before they were delivered");
  EXPECT_EQ(after.failures, 0);
}

TEST_F(HookWorkerTest, ARewindWhileAPostIsInFlightWins) {
  const int64_t e1 = Incoming("one");
  const int64_t e2 = Incoming("two");
  MockProvider app;
  app.On("/in", MockResponse{200, "{}", "application/json", {}, 500});  // the first POST is slow
  Hook hook = AddHook(app.url() + "/in", e2);  // nothing to post yet
  const int64_t e3 = Incoming("three");
  auto worker = Worker(hook.id);
  worker->Start();
  ASSERT_TRUE(Eventually([&] { return app.count() == 1; }));
  // The operator replays from e1 while e3's POST waits for its answer.
  ASSERT_TRUE(store_->RewindHook(hook.id, e1 - 1).ok());
  ASSERT_TRUE(Eventually([&] { return store_->GetHook(hook.uuid)->cursor == e3 && app.count() == 4; }));
  worker->Stop();
  // e3 answered 2xx but its cursor move lost to the rewind: all three again.
  EXPECT_EQ(PostedSeqs(app), (std::vector<int64_t>{e3, e1, e2, e3}));
}

// Counts the WAL's syncs and what the application had been posted at each.
class SyncCountingEnv : public PassThroughEnv {
 public:
  explicit SyncCountingEnv(const MockProvider& app) : app_(app) {}
  Status SyncFileData(int fd, const std::string& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    posted_at_sync_.push_back(app_.count());
    return PassThroughEnv::SyncFileData(fd, path);
  }
  std::vector<size_t> posted_at_sync() {
    std::lock_guard<std::mutex> lock(mu_);
    return posted_at_sync_;
  }

 private:
  const MockProvider& app_;
  std::mutex mu_;
  std::vector<size_t> posted_at_sync_;
};

TEST_F(HookWorkerTest, SyncsABacklogOnceAndANewEventBeforeItIsPosted) {
  MockProvider app;
  Hook hook = AddHook(app.url() + "/in", *store_->LastEventSeq());
  constexpr int kBacklog = 250;  // three rounds of fetch 100
  for (int i = 0; i < kBacklog; ++i) Incoming("backlog " + std::to_string(i));
  SyncCountingEnv env(app);
  auto worker = Worker(hook.id, &env);
  worker->Start();
  ASSERT_TRUE(Eventually([&] { return app.count() == kBacklog; }));
  // One sync, before the first POST, covers the whole backlog.
  EXPECT_EQ(env.posted_at_sync(), (std::vector<size_t>{0}));

  // Committed after that sync: synced again before it is posted.
  const int64_t later = Incoming("later");
  worker->Wake();
  ASSERT_TRUE(Eventually([&] { return store_->GetHook(hook.uuid)->cursor == later; }));
  worker->Stop();
  EXPECT_EQ(env.posted_at_sync(), (std::vector<size_t>{0, kBacklog}));
  EXPECT_EQ(PostedSeqs(app).back(), later);
  EXPECT_EQ(worker->delivered(), kBacklog + 1);
}

TEST_F(HookWorkerTest, EndsWhenItsHookIsRemoved) {
  MockProvider app;
  Hook hook = AddHook(app.url() + "/in", 0);
  auto worker = Worker(hook.id);
  worker->Start();
  ASSERT_TRUE(store_->RemoveHook(hook.id).ok());
  EXPECT_TRUE(Eventually([&] { return worker->done(); }));
  worker->Stop();
}

}  // namespace
