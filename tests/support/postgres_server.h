#pragma once
// PostgresServer: a private PostgreSQL cluster for one test (or one
// benchmark), made with Debian's initdb and run with its pg_ctl, in a temp
// dir that is removed with the object.
//
// The cluster listens on 127.0.0.1 on a free port and on a Unix socket in
// its own temp dir (never /var/run/postgresql), with fsync and
// synchronous_commit on as in production: the tests prove durability.
// Authentication is `trust` for the superuser `courier`, which is safe only
// because nothing but loopback and a 0700 directory can reach it.
//
// Root: initdb and pg_ctl refuse to run as root, so when the process is
// root (CI is) they run as the `postgres` system user that Debian's
// package creates, and the temp dir belongs to that user.
//
// Cleanup: the destructor stops the server (immediate shutdown: its data
// is about to be deleted) and removes the dir, also when a test fails. A
// watchdog process (its own session, so it outlives a kill of the test's
// process group) does the same if the test process dies without running
// destructors: a ctest timeout or a crash leaves no postmaster behind.
//
// Cost: initdb and the first start take one to two seconds on an idle
// 2-core machine (five under a parallel build); a restart after Crash()
// a few more, as recovery fsyncs the whole data dir. Suites with many
// tests share one server and take a CreateDatabase() each.
//
// Missing binaries: Create() fails with a reason; tests use
// COURIER_REQUIRE_POSTGRES, which skips them with that reason, except when
// CI is set in the environment: CI installs PostgreSQL
// (scripts/install-deps.sh), so there a missing server is a failure, not a
// silent skip.
//
// Thread-safety: none; one test thread drives it. Connections made from
// its Uri() may be used from any thread.
#include <sys/types.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace courier::testing {

class PostgresServer {
 public:
  // Why no server can be made here ("" when one can): no Debian PostgreSQL
  // binaries, or root without a `postgres` user.
  static std::string Unavailable();

  // initdb, configure, start; waits until it accepts connections.
  static Result<std::unique_ptr<PostgresServer>> Create();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // "postgresql://courier@127.0.0.1:PORT/DBNAME" (libpq connection URI).
  std::string Uri(const std::string& dbname = "postgres") const;
  int port() const { return port_; }
  // The directory holding the Unix socket (a libpq `host=` value).
  const std::string& socket_dir() const { return dir_; }
  // The server's log (initdb's and pg_ctl's output, then the server's).
  std::string Log() const;

  // Creates an empty database named after the running gtest test (plus a
  // counter, so one test may have several) and returns its URI.
  Result<std::string> CreateDatabase();

  // pg_ctl stop -m fast: clients are disconnected, data is kept; the
  // address refuses connections until Start().
  Status Stop();
  // pg_ctl start -w on the same port and socket dir, after Stop() or
  // Crash(); crash recovery (WAL replay) happens here.
  Status Start();
  // kill -9 of the postmaster and every backend it had, as a crash of the
  // machine's PostgreSQL would (the OS page cache survives: this tests
  // PostgreSQL's WAL recovery, not the disk). Returns when they are gone.
  Status Crash();
  // The postmaster's pid from postmaster.pid, 0 when none is running.
  pid_t PostmasterPid() const;

 private:
  PostgresServer() = default;
  // Runs a PostgreSQL binary from bin_dir_ (as postgres when root), output
  // appended to the log; its exit status as a Status with the log's tail.
  Status RunTool(const std::string& tool, const std::vector<std::string>& args) const;
  void StartWatchdog();

  std::string bin_dir_;
  std::string dir_;       // temp dir: socket, log, data/
  std::string data_dir_;  // dir_/data
  std::string log_path_;
  int port_ = 0;
  bool running_ = false;
  int databases_made_ = 0;
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1;  // write end of the pipe whose EOF wakes the watchdog
};

// One server for the whole test process, made on first use and stopped at
// exit: a suite that needs a database per test calls
// SharedPostgresServer()->CreateDatabase() (initdb and start cost seconds;
// a database costs tens of milliseconds). nullptr when none can be made,
// with the reason in *error. Not for tests that stop or crash the server.
PostgresServer* SharedPostgresServer(std::string* error);

// A new database on SharedPostgresServer(): its URI, or Unavailable with
// why no server could be made (the caller has skipped the test first
// where none can be: COURIER_SKIP_UNLESS_POSTGRES).
Result<std::string> NewSharedDatabase();

}  // namespace courier::testing

// Skips the current test when no server can be made here, with the reason;
// fails it instead under CI, which installs PostgreSQL.
#define COURIER_SKIP_UNLESS_POSTGRES()                                                       \
  do {                                                                                       \
    if (std::string why = ::courier::testing::PostgresServer::Unavailable(); !why.empty()) { \
      if (::getenv("CI") != nullptr) FAIL() << "PostgreSQL needed under CI: " << why;          \
      GTEST_SKIP() << "PostgreSQL not available: " << why;                                  \
    }                                                                                        \
  } while (0)

// Declares `server` (std::unique_ptr<PostgresServer>) in the current test
// body, started, or skips the test as COURIER_SKIP_UNLESS_POSTGRES does.
#define COURIER_REQUIRE_POSTGRES(server)                                    \
  std::unique_ptr<::courier::testing::PostgresServer> server;               \
  do {                                                                      \
    COURIER_SKIP_UNLESS_POSTGRES();                                         \
    auto made = ::courier::testing::PostgresServer::Create();               \
    ASSERT_TRUE(made.ok()) << made.status().ToString();                     \
    server = std::move(made).value();                                       \
  } while (0)
