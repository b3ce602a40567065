// courier-flush end to end: the real program against a real SQLite file
// and a real spool in a temporary directory. Spool files are written with
// SpoolDir::Write + EncodeIntake, exactly as courier-recv writes them.
#include <gtest/gtest.h>

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "bus/bus.h"
#include "bus/wake.h"
#include "core/json.h"
#include "core/uuid.h"
#include "count_occurrences.h"
#include "courier_fixture.h"
#include "harness.h"
#include "http/http_client.h"
#include "spool/intake_codec.h"
#include "spool/spool.h"
#include "spool/spool_file.h"
#include "store/pg_connection.h"

using namespace courier;
using namespace courier::testing;

namespace {

class FlushFixture : public CourierFixture {
 protected:
  void SetUp() override {
    env_["COURIER_LOG_LEVEL"] = "info";
    InitStore();
    channel_ = AddReceiveOnlyExternal();
  }

  RunResult Flush(std::vector<std::string> args, std::map<std::string, std::string> extra_env = {}) {
    args.insert(args.begin(), Bin("courier-flush"));
    auto env = env_;
    for (const auto& [k, v] : extra_env) env[k] = v;
    return RunProgram(args, "", env);
  }

  // An intake of one incoming msg, as courier-recv would spool it.
  Intake MsgIntake(const std::string& text, const std::string& channel = "") {
    Intake in;
    in.channel_uuid = channel.empty() ? channel_ : channel;
    Msg m;
    m.uuid = NewUUID();
    m.channel_uuid = in.channel_uuid;
    m.channel_type = "EX";
    m.direction = Direction::kIn;
    m.status = MsgStatus::kPending;
    m.urn = "tel:+250788383383";
    m.text = text;
    m.received_on = 1500000000 * kMicrosPerSecond;
    in.msgs.push_back(m);
    return in;
  }

  // Writes a spool file; names sort by `now`, so successive calls keep order.
  std::string Spool(const Intake& intake) {
    auto name = spool_.Write(EncodeIntake(intake), ++now_);
    EXPECT_TRUE(name.ok()) << name.status().ToString();
    return name.ok() ? *name : "";
  }

  size_t Count(const std::string& state) {
    auto names = Env::Default().ListDir(dir_.File("spool/" + state));
    if (!names.ok()) return 0;
    size_t n = 0;
    for (const auto& name : *names) n += name.find(".reason") == std::string::npos ? 1 : 0;
    return n;
  }

  std::vector<std::string> MsgLines() { return Lines(Ctl({"msgs", "list", "--limit", "100000", "--json"}).out); }

  std::string Endpoint(const std::string& name) { return "ipc://" + dir_.File("run") + "/" + name + ".sock"; }

  std::string channel_;
  SpoolDir spool_{dir_.File("spool")};
  Micros now_ = 1700000000 * kMicrosPerSecond;
};

// Every test below runs on both engines (Engines/FlushTest.*/SQLite and .../PostgreSQL), except FlushTestSqlite.*:
// their fault is the SQLite file's (a lock held by another process, a store file whose directory is gone);
// FaultPgServerTest.ServerStoppedLosesNothing (fault_test.cpp) is their PostgreSQL counterpart.
using FlushTest = OnBothEngines<FlushFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(FlushTest);
using FlushTestSqlite = FlushFixture;
class FlushTestPostgres : public FlushFixture {
 protected:
  void SetUp() override {
    UseEngine(Engine::kPostgreSQL);
    if (HasFatalFailure() || IsSkipped()) return;
    FlushFixture::SetUp();
  }
};

TEST_P(FlushTest, OnceFlushesEverySpooledIntake) {
  for (int i = 0; i < 50; ++i) Spool(MsgIntake("spooled " + std::to_string(i)));
  ASSERT_EQ(Count("new"), 50u);
  auto r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("50 flushed"), std::string::npos) << r.err;
  EXPECT_EQ(MsgLines().size(), 50u);
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  // Replayed oldest first: ids ascend with the file names.
  auto listed = Ctl({"msgs", "list", "--after-id", "0", "--limit", "100", "--json"});
  auto lines = Lines(listed.out);
  ASSERT_EQ(lines.size(), 50u);
  EXPECT_NE(lines.front().find("\"text\":\"spooled 0\""), std::string::npos) << lines.front();
  EXPECT_NE(lines.back().find("\"text\":\"spooled 49\""), std::string::npos) << lines.back();
  // Nothing to do is success too.
  EXPECT_EQ(Flush({"--once"}).exit_code, 0);
}

TEST_P(FlushTest, ReplayingTheSameFileTwiceStoresOneMsg) {
  Intake intake = MsgIntake("only once");
  std::string name = Spool(intake);
  std::string contents = ReadFile(dir_.File("spool/new/" + name));
  ASSERT_EQ(Flush({"--once"}).exit_code, 0);
  ASSERT_EQ(Count("new"), 0u);
  WriteFile(dir_.File("spool/new/" + name), contents);
  auto again = Flush({"--once"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Count("new") + Count("bad"), 0u);
  auto msgs = MsgLines();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find(intake.msgs[0].uuid), std::string::npos);
}

TEST_P(FlushTest, TornAndGarbageFilesGoToBadWithReasons) {
  Spool(MsgIntake("good 1"));
  std::string torn = Spool(MsgIntake("torn"));
  Spool(MsgIntake("good 2"));
  std::string garbage = Spool(MsgIntake("garbage"));
  Spool(MsgIntake("good 3"));
  // A crash-torn file (cut short) and a foreign one.
  std::string torn_path = dir_.File("spool/new/" + torn);
  std::string full = ReadFile(torn_path);
  WriteFile(torn_path, full.substr(0, full.size() / 2));
  WriteFile(dir_.File("spool/new/" + garbage), "this is not a spool file\n\x01\x02");

  auto r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 flushed, 2 moved to"), std::string::npos) << r.err;
  EXPECT_EQ(MsgLines().size(), 3u);
  EXPECT_EQ(Count("new") + Count("cur"), 0u);
  ASSERT_EQ(Count("bad"), 2u);
  EXPECT_NE(ReadFile(dir_.File("spool/bad/" + torn + ".reason")).find("torn"), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("spool/bad/" + garbage + ".reason")).find("header"), std::string::npos);

  auto listed = Ctl({"spool", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto lines = Lines(listed.out);
  ASSERT_EQ(lines.size(), 2u) << listed.out;
  for (const auto& line : lines) {
    EXPECT_NE(line.find("\"state\":\"bad\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"reason\":\"corruption: "), std::string::npos) << line;
  }
  EXPECT_NE(listed.out.find(torn), std::string::npos);
  EXPECT_NE(listed.out.find(garbage), std::string::npos);

  // The operator fixes the torn file and replays just it: it is stored and
  // removed with its reason; the other bad file is untouched.
  WriteFile(dir_.File("spool/bad/" + torn), EncodeSpoolFile(EncodeIntake(MsgIntake("torn, fixed"))));
  auto replay = Flush({dir_.File("spool/bad/" + torn)});
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("spool/bad/" + torn)));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("spool/bad/" + torn + ".reason")));
  EXPECT_EQ(Count("bad"), 1u);
  EXPECT_EQ(MsgLines().size(), 4u);

  // The garbage one can't be replayed as it is: 65, left in place.
  auto still_bad = Flush({dir_.File("spool/bad/" + garbage)});
  EXPECT_EQ(still_bad.exit_code, 65) << still_bad.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("spool/bad/" + garbage)));
  // Fixed by hand as bare JSON (no header, whose checksum an editor can't
  // keep), and named with a glob that also matches the .reason file.
  WriteFile(dir_.File("spool/bad/" + garbage), EncodeIntake(MsgIntake("garbage, fixed by hand")));
  auto by_hand = Flush({dir_.File("spool/bad/" + garbage), dir_.File("spool/bad/" + garbage + ".reason")});
  EXPECT_EQ(by_hand.exit_code, 0) << by_hand.err;
  EXPECT_EQ(Count("bad"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("spool/bad/" + garbage + ".reason")));
  EXPECT_EQ(MsgLines().size(), 5u);
  // A file that is not there: 66.
  EXPECT_EQ(Flush({dir_.File("spool/bad/nope.json")}).exit_code, 66);
}

TEST_F(FlushTestSqlite, StoreInMissingDirectoryExits75AndKeepsFiles) {
  for (int i = 0; i < 3; ++i) Spool(MsgIntake("waiting " + std::to_string(i)));
  auto r = Flush({"--once", "--db", dir_.File("missing/courier.db")});
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find("3 intakes left"), std::string::npos) << r.err;
  EXPECT_EQ(Count("new"), 3u);
  EXPECT_EQ(Count("cur"), 0u);
  // Named files: the same answer, and the file stays.
  auto names = spool_.List("new");
  ASSERT_TRUE(names.ok());
  auto named = Flush({"--db", dir_.File("missing/courier.db"), names->at(0).path});
  EXPECT_EQ(named.exit_code, 75) << named.err;
  EXPECT_TRUE(std::filesystem::exists(names->at(0).path));
}

// libpq is loaded when a PostgreSQL store is first used. On a host where
// it cannot be (Debian's libpq5 missing, or a library too old for
// pipeline mode) each program names the package and acts as with the
// store down, never a crash: courier-flush keeps every intake, courier-ctl
// exits 69, courier-recv asks providers to retry. With libpq back, the
// intakes are stored once.
TEST_F(FlushTestPostgres, WithoutLibpqTheSpoolKeepsEverythingAndThePackageIsNamed) {
  for (int i = 0; i < 3; ++i) Spool(MsgIntake("waiting for libpq " + std::to_string(i)));
  std::filesystem::create_directories(dir_.File("libs/broken"));
  std::filesystem::create_directories(dir_.File("libs/old"));
  WriteFile(dir_.File("libs/broken/libpq.so.5"), "not a library");
  // A real shared object without libpq's functions, as an old libpq
  // lacks the pipeline ones.
  std::filesystem::copy_file(COURIER_KILL_BEFORE_UNLINK_LIB, dir_.File("libs/old/libpq.so.5"));
  const std::map<std::string, std::string> broken = {{"LD_LIBRARY_PATH", dir_.File("libs/broken")}};
  const std::map<std::string, std::string> old = {{"LD_LIBRARY_PATH", dir_.File("libs/old")}};

  auto r = Flush({"--once"}, broken);
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find("(Debian package libpq5)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 intakes left"), std::string::npos) << r.err;
  r = Flush({"--once"}, old);
  EXPECT_EQ(r.exit_code, 75) << r.err;
  EXPECT_NE(r.err.find("client library 14 or later is needed"), std::string::npos) << r.err;
  EXPECT_EQ(Count("new"), 3u);
  EXPECT_EQ(Count("cur") + Count("bad"), 0u);

  auto ctl_env = env_;
  ctl_env.insert(broken.begin(), broken.end());
  auto status = RunProgram({Bin("courier-ctl"), "status", "--json"}, "", ctl_env);
  EXPECT_EQ(status.exit_code, 69) << status.err;
  EXPECT_NE(status.out.find("(Debian package libpq5)"), std::string::npos) << status.out;

  {
    Daemon recv({Bin("courier-recv")}, ctl_env, dir_.File("recv.log"));
    ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
    auto http = NewLoopbackHttpClient();
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/ex/" + channel_ + "/receive";
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.body = "from=0788383383&text=x";
    EXPECT_EQ(http->Do(req).status_code, 503);
    EXPECT_EQ(recv.Stop(SIGTERM), 0) << recv.log();
    EXPECT_NE(recv.log().find("libpq5"), std::string::npos) << recv.log();
  }

  r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MsgLines().size(), 3u);
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
}

// On PostgreSQL courier-flush commits without waiting for the WAL flush,
// and a session of its own makes those commits durable (CommitSync). That
// session killed, and no new one to be had (the database lets no one new
// in; the writer's session is up until then): what was committed is not
// known durable, so its files go back to new/, and once sessions are let
// in again each intake is stored once.
TEST_F(FlushTestPostgres, ALostSyncSessionPutsTheFilesBack) {
  // The store's database is shut to new sessions from another one (the
  // server's "postgres"): PostgreSQL will not do it from inside.
  const std::string uri = env_["COURIER_DB"];
  const std::string database = uri.substr(uri.rfind('/') + 1);
  auto admin = PgConnection::Connect(uri, "flush_test");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  auto server = PgConnection::Connect(uri.substr(0, uri.rfind('/') + 1) + "postgres", "flush_test");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto let_in = [&](bool allowed) {
    (*server)->Exec("ALTER DATABASE \"" + database + "\" ALLOW_CONNECTIONS " + (allowed ? "true" : "false"));
  };
  auto stored = [&] { return (*admin)->statements()("SELECT COUNT(*) FROM msgs").OneInt().value_or(-1); };

  Daemon flush({Bin("courier-flush"), "--interval", "1"}, env_, dir_.File("flush.log"));
  Spool(MsgIntake("before the fault"));
  ASSERT_TRUE(Eventually([&] {
    PushWake(Endpoint("flush-wake"), "spooled");
    return Count("new") + Count("cur") == 0 && stored() == 1;
  })) << flush.log();

  let_in(false);
  // Let in again whatever fails below, before the fixture's own check of
  // the database; a destructor must not throw.
  struct LetInAgain {
    std::function<void()> undo;
    ~LetInAgain() {
      try {
        undo();
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cannot let sessions in again: " << e.what();
      }
    }
  } guard{[&] { let_in(true); }};
  // The sync session is the one whose last statement was the sync.
  const int64_t killed = (*admin)
                             ->statements()("SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                                            "pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND "
                                            "query LIKE '%pg_logical_emit_message%') AS k")
                             .OneInt()
                             .value_or(0);
  ASSERT_EQ(killed, 1);
  std::vector<std::string> uuids;
  for (int i = 0; i < 20; ++i) {
    Intake in = MsgIntake("during the fault " + std::to_string(i));
    uuids.push_back(in.msgs[0].uuid);
    Spool(in);
  }
  PushWake(Endpoint("flush-wake"), "spooled");
  ASSERT_TRUE(Eventually([&] {
    return flush.log().find("cannot make the store's commits durable") != std::string::npos;
  })) << flush.log();
  // Nothing removed: every file waits in new/ (or is claimed by a pass).
  EXPECT_EQ(Count("new") + Count("cur"), 20u) << flush.log();
  EXPECT_EQ(Count("bad"), 0u);

  let_in(true);
  ASSERT_TRUE(Eventually([&] {
    PushWake(Endpoint("flush-wake"), "spooled");
    return Count("new") + Count("cur") == 0;
  })) << flush.log();
  EXPECT_EQ(flush.Stop(SIGTERM), 0) << flush.log();
  EXPECT_EQ(stored(), 21);
  for (const auto& uuid : uuids) EXPECT_EQ(Ctl({"msgs", "show", uuid}).exit_code, 0) << uuid;
}

TEST_F(FlushTestSqlite, LockedStoreExits75AndPutsClaimedFilesBack) {
  for (int i = 0; i < 3; ++i) Spool(MsgIntake("waiting " + std::to_string(i)));
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    auto r = Flush({"--once"});
    EXPECT_EQ(r.exit_code, 75) << r.err;
    EXPECT_NE(r.err.find("3 intakes left"), std::string::npos) << r.err;
    EXPECT_EQ(Count("new"), 3u);
    EXPECT_EQ(Count("cur"), 0u);
  }
  auto r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MsgLines().size(), 3u);
}

TEST_P(FlushTest, UnknownChannelGoesToBadAndLaterFilesStillFlush) {
  Spool(MsgIntake("before"));
  std::string orphan = Spool(MsgIntake("orphan", "0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10"));
  Spool(MsgIntake("after 1"));
  Spool(MsgIntake("after 2"));
  auto r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MsgLines().size(), 3u);
  EXPECT_EQ(Count("new") + Count("cur"), 0u);
  ASSERT_TRUE(std::filesystem::exists(dir_.File("spool/bad/" + orphan)));
  EXPECT_NE(ReadFile(dir_.File("spool/bad/" + orphan + ".reason")).find("channel not found"), std::string::npos);
  // Replaying it by name still fails the same way: 65, left in bad/.
  auto again = Flush({dir_.File("spool/bad/" + orphan)});
  EXPECT_EQ(again.exit_code, 65) << again.err;
  EXPECT_NE(again.err.find("channel not found"), std::string::npos) << again.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("spool/bad/" + orphan)));
}

TEST_P(FlushTest, DaemonFlushesOnWakeAnswersStatusAndStopsOnSigterm) {
  // A long interval, so what flushes the files within the deadline is the wake.
  Daemon flush({Bin("courier-flush"), "--interval", "600"}, env_, dir_.File("flush.log"));
  ASSERT_TRUE(Eventually([&] { return AskDaemon(Endpoint("flush-ctl"), "status", 500).ok(); })) << flush.log();
  for (int i = 0; i < 10; ++i) Spool(MsgIntake("woken " + std::to_string(i)));
  ASSERT_TRUE(Eventually([&] {
    PushWake(Endpoint("flush-wake"), "spooled");
    return Count("new") == 0 && MsgLines().size() == 10u;
  })) << flush.log();
  EXPECT_EQ(Count("cur") + Count("bad"), 0u);

  auto status = AskDaemon(Endpoint("flush-ctl"), "status", 2000);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  auto o = json::ParseObject(*status);
  ASSERT_TRUE(o.ok()) << *status;
  EXPECT_EQ(json::GetString(*o, "program"), "courier-flush");
  EXPECT_EQ(json::GetInt(*o, "pid"), flush.pid());
  EXPECT_EQ(json::GetInt(*o, "flushed"), 10);
  EXPECT_EQ(json::GetInt(*o, "rejected"), 0);
  EXPECT_EQ(json::GetInt(*o, "pending"), 0);
  EXPECT_EQ(json::GetInt(*o, "interval_s"), 600);
  EXPECT_EQ(json::GetString(*o, "store"), "ok");
  // PostgreSQL's client library (and the TLS, Kerberos and LDAP libraries
  // it brings) is mapped only by a program whose store is PostgreSQL.
  std::ifstream maps("/proc/" + std::to_string(flush.pid()) + "/maps");
  const std::string mapped((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_EQ(mapped.find("/libpq.so") != std::string::npos, GetParam() == Engine::kPostgreSQL) << mapped;
  EXPECT_EQ(flush.Stop(SIGTERM), 0) << flush.log();
}

TEST_F(FlushTestSqlite, DaemonLogsAnOutageOnceAndFlushesWhenTheStoreIsBack) {
  Daemon flush({Bin("courier-flush"), "--interval", "1"}, env_, dir_.File("flush.log"));
  ASSERT_TRUE(Eventually([&] { return AskDaemon(Endpoint("flush-ctl"), "status", 500).ok(); })) << flush.log();
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    for (int i = 0; i < 5; ++i) Spool(MsgIntake("during outage " + std::to_string(i)));
    auto passes = [&]() -> int64_t {
      auto s = AskDaemon(Endpoint("flush-ctl"), "status", 500);
      if (!s.ok()) return -1;
      auto o = json::ParseObject(*s);
      if (!o.ok() || json::GetString(*o, "store") != "unavailable") return -1;
      return json::GetInt(*o, "passes").value_or(-1);
    };
    int64_t first = -1;
    ASSERT_TRUE(Eventually([&] { return (first = passes()) >= 0; }, std::chrono::seconds(30))) << flush.log();
    // A second failed pass, with wakes pushed all along: still one log line.
    ASSERT_TRUE(Eventually([&] {
      PushWake(Endpoint("flush-wake"), "spooled");
      return passes() >= first + 1;
    }, std::chrono::seconds(30))) << flush.log();
    // Claimed files go back to new/ after each failed try (a try in
    // progress holds them in cur/).
    EXPECT_EQ(Count("new") + Count("cur"), 5u);
  }
  ASSERT_TRUE(Eventually([&] { return Count("new") == 0 && MsgLines().size() == 5u; }, std::chrono::seconds(40)))
      << flush.log();
  EXPECT_EQ(flush.Stop(SIGTERM), 0);
  std::string log = flush.log();
  EXPECT_EQ(CountOccurrences(log, "msg=\"store unavailable\""), 1u) << log;
  EXPECT_EQ(CountOccurrences(log, "msg=\"store available again\""), 1u) << log;
}

TEST_F(FlushTestSqlite, WhatRecvSpoolsTheDaemonReplaysWhenTheStoreIsBack) {
  // The whole path: courier-recv spools while the store is locked and
  // wakes courier-flush, which replays once the lock is gone.
  int port = FreePort();
  auto env = env_;
  env["COURIER_PORT"] = std::to_string(port);
  env["COURIER_ADDRESS"] = "127.0.0.1";
  // Made before WaitForHttp's client: HttpClient keeps its sessions in a
  // thread_local map keyed by the client's address, so a client allocated
  // where that short-lived one was would inherit its 2 s timeout.
  auto http = NewLoopbackHttpClient();
  Daemon flush({Bin("courier-flush"), "--interval", "1"}, env, dir_.File("flush.log"));
  Daemon recv({Bin("courier-recv")}, env, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port)) << recv.log();
  auto post = [&](const std::string& text) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/c/ex/" + channel_ + "/receive";
    req.body = "from=0788383383&text=" + text;
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    return http->Do(req);
  };
  ASSERT_EQ(post("warm").status_code, 200);  // the channel is cached from now on
  std::vector<std::string> uuids;
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    for (int i = 0; i < 5; ++i) {
      auto r = post("spooled" + std::to_string(i));
      ASSERT_EQ(r.status_code, 200) << r.body << r.error << "\n" << recv.log();
      auto body = json::ParseObject(r.body);
      ASSERT_TRUE(body.ok());
      uuids.push_back(json::GetString((*body)->getArray("data")->getObject(0), "msg_uuid").value_or(""));
    }
    EXPECT_EQ(Count("new") + Count("cur"), 5u);
  }
  ASSERT_TRUE(Eventually([&] { return Count("new") + Count("cur") == 0 && MsgLines().size() == 6u; },
                         std::chrono::seconds(60)))
      << flush.log();
  EXPECT_EQ(Count("bad"), 0u);
  // The msgs carry the uuids recv promised the provider.
  for (const auto& uuid : uuids) EXPECT_EQ(Ctl({"msgs", "show", uuid}).exit_code, 0) << uuid;
  EXPECT_EQ(recv.Stop(SIGTERM), 0);
  EXPECT_EQ(flush.Stop(SIGTERM), 0);
}

TEST_P(FlushTest, CrashBetweenCommitAndUnlinkReplaysAsNoOp) {
  Intake intake = MsgIntake("committed, not unlinked");
  std::string name = Spool(intake);
  // Killed (SIGKILL) at its first unlink in cur/: after the commit, before
  // any file is removed. ASan, in Sanitize builds, must not insist on
  // being the first library loaded.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options = (asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0";
  auto crashed = Flush({"--once"}, {{"LD_PRELOAD", COURIER_KILL_BEFORE_UNLINK_LIB},
                                    {"COURIER_TEST_KILL_BEFORE_UNLINK", dir_.File("spool/cur/")},
                                    {"ASAN_OPTIONS", asan_options}});
  EXPECT_NE(crashed.exit_code, 0);
  EXPECT_EQ(crashed.exit_code, 128 + SIGKILL) << crashed.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("spool/cur/" + name))) << crashed.err;
  EXPECT_EQ(MsgLines().size(), 1u);  // the commit happened

  auto r = Flush({"--once"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  auto msgs = MsgLines();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(msgs[0].find(intake.msgs[0].uuid), std::string::npos);
}

// The disk refuses to sync the store's WAL (fdatasync fails with EIO under
// the real program): no intake is durable, so no spool file may go. Every
// file is back in new/, and the next run (the disk well again) stores
// each intake exactly once, those whose commit did happen included. Both
// syncs: SQLite's own (the write fails), and the one courier-flush makes
// of each commit beside the next batch (the commit happened, the sync
// did not), for the daemon and for `courier-flush FILE`.
TEST_F(FlushTestSqlite, AWalThatCannotBeSyncedRemovesNoSpoolFile) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  for (const bool only_courier_sync : {false, true}) {
    SCOPED_TRACE(only_courier_sync ? "courier-flush's sync fails" : "every sync of the WAL fails");
    std::vector<std::string> uuids;
    for (int i = 0; i < 40; ++i) {
      Intake in = MsgIntake("needs a sync " + std::to_string(i));
      uuids.push_back(in.msgs[0].uuid);
      Spool(in);
    }
    std::map<std::string, std::string> failing_disk = {
        {"LD_PRELOAD", COURIER_FAIL_FDATASYNC_LIB},
        {"COURIER_TEST_FAIL_FDATASYNC", "/courier.db-wal"},
        {"COURIER_TEST_FAIL_FDATASYNC_READ_ONLY", only_courier_sync ? "1" : "0"},
        {"ASAN_OPTIONS", (asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0"}};
    auto env = env_;
    for (const auto& [k, v] : failing_disk) env[k] = v;
    const std::string log_file = dir_.File(only_courier_sync ? "flush-sync.log" : "flush-all.log");
    {
      Daemon flush({Bin("courier-flush"), "--interval", "1"}, env, log_file);
      // Two passes at least, each failing.
      ASSERT_TRUE(Eventually([&] { return CountOccurrences(flush.log(), "Input/output error") +
                                          CountOccurrences(flush.log(), "disk I/O error") >= 2; }))
          << flush.log();
      EXPECT_EQ(flush.Stop(SIGTERM), 0) << flush.log();
      if (only_courier_sync) {
        EXPECT_NE(flush.log().find("cannot make the store's commits durable"), std::string::npos) << flush.log();
      }
    }
    EXPECT_EQ(Count("new"), 40u);
    EXPECT_EQ(Count("cur") + Count("bad"), 0u);

    auto names = spool_.List("new");
    ASSERT_TRUE(names.ok());
    auto named = Flush({names->at(0).path}, failing_disk);
    EXPECT_NE(named.exit_code, 0) << named.err;
    EXPECT_TRUE(std::filesystem::exists(names->at(0).path)) << named.err;

    auto r = Flush({"--once"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
    for (const auto& uuid : uuids) EXPECT_EQ(Ctl({"msgs", "show", uuid}).exit_code, 0) << uuid;
  }
  EXPECT_EQ(MsgLines().size(), 80u);
}

TEST_P(FlushTest, UsageErrors) {
  EXPECT_EQ(Flush({"--once", "some-file"}).exit_code, 64);
  EXPECT_EQ(Flush({"--interval", "0"}).exit_code, 64);
  EXPECT_EQ(Flush({"--version"}).exit_code, 0);
}

}  // namespace
