// Store notices (store/store_notices.h) on a real PostgreSQL server: each
// committed write that waiters act on notifies its channels, at COMMIT,
// once; reads, rollbacks and writes nobody waits for notify nothing. And
// the relay (daemon/store_wake_relay.h) turns a notice into a ZeroMQ wake an
// EventWaiter sees, while on SQLite it stays idle.
#include "store/store_notices.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "daemon/store_wake_relay.h"
#include "core/clock.h"
#include "postgres_server.h"
#include "store/pg_connection.h"
#include "store/pg_listener.h"
#include "store/pg_store.h"
#include "store/store.h"

using namespace courier;
using namespace std::chrono_literals;

namespace {

constexpr Micros kStart = 1700000000LL * 1000000;

class StoreNoticesTest : public ::testing::Test {
 protected:
  StoreNoticesTest() : clock_(kStart) {}

  void SetUp() override {
    COURIER_SKIP_UNLESS_POSTGRES();
    auto uri = courier::testing::NewSharedDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    auto store = std::make_unique<PgStore>(uri_, "notices-test", clock_);
    ASSERT_TRUE(store->Open().ok());
    store_ = std::move(store);
    ASSERT_TRUE(store_->Migrate().ok());
    Channel c;
    c.type = "EX";
    c.name = "test EX";
    c.address = "+250788000001";
    c.country = "RW";
    c.schemes = {"tel"};
    auto added = store_->AddChannel(c);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    channel_ = *added;
    auto listener = PgListener::Connect(uri_, "notices-test own");
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    ASSERT_TRUE(listener_->Listen({kQueuedChannel, kEventsChannel}).ok());
    Heard();  // whatever the setup notified
  }

  Msg Outgoing(const std::string& text) {
    Msg m;
    m.channel_uuid = channel_.uuid;
    m.direction = Direction::kOut;
    m.urn = "tel:+250788383383";
    m.text = text;
    return m;
  }

  int64_t QueueOne(const std::string& text) {
    auto queued = store_->QueueOutgoing({Outgoing(text)});
    EXPECT_TRUE(queued.ok()) << queued.status().ToString();
    return queued.ok() ? queued->at(0).id : 0;
  }

  // Claims what is due (one msg queued just before).
  void Claim() {
    ClaimRequest req;
    req.worker = "host:1";
    req.limit = 10;
    auto claimed = store_->ClaimQueued(req);
    ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
    ASSERT_EQ(claimed->size(), 1u);
  }

  StatusUpdate Update(int64_t id, MsgStatus status) {
    StatusUpdate u;
    u.channel_uuid = channel_.uuid;
    u.msg_id = id;
    u.status = status;
    return u;
  }

  // The channels notified from now until 150 ms pass without another.
  std::set<std::string> Heard() {
    std::set<std::string> heard;
    for (;;) {
      auto wake = listener_->Wait(150ms);
      if (!wake.ok() || wake->channels.empty()) return heard;
      heard.insert(wake->channels.begin(), wake->channels.end());
    }
  }

  ManualClock clock_;
  std::string uri_;
  std::unique_ptr<Store> store_;
  Channel channel_;
  std::unique_ptr<PgListener> listener_;
};

TEST_F(StoreNoticesTest, EachWriteNotifiesTheWaitersThatActOnIt) {
  const std::set<std::string> kNone, kQueued{kQueuedChannel}, kEvents{kEventsChannel},
      kBoth{kQueuedChannel, kEventsChannel};
  struct Step {
    std::string name;
    std::function<void()> write;
    std::set<std::string> notified;
  };
  int64_t id = 0;
  const std::vector<Step> steps = {
      {"a msg queued (msg.queued)", [&] { id = QueueOne("one"); }, kBoth},
      {"a read", [&] { ASSERT_TRUE(store_->ListMsgs(MsgFilter{}).ok()); }, kNone},
      {"a rolled back queue (unknown channel)",
       [&] {
         Msg m = Outgoing("lost");
         m.channel_uuid = "00000000-0000-4000-8000-000000000000";
         ASSERT_FALSE(store_->QueueOutgoing({m}).ok());
       },
       kNone},
      {"the claim", [&] { Claim(); }, kNone},
      {"throttled: sent back to the queue with its next attempt, no event",
       [&] {
         StatusUpdate u = Update(id, MsgStatus::kQueued);
         u.next_attempt_on = kStart + 30'000'000;
         ASSERT_EQ(store_->WriteStatus(u)->outcome, StatusOutcome::kUnchanged);
       },
       kQueued},
      {"sent (status.updated)",
       [&] {
         clock_.Advance(60'000'000);
         Claim();
         ASSERT_EQ(store_->WriteStatus(Update(id, MsgStatus::kWired))->outcome, StatusOutcome::kUpdated);
       },
       kEvents},
      {"failed, then the operator's retry (msg.retried)",
       [&] {
         ASSERT_EQ(store_->WriteStatus(Update(id, MsgStatus::kFailed))->outcome, StatusOutcome::kUpdated);
         Heard();
         ASSERT_EQ(store_->RetryMsgs({id})->size(), 1u);
       },
       kBoth},
      {"outgoing msgs imported (no event)",
       [&] {
         Msg m = Outgoing("imported");
         m.status = MsgStatus::kQueued;
         ASSERT_EQ(*store_->ImportMsgs({m}), 1);
       },
       kQueued},
      {"incoming msgs imported (no event, nothing to send)",
       [&] {
         Msg m = Outgoing("imported in");
         m.direction = Direction::kIn;
         m.status = MsgStatus::kPending;
         m.external_id = "ext-1";
         ASSERT_EQ(*store_->ImportMsgs({m}), 1);
       },
       kNone},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.name);
    step.write();
    EXPECT_EQ(Heard(), step.notified);
  }
}

// A notice committed on the store wakes an EventWaiter fed by the relay;
// the relay of a SQLite store runs nothing.
TEST_F(StoreNoticesTest, TheRelayTurnsANoticeIntoAZeroMqWake) {
  auto relay = StoreWakeRelay::ToEventWaiters(uri_, "notices-test", kEventsChannel);
  ASSERT_TRUE(relay->active());
  EventWaiter waiter(relay->Feeds({}));
  // Listening once its session says so.
  auto ask = PgConnection::Connect(uri_, "notices-test asker");
  ASSERT_TRUE(ask.ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((*ask)->statements()("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = "
                              "'notices-test listener' AND query LIKE 'LISTEN%'")
             .OneInt()
             .value_or(0) < 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(waiter.Wait(100));
  const auto start = std::chrono::steady_clock::now();
  QueueOne("wake");
  EXPECT_TRUE(waiter.Wait(1000));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::cout << "[ latency ] commit -> relayed wake: " << ms.count() << " ms\n";
  EXPECT_LT(ms.count(), 300);

  auto sqlite = StoreWakeRelay::ToEventWaiters("sqlite:/tmp/never-opened.db", "notices-test", kEventsChannel);
  EXPECT_FALSE(sqlite->active());
  EXPECT_EQ(sqlite->Feeds({"ipc://x"}), std::vector<std::string>{"ipc://x"});
}

}  // namespace
