// The daemon skeleton (lib/daemon): the store-outage loop, the migrating
// store opener, the waits, the command-line start, and RunDaemon with its
// control socket, writer and wake socket, on a real SQLite file and real
// ZeroMQ sockets in a temporary directory.
#include <gtest/gtest.h>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "count_occurrences.h"
#include "bus/bus.h"
#include "bus/endpoints.h"
#include "bus/wake.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "daemon/daemon_start.h"
#include "daemon/store_outage.h"

using namespace courier;
using courier::testing::CountOccurrences;
using namespace std::chrono_literals;

namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/courier-daemon-XXXXXX";
    root_ = mkdtemp(tmpl);
    options_.db = root_ + "/courier.db";
    options_.spool_dir = root_ + "/spool";
    options_.run_dir = root_ + "/run";
    spec_.program = "courier-test";
    spec_.control = "test-ctl";
    spec_.wake = "test-wake";
    spec_.events = "test-events";
    Log::Init("daemon_test", "info");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  json::ObjectPtr AskStatus() {
    auto answer = AskDaemon(EndpointFor(options_.run_dir, "test-ctl"), "status", 5000);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    if (!answer.ok()) return json::NewObject();
    auto parsed = json::ParseObject(*answer);
    EXPECT_TRUE(parsed.ok()) << *answer;
    return parsed.ok() ? *parsed : json::NewObject();
  }

  std::string root_;
  Options options_;
  DaemonSpec spec_;
};

TEST(StoreOutage, LogsEachOutageOnceAndBacksOffToTheMaximum) {
  Log::Init("daemon_test", "info");
  // Each step: a try that failed (true) or worked (false), and the wait
  // Failed returns.
  const struct {
    bool failed;
    std::chrono::milliseconds wait;
  } steps[] = {
      {true, 100ms}, {true, 200ms}, {true, 350ms}, {true, 350ms},  // one outage, backing off to the cap
      {false, 0ms},  {false, 0ms},                                 // over
      {true, 100ms}, {false, 0ms},                                 // a second one starts from the first wait
  };
  StoreOutage outage("test.db", 100ms, 350ms);
  ::testing::internal::CaptureStderr();
  for (size_t i = 0; i < std::size(steps); ++i) {
    SCOPED_TRACE(i);
    if (steps[i].failed) {
      EXPECT_EQ(outage.Failed(Status::Busy("database is locked")), steps[i].wait);
      EXPECT_TRUE(outage.ongoing());
    } else {
      outage.Worked();
      EXPECT_FALSE(outage.ongoing());
    }
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(CountOccurrences(log, "msg=\"store unavailable\" db=test.db error=\"database is locked\""), 2u) << log;
  EXPECT_EQ(CountOccurrences(log, "msg=\"store available again\" db=test.db"), 2u) << log;
}

TEST(StoreOutage, FirstWaitNeverExceedsTheMaximum) {
  StoreOutage outage("test.db", 5s, 2s);
  EXPECT_EQ(outage.Failed(Status::Unavailable("down")), 2s);
  EXPECT_EQ(outage.Failed(Status::Unavailable("down")), 2s);
}

TEST(StoreConnection, ReopensAfterAFailureAndWaitsBetweenTries) {
  int opens = 0;
  int failing_opens = 2;
  char tmpl[] = "/tmp/courier-daemon-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  StoreOpener open = [&]() -> Result<std::unique_ptr<Store>> {
    ++opens;
    if (failing_opens-- > 0) return Status::Unavailable("injected: down");
    return OpenStore(root + "/courier.db");
  };
  StopToken stop;
  StoreConnection connection(open, StoreOutage("test.db", 50ms, 50ms));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(connection.Get(stop), nullptr);
  EXPECT_EQ(connection.Get(stop), nullptr);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);  // waited after each failed try
  Store* store = connection.Get(stop);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(connection.Get(stop), store);  // kept while it works
  EXPECT_EQ(opens, 3);
  connection.Failed(Status::Busy("injected: locked"), stop);
  ASSERT_NE(connection.Get(stop), nullptr);
  EXPECT_EQ(opens, 4);  // dropped after the failure, opened anew
  connection.Worked();
  std::filesystem::remove_all(root);
}

TEST(StoreConnection, AStopCutsTheWaitShort) {
  StopToken stop;
  stop.RequestStop();
  StoreConnection connection([]() -> Result<std::unique_ptr<Store>> { return Status::Unavailable("down"); },
                             StoreOutage("test.db", 1h, 1h));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(connection.Get(stop), nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST_F(DaemonTest, MigratingOpenerMigratesTheFirstStoreThatCanBeReached) {
  // The store's directory is missing at first: as with a store on a disk
  // not mounted yet.
  const std::string db = root_ + "/later/courier.db";
  StoreOpener open = MigratingStoreOpener(db, Clock::System(), 1000);
  EXPECT_FALSE(open().ok());
  std::filesystem::create_directory(root_ + "/later");
  auto store = open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto version = (*store)->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_GT(*version, 0);
  auto channels = open().value()->ListChannels();  // a second connection, on the migrated store
  ASSERT_TRUE(channels.ok()) << channels.status().ToString();
  EXPECT_TRUE(channels->empty());
}

TEST_F(DaemonTest, StatusAnswerHoldsProgramPidUptimeWriterCountersAndTheBodysFields) {
  Status s = RunDaemon(spec_, options_, [&](Daemon& daemon) -> Status {
    EXPECT_NE(daemon.writer(), nullptr);
    auto plain = AskStatus();
    EXPECT_EQ(json::GetString(plain, "program"), "courier-test");
    EXPECT_EQ(json::GetInt(plain, "pid"), ::getpid());
    EXPECT_GE(json::GetInt(plain, "uptime_s").value_or(-1), 0);
    for (const char* key : {"committed", "spooled", "batches"}) EXPECT_EQ(json::GetInt(plain, key), 0) << key;
    EXPECT_FALSE(plain->has("sent"));
    {
      int64_t sent = 42;
      auto fields = daemon.ReportStatus([&](json::ObjectPtr o) { o->set("sent", sent); });
      auto with_fields = AskStatus();
      EXPECT_EQ(json::GetInt(with_fields, "sent"), 42);
      EXPECT_EQ(json::GetString(with_fields, "program"), "courier-test");
    }
    // The handle is gone, and with it what its fields read.
    EXPECT_FALSE(AskStatus()->has("sent"));
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DaemonTest, StartPreparesTheSpoolAndMigratesTheStore) {
  Status s = RunDaemon(spec_, options_, [&](Daemon& daemon) -> Status {
    for (const char* dir : {"tmp", "new", "cur", "bad"})
      EXPECT_TRUE(std::filesystem::is_directory(daemon.spool().Path(dir))) << dir;
    auto store = OpenStore(options_.db);
    EXPECT_TRUE(store.ok() && (*store)->SchemaVersion().ok() && *(*store)->SchemaVersion() > 0);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DaemonTest, WakesEndTheWaitUnlessTheDaemonWaitsOutAnOutage) {
  Status s = RunDaemon(spec_, options_, [&](Daemon& daemon) -> Status {
    const std::string endpoint = EndpointFor(options_.run_dir, "test-wake");
    auto push = [&] {
      bool pushed = false;
      for (int i = 0; i < 100 && !(pushed = PushWake(endpoint, "test")); ++i) std::this_thread::sleep_for(10ms);
      return pushed;
    };
    // A wake pushed before the wait is queued on the socket and ends it.
    EXPECT_TRUE(push());
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(daemon.WaitForWork(10s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

    EXPECT_TRUE(push());
    start = std::chrono::steady_clock::now();
    EXPECT_FALSE(daemon.WaitForWork(600ms, /*wakes_end_wait=*/false));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 600ms);

    std::thread stopper([&] {
      std::this_thread::sleep_for(100ms);
      daemon.stop().RequestStop();
    });
    start = std::chrono::steady_clock::now();
    EXPECT_FALSE(daemon.WaitForWork(10s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    stopper.join();
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DaemonTest, WhatTheBodyReturnsIsWhatRunDaemonReturns) {
  const struct {
    std::string label;
    std::function<Status(Daemon&)> body;
    Status::Code code;
    int exit_code;
  } cases[] = {
      {"clean stop", [](Daemon&) { return Status::OK(); }, Status::Code::kOk, 0},
      {"cannot listen", [](Daemon&) { return Status::Unavailable("cannot listen"); }, Status::Code::kUnavailable, 69},
      {"a throw ends as a bug", [](Daemon&) -> Status { throw std::runtime_error("boom"); }, Status::Code::kInternal, 70},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    Status s = RunDaemon(spec_, options_, c.body);
    EXPECT_EQ(s.code(), c.code) << s.ToString();
    EXPECT_EQ(s.ExitCode(), c.exit_code);
  }
}

TEST_F(DaemonTest, ASpoolThatCannotBeCreatedStopsTheStartWith74) {
  std::ofstream(root_ + "/a-file") << "not a directory";
  options_.spool_dir = root_ + "/a-file/spool";
  bool ran = false;
  Status s = RunDaemon(spec_, options_, [&](Daemon&) {
    ran = true;
    return Status::OK();
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(s.ExitCode(), exit_code::kIOErr) << s.ToString();
}

TEST_F(DaemonTest, ADaemonThatDoesNotWriteHasNoWriter) {
  spec_.events.clear();
  spec_.wake.clear();
  Status s = RunDaemon(spec_, options_, [&](Daemon& daemon) {
    EXPECT_EQ(daemon.writer(), nullptr);
    auto status = AskStatus();
    EXPECT_EQ(json::GetString(status, "program"), "courier-test");
    EXPECT_FALSE(status->has("committed"));
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

// argv for ParseDaemonCommandLine, kept alive by the caller.
struct Argv {
  explicit Argv(std::vector<std::string> args) : strings(std::move(args)) {
    for (auto& s : strings) pointers.push_back(s.data());
  }
  int argc() { return static_cast<int>(pointers.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

TEST(ParseDaemonCommandLine, TakesTheSharedOptionsTheSpecsFlagsAndTheDaemonsOwn) {
  DaemonSpec spec;
  spec.program = "courier-test";
  spec.description = "A test daemon.";
  spec.flags = {"port", "flush_interval"};
  spec.flag_aliases = {{"flush_interval", "--interval"}};
  const struct {
    std::vector<std::string> args;
    int exit_now;  // -1: options expected
    int port;
    int interval;
    bool once;
  } cases[] = {
      {{"--db", "x.db", "--port", "9999", "--interval", "7", "--once"}, -1, 9999, 7, true},
      {{"--flush-interval", "3"}, -1, 8080, 3, false},
      {{"--max-workers", "3"}, exit_code::kUsage},  // not one of this daemon's flags
      {{"--port", "many"}, exit_code::kUsage},
      {{"--version"}, exit_code::kOk},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"courier-test"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(args[1]);
    Argv argv(args);
    bool once = false;
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    auto parsed = ParseDaemonCommandLine(spec, argv.argc(), argv.argv(),
                                         [&](CLI::App& app) { app.add_flag("--once", once, "once"); });
    const std::string out = ::testing::internal::GetCapturedStdout();
    const std::string err = ::testing::internal::GetCapturedStderr();
    if (c.exit_now >= 0) {
      ASSERT_TRUE(std::holds_alternative<int>(parsed)) << out << err;
      EXPECT_EQ(std::get<int>(parsed), c.exit_now) << out << err;
      continue;
    }
    ASSERT_TRUE(std::holds_alternative<Options>(parsed)) << out << err;
    const Options& o = std::get<Options>(parsed);
    EXPECT_EQ(o.port, c.port);
    EXPECT_EQ(o.flush_interval, c.interval);
    EXPECT_EQ(once, c.once);
  }
}

}  // namespace
