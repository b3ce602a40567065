// Several hosts on one PostgreSQL store wake each other through the store's
// notices (LISTEN/NOTIFY, store/store_notices.h, daemon/store_wake_relay.h):
// two "hosts" are two run dirs and spool dirs on one database, so the
// ZeroMQ wake a program gives on host A reaches nothing on host B. What
// host B's daemon does within far less than its poll, only a notice can
// have told it.
//
// Latencies are measured from the return of what wrote on host A to what
// host B's daemon did (the mock provider's or application's request), and
// printed; the bounds asserted are a fraction of the poll each daemon
// would otherwise wait (courier-send's one second, courier-hook's poll set
// to ten minutes).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "courier_fixture.h"
#include "harness.h"
#include "mock_provider.h"
#include "postgres_server.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "store/pg_connection.h"
#include "store/pg_store.h"

using namespace courier;
using namespace courier::testing;
using namespace std::chrono_literals;

namespace {

using SteadyClock = std::chrono::steady_clock;

// Well under courier-send's one-second poll: a sender that waited for its
// poll after its last empty claim takes about a second.
constexpr auto kWokenWithin = 300ms;
// Far under the ten minutes courier-hook's test poll is set to, with room
// for a first delivery under ASan on a loaded machine (346 ms seen in CI
// against a bound of 300): a missed wake would take the whole poll.
constexpr auto kHookWokenWithin = 5000ms;

int64_t MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

// Polls `done` every millisecond (a latency is being measured) until it
// holds or `timeout` passed; the milliseconds from `start`, or -1.
int64_t MillisUntil(SteadyClock::time_point start, const std::function<bool()>& done,
                    std::chrono::milliseconds timeout = 10s) {
  while (SteadyClock::now() - start < timeout) {
    if (done()) return MillisSince(start);
    std::this_thread::sleep_for(1ms);
  }
  return done() ? MillisSince(start) : -1;
}

class PgWakeTest : public CourierFixture {
 protected:
  // Host A is the fixture's env_; host B the same database with a run dir,
  // spool and recv port of its own.
  // A database of the shared server as the store (skips the test where
  // no server can be made: the caller returns when IsSkipped()).
  void UseSharedDatabase() {
    COURIER_SKIP_UNLESS_POSTGRES();
    auto uri = courier::testing::NewSharedDatabase();
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    UseDatabase(*uri);
  }

  void UseDatabase(const std::string& uri) {
    uri_ = uri;
    env_["COURIER_DB"] = uri;
    host_b_ = env_;
    host_b_["COURIER_RUN_DIR"] = dir_.File("host-b/run");
    host_b_["COURIER_SPOOL_DIR"] = dir_.File("host-b/spool");
    host_b_["COURIER_PORT"] = std::to_string(FreePort());
  }

  std::unique_ptr<Daemon> StartOnHostB(const std::string& program, std::map<std::string, std::string> extra_env = {}) {
    auto env = host_b_;
    for (const auto& [k, v] : extra_env) env[k] = v;
    return std::make_unique<Daemon>(std::vector<std::string>{Bin(program)}, env, dir_.File("host-b-" + program + ".log"));
  }

  // The sessions named `application_name` whose last statement was a
  // LISTEN: a relay listening (-1 when the server cannot be asked).
  int64_t Listening(const std::string& application_name) {
    auto connection = PgConnection::Connect(uri_, "pg_wake_test");
    if (!connection.ok()) return -1;
    try {
      return (*connection)
          ->statements()("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN%'")
          .Bind(application_name)
          .OneInt()
          .value_or(-1);
    } catch (const SqlError&) {
      return -1;
    }
  }

  // `courier-ctl send` on host A; the time it returned. Its run took
  // (started_ms_) is added to the latencies printed: the commit is within
  // it, and so is the 200 ms its ZeroMQ wake lingers for a peer on A that
  // is not there, so a msg is often sent before the command returns.
  SteadyClock::time_point SendOnHostA(const std::string& channel, const std::string& text) {
    const auto started = SteadyClock::now();
    auto sent = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", text});
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    ran_ms_ = MillisSince(started);
    return SteadyClock::now();
  }

  // Queues `count` msgs "<prefix> N" on host A one after another, each
  // once `arrived(N, text)` says the one before reached host B (a wake, or
  // it waits out its poll); expects each within kWokenWithin and prints the
  // latencies after `what`. `log` is host B's program's, for a failure.
  void ExpectEachWoken(const std::string& channel, int count, const std::string& prefix, const std::string& what,
                       const std::function<bool(int, const std::string&)>& arrived,
                       const std::function<std::string()>& log) {
    std::vector<int64_t> latencies, ran;
    for (int i = 0; i < count; ++i) {
      const std::string text = prefix + " " + std::to_string(i);
      const auto queued = SendOnHostA(channel, text);
      const int64_t ms = MillisUntil(queued, [&] { return arrived(i, text); });
      ASSERT_GE(ms, 0) << text << " never arrived\n" << log();
      latencies.push_back(ms);
      ran.push_back(ran_ms_);
    }
    const std::string shown = Show(latencies, ran);
    std::cout << "[ latency ] " << what << " (ms after courier-ctl send returned/started): " << shown << "\n";
    for (int64_t ms : latencies) EXPECT_LT(ms, kWokenWithin.count()) << shown;
  }

  // "from its return / from its start" for each latency.
  std::string Show(const std::vector<int64_t>& latencies, const std::vector<int64_t>& ran) const {
    std::string shown;
    for (size_t i = 0; i < latencies.size(); ++i)
      shown += std::to_string(latencies[i]) + "/" + std::to_string(latencies[i] + (i < ran.size() ? ran[i] : 0)) + " ";
    return shown;
  }

  int64_t ran_ms_ = 0;

  std::string uri_;
  std::map<std::string, std::string> host_b_;
  MockProvider provider_;
};

// courier-send on host B claims a msg `courier-ctl send` queued on host A
// (whose wake goes to A's run dir, where no sender listens) at once, each
// time: the msgs after the first are queued right after the previous one
// was sent, when a sender without the notice would wait out its poll.
TEST_F(PgWakeTest, ASenderOnAnotherHostIsWokenByAMsgQueuedHere) {
  UseSharedDatabase();
  if (IsSkipped() || HasFatalFailure()) return;
  InitStore();
  const std::string channel = AddChannel("EX", {"send_url=" + provider_.url() + "/send"});
  auto send = StartOnHostB("courier-send");
  ASSERT_TRUE(Eventually([&] { return Listening("courier-send listener") == 1; })) << send->log();

  // The first one, whenever it comes: the sender is up and idle after it.
  SendOnHostA(channel, "warm-up");
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; })) << send->log();
  ExpectEachWoken(channel, 5, "msg", "queued on host A -> sent by host B",
                  [&](int i, const std::string&) { return provider_.count() == static_cast<size_t>(i + 2); },
                  [&] { return send->log(); });

  // The same from a writer whose commit is timed exactly: a store opened
  // in this process, as courier-api's would be, queueing right after the
  // last msg was sent.
  PgStore host_a(uri_, "pg_wake_test writer", Clock::System());
  ASSERT_TRUE(host_a.Open().ok());
  std::vector<int64_t> from_commit;
  for (int i = 0; i < 5; ++i) {
    Msg m;
    m.channel_uuid = channel;
    m.direction = Direction::kOut;
    m.urn = "tel:+250788383383";
    m.text = "direct " + std::to_string(i);
    auto queued = host_a.QueueOutgoing({m});
    ASSERT_TRUE(queued.ok()) << queued.status().ToString();
    const auto committed = SteadyClock::now();
    const int64_t ms = MillisUntil(committed, [&] { return provider_.count() == static_cast<size_t>(i + 7); });
    ASSERT_GE(ms, 0) << "direct msg " << i << " never sent\n" << send->log();
    from_commit.push_back(ms);
  }
  std::string committed_shown;
  for (int64_t ms : from_commit) committed_shown += std::to_string(ms) + " ";
  std::cout << "[ latency ] committed on host A -> sent by host B (ms after the commit): " << committed_shown << "\n";
  for (int64_t ms : from_commit) EXPECT_LT(ms, kWokenWithin.count()) << committed_shown;
  EXPECT_TRUE(send->running());
  EXPECT_EQ(send->Stop(), 0) << send->log();
}

// courier-hook on host B, its poll ten minutes, delivers an event
// courier-recv wrote on host A at once.
TEST_F(PgWakeTest, AHookOnAnotherHostIsWokenByAnEventWrittenHere) {
  UseSharedDatabase();
  if (IsSkipped() || HasFatalFailure()) return;
  InitStore();
  const std::string channel = AddReceiveOnlyExternal();
  MockProvider app;
  auto added = Ctl({"hook", "add", "--url", app.url() + "/events"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  StartRecv();
  auto hook = StartOnHostB("courier-hook", {{"COURIER_HOOK_POLL_INTERVAL", "600"}});
  ASSERT_TRUE(Eventually([&] { return Listening("courier-hook listener") == 1; })) << hook->log();
  // The hook's worker has started and read its (empty) backlog.
  std::this_thread::sleep_for(200ms);

  std::vector<int64_t> latencies;
  for (int i = 0; i < 3; ++i) {
    const std::string text = "hello" + std::to_string(i);
    auto posted = PostForm("/c/ex/" + channel + "/receive", "from=0788383383&text=" + text);
    ASSERT_EQ(posted.status_code, 200) << posted.body;
    const auto written = SteadyClock::now();
    const int64_t ms = MillisUntil(written, [&] {
      for (const auto& r : app.requests())
        if (r.body.find(text) != std::string::npos) return true;
      return false;
    });
    ASSERT_GE(ms, 0) << "event " << i << " never delivered\n" << hook->log();
    latencies.push_back(ms);
  }
  std::string shown;
  for (int64_t ms : latencies) shown += std::to_string(ms) + " ";
  std::cout << "[ latency ] received on host A -> posted by host B's hook (ms): " << shown << "\n";
  for (int64_t ms : latencies) EXPECT_LT(ms, kHookWokenWithin.count()) << shown;
  EXPECT_EQ(hook->Stop(), 0) << hook->log();
}

// `courier-ctl events --follow` on host B prints an event written on host
// A at once: each msg is queued right after the previous one's event was
// printed, when a follower without the notice would wait out its
// one-second read.
TEST_F(PgWakeTest, EventsFollowedOnAnotherHostAppearAtOnce) {
  UseSharedDatabase();
  if (IsSkipped() || HasFatalFailure()) return;
  InitStore();
  const std::string channel = AddReceiveOnlyExternal();
  auto follow = std::make_unique<Daemon>(
      std::vector<std::string>{Bin("courier-ctl"), "events", "--follow", "--json"}, host_b_,
      dir_.File("host-b-follow.log"));
  ASSERT_TRUE(Eventually([&] { return Listening("courier-ctl listener") == 1; })) << follow->log();
  auto printed = [&](const std::string& text) { return follow->log().find("\"" + text + "\"") != std::string::npos; };

  ExpectEachWoken(channel, 3, "followed", "queued on host A -> printed by events --follow on host B",
                  [&](int, const std::string& text) { return printed(text); }, [&] { return follow->log(); });
  EXPECT_EQ(follow->Stop(), 0) << follow->log();
}

// A long poll on courier-api on host B (GET /api/v1/events?wait=) is
// answered at once when a msg is queued on host A: each round the commit
// is timed exactly (a store in this process, as host A's courier-api
// would hold), and courier-api reads the store every second while anyone
// waits, so without the notice an answer would come within 100 ms of the
// commit only by chance, 3 times in a row one time in a thousand.
TEST_F(PgWakeTest, ALongPollOnAnotherHostIsAnsweredByAMsgQueuedHere) {
  UseSharedDatabase();
  if (IsSkipped() || HasFatalFailure()) return;
  InitStore();
  const std::string channel = AddReceiveOnlyExternal();
  auto token = Ctl({"token", "add", "--name", "dashboard", "--scope", "read"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::string read_token = Lines(token.out).back();
  const int api_port = FreePort();
  auto api = StartOnHostB("courier-api", {{"COURIER_API_PORT", std::to_string(api_port)}});
  ASSERT_TRUE(api->WaitForHttp(api_port)) << api->log();
  ASSERT_TRUE(Eventually([&] { return Listening("courier-api listener") == 1; })) << api->log();
  auto long_polls_waiting = [&] {
    auto status = RunProgram({Bin("courier-ctl"), "status", "--json"}, "", host_b_);
    auto o = json::ParseObject(status.out);
    if (!o.ok()) return int64_t{-1};
    auto daemon = json::GetObject(json::GetObject(*o, "daemons"), "courier-api");
    return daemon ? json::GetInt(daemon, "long_polls_waiting").value_or(-1) : int64_t{-1};
  };
  auto long_poll = [&](int64_t after) {
    HttpRequestSpec req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(api_port) + "/api/v1/events?after=" + std::to_string(after) +
              "&wait=30";
    req.headers = {{"Authorization", "Bearer " + read_token}};
    HttpClientOptions options;
    options.timeout_seconds = 60;
    options.deadline_seconds = 60;
    return NewLoopbackHttpClient(options)->Do(req);
  };

  PgStore host_a(uri_, "pg_wake_test writer", Clock::System());
  ASSERT_TRUE(host_a.Open().ok());
  std::vector<int64_t> latencies;
  for (int i = 0; i < 3; ++i) {
    auto last = host_a.LastEventSeq();
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    auto answer = std::async(std::launch::async, long_poll, *last);
    ASSERT_TRUE(Eventually([&] { return long_polls_waiting() == 1; })) << api->log();
    Msg m;
    m.channel_uuid = channel;
    m.direction = Direction::kOut;
    m.urn = "tel:+250788383383";
    m.text = "polled " + std::to_string(i);
    auto queued = host_a.QueueOutgoing({m});
    ASSERT_TRUE(queued.ok()) << queued.status().ToString();
    const auto committed = SteadyClock::now();
    const int64_t ms = MillisUntil(committed, [&] { return answer.wait_for(0ms) == std::future_status::ready; });
    ASSERT_GE(ms, 0) << "long poll " << i << " never answered\n" << api->log();
    auto answered = answer.get();
    ASSERT_EQ(answered.status_code, 200) << answered.body;
    EXPECT_NE(answered.body.find(m.text), std::string::npos) << answered.body;
    latencies.push_back(ms);
  }
  std::string shown;
  for (int64_t ms : latencies) shown += std::to_string(ms) + " ";
  std::cout << "[ latency ] committed on host A -> long poll on host B answered (ms): " << shown << "\n";
  for (int64_t ms : latencies) EXPECT_LT(ms, 100) << shown;
  EXPECT_EQ(api->Stop(), 0) << api->log();
}

// The server restarts under a courier-send on host B: the sender keeps
// running, its listener reconnects, and a msg queued on host A after the
// restart wakes it again at once.
TEST_F(PgWakeTest, ASenderKeepsRunningThroughAServerRestartAndIsWokenAgainAfterIt) {
  COURIER_REQUIRE_POSTGRES(server);
  auto uri = server->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  UseDatabase(*uri);
  InitStore();
  const std::string channel = AddChannel("EX", {"send_url=" + provider_.url() + "/send"});
  auto send = StartOnHostB("courier-send");
  ASSERT_TRUE(Eventually([&] { return Listening("courier-send listener") == 1; })) << send->log();

  ASSERT_TRUE(server->Stop().ok()) << server->Log();
  std::this_thread::sleep_for(1500ms);  // several of the listener's retries fail
  ASSERT_TRUE(send->running()) << send->log();
  ASSERT_TRUE(server->Start().ok()) << server->Log();
  ASSERT_TRUE(Eventually([&] { return Listening("courier-send listener") == 1; })) << send->log();

  // The sender's own connection comes back too: the first msg whenever.
  SendOnHostA(channel, "after the restart");
  ASSERT_TRUE(Eventually([&] { return provider_.count() == 1; })) << send->log();
  ExpectEachWoken(channel, 3, "msg", "after a restart, queued on host A -> sent by host B",
                  [&](int i, const std::string&) { return provider_.count() == static_cast<size_t>(i + 2); },
                  [&] { return send->log(); });
  EXPECT_TRUE(send->running());
  EXPECT_EQ(send->Stop(), 0) << send->log();
}

}  // namespace
