// The PostgreSQL engine of the statement API (store/pg_statement.h) and
// its connection (store/pg_connection.h), against a real server: `?`
// numbering, values round-tripped, ids from Insert(), Changes(), every
// error class to its Status, a stopped or crashed server to Unavailable
// and back after Reconnect(), nothing committed by a transaction the crash
// cut short.
#include "store/pg_statement.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "postgres_server.h"
#include "postgres_suite.h"
#include "store/pg_connection.h"

using courier::PgConnection;
using courier::SqlError;
using courier::SqlStatements;
using courier::Status;
using courier::testing::PostgresServer;

namespace {

using Code = Status::Code;

// ---- ? numbering (no server) ----------------------------------------------

struct TranslateCase {
  std::string name;
  std::string sql;
  std::string want;
  int want_count;
};

TEST(PgTranslatePlaceholders, NumbersOnlyTheParametersOutsideQuotesAndComments) {
  const std::vector<TranslateCase> cases = {
      {"none", "SELECT 1", "SELECT 1", 0},
      {"in order", "UPDATE t SET a = ?, b = ? WHERE id = ?", "UPDATE t SET a = $1, b = $2 WHERE id = $3", 3},
      {"adjacent", "VALUES (?,?)", "VALUES ($1,$2)", 2},
      {"in a literal", "SELECT '?' || ?", "SELECT '?' || $1", 1},
      {"doubled quote in a literal", "SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , $1", 1},
      {"empty literal then parameter", "SELECT '' || ?", "SELECT '' || $1", 1},
      {"escape string", R"(SELECT E'\'?' , ?)", R"(SELECT E'\'?' , $1)", 1},
      {"backslash in a standard string", R"(SELECT 'a\' , ?)", R"(SELECT 'a\' , $1)", 1},
      {"quoted identifier", R"(SELECT "wh?t" FROM t WHERE x = ?)", R"(SELECT "wh?t" FROM t WHERE x = $1)", 1},
      {"doubled quote in an identifier", R"(SELECT "a""?" , ?)", R"(SELECT "a""?" , $1)", 1},
      {"line comment", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2", 2},
      {"line comment at the end", "SELECT ? -- really?", "SELECT $1 -- really?", 1},
      {"block comment", "SELECT /* a? */ ?", "SELECT /* a? */ $1", 1},
      {"nested block comment", "SELECT /* a /* b? */ c? */ ?", "SELECT /* a /* b? */ c? */ $1", 1},
      {"dollar quote", "SELECT $$?$$, ?", "SELECT $$?$$, $1", 1},
      {"tagged dollar quote", "SELECT $q$ $$ ? $q$, ?", "SELECT $q$ $$ ? $q$, $1", 1},
      {"dollar in a name is no quote", "SELECT a$b, ? FROM t$x$", "SELECT a$b, $1 FROM t$x$", 1},
      {"minus is no comment", "SELECT ? - ?", "SELECT $1 - $2", 2},
      {"cast", "SELECT CAST(? AS BIGINT) IS NULL", "SELECT CAST($1 AS BIGINT) IS NULL", 1},
      {"unclosed literal kept", "SELECT '?", "SELECT '?", 0},
  };
  for (const TranslateCase& c : cases) {
    int count = -1;
    EXPECT_EQ(courier::TranslatePlaceholders(c.sql, &count), c.want) << c.name;
    EXPECT_EQ(count, c.want_count) << c.name;
  }
}

// ---- SQLSTATE to Status (no server) -----------------------------------------

TEST(PgStatusForSqlState, MapsEachClassToWhatTheStoreDoesWithIt) {
  const std::vector<std::pair<std::string, Code>> cases = {
      {"08006", Code::kUnavailable},  // connection failure
      {"08P01", Code::kUnavailable},  // protocol violation
      {"57P01", Code::kUnavailable},  // admin shutdown
      {"57P02", Code::kUnavailable},  // crash shutdown
      {"57P03", Code::kUnavailable},  // cannot connect now
      {"53100", Code::kUnavailable},  // disk full
      {"53200", Code::kUnavailable},  // out of memory
      {"53300", Code::kUnavailable},  // too many connections
      {"58030", Code::kUnavailable},  // I/O error
      {"25006", Code::kUnavailable},  // read-only transaction
      {"40001", Code::kBusy},         // serialization failure
      {"40P01", Code::kBusy},         // deadlock
      {"55P03", Code::kBusy},         // lock not available
      {"57014", Code::kBusy},         // statement timeout
      {"23505", Code::kConflict},     // unique
      {"23502", Code::kInvalidArgument},  // not null
      {"23503", Code::kInvalidArgument},  // foreign key
      {"23514", Code::kInvalidArgument},  // check
      {"22P02", Code::kInvalidArgument},  // invalid text representation
      {"22003", Code::kInvalidArgument},  // numeric out of range
      {"XX001", Code::kCorruption},
      {"XX002", Code::kCorruption},
      {"XX000", Code::kInternal},
      {"42601", Code::kInternal},  // syntax error
      {"42P01", Code::kInternal},  // undefined table
      {"42P18", Code::kInternal},  // indeterminate datatype
      {"25P02", Code::kInternal},  // in failed transaction
      {"57P04", Code::kInternal},  // database dropped: not in the list
      {"", Code::kInternal},
  };
  for (const auto& [sqlstate, want] : cases) {
    const Status status = courier::StatusForSqlState(sqlstate, "the message");
    EXPECT_EQ(status.code(), want) << sqlstate;
    EXPECT_EQ(status.message(), "the message") << sqlstate;
  }
}

// ---- against a server -----------------------------------------------------

constexpr const char* kTable = R"(CREATE TABLE things (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  flag BOOLEAN NOT NULL DEFAULT FALSE,
  n INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),
  parent BIGINT REFERENCES things (id),
  note TEXT
))";

// The SqlError's Status of `body`, or OK when it throws nothing.
Status StatusOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const SqlError& e) {
    return e.status();
  }
  return Status::OK();
}

// One server for the suite (initdb and start cost seconds); a database
// per test.
class PgStatementTest : public courier::testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto connected = PgConnection::Connect(uri(), "courier-test");
    ASSERT_TRUE(connected.ok()) << connected.status().ToString();
    db_ = std::move(connected).value();
    db_->Exec(kTable);
  }

  SqlStatements& sql() { return db_->statements(); }

  // A second, plain connection: what another host sees.
  std::string OtherOne(const std::string& query) {
    auto other = PgConnection::Connect(uri(), "courier-test-other");
    if (!other.ok()) return "<" + other.status().ToString() + ">";
    auto q = (*other)->statements()(query);
    if (!q.Step()) return "<no row>";
    return q.Text(0);
  }

  std::unique_ptr<PgConnection> db_;
};


TEST_F(PgStatementTest, BoundValuesComeBackAsTheyWent) {
  struct Case {
    std::string name;
    std::string sql;
    std::function<void(courier::SqlQuery&)> bind;
    std::optional<int64_t> want_int;  // nullopt: compare want_text
    std::string want_text;
    bool want_null = false;
  };
  const std::vector<Case> cases = {
      {"int", "SELECT CAST(? AS BIGINT)", [](auto& q) { q.Bind(int64_t{42}); }, 42},
      {"negative", "SELECT CAST(? AS BIGINT)", [](auto& q) { q.Bind(-7); }, -7},
      {"int64 max", "SELECT CAST(? AS BIGINT)",
       [](auto& q) { q.Bind(std::numeric_limits<int64_t>::max()); }, std::numeric_limits<int64_t>::max()},
      {"int64 min", "SELECT CAST(? AS BIGINT)",
       [](auto& q) { q.Bind(std::numeric_limits<int64_t>::min()); }, std::numeric_limits<int64_t>::min()},
      {"true to a BOOLEAN reads 1", "SELECT CAST(? AS BOOLEAN)", [](auto& q) { q.Bind(true); }, 1},
      {"false to a BOOLEAN reads 0", "SELECT CAST(? AS BOOLEAN)", [](auto& q) { q.Bind(false); }, 0},
      {"BOOLEAN as text is 1", "SELECT CAST(? AS BOOLEAN)", [](auto& q) { q.Bind(true); }, std::nullopt, "1"},
      {"text", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind("hello"); }, std::nullopt, "hello"},
      {"quotes and ? in text", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind("it's \"?\" $1"); }, std::nullopt,
       "it's \"?\" $1"},
      {"utf-8 text", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind("Muraho 🇷🇼 ñ"); }, std::nullopt, "Muraho 🇷🇼 ñ"},
      {"empty text is not NULL", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind(""); }, std::nullopt, ""},
      {"NULL int", "SELECT CAST(? AS BIGINT)", [](auto& q) { q.BindNull(); }, 0, "", true},
      {"NULL text reads empty", "SELECT CAST(? AS TEXT)", [](auto& q) { q.BindTextOrNull(""); }, std::nullopt, "",
       true},
      {"NULL optional", "SELECT CAST(? AS BIGINT) IS NULL", [](auto& q) { q.Bind(std::optional<int64_t>()); }, 1},
      {"sum is numeric, read as an integer", "SELECT SUM(x) FROM (VALUES (CAST(? AS BIGINT)), (2)) v (x)",
       [](auto& q) { q.Bind(40); }, 42},
      {"? in a literal is no parameter", "SELECT '?' || CAST(? AS TEXT)", [](auto& q) { q.Bind("x"); },
       std::nullopt, "?x"},
  };
  for (const Case& c : cases) {
    auto q = sql()(c.sql);
    c.bind(q);
    ASSERT_TRUE(q.Step()) << c.name;
    EXPECT_EQ(q.IsNull(0), c.want_null) << c.name;
    if (c.want_int) {
      EXPECT_EQ(q.Int(0), *c.want_int) << c.name;
    } else {
      EXPECT_EQ(q.Text(0), c.want_text) << c.name;
    }
    EXPECT_FALSE(q.Step()) << c.name;
  }
}

TEST_F(PgStatementTest, InsertReturnsIdsAndChangesCountsRows) {
  const std::string insert = "INSERT INTO things (name, flag, n) VALUES (?, ?, ?)";
  EXPECT_EQ(sql()(insert).Bind("a").Bind(true).Bind(1).Insert(), 1);
  EXPECT_EQ(sql()(insert).Bind("b").Bind(false).Bind(2).Insert(), 2);
  {
    auto q = sql()(insert);
    q.Bind("c").Bind(true).Bind(3);
    EXPECT_EQ(q.Insert(), 3);
    EXPECT_EQ(q.Changes(), 1);
  }
  // SQL that ends in a comment, or a semicolon.
  EXPECT_EQ(sql()("INSERT INTO things (name) VALUES (?) -- a copy?").Bind("e").Insert(), 4);
  EXPECT_EQ(sql()("INSERT INTO things (name) VALUES (?);\n").Bind("f").Insert(), 5);
  // An explicit id (a copied row) is kept.
  EXPECT_EQ(sql()("INSERT INTO things (id, name) VALUES (?, ?)").Bind(100).Bind("d").Insert(), 100);
  // Nothing inserted: 0, and Changes() says so.
  {
    auto q = sql()("INSERT INTO things (name) VALUES (?) ON CONFLICT (name) DO NOTHING");
    q.Bind("a");
    EXPECT_EQ(q.Insert(), 0);
    EXPECT_EQ(q.Changes(), 0);
  }
  // Booleans are filtered by 1/0 and read as 1/0.
  EXPECT_EQ(sql()("SELECT COUNT(*) FROM things WHERE flag = ?").Bind(true).OneInt(), 2);
  {
    auto q = sql()("SELECT flag FROM things WHERE name = ?");
    q.Bind("b");
    ASSERT_TRUE(q.Step());
    EXPECT_EQ(q.Int(0), 0);
  }
  {
    auto q = sql()("UPDATE things SET n = n + 10 WHERE flag = ?");
    q.Bind(true);
    q.Run();
    EXPECT_EQ(q.Changes(), 2);
  }
  {
    auto q = sql()("UPDATE things SET n = 0 WHERE name = ?");
    q.Bind("nobody");
    q.Run();
    EXPECT_EQ(q.Changes(), 0);
  }
  {
    auto q = sql()("DELETE FROM things WHERE id >= ?");
    q.Bind(2);
    q.Run();
    EXPECT_EQ(q.Changes(), 5);
  }
  EXPECT_EQ(sql()("SELECT n FROM things WHERE id = ?").Bind(1).OneInt(), 11);
  EXPECT_EQ(sql()("SELECT n FROM things WHERE id = ?").Bind(2).OneInt(), std::nullopt);
}

TEST_F(PgStatementTest, EachSqlTextIsPreparedOncePerConnectionAndReusedWithNewBindings) {
  const std::string select = "SELECT CAST(? AS BIGINT) * 2";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sql()(select).Bind(i).OneInt(), 2 * i);
  // Abandoned mid-result: the next use starts afresh.
  {
    auto q = sql()("SELECT generate_series(1, CAST(? AS INTEGER))");
    q.Bind(3);
    ASSERT_TRUE(q.Step());
  }
  {
    auto q = sql()("SELECT generate_series(1, CAST(? AS INTEGER))");
    q.Bind(2);
    int rows = 0;
    while (q.Step()) ++rows;
    EXPECT_EQ(rows, 2);
  }
  auto q = sql()("SELECT COUNT(*) FROM pg_prepared_statements WHERE statement = ?");
  q.Bind("SELECT CAST($1 AS BIGINT) * 2");
  EXPECT_EQ(q.OneInt(), 1);
  // An INSERT only run by Insert() is prepared in that form alone.
  for (const char* name : {"one", "two"}) sql()("INSERT INTO things (name) VALUES (?)").Bind(name).Insert();
  auto inserts = sql()("SELECT string_agg(statement, '|') FROM pg_prepared_statements WHERE statement LIKE ?");
  inserts.Bind("INSERT INTO things%");
  ASSERT_TRUE(inserts.Step());
  EXPECT_EQ(inserts.Text(0), "INSERT INTO things (name) VALUES ($1)\nRETURNING id");
}

TEST_F(PgStatementTest, MisuseIsInternalAndLeavesTheConnectionUsable) {
  struct Case {
    std::string name;
    std::function<void()> body;
  };
  const std::vector<Case> cases = {
      {"too few parameters", [&] { sql()("SELECT CAST(? AS BIGINT) + CAST(? AS BIGINT)").Bind(1).Run(); }},
      {"too many parameters", [&] { sql()("SELECT CAST(? AS BIGINT)").Bind(1).Bind(2).Run(); }},
      {"read before Step", [&] { sql()("SELECT 1").Int(0); }},
      {"read after the last row", [&] {
         auto q = sql()("SELECT 1");
         q.Step();
         q.Step();
         q.Int(0);
       }},
      {"no such column", [&] {
         auto q = sql()("SELECT 1");
         q.Step();
         q.Text(1);
       }},
      {"text read as an integer", [&] { sql()("SELECT 'abc'").OneInt(); }},
  };
  for (const Case& c : cases) {
    const Status status = StatusOf(c.body);
    EXPECT_EQ(status.code(), Code::kInternal) << c.name << ": " << status.ToString();
    EXPECT_EQ(sql()("SELECT 1").OneInt(), 1) << c.name;
  }
}

TEST_F(PgStatementTest, ServerErrorsBecomeTheStatusTheirClassMeans) {
  sql()("INSERT INTO things (name) VALUES (?)").Bind("taken").Insert();
  struct Case {
    std::string name;
    std::string setup;  // run first with Exec ("" for none)
    std::string sql;
    std::function<void(courier::SqlQuery&)> bind;
    Code want;
    bool from_server = true;  // the message names the SQLSTATE
  };
  auto none = [](courier::SqlQuery&) {};
  const std::vector<Case> cases = {
      {"unique", "", "INSERT INTO things (name) VALUES (?)", [](auto& q) { q.Bind("taken"); }, Code::kConflict},
      {"not null", "", "INSERT INTO things (name) VALUES (?)", [](auto& q) { q.BindNull(); },
       Code::kInvalidArgument},
      {"check", "", "INSERT INTO things (name, n) VALUES (?, ?)", [](auto& q) { q.Bind("neg").Bind(-1); },
       Code::kInvalidArgument},
      {"foreign key", "", "INSERT INTO things (name, parent) VALUES (?, ?)",
       [](auto& q) { q.Bind("orphan").Bind(999); }, Code::kInvalidArgument},
      {"text for a number", "", "SELECT id FROM things WHERE id = ?", [](auto& q) { q.Bind("abc"); },
       Code::kInvalidArgument},
      {"integer out of range", "", "UPDATE things SET n = ? WHERE id = 1",
       [](auto& q) { q.Bind(int64_t{1} << 40); }, Code::kInvalidArgument},
      {"NUL in text", "", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind(std::string("a\0b", 3)); },
       Code::kInvalidArgument, false},
      {"text not UTF-8", "", "SELECT CAST(? AS TEXT)", [](auto& q) { q.Bind("caf\xe9"); }, Code::kInvalidArgument},
      {"division by zero", "", "SELECT 1 / CAST(? AS INTEGER)", [](auto& q) { q.Bind(0); }, Code::kInvalidArgument},
      {"syntax error", "", "SELEKT 1", none, Code::kInternal},
      {"undefined table", "", "SELECT id FROM nothing", none, Code::kInternal},
      {"boolean compared with an integer literal", "", "SELECT COUNT(*) FROM things WHERE flag = 1", none,
       Code::kInternal},
      {"untyped parameter", "", "SELECT ? IS NULL", [](auto& q) { q.Bind(1); }, Code::kInternal},
      {"statement timeout", "SET statement_timeout = '50ms'", "SELECT pg_sleep(CAST(? AS FLOAT8))",
       [](auto& q) { q.Bind("5"); }, Code::kBusy},
      {"read-only transaction", "SET default_transaction_read_only = on", "INSERT INTO things (name) VALUES (?)",
       [](auto& q) { q.Bind("ro"); }, Code::kUnavailable},
  };
  for (const Case& c : cases) {
    if (!c.setup.empty()) db_->Exec(c.setup);
    const Status status = StatusOf([&] {
      auto q = sql()(c.sql);
      c.bind(q);
      q.Run();
    });
    EXPECT_EQ(status.code(), c.want) << c.name << ": " << status.ToString();
    if (c.from_server) {
      EXPECT_NE(status.message().find("SQLSTATE"), std::string::npos) << c.name << ": " << status.ToString();
    }
    if (c.want == Code::kUnavailable) {
      // As after a failover that left this session on a standby: the
      // connection asks to be replaced, and the new session writes.
      EXPECT_FALSE(db_->ok()) << c.name;
      ASSERT_TRUE(db_->Reconnect().ok()) << c.name;
    } else {
      db_->Exec("RESET ALL");
      EXPECT_TRUE(db_->ok()) << c.name;
    }
    EXPECT_EQ(sql()("SELECT COUNT(*) FROM things").OneInt(), 1) << c.name;
  }
}

TEST_F(PgStatementTest, ARowLockedPastLockTimeoutIsBusy) {
  sql()("INSERT INTO things (name) VALUES (?)").Bind("row").Insert();
  auto other = PgConnection::Connect(uri(), "courier-test-other");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  (*other)->Exec("BEGIN");
  (*other)->Exec("UPDATE things SET n = 1 WHERE id = 1");
  db_->Exec("SET lock_timeout = '50ms'");
  const Status status = StatusOf([&] { sql()("UPDATE things SET n = ? WHERE id = 1").Bind(2).Run(); });
  EXPECT_EQ(status.code(), Code::kBusy) << status.ToString();
  (*other)->Exec("ROLLBACK");
  // Once the lock is free, the same statement goes through.
  sql()("UPDATE things SET n = ? WHERE id = 1").Bind(2).Run();
  EXPECT_EQ(sql()("SELECT n FROM things WHERE id = 1").OneInt(), 2);
}

TEST_F(PgStatementTest, AStatementWhoseResultColumnsChangedIsBusyOnceThenPreparedAgain) {
  sql()("INSERT INTO things (name) VALUES (?)").Bind("row").Insert();
  const std::string all = "SELECT * FROM things WHERE id = ?";
  auto columns = [&] {
    auto q = sql()(all);
    q.Bind(1);
    EXPECT_TRUE(q.Step());
    return q.Text(1);
  };
  EXPECT_EQ(columns(), "row");
  auto other = PgConnection::Connect(uri(), "courier-ctl");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  (*other)->Exec("ALTER TABLE things ADD COLUMN extra TEXT NOT NULL DEFAULT 'new'");
  const Status changed = StatusOf([&] { columns(); });
  EXPECT_EQ(changed.code(), Code::kBusy) << changed.ToString();
  EXPECT_EQ(columns(), "row");
  auto q = sql()(all);
  q.Bind(1);
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(6), "new");
}

TEST_F(PgStatementTest, AFailedTransactionRollsBackThroughTheCache) {
  SqlStatements& s = sql();
  s.Exec("BEGIN");
  s("INSERT INTO things (name) VALUES (?)").Bind("kept?").Insert();
  EXPECT_EQ(StatusOf([&] { s("INSERT INTO things (name) VALUES (?)").Bind("kept?").Insert(); }).code(),
            Code::kConflict);
  EXPECT_EQ(db_->transaction_status(), PQTRANS_INERROR);
  // A failed transaction refuses everything but its end.
  EXPECT_EQ(StatusOf([&] { s("SELECT 1").Run(); }).code(), Code::kInternal);
  s.Exec("ROLLBACK");
  EXPECT_EQ(db_->transaction_status(), PQTRANS_IDLE);
  EXPECT_EQ(s("SELECT COUNT(*) FROM things").OneInt(), 0);
}

// Deferred statements (pg_statement.h): sent without reading their
// answers while allowed; the next statement that returns something reads
// them all and throws the first error instead of running.
TEST_F(PgStatementTest, DeferredStatementsAreAnsweredWithTheNextOneThatReturnsSomething) {
  SqlStatements& s = sql();
  s.AllowDeferred(true);
  s.Exec("BEGIN");
  for (const char* name : {"a", "b", "c"}) s("INSERT INTO things (name) VALUES (?)").Bind(name).RunLater();
  // Nothing answered yet; the count reads every answer, then its own.
  EXPECT_EQ(s("SELECT COUNT(*) FROM things").OneInt(), 3);
  s.Exec("COMMIT");
  EXPECT_EQ(OtherOne("SELECT string_agg(name, ',' ORDER BY id) FROM things"), "a,b,c");
  s.AllowDeferred(false);
}

TEST_F(PgStatementTest, ADeferredErrorIsThrownByTheNextCallWhichDoesNotRun) {
  SqlStatements& s = sql();
  s("INSERT INTO things (name) VALUES (?)").Bind("taken").Insert();
  s.AllowDeferred(true);
  s.Exec("BEGIN");
  s("INSERT INTO things (name) VALUES (?)").Bind("fine").RunLater();
  s("INSERT INTO things (name) VALUES (?)").Bind("taken").RunLater();      // unique violation
  s("UPDATE things SET n = n + 1 WHERE name = ?").Bind("taken").RunLater();  // skipped by the server
  const Status error = StatusOf([&] { s("INSERT INTO things (name) VALUES (?)").Bind("after").Insert(); });
  EXPECT_EQ(error.code(), Code::kConflict) << error.ToString();
  EXPECT_EQ(db_->transaction_status(), PQTRANS_INERROR);
  // The rollback runs whatever the deferred answers were.
  s("INSERT INTO things (name) VALUES (?)").Bind("never read").RunLater();
  s.DiscardDeferred();
  s.Exec("ROLLBACK");
  EXPECT_EQ(db_->transaction_status(), PQTRANS_IDLE);
  auto rows = s("SELECT string_agg(name || ':' || n, ',' ORDER BY id) FROM things");
  ASSERT_TRUE(rows.Step());
  EXPECT_EQ(rows.Text(0), "taken:0");
  s.AllowDeferred(false);
}

TEST_F(PgStatementTest, AStatementFirstPreparedInAFailedPipelineIsPreparedAgain) {
  SqlStatements& s = sql();
  s.AllowDeferred(true);
  s.Exec("BEGIN");
  s("INSERT INTO things (name) VALUES ('x'), ('x')").RunLater();  // fails: its prepare was sent with it
  s("UPDATE things SET n = ? WHERE name = ?").Bind(1).Bind("y").RunLater();  // prepare skipped by the server
  EXPECT_EQ(StatusOf([&] { s("SELECT 1").Run(); }).code(), Code::kConflict);
  s.DiscardDeferred();
  s.Exec("ROLLBACK");
  s("INSERT INTO things (name) VALUES (?)").Bind("y").Insert();
  s("UPDATE things SET n = ? WHERE name = ?").Bind(7).Bind("y").RunLater();
  EXPECT_EQ(s("SELECT n FROM things WHERE name = 'y'").OneInt(), 7);
  s.AllowDeferred(false);
}

TEST_F(PgStatementTest, ManyDeferredStatementsSyncOnTheirOwnAndOneNotAllowedRunsAtOnce) {
  SqlStatements& s = sql();
  s.AllowDeferred(true);
  s.Exec("BEGIN");
  // More than kMaxDeferred, each answer waiting: the pipeline syncs by
  // itself before the socket buffers could fill.
  for (int i = 0; i < 3 * courier::PgPipeline::kMaxDeferred + 5; ++i) {
    s("INSERT INTO things (name, n) VALUES (?, ?)").Bind("row " + std::to_string(i)).Bind(i).RunLater();
  }
  EXPECT_EQ(s("SELECT COUNT(*) FROM things").OneInt(), 3 * courier::PgPipeline::kMaxDeferred + 5);
  s.Exec("COMMIT");
  s.AllowDeferred(false);
  // Not allowed: RunLater is Run, and its error comes at once.
  EXPECT_EQ(StatusOf([&] { s("INSERT INTO things (name) VALUES (?)").Bind("row 0").RunLater(); }).code(),
            Code::kConflict);
}

TEST_F(PgStatementTest, ConnectionTakesLibpqDefaultsTheUriCanOverride) {
  auto setting = [](PgConnection& c, const std::string& keyword) {
    std::string value = "<unset>";
    PQconninfoOption* options = ::PQconninfo(c.get());
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (keyword == o->keyword && o->val != nullptr) value = o->val;
    }
    ::PQconninfoFree(options);
    return value;
  };
  EXPECT_EQ(setting(*db_, "connect_timeout"), "5");
  EXPECT_EQ(setting(*db_, "keepalives"), "1");
  EXPECT_EQ(setting(*db_, "keepalives_idle"), "10");
  EXPECT_EQ(OtherOne("SELECT string_agg(application_name, ',' ORDER BY application_name) FROM pg_stat_activity "
                     "WHERE datname = current_database()"),
            "courier-test,courier-test-other");

  auto custom = PgConnection::Connect(uri() + "?connect_timeout=2&application_name=ops-named", "courier-test");
  ASSERT_TRUE(custom.ok()) << custom.status().ToString();
  EXPECT_EQ(setting(**custom, "connect_timeout"), "2");
  auto q = (*custom)->statements()("SELECT current_setting('application_name')");
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(0), "ops-named");
}

TEST_F(PgStatementTest, ConnectFailuresAreUnavailableAndNeverShowThePassword) {
  // A port nothing listens on: the server's, plus one, is free only by
  // chance; a closed socket dir path is certain.
  const std::string secret = "s3cr3t-Pa55";
  struct Case {
    std::string name;
    std::string uri;
    Code want;
  };
  const std::vector<Case> cases = {
      {"nothing listening", "postgresql://courier:" + secret + "@/postgres?host=/nonexistent-courier-dir",
       Code::kUnavailable},
      {"no such database", "postgresql://courier:" + secret + "@127.0.0.1:" + std::to_string(server().port()) +
                               "/no_such_db",
       Code::kUnavailable},
      {"malformed uri", "postgresql://courier:" + secret + "@127.0.0.1:notaport/x", Code::kUnavailable},
      {"bad percent-encoding", "postgresql://courier:%zz" + secret + "@127.0.0.1/x", Code::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto connected = PgConnection::Connect(c.uri, "courier-test");
    ASSERT_FALSE(connected.ok()) << c.name;
    EXPECT_EQ(connected.status().code(), c.want) << c.name << ": " << connected.status().ToString();
    EXPECT_EQ(connected.status().message().find(secret), std::string::npos) << connected.status().ToString();
  }
}

TEST_F(PgStatementTest, AStoppedServerIsUnavailableUntilItStartsAndTheConnectionIsRenewed) {
  const std::string count = "SELECT COUNT(*) FROM things WHERE name <> ?";
  EXPECT_EQ(sql()(count).Bind("x").OneInt(), 0);
  EXPECT_TRUE(db_->Ping().ok());
  ASSERT_TRUE(server().Stop().ok());

  const Status lost = StatusOf([&] { sql()(count).Bind("x").OneInt(); });
  EXPECT_EQ(lost.code(), Code::kUnavailable) << lost.ToString();
  EXPECT_FALSE(db_->ok());
  EXPECT_EQ(db_->Ping().code(), Code::kUnavailable);
  const Status refused = db_->Reconnect();
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.ToString();

  ASSERT_TRUE(server().Start().ok()) << server().Log();
  const Status renewed = db_->Reconnect();
  ASSERT_TRUE(renewed.ok()) << renewed.ToString();
  // The statement was prepared in the old session: prepared again.
  EXPECT_EQ(sql()(count).Bind("x").OneInt(), 0);
  EXPECT_TRUE(db_->Ping().ok());
}

TEST_F(PgStatementTest, AConnectionLostWithDeferredStatementsIsUnavailableAndRenewed) {
  SqlStatements& s = sql();
  s.AllowDeferred(true);
  s.Exec("BEGIN");
  s("INSERT INTO things (name) VALUES (?)").Bind("lost").RunLater();
  ASSERT_TRUE(server().Stop().ok());
  const Status lost = StatusOf([&] { s("SELECT COUNT(*) FROM things").OneInt(); });
  EXPECT_EQ(lost.code(), Code::kUnavailable) << lost.ToString();
  EXPECT_FALSE(db_->ok());
  ASSERT_TRUE(server().Start().ok()) << server().Log();
  const Status renewed = db_->Reconnect();
  ASSERT_TRUE(renewed.ok()) << renewed.ToString();
  // Out of pipeline mode with the old session: plain calls work, and so
  // does deferring again.
  EXPECT_EQ(sql()("SELECT COUNT(*) FROM things").OneInt(), 0);
  sql()("INSERT INTO things (name) VALUES (?)").Bind("kept").RunLater();
  EXPECT_EQ(sql()("SELECT COUNT(*) FROM things").OneInt(), 1);
  EXPECT_TRUE(db_->Ping().ok());
  sql().AllowDeferred(false);
}

TEST_F(PgStatementTest, ACrashMidTransactionIsUnavailableAndCommitsNothing) {
  SqlStatements& s = sql();
  s("INSERT INTO things (name) VALUES (?)").Bind("before").Insert();
  s.Exec("BEGIN");
  s("INSERT INTO things (name) VALUES (?)").Bind("during").Insert();
  ASSERT_TRUE(server().Crash().ok());
  const Status lost = StatusOf([&] { s.Exec("COMMIT"); });
  EXPECT_EQ(lost.code(), Code::kUnavailable) << lost.ToString();

  ASSERT_TRUE(server().Start().ok()) << server().Log();
  ASSERT_TRUE(db_->Reconnect().ok());
  auto q = s("SELECT string_agg(name, ',') FROM things WHERE id > ?");
  q.Bind(0);
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Text(0), "before");
}

}  // namespace
