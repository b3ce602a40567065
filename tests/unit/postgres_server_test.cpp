// PostgresServer (tests/support/postgres_server.h): a real private cluster
// that later tests rely on for durability, outages and crash recovery.
// Each case checks through libpq what the server actually kept.
#include <gtest/gtest.h>

#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "postgres_server.h"
#include "temp_dir.h"

using courier::testing::PostgresServer;

namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&::PQfinish)>;

PgConn Connect(const std::string& conninfo) { return PgConn(::PQconnectdb(conninfo.c_str()), &::PQfinish); }

// Runs `sql`; returns "" on success or the server's error.
std::string Exec(PGconn* conn, const std::string& sql) {
  PGresult* res = ::PQexec(conn, sql.c_str());
  const ExecStatusType status = ::PQresultStatus(res);
  std::string error = (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) ? "" : ::PQerrorMessage(conn);
  ::PQclear(res);
  return error.empty() ? "" : "`" + sql + "`: " + error;
}

// The first column of the first row, or "<error: ...>".
std::string QueryOne(PGconn* conn, const std::string& sql) {
  PGresult* res = ::PQexec(conn, sql.c_str());
  std::string value = ::PQresultStatus(res) == PGRES_TUPLES_OK && ::PQntuples(res) > 0
                          ? ::PQgetvalue(res, 0, 0)
                          : "<error: " + std::string(::PQerrorMessage(conn)) + ">";
  ::PQclear(res);
  return value;
}

bool Accepting(const std::string& uri) { return ::PQping(uri.c_str()) == PQPING_OK; }

bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

TEST(PostgresServer, CommittedRowsSurviveStopAndStart) {
  COURIER_REQUIRE_POSTGRES(server);
  auto uri = server->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(*uri, "postgresql://courier@127.0.0.1:" + std::to_string(server->port()) +
                      "/postgresserver_committedrowssurvivestopandstart_1");
  {
    PgConn conn = Connect(*uri);
    ASSERT_EQ(::PQstatus(conn.get()), CONNECTION_OK) << ::PQerrorMessage(conn.get());
    ASSERT_EQ(Exec(conn.get(), "CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT NOT NULL)"), "");
    ASSERT_EQ(Exec(conn.get(), "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 100) g"), "");
    EXPECT_EQ(QueryOne(conn.get(), "SHOW fsync"), "on");
    EXPECT_EQ(QueryOne(conn.get(), "SHOW synchronous_commit"), "on");
  }

  ASSERT_TRUE(server->Stop().ok());
  EXPECT_FALSE(Accepting(*uri));
  EXPECT_EQ(server->PostmasterPid(), 0);

  ASSERT_TRUE(server->Start().ok()) << server->Log();
  EXPECT_TRUE(Accepting(*uri));
  PgConn conn = Connect(*uri);
  ASSERT_EQ(::PQstatus(conn.get()), CONNECTION_OK) << ::PQerrorMessage(conn.get());
  EXPECT_EQ(QueryOne(conn.get(), "SELECT count(*) || ' ' || sum(id) FROM t"), "100 5050");
  EXPECT_EQ(QueryOne(conn.get(), "SELECT body FROM t WHERE id = 42"), "row 42");
}

TEST(PostgresServer, CrashKeepsCommittedAndLosesUncommitted) {
  COURIER_REQUIRE_POSTGRES(server);
  auto uri = server->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  PgConn writer = Connect(*uri);
  ASSERT_EQ(::PQstatus(writer.get()), CONNECTION_OK) << ::PQerrorMessage(writer.get());
  ASSERT_EQ(Exec(writer.get(), "CREATE TABLE t (id BIGINT PRIMARY KEY)"), "");
  for (int i = 1; i <= 50; ++i) ASSERT_EQ(Exec(writer.get(), "INSERT INTO t VALUES (" + std::to_string(i) + ")"), "");
  PgConn open_tx = Connect(*uri);
  ASSERT_EQ(Exec(open_tx.get(), "BEGIN"), "");
  ASSERT_EQ(Exec(open_tx.get(), "INSERT INTO t SELECT g FROM generate_series(1000, 1999) g"), "");

  const pid_t postmaster = server->PostmasterPid();
  ASSERT_GT(postmaster, 0);
  ASSERT_TRUE(server->Crash().ok());
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_EQ(server->PostmasterPid(), 0);
  EXPECT_NE(Exec(writer.get(), "SELECT 1"), "") << "the old connection must be dead";
  EXPECT_FALSE(Accepting(*uri));

  ASSERT_TRUE(server->Start().ok()) << server->Log();
  // WAL replay, not a clean start.
  EXPECT_NE(server->Log().find("not properly shut down"), std::string::npos) << server->Log();
  PgConn conn = Connect(*uri);
  ASSERT_EQ(::PQstatus(conn.get()), CONNECTION_OK) << ::PQerrorMessage(conn.get());
  EXPECT_EQ(QueryOne(conn.get(), "SELECT count(*) || ' ' || max(id) FROM t"), "50 50");
  ASSERT_EQ(Exec(conn.get(), "INSERT INTO t VALUES (51)"), "");

  // Twice in a row: the second crash meets the first one's recovery.
  ASSERT_TRUE(server->Crash().ok());
  ASSERT_TRUE(server->Start().ok()) << server->Log();
  conn = Connect(*uri);
  EXPECT_EQ(QueryOne(conn.get(), "SELECT count(*) FROM t"), "51");
}

TEST(PostgresServer, TwoServersAtOnceAreSeparate) {
  COURIER_REQUIRE_POSTGRES(first);
  COURIER_REQUIRE_POSTGRES(second);
  EXPECT_NE(first->port(), second->port());
  EXPECT_NE(first->socket_dir(), second->socket_dir());
  PgConn a = Connect(first->Uri());
  PgConn b = Connect(second->Uri());
  ASSERT_EQ(::PQstatus(a.get()), CONNECTION_OK) << ::PQerrorMessage(a.get());
  ASSERT_EQ(::PQstatus(b.get()), CONNECTION_OK) << ::PQerrorMessage(b.get());
  ASSERT_EQ(Exec(a.get(), "CREATE TABLE only_in_first (x INT)"), "");
  EXPECT_EQ(QueryOne(a.get(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'"), "1");
  EXPECT_EQ(QueryOne(b.get(), "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'"), "0");

  // Stopping one leaves the other serving.
  ASSERT_TRUE(first->Stop().ok());
  EXPECT_FALSE(Accepting(first->Uri()));
  EXPECT_TRUE(Accepting(second->Uri()));
}

TEST(PostgresServer, UnixSocketInItsOwnDir) {
  COURIER_REQUIRE_POSTGRES(server);
  EXPECT_TRUE(std::filesystem::exists(server->socket_dir() + "/.s.PGSQL." + std::to_string(server->port())));
  PgConn conn = Connect("host=" + server->socket_dir() + " port=" + std::to_string(server->port()) +
                        " user=courier dbname=postgres");
  ASSERT_EQ(::PQstatus(conn.get()), CONNECTION_OK) << ::PQerrorMessage(conn.get());
  EXPECT_EQ(QueryOne(conn.get(), "SELECT current_user"), "courier");
}

TEST(PostgresServer, DatabasesPerTestAreFresh) {
  COURIER_REQUIRE_POSTGRES(server);
  auto one = server->CreateDatabase();
  auto two = server->CreateDatabase();
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(*one, *two);
  PgConn a = Connect(*one);
  ASSERT_EQ(Exec(a.get(), "CREATE TABLE t (x INT)"), "");
  PgConn b = Connect(*two);
  EXPECT_EQ(QueryOne(b.get(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0");
}

TEST(PostgresServer, DestructorStopsServerAndRemovesDir) {
  COURIER_REQUIRE_POSTGRES(server);
  const std::string dir = server->socket_dir();
  const std::string uri = server->Uri();
  const pid_t postmaster = server->PostmasterPid();
  ASSERT_GT(postmaster, 0);
  server.reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_FALSE(Accepting(uri));
}

// A test process that dies without running destructors (a ctest timeout,
// a crash) must not leave a postmaster or its dir behind: the watchdog
// cleans up.
TEST(PostgresServer, WatchdogCleansUpAfterADeadTestProcess) {
  COURIER_SKIP_UNLESS_POSTGRES();
  courier::testing::ScratchDir scratch;
  const std::string report = scratch.path() + "/server";
  EXPECT_EXIT(
      {
        auto made = PostgresServer::Create();
        if (!made.ok()) std::_Exit(2);
        std::ofstream(report) << (*made)->socket_dir() << " " << (*made)->PostmasterPid() << " " << (*made)->Uri();
        std::_Exit(0);  // no destructor runs
      },
      ::testing::ExitedWithCode(0), "");
  std::ifstream in(report);
  std::string dir, uri;
  pid_t postmaster = 0;
  ASSERT_TRUE(in >> dir >> postmaster >> uri);
  ASSERT_GT(postmaster, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((std::filesystem::exists(dir) || ProcessAlive(postmaster)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(Accepting(uri));
}

}  // namespace
