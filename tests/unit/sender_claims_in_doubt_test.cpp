// A claim whose answer is lost, on a real SQLite store: the WAL sync after
// the claim's COMMIT fails, so the IntakeWriter answers the claim with an
// error although the msgs were claimed in the sender's name. The sender's
// next claim takes them again (ClaimRequest::in_doubt_since): every msg is
// sent exactly once and none stays claimed by the live sender.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "fake_http_client.h"
#include "sync_fault_env.h"
#include "temp_dir.h"
#include "handlers/registry.h"
#include "intake/intake_writer.h"
#include "send/sender.h"
#include "store/store.h"

namespace courier {
namespace {

using courier::testing::FakeHttpClient;
using courier::testing::ScratchDir;
using courier::testing::SyncFaultEnv;

constexpr int kMsgs = 12;

class SenderClaimsInDoubtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/courier.db";
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Migrate().ok());
    Channel c;
    c.type = "EX";
    c.address = "1234";
    c.schemes = {"tel"};
    c.config[config_keys::kSendUrl] = "http://provider.test/send";
    auto added = (*store)->AddChannel(c);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    std::vector<Msg> msgs;
    for (int i = 0; i < kMsgs; ++i) {
      Msg m;
      m.channel_uuid = added->uuid;
      m.direction = Direction::kOut;
      m.urn = "tel:+25078800" + std::to_string(1000 + i);
      m.text = "msg-" + std::to_string(i);
      msgs.push_back(m);
    }
    ASSERT_TRUE((*store)->QueueOutgoing(msgs).ok());
  }

  Result<std::unique_ptr<Store>> Open() { return OpenStore(db_, Clock::System(), 2000); }

  // Outgoing msgs for which `which` holds; -1 when the store cannot say.
  int64_t CountMsgs(const std::function<bool(const Msg&)>& which) {
    auto store = Open();
    if (!store.ok()) return -1;
    MsgFilter filter;
    filter.direction = Direction::kOut;
    filter.limit = 1000;
    auto msgs = (*store)->ListMsgs(filter);
    if (!msgs.ok()) return -1;
    int64_t n = 0;
    for (const auto& m : *msgs) n += which(m) ? 1 : 0;
    return n;
  }
  int64_t Wired() {
    return CountMsgs([](const Msg& m) { return m.status == MsgStatus::kWired; });
  }

  ScratchDir dir_;
  std::string db_;
};

TEST_F(SenderClaimsInDoubtTest, AClaimWhoseSyncFailedIsSentOnceAfterAll) {
  SyncFaultEnv env;
  // The writer's first batch is the sender's first claim (the heartbeat
  // goes to the store directly): its sync fails after its COMMIT.
  env.fail_next_syncs = 1;
  const std::string db = db_;
  IntakeWriter writer([db] { return OpenStore(db, Clock::System(), 2000); }, SpoolDir(dir_.path() + "/spool", env),
                      Clock::System(), nullptr, nullptr, 512, 0, env);
  ASSERT_TRUE(SpoolDir(dir_.path() + "/spool", env).Ensure().ok());
  writer.Start();
  HandlerRegistry handlers = HandlerRegistry::Build({"EX"});
  FakeHttpClient http;
  SenderOptions options;
  options.worker = "testhost:" + std::to_string(::getpid());
  options.max_workers = 4;
  options.db = db_;
  Sender sender([db] { return OpenStore(db, Clock::System(), 2000); }, handlers, writer, http, Clock::System(),
                options);
  StopToken stop;
  WakeReceiver wake;  // unbound: the sender polls
  std::thread run([&] { EXPECT_TRUE(sender.Run(stop, wake).ok()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Wired() < kMsgs && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.RequestStop();
  run.join();
  writer.Stop();

  EXPECT_EQ(env.fail_next_syncs.load(), 0) << "the claim's sync was never made";
  EXPECT_EQ(Wired(), kMsgs);
  auto store = Open();
  ASSERT_TRUE(store.ok());
  auto queue = (*store)->Queue();
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
  EXPECT_EQ(queue->front().in_flight, 0) << "msgs left claimed by the live sender";
  std::map<std::string, int> sent;
  for (const auto& request : http.requests()) sent[request.body]++;
  EXPECT_EQ(http.requests().size(), static_cast<size_t>(kMsgs));
  for (const auto& [text, count] : sent) EXPECT_EQ(count, 1) << text;
}

}  // namespace
}  // namespace courier
