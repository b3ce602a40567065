// Retention on a real SQLite file: which channel logs, events and msgs
// Prune removes at the cutoff's edges, the rows that go with a msg, the
// dry run's counts against a real run's, batches that let another
// connection commit in between, and the file space given back.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "temp_dir.h"
#include "store/sqlite_store.h"
#include "store/store.h"
#include "store_test_helpers.h"

using namespace courier;

using courier::testing::ScratchDir;
using courier::testing::WriteIncoming;

namespace {

constexpr Micros kDay = 86400LL * kMicrosPerSecond;
constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

class PruneTest : public ::testing::Test {
 protected:
  PruneTest() : clock_(kStart), db_path_(dir_.path() + "/courier.db") {}

  void SetUp() override { OpenAndMigrate(); }

  void OpenAndMigrate() {
    store_ = std::make_unique<SqliteStore>(db_path_, clock_);
    ASSERT_TRUE(store_->Open().ok());
    Status s = store_->Migrate();
    ASSERT_TRUE(s.ok()) << s.ToString();
    channel_ = AddChannel();
  }

  Channel AddChannel() {
    auto added = courier::testing::AddTelChannel(*store_);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? *added : Channel{};
  }

  ChannelLog Log(const std::string& what, Micros created_on = 0, std::optional<int64_t> msg_id = {}) {
    ChannelLog l;
    l.channel_uuid = channel_.uuid;
    l.description = what;
    l.method = "POST";
    l.url = "https://provider.example/send";
    l.request = "{\"to\":\"+250788383383\"}";
    l.response = "{\"ok\":true}";
    l.status_code = 200;
    l.created_on = created_on;
    l.msg_id = msg_id;
    return l;
  }

  void WriteLogs(int n, Micros created_on, const std::string& body = "") {
    std::vector<ChannelLog> logs;
    for (int i = 0; i < n; ++i) {
      logs.push_back(Log("log " + std::to_string(i), created_on));
      logs.back().response = body;
    }
    ASSERT_TRUE(store_->WriteChannelLogs(logs).ok());
  }

  // An incoming msg now, with one log.
  int64_t Incoming(const std::string& urn) {
    Msg m;
    m.channel_uuid = channel_.uuid;
    m.urn = urn;
    m.text = "hello";
    auto r = WriteIncoming(*store_, m, {Log("Message Received")});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->msg_id : 0;
  }

  int64_t Queue(const std::string& urn, Priority priority = Priority::kHigh) {
    Msg m;
    m.priority = priority;
    m.channel_uuid = channel_.uuid;
    m.direction = Direction::kOut;
    m.urn = urn;
    m.text = "hi";
    auto q = store_->QueueOutgoing({m});
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? q->front().id : 0;
  }

  void Claim(int64_t expected_id) {
    ClaimRequest req;
    req.worker = "host:1";
    req.now = clock_.Now();
    req.limit = 1;
    auto claimed = store_->ClaimQueued(req);
    ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
    ASSERT_EQ(claimed->size(), 1u);
    ASSERT_EQ(claimed->front().id, expected_id);
  }

  void SetStatus(int64_t id, MsgStatus status) {
    StatusUpdate u;
    u.channel_uuid = channel_.uuid;
    u.msg_id = id;
    u.status = status;
    if (status == MsgStatus::kErrored) u.next_attempt_on = clock_.Now() + 365 * kDay;
    u.logs = {Log("status " + MsgStatusString(status))};
    auto r = store_->WriteStatus(u);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->outcome, StatusOutcome::kUpdated);
  }

  // A msg sent through a claim (an attempt) to `final` status.
  int64_t Sent(const std::string& urn, MsgStatus final) {
    int64_t id = Queue(urn);
    Claim(id);
    SetStatus(id, final);
    return id;
  }

  // One msg in each state a msg can be in, all written now:
  // name -> id.
  std::map<std::string, int64_t> OneOfEach(const std::string& prefix) {
    std::map<std::string, int64_t> ids;
    ids["incoming"] = Incoming("tel:+2507881" + prefix + "01");
    ids["delivered"] = Sent("tel:+2507881" + prefix + "02", MsgStatus::kDelivered);
    ids["wired"] = Sent("tel:+2507881" + prefix + "03", MsgStatus::kWired);
    ids["failed"] = Sent("tel:+2507881" + prefix + "04", MsgStatus::kFailed);
    ids["errored"] = Sent("tel:+2507881" + prefix + "05", MsgStatus::kErrored);
    // Bulk: the claims here (high first) never take it.
    ids["queued"] = Queue("tel:+2507881" + prefix + "06", Priority::kBulk);
    ids["in flight"] = Queue("tel:+2507881" + prefix + "07");
    Claim(ids["in flight"]);
    return ids;
  }

  int64_t Count(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    else
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  std::set<int64_t> MsgIds() {
    std::set<int64_t> ids;
    MsgFilter all;
    all.limit = 0;
    auto msgs = store_->ListMsgs(all);
    EXPECT_TRUE(msgs.ok());
    if (msgs.ok())
      for (const auto& m : *msgs) ids.insert(m.id);
    return ids;
  }

  PruneCounts Prune(PruneRequest req) {
    auto r = store_->Prune(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PruneCounts{};
  }

  ScratchDir dir_;
  ManualClock clock_;
  std::string db_path_;
  std::unique_ptr<SqliteStore> store_;
  Channel channel_;
};

TEST_F(PruneTest, ChannelLogsOlderThanTheCutoffGoAndTheRestStay) {
  const Micros cutoff = kStart + 10 * kDay;
  WriteLogs(3, cutoff - 2 * kDay);
  WriteLogs(2, cutoff - 1);  // one microsecond older than the cutoff: goes
  WriteLogs(4, cutoff);      // exactly the cutoff: stays
  WriteLogs(1, cutoff + kDay);
  PruneRequest req;
  req.logs_before = cutoff;
  PruneCounts c = Prune(req);
  EXPECT_EQ(c.logs, 5);
  EXPECT_EQ(c.events, 0);
  EXPECT_EQ(c.msgs, 0);
  EXPECT_TRUE(c.finished);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs"), 5);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs WHERE created_on < " + std::to_string(cutoff)), 0);
  // Again: nothing more.
  EXPECT_EQ(Prune(req).logs, 0);
}

TEST_F(PruneTest, EventsOlderThanTheCutoffGoAndSeqsNeverGoBack) {
  // contact stop/unstop: one event each, stamped with the clock.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store_->SetContactStopped("tel:+250788100" + std::to_string(i), true, "").ok());
  const Micros cutoff = clock_.Now() + 1;
  clock_.Set(cutoff);
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788200", true, "").ok());  // at the cutoff: stays
  auto before = store_->LastEventSeq();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(*before, 4);

  PruneRequest req;
  req.events_before = cutoff;
  EXPECT_EQ(Prune(req).events, 3);
  EXPECT_EQ(*store_->OldestEventSeq(), 4);
  auto left = store_->EventsAfter(0, 100);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().seq, 4);

  // Every event gone: the last seq handed out is still 4, the oldest
  // "kept" is the next one, and the next event is 5.
  req.events_before = cutoff + 1;
  EXPECT_EQ(Prune(req).events, 1);
  EXPECT_EQ(*store_->LastEventSeq(), 4);
  EXPECT_EQ(*store_->OldestEventSeq(), 5);
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788300", true, "").ok());
  auto next = store_->EventsAfter(0, 100);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ(next->front().seq, 5);
}

TEST_F(PruneTest, OnlyFinishedMsgsOlderThanTheCutoffGo) {
  auto old_msgs = OneOfEach("1");
  clock_.Advance(10 * kDay);
  auto new_msgs = OneOfEach("2");
  const Micros cutoff = kStart + 5 * kDay;

  PruneRequest req;
  req.msgs_before = cutoff;
  PruneCounts c = Prune(req);
  EXPECT_EQ(c.msgs, 4);  // incoming, delivered, wired, failed of the old ones
  std::set<int64_t> expected;
  for (const char* kept : {"errored", "queued", "in flight"}) expected.insert(old_msgs[kept]);
  for (const auto& [name, id] : new_msgs) expected.insert(id);
  EXPECT_EQ(MsgIds(), expected);

  // Modified a microsecond before the cutoff: gone; at it: kept.
  clock_.Set(cutoff + 100 * kDay);
  const int64_t just_before = Incoming("tel:+250788900001");
  clock_.Advance(1);
  const int64_t at_cutoff = Incoming("tel:+250788900002");
  PruneRequest edge;
  edge.msgs_before = clock_.Now();
  EXPECT_EQ(Prune(edge).msgs, 5);  // the new ones finished at +10 days, and just_before
  EXPECT_EQ(MsgIds().count(just_before), 0u);
  EXPECT_EQ(MsgIds().count(at_cutoff), 1u);
  EXPECT_EQ(MsgIds().count(new_msgs["queued"]), 1u);
}

TEST_F(PruneTest, AMsgGoesWithItsAttemptsAndLogsAndOthersKeepTheirs) {
  auto old_msgs = OneOfEach("1");
  clock_.Advance(10 * kDay);
  auto new_msgs = OneOfEach("2");
  const int64_t contacts = Count("SELECT COUNT(*) FROM contacts");
  const int64_t urns = Count("SELECT COUNT(*) FROM contact_urns");
  // The pruned msgs' dependents, counted before.
  std::string gone_ids;
  for (const char* name : {"incoming", "delivered", "wired", "failed"})
    gone_ids += (gone_ids.empty() ? "" : ",") + std::to_string(old_msgs[name]);
  const int64_t gone_attempts = Count("SELECT COUNT(*) FROM attempts WHERE msg_id IN (" + gone_ids + ")");
  const int64_t gone_logs = Count("SELECT COUNT(*) FROM channel_logs WHERE msg_id IN (" + gone_ids + ")");
  const int64_t all_attempts = Count("SELECT COUNT(*) FROM attempts");
  const int64_t all_logs = Count("SELECT COUNT(*) FROM channel_logs");
  ASSERT_EQ(gone_attempts, 3);  // delivered, wired, failed were sent once each
  ASSERT_EQ(gone_logs, 4);      // and the incoming one was received with a log

  PruneRequest req;
  req.msgs_before = kStart + 5 * kDay;
  PruneCounts c = Prune(req);
  EXPECT_EQ(c.msgs, 4);
  EXPECT_EQ(c.attempts, gone_attempts);
  EXPECT_EQ(c.msg_logs, gone_logs);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts"), all_attempts - gone_attempts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs"), all_logs - gone_logs);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE msg_id IN (" + gone_ids + ")"), 0);
  // The kept old msgs keep theirs (the errored one was sent once; the one
  // in flight has its attempt open).
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE msg_id = " + std::to_string(old_msgs["errored"])), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL AND msg_id = " +
                  std::to_string(old_msgs["in flight"])),
            1);
  // Contacts and URNs outlive their msgs; nothing dangles.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contacts"), contacts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contact_urns"), urns);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
  // The kept in-flight msg can still be finished.
  SetStatus(old_msgs["in flight"], MsgStatus::kDelivered);
}

TEST_F(PruneTest, ADryRunCountsExactlyWhatTheRunRemovesAndRemovesNothing) {
  OneOfEach("1");
  WriteLogs(5, kStart);
  clock_.Advance(10 * kDay);
  OneOfEach("2");
  WriteLogs(2, clock_.Now());
  PruneRequest req;
  req.logs_before = kStart + 5 * kDay;
  req.events_before = kStart + 5 * kDay;
  req.msgs_before = kStart + 5 * kDay;
  req.batch_size = 3;  // several batches of each kind
  const auto tables = {"channel_logs", "events", "msgs", "attempts", "contacts"};
  std::map<std::string, int64_t> before;
  for (const char* t : tables) before[t] = Count(std::string("SELECT COUNT(*) FROM ") + t);

  req.dry_run = true;
  PruneCounts dry = Prune(req);
  for (const char* t : tables) EXPECT_EQ(Count(std::string("SELECT COUNT(*) FROM ") + t), before[t]) << t;
  req.dry_run = false;
  PruneCounts real = Prune(req);

  EXPECT_EQ(dry.logs, real.logs);
  EXPECT_EQ(dry.events, real.events);
  EXPECT_EQ(dry.msgs, real.msgs);
  EXPECT_EQ(dry.msg_logs, real.msg_logs);
  EXPECT_EQ(dry.attempts, real.attempts);
  // Old logs: the old msgs' 5 (incoming 1, delivered, wired, failed and
  // errored 1 each) and 5 free-standing, all by age; the pruned msgs'
  // logs are among them, so they are counted there, once.
  EXPECT_EQ(real.logs, 5 + 5);
  EXPECT_EQ(real.msg_logs, 0);
  EXPECT_EQ(real.msgs, 4);
  EXPECT_EQ(real.attempts, 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs"), before["channel_logs"] - real.logs - real.msg_logs);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM events"), before["events"] - real.events);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM msgs"), before["msgs"] - real.msgs);
  EXPECT_GT(real.events, 0);
}

TEST_F(PruneTest, AnotherConnectionCommitsBetweenBatches) {
  WriteLogs(2500, kStart);
  clock_.Advance(10 * kDay);
  // A writer that does not wait at all for the lock: any batch still
  // holding it would make its write fail with Busy.
  SqliteStore other(db_path_, clock_, /*busy_timeout_ms=*/0);
  ASSERT_TRUE(other.Open().ok());
  int commits = 0;
  PruneRequest req;
  req.logs_before = kStart + kDay;
  req.batch_size = 1000;
  req.between_batches = [&] {
    Status st = other.WriteChannelLogs({Log("between batches", clock_.Now())});
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (st.ok()) ++commits;
    return true;
  };
  PruneCounts c = Prune(req);
  EXPECT_EQ(c.logs, 2500);
  EXPECT_EQ(c.batches, 3);
  EXPECT_EQ(commits, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs"), 2);  // the other's, new: kept
}

TEST_F(PruneTest, MaxBatchesStopsAndTheNextRunGoesOn) {
  WriteLogs(25, kStart);
  PruneRequest req;
  req.logs_before = kStart + 1;
  req.batch_size = 10;
  req.max_batches = 2;
  PruneCounts first = Prune(req);
  EXPECT_EQ(first.logs, 20);
  EXPECT_FALSE(first.finished);
  PruneCounts second = Prune(req);
  EXPECT_EQ(second.logs, 5);
  EXPECT_TRUE(second.finished);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM channel_logs"), 0);
}

TEST_F(PruneTest, ANewStoreGivesTheSpaceBackToTheFileSystem) {
  auto space = store_->Space();
  ASSERT_TRUE(space.ok());
  EXPECT_TRUE(space->incremental);
  const std::string body(10 * 1024, 'r');  // a 10 KB provider response
  for (int i = 0; i < 4; ++i) WriteLogs(500, kStart, body);
  ASSERT_TRUE(store_->ReclaimSpace(false).ok());  // checkpoints: the file holds it all
  const int64_t full = FileSize(db_path_);
  PruneRequest req;
  req.logs_before = kStart + 1;
  EXPECT_EQ(Prune(req).logs, 2000);
  auto after_prune = store_->Space();
  ASSERT_TRUE(after_prune.ok());
  EXPECT_GT(after_prune->free_bytes, 2000 * 10 * 1024);
  auto reclaimed = store_->ReclaimSpace(false);
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.status().ToString();
  EXPECT_EQ(reclaimed->free_bytes, 0);
  const int64_t small = FileSize(db_path_);
  std::cerr << "store file: " << full << " bytes with 2000 10 KB logs, " << small
            << " after prune + incremental vacuum\n";
  EXPECT_LT(small, full / 10);
}

TEST(PruneSpaceTest, AnOlderStoreReusesFreePagesAndAFullVacuumConvertsIt) {
  ScratchDir dir;
  const std::string path = dir.path() + "/old.db";
  {
    // A store as versions before retention made them: WAL set before
    // anything else, so auto_vacuum stays NONE.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); DROP TABLE t;", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  ManualClock clock(kStart);
  SqliteStore store(path, clock);
  ASSERT_TRUE(store.Migrate().ok());
  Channel c;
  c.type = "EX";
  c.address = "1";
  auto ch = store.AddChannel(c);
  ASSERT_TRUE(ch.ok());
  auto write = [&](int n) {
    std::vector<ChannelLog> logs(n);
    for (auto& l : logs) {
      l.channel_uuid = ch->uuid;
      l.response = std::string(10 * 1024, 'r');
      l.created_on = clock.Now();
    }
    ASSERT_TRUE(store.WriteChannelLogs(logs).ok());
  };
  write(1000);
  ASSERT_FALSE(store.Space()->incremental);
  PruneRequest req;
  req.logs_before = kStart + 1;
  ASSERT_EQ(store.Prune(req)->logs, 1000);
  auto kept = store.ReclaimSpace(false);
  ASSERT_TRUE(kept.ok());
  const int64_t pruned_size = kept->file_bytes;
  EXPECT_GT(kept->free_bytes, 1000 * 10 * 1024);  // nothing given back without a VACUUM
  // New rows reuse the free pages: the file does not grow.
  clock.Advance(kDay);
  write(900);
  EXPECT_EQ(store.Space()->file_bytes, pruned_size);

  auto vacuumed = store.ReclaimSpace(true);
  ASSERT_TRUE(vacuumed.ok()) << vacuumed.status().ToString();
  EXPECT_TRUE(vacuumed->incremental);
  EXPECT_EQ(vacuumed->free_bytes, 0);
  EXPECT_LT(vacuumed->file_bytes, pruned_size);
  EXPECT_EQ(FileSize(path), vacuumed->file_bytes);
}

}  // namespace
