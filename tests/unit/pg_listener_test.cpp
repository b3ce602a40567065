// Cross-host wake-ups (store/pg_listener.h) against a real server: a
// notification committed on one connection wakes a listener on another
// within 100 ms; one rolled back, or not committed yet, does not; only the
// channels listened to wake it; and a listener whose connection is lost
// (backend terminated, server stopped and started again) reconnects,
// reports a wake on every channel, and hears what comes after.
#include "store/pg_listener.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "postgres_server.h"
#include "postgres_suite.h"
#include "store/pg_connection.h"

using courier::NotifyAtCommit;
using courier::PgConnection;
using courier::PgListener;
using courier::Status;
using courier::testing::PostgresServer;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

class PgListenerTest : public courier::testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto listener = PgListener::Connect(uri(), "courier-send");
    ASSERT_TRUE(listener.ok()) << listener.status().ToString();
    listener_ = std::move(listener).value();
    ASSERT_TRUE(listener_->Listen({"msgs_queued", "Events"}).ok());
    auto writer = PgConnection::Connect(uri(), "courier-recv");
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    writer_ = std::move(writer).value();
  }

  // BEGIN, notify on each channel, then COMMIT (or ROLLBACK).
  void Write(const std::vector<std::string>& channels, bool commit = true) {
    writer_->Exec("BEGIN");
    for (const std::string& channel : channels) NotifyAtCommit(writer_->statements(), channel);
    writer_->Exec(commit ? "COMMIT" : "ROLLBACK");
  }

  PgListener::Wake WaitOk(milliseconds timeout) {
    auto wake = listener_->Wait(timeout);
    EXPECT_TRUE(wake.ok()) << wake.status().ToString();
    return wake.ok() ? *wake : PgListener::Wake{};
  }

  std::unique_ptr<PgListener> listener_;
  std::unique_ptr<PgConnection> writer_;
};


TEST_F(PgListenerTest, ACommittedNotifyFromAnotherConnectionWakesWithin100ms) {
  std::atomic<int64_t> committed_at{0};
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(200));  // the listener is in poll() by then
    Write({"msgs_queued"});
    committed_at = steady_clock::now().time_since_epoch().count();
  });
  const PgListener::Wake wake = WaitOk(milliseconds(5000));
  const auto woken_at = steady_clock::now();
  writer.join();
  EXPECT_EQ(wake.channels, std::set<std::string>{"msgs_queued"});
  EXPECT_FALSE(wake.reconnected);
  const auto latency = woken_at - steady_clock::time_point(steady_clock::duration(committed_at.load()));
  // committed_at is taken after COMMIT returns, so it may come after the
  // wake: the latency from the commit's end is at most that.
  RecordProperty("wake_latency_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count()));
  EXPECT_LT(latency, milliseconds(100)) << std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
}

TEST_F(PgListenerTest, OnlyCommittedNotifiesOnListenedChannelsWake) {
  struct Case {
    std::string name;
    std::vector<std::string> channels;
    bool commit;
    std::set<std::string> want;
  };
  const std::vector<Case> cases = {
      {"rolled back", {"msgs_queued"}, false, {}},
      {"a channel not listened to", {"other"}, true, {}},
      {"names are case-sensitive", {"events", "MSGS_QUEUED"}, true, {}},
      {"two channels, one wake", {"msgs_queued", "Events"}, true, {"msgs_queued", "Events"}},
      {"repeated in one transaction", {"Events", "Events", "Events"}, true, {"Events"}},
  };
  for (const Case& c : cases) {
    Write(c.channels, c.commit);
    // Both channels' notifications come in one flush from the server, but
    // TCP may split them: what comes within a short while counts.
    std::set<std::string> heard = WaitOk(milliseconds(c.want.empty() ? 300 : 5000)).channels;
    if (!heard.empty()) {
      for (const std::string& more : WaitOk(milliseconds(50)).channels) heard.insert(more);
    }
    EXPECT_EQ(heard, c.want) << c.name;
    // Nothing left over for the next case.
    EXPECT_TRUE(WaitOk(milliseconds(50)).channels.empty()) << c.name;
  }
}

TEST_F(PgListenerTest, ANotifyIsDeliveredAtCommitNotBefore) {
  writer_->Exec("BEGIN");
  NotifyAtCommit(writer_->statements(), "msgs_queued");
  EXPECT_TRUE(WaitOk(milliseconds(300)).channels.empty());
  writer_->Exec("COMMIT");
  EXPECT_EQ(WaitOk(milliseconds(5000)).channels, std::set<std::string>{"msgs_queued"});
}

TEST_F(PgListenerTest, ATerminatedBackendIsReconnectedAndReportedAsAWake) {
  const int pid = ::PQbackendPID(listener_->connection().get());
  auto killed = writer_->statements()("SELECT pg_terminate_backend(CAST(? AS INTEGER))").Bind(pid).OneInt();
  ASSERT_EQ(killed, 1);
  const PgListener::Wake wake = WaitOk(milliseconds(5000));
  EXPECT_TRUE(wake.reconnected);
  EXPECT_EQ(wake.channels, (std::set<std::string>{"msgs_queued", "Events"}));
  EXPECT_NE(::PQbackendPID(listener_->connection().get()), pid);
  Write({"Events"});
  EXPECT_EQ(WaitOk(milliseconds(5000)).channels, std::set<std::string>{"Events"});
}

TEST_F(PgListenerTest, AfterAServerRestartTheListenerReconnectsWakesAndHearsLaterNotifies) {
  ASSERT_TRUE(server().Stop().ok());
  // Down: Wait reports it, after waiting out its timeout (no spinning).
  const auto before = steady_clock::now();
  auto down = listener_->Wait(milliseconds(300));
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Status::Code::kUnavailable) << down.status().ToString();
  EXPECT_GE(steady_clock::now() - before, milliseconds(300));
  auto still_down = listener_->Wait(milliseconds(100));
  EXPECT_EQ(still_down.status().code(), Status::Code::kUnavailable);

  ASSERT_TRUE(server().Start().ok()) << server().Log();
  const PgListener::Wake wake = WaitOk(milliseconds(5000));
  EXPECT_TRUE(wake.reconnected);
  EXPECT_EQ(wake.channels, (std::set<std::string>{"msgs_queued", "Events"}));

  ASSERT_TRUE(writer_->Reconnect().ok());
  Write({"msgs_queued"});
  EXPECT_EQ(WaitOk(milliseconds(5000)).channels, std::set<std::string>{"msgs_queued"});
}

}  // namespace
