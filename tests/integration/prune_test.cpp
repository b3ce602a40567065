// Retention end to end: `courier-ctl prune` (dry run, then the real run,
// against the same store), what `courier-ctl events` says about pruned
// seqs, and courier-flush applying the retain_* settings by itself, on
// both engines. The old rows are written by a Store (OpenStore of the
// test's url) whose clock is set weeks back, so the programs see them
// exactly as they would see old rows.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "bus/bus.h"
#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "store/sql_store.h"
#include "store/store.h"
#include "store_test_helpers.h"

using namespace courier;
using namespace courier::testing;

namespace {

constexpr Micros kDay = 86400LL * kMicrosPerSecond;

class PruneFixture : public CourierFixture {
 protected:
  void SetUp() override {
    env_["COURIER_LOG_LEVEL"] = "info";
    InitStore();
    channel_ = AddReceiveOnlyExternal();
  }

  // Writes, `days_ago`: `incoming` incoming msgs with a log each, one
  // delivered msg (an attempt and a log), one msg left queued and `logs`
  // channel logs of no msg. Every msg write also writes an event.
  void WriteHistory(int days_ago, int incoming, int logs) {
    ManualClock clock(Clock::System().Now() - days_ago * kDay);
    auto opened = OpenStore(StoreUrl(), clock);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    // SqlStore: WriteChannelLogs (free logs) is not on Store.
    auto& store = dynamic_cast<SqlStore&>(**opened);
    ChannelLog log;
    log.channel_uuid = channel_;
    log.description = "Message Received";
    log.request = "POST /c/ex/" + channel_ + "/receive";
    log.response = std::string(1500, 'r');
    for (int i = 0; i < incoming; ++i) {
      Msg m;
      m.channel_uuid = channel_;
      m.urn = "tel:+25078838" + std::to_string(1000 + i);
      m.text = "hello " + std::to_string(i);
      ASSERT_TRUE(WriteIncoming(store, m, {log}).ok());
    }
    Msg out;
    out.channel_uuid = channel_;
    out.direction = Direction::kOut;
    out.urn = "tel:+250788383383";
    out.text = "bye";
    auto sent = store.QueueOutgoing({out, out});
    ASSERT_TRUE(sent.ok()) << sent.status().ToString();
    ClaimRequest claim;
    claim.worker = "host:1";
    claim.now = clock.Now();
    auto claimed = store.ClaimQueued(claim);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u);
    StatusUpdate delivered;
    delivered.channel_uuid = channel_;
    delivered.msg_id = claimed->front().id;
    delivered.status = MsgStatus::kDelivered;
    delivered.logs = {log};
    ASSERT_TRUE(store.WriteStatus(delivered).ok());
    std::vector<ChannelLog> free_logs(logs, log);
    ASSERT_TRUE(store.WriteChannelLogs(free_logs).ok());
  }

  int64_t Count(const std::string& table) { return StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM " + table); }

  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> counts;
    for (const char* t : {"channel_logs", "events", "msgs", "attempts", "contacts"}) counts[t] = Count(t);
    return counts;
  }

  static int64_t Removed(const json::ObjectPtr& o, const std::string& kind) {
    return o->getObject(kind)->getValue<int64_t>("removed");
  }

  std::string channel_;
};

// Every test below runs on both engines (Engines/PruneTest.*/SQLite and .../PostgreSQL).
using PruneTest = OnBothEngines<PruneFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(PruneTest);

TEST_P(PruneTest, DryRunCountsThenTheRunRemovesExactlyThose) {
  WriteHistory(40, 3, 5);
  WriteHistory(2, 2, 1);
  const auto before = Counts();
  ASSERT_EQ(before.at("msgs"), 3 + 2 + 2 + 2);

  auto dry = Ctl({"prune", "--older-than", "30", "--dry-run", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(Counts(), before) << "a dry run removed something";
  auto dry_json = json::ParseObject(Lines(dry.out).at(0));
  ASSERT_TRUE(dry_json.ok()) << dry.out;
  // 40 days ago: 3 incoming + 1 delivered finished, 1 queued kept; their
  // logs (3 + 1) and the 5 free ones are old by age; one claim, so one
  // attempt.
  EXPECT_EQ(Removed(*dry_json, "msgs"), 4);
  EXPECT_EQ(Removed(*dry_json, "channel_logs"), 3 + 1 + 5);
  EXPECT_EQ((*dry_json)->getValue<int64_t>("msg_attempts"), 1);
  EXPECT_EQ((*dry_json)->getValue<int64_t>("msg_channel_logs"), 0);
  const int64_t old_events = Removed(*dry_json, "events");
  EXPECT_GE(old_events, 3 + 1);  // msg.received x3, status.updated, and any queue events

  auto human = Ctl({"prune", "--older-than", "30", "--dry-run"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("finished msgs older than 30 days"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("would remove 4\n"), std::string::npos) << human.out;

  auto run = Ctl({"prune", "--older-than", "30", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto run_json = json::ParseObject(Lines(run.out).at(0));
  ASSERT_TRUE(run_json.ok()) << run.out;
  for (const char* kind : {"msgs", "channel_logs", "events"})
    EXPECT_EQ(Removed(*run_json, kind), Removed(*dry_json, kind)) << kind;
  const auto after = Counts();
  EXPECT_EQ(after.at("msgs"), before.at("msgs") - 4);
  EXPECT_EQ(after.at("channel_logs"), before.at("channel_logs") - 9);
  EXPECT_EQ(after.at("events"), before.at("events") - old_events);
  EXPECT_EQ(after.at("attempts"), before.at("attempts") - 1);
  EXPECT_EQ(after.at("contacts"), before.at("contacts"));
  // SQLite's incremental vacuum gives freed pages back to the file system;
  // PostgreSQL's plain VACUUM keeps them for reuse (only VACUUM FULL, i.e.
  // prune --vacuum, shrinks) and adds the free space and visibility maps
  // it makes to pg_database_size: there the size may grow a little.
  if (engine() == Engine::kSQLite) {
    EXPECT_LE((*run_json)->getValue<int64_t>("file_bytes_after"), (*run_json)->getValue<int64_t>("file_bytes_before"));
  }

  // The old queued msg is still there to be sent.
  auto queued = Ctl({"msgs", "list", "--status", "Q", "--json"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  EXPECT_EQ(Lines(queued.out).size(), 2u);

  // Again: nothing more to remove.
  auto again = Ctl({"prune", "--older-than", "30", "--json"});
  auto again_json = json::ParseObject(Lines(again.out).at(0));
  ASSERT_TRUE(again_json.ok()) << again.out;
  EXPECT_EQ(Removed(*again_json, "msgs") + Removed(*again_json, "channel_logs") + Removed(*again_json, "events"), 0);
}

TEST_P(PruneTest, PerKindAgesOverrideOlderThan) {
  WriteHistory(40, 1, 1);
  WriteHistory(10, 1, 1);
  // Only msgs: logs and events are kept, but the msgs' own logs go.
  const auto before = Counts();
  auto only_msgs = Ctl({"prune", "--msgs-older-than", "30", "--json"});
  ASSERT_EQ(only_msgs.exit_code, 0) << only_msgs.err;
  auto m = json::ParseObject(Lines(only_msgs.out).at(0));
  ASSERT_TRUE(m.ok()) << only_msgs.out;
  EXPECT_EQ(Removed(*m, "msgs"), 2);  // the 40-day-old incoming and delivered
  EXPECT_EQ(Removed(*m, "events"), 0);
  EXPECT_EQ(Removed(*m, "channel_logs"), 0);
  EXPECT_EQ((*m)->getValue<int64_t>("msg_channel_logs"), 2);
  EXPECT_EQ((*m)->getObject("events")->getValue<int>("days"), 0);
  EXPECT_EQ(Count("channel_logs"), before.at("channel_logs") - 2);
  EXPECT_EQ(Count("events"), before.at("events"));

  // Logs older than 5 days (what is left of both histories), the rest
  // older than 30.
  auto run = Ctl({"prune", "--older-than", "30", "--logs-older-than", "5", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto o = json::ParseObject(Lines(run.out).at(0));
  ASSERT_TRUE(o.ok()) << run.out;
  EXPECT_EQ(Removed(*o, "channel_logs"), 1 + 3);
  EXPECT_EQ(Removed(*o, "msgs"), 0);
  EXPECT_GT(Removed(*o, "events"), 0);
  EXPECT_EQ((*o)->getObject("msgs")->getValue<int>("days"), 30);
  EXPECT_EQ((*o)->getObject("channel_logs")->getValue<int>("days"), 5);
  EXPECT_EQ(Count("channel_logs"), 0);
}

TEST_P(PruneTest, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{
           {{"prune"}, "courier-ctl: prune needs --older-than DAYS or --logs-, --events- or --msgs-older-than DAYS\n"},
           {{"prune", "--older-than", "0"}, "courier-ctl: --older-than must be a whole number from 1 to 36500, not '0'\n"},
           {{"prune", "--older-than", "7", "--dry-run", "--vacuum"},
            "courier-ctl: prune --dry-run and --vacuum do not go together\n"},
       }) {
    auto r = Ctl(c.args);
    EXPECT_EQ(r.exit_code, 64) << c.args.size();
    EXPECT_EQ(r.err, c.says);
  }
}

TEST_P(PruneTest, EventsAfterAPrunedRangeSayWhatIsGone) {
  WriteHistory(40, 2, 0);
  WriteHistory(1, 1, 0);
  auto all = Ctl({"events", "--json"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const auto lines = Lines(all.out);
  auto run = Ctl({"prune", "--events-older-than", "30", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto o = json::ParseObject(Lines(run.out).at(0));
  ASSERT_TRUE(o.ok());
  const int64_t gone = Removed(*o, "events");
  ASSERT_GT(gone, 0);
  ASSERT_LT(gone, static_cast<int64_t>(lines.size()));

  auto after = Ctl({"events", "--json", "--after", "1"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.err, "courier-ctl: events 2 to " + std::to_string(gone) +
                           " are no longer in the store (pruned: retain_events_days); continuing at " +
                           std::to_string(gone + 1) + "\n");
  // Standard output: the kept events, unchanged, and nothing else.
  EXPECT_EQ(Lines(after.out), std::vector<std::string>(lines.begin() + gone, lines.end()));
  // A cursor inside the kept range: no notice.
  auto current = Ctl({"events", "--json", "--after", std::to_string(gone + 1)});
  EXPECT_EQ(current.err, "");
}

TEST_P(PruneTest, CourierFlushAppliesTheRetentionSettings) {
  WriteHistory(40, 3, 5);  // logs and events older than both settings
  WriteHistory(10, 2, 1);  // logs older than 7 days, events younger than 30
  WriteHistory(1, 1, 1);   // everything kept
  const auto before = Counts();
  auto env = env_;
  env["COURIER_RETAIN_LOGS_DAYS"] = "7";
  env["COURIER_RETAIN_EVENTS_DAYS"] = "30";
  // retain_msgs_days left at its default: msgs are kept.
  int64_t old_events = 0;
  {
    // The events of the 40-day history are the ones seq <= its count.
    const Micros cutoff = Clock::System().Now() - 30 * kDay;
    old_events = StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM events WHERE created_on < " + std::to_string(cutoff));
  }
  ASSERT_GT(old_events, 0);
  // Logs of the 40- and 10-day histories: (3 + 1 + 5) + (2 + 1 + 1).
  const int64_t old_logs = 9 + 4;

  Daemon flush({Bin("courier-flush"), "--interval", "1"}, env, dir_.File("flush.log"));
  ASSERT_TRUE(Eventually([&] { return flush.log().find("msg=pruned") != std::string::npos; })) << flush.log();
  EXPECT_EQ(Count("channel_logs"), before.at("channel_logs") - old_logs);
  EXPECT_EQ(Count("events"), before.at("events") - old_events);
  EXPECT_EQ(Count("msgs"), before.at("msgs"));
  EXPECT_NE(flush.log().find("channel_logs=" + std::to_string(old_logs) + " events=" + std::to_string(old_events) +
                             " msgs=0"),
            std::string::npos)
      << flush.log();
  auto status = AskDaemon("ipc://" + dir_.File("run") + "/flush-ctl.sock", "status", 5000);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  auto o = json::ParseObject(*status);
  ASSERT_TRUE(o.ok()) << *status;
  auto retention = (*o)->getObject("retention");
  ASSERT_TRUE(retention) << *status;
  EXPECT_EQ(retention->getValue<int64_t>("pruned_channel_logs"), old_logs);
  EXPECT_EQ(retention->getValue<int64_t>("pruned_events"), old_events);
  EXPECT_EQ(retention->getValue<int>("msgs_days"), 0);
  EXPECT_EQ(flush.Stop(), 0) << flush.log();
}

}  // namespace
