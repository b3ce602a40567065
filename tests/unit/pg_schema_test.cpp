// The PostgreSQL schema (store/pg_schema.h) on a real server: made on an
// empty database, a no-op the second time, safe from two hosts at once,
// atomic when it fails, a newer store refused; and, the check that keeps
// the two engines one schema, a fresh PostgreSQL store has exactly the
// tables, columns (type class, NOT NULL, default, primary key), indexes,
// unique constraints and foreign keys of a fresh SQLite store made by
// SqliteStore::Migrate. A migration added for one engine only fails it.
#include "store/pg_schema.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "dangling_references.h"
#include "postgres_server.h"
#include "postgres_suite.h"
#include "store/schema.h"
#include "store/sql_connection.h"
#include "store/sqlite_store.h"
#include "temp_dir.h"

using courier::Status;
using courier::testing::PostgresServer;
using courier::testing::ScratchDir;
namespace pg_schema = courier::pg_schema;
namespace schema = courier::schema;

namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&::PQfinish)>;
using Rows = std::vector<std::vector<std::string>>;

PgConn Connect(const std::string& uri) { return PgConn(::PQconnectdb(uri.c_str()), &::PQfinish); }

// Every row of `sql` as text (NULL as "<null>"); a failure is recorded on
// the test and yields no rows.
Rows PgQuery(PGconn* conn, const std::string& sql) {
  PGresult* res = ::PQexec(conn, sql.c_str());
  Rows rows;
  const ExecStatusType status = ::PQresultStatus(res);
  if (status == PGRES_TUPLES_OK) {
    for (int r = 0; r < ::PQntuples(res); ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < ::PQnfields(res); ++c) {
        row.push_back(::PQgetisnull(res, r, c) ? "<null>" : ::PQgetvalue(res, r, c));
      }
      rows.push_back(std::move(row));
    }
  } else if (status != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "`" << sql << "`: " << ::PQerrorMessage(conn);
  }
  ::PQclear(res);
  return rows;
}

std::string PgOne(PGconn* conn, const std::string& sql) {
  Rows rows = PgQuery(conn, sql);
  return rows.empty() || rows[0].empty() ? "<no row>" : rows[0][0];
}

Rows SqliteQuery(sqlite3* db, const std::string& sql) {
  Rows rows;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "`" << sql << "`: " << sqlite3_errmsg(db);
    return rows;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt, c);
      row.push_back(text == nullptr ? "<null>" : reinterpret_cast<const char*>(text));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return rows;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A declared SQLite type's class, by SQLite's affinity rules (datatype3
// section 3.1), with BOOLEAN named for itself: the schema declares it, and
// PostgreSQL has the type.
std::string SqliteTypeClass(const std::string& declared) {
  const std::string t = Lower(declared);
  if (t == "boolean") return "boolean";
  if (t.find("int") != std::string::npos) return "integer";
  if (t.find("char") != std::string::npos || t.find("clob") != std::string::npos ||
      t.find("text") != std::string::npos) {
    return "text";
  }
  if (t.empty() || t.find("blob") != std::string::npos) return "blob";
  if (t.find("real") != std::string::npos || t.find("floa") != std::string::npos ||
      t.find("doub") != std::string::npos) {
    return "real";
  }
  return "numeric:" + t;
}

std::string PgTypeClass(const std::string& data_type) {
  if (data_type == "bigint" || data_type == "integer" || data_type == "smallint") return "integer";
  if (data_type == "text" || data_type == "character" || data_type == "character varying") return "text";
  if (data_type == "real" || data_type == "double precision") return "real";
  if (data_type == "boolean") return "boolean";
  if (data_type == "bytea") return "blob";
  return "other:" + data_type;
}

// A default as both engines can be compared on: lower case, PostgreSQL's
// casts dropped ('json'::text -> 'json'), none as "-".
std::string NormalDefault(const std::string& value) {
  if (value == "<null>") return "-";
  std::string v = Lower(value);
  for (auto cast = v.rfind("::"); cast != std::string::npos && v.find('\'', cast) == std::string::npos;
       cast = v.rfind("::")) {
    v.erase(cast);
  }
  return v;
}

std::string Join(const std::set<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

// One line per table, column, primary key, named index, unique constraint
// and foreign key; sorted, so two schemas compare as two texts and a
// difference shows as a diff.
std::string SqliteShape(sqlite3* db) {
  std::set<std::string> lines;
  for (const auto& t : SqliteQuery(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%'")) {
    const std::string& table = t[0];
    lines.insert("table " + table);
    std::vector<std::pair<int, std::string>> pk;
    // cid, name, type, notnull, dflt_value, pk
    for (const auto& c : SqliteQuery(db, "PRAGMA table_info(" + table + ")")) {
      const bool in_pk = c[5] != "0";
      // A primary key column is never NULL on either engine (SQLite's
      // INTEGER PRIMARY KEY is the rowid), whatever table_info says.
      const bool not_null = c[3] != "0" || in_pk;
      lines.insert("column " + table + "." + c[1] + " " + SqliteTypeClass(c[2]) +
                   (not_null ? " NOT NULL" : " NULL") + " default " + NormalDefault(c[4]));
      if (in_pk) pk.emplace_back(std::stoi(c[5]), c[1]);
    }
    std::sort(pk.begin(), pk.end());
    std::string pk_cols;
    for (const auto& [ordinal, name] : pk) pk_cols += (pk_cols.empty() ? "" : ", ") + name;
    if (!pk.empty()) lines.insert("primary key " + table + " (" + pk_cols + ")");

    // seq, name, unique, origin (c: CREATE INDEX, u: UNIQUE, pk), partial
    for (const auto& i : SqliteQuery(db, "PRAGMA index_list(" + table + ")")) {
      const std::string& origin = i[3];
      if (origin == "pk") continue;  // the primary key line covers it
      std::string cols;
      // seqno, cid, name, desc, coll, key
      for (const auto& k : SqliteQuery(db, "PRAGMA index_xinfo(" + i[1] + ")")) {
        if (k[5] != "1") continue;
        cols += (cols.empty() ? "" : ", ") + k[2] + (k[3] == "1" ? " DESC" : "");
      }
      if (origin == "u") {
        lines.insert("unique " + table + " (" + cols + ")");
      } else {
        lines.insert(std::string(i[2] == "1" ? "unique index " : "index ") + i[1] + " ON " + table +
                     " (" + cols + ")" + (i[4] == "1" ? " partial" : ""));
      }
    }
    // id, seq, table, from, to, ...
    for (const auto& f : SqliteQuery(db, "PRAGMA foreign_key_list(" + table + ")")) {
      lines.insert("foreign key " + table + "." + f[3] + " -> " + f[2] + "." + f[4]);
    }
  }
  return Join(lines);
}

std::string PgShape(PGconn* conn) {
  std::set<std::string> lines;
  const std::string in_schema = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())";
  for (const auto& t : PgQuery(conn, "SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")) {
    lines.insert("table " + t[0]);
  }
  for (const auto& c : PgQuery(conn, "SELECT table_name, column_name, data_type, is_nullable, column_default "
                                     "FROM information_schema.columns WHERE table_schema = current_schema()")) {
    lines.insert("column " + c[0] + "." + c[1] + " " + PgTypeClass(c[2]) +
                 (c[3] == "NO" ? " NOT NULL" : " NULL") + " default " + NormalDefault(c[4]));
  }
  // Every index with its key columns in order (DESC: indoption bit 0), and
  // whether a constraint (primary key, unique) owns it.
  const std::string indexes =
      "SELECT i.relname, t.relname, x.indisunique, x.indisprimary, x.indpred IS NOT NULL, "
      "  (SELECT string_agg(a.attname || CASE WHEN (x.indoption[k.ord - 1] & 1) = 1 "
      "                                   THEN ' DESC' ELSE '' END, ', ' ORDER BY k.ord) "
      "     FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
      "     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), "
      "  EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype = 'u') "
      "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
      "WHERE t.relnamespace = " + in_schema;
  for (const auto& i : PgQuery(conn, indexes)) {
    const std::string& table = i[1];
    const std::string& cols = i[5];
    if (i[3] == "t") {
      lines.insert("primary key " + table + " (" + cols + ")");
    } else if (i[6] == "t") {
      lines.insert("unique " + table + " (" + cols + ")");
    } else {
      lines.insert(std::string(i[2] == "t" ? "unique index " : "index ") + i[0] + " ON " + table + " (" +
                   cols + ")" + (i[4] == "t" ? " partial" : ""));
    }
  }
  for (const auto& f : PgQuery(conn,
                               "SELECT t.relname, a.attname, rt.relname, ra.attname FROM pg_constraint c "
                               "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class rt ON rt.oid = c.confrelid "
                               "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                               "JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1] "
                               "WHERE c.contype = 'f' AND c.connamespace = " + in_schema)) {
    lines.insert("foreign key " + f[0] + "." + f[1] + " -> " + f[2] + "." + f[3]);
  }
  return Join(lines);
}

// The schema a fresh SQLite store has after SqliteStore::Migrate, read
// from its file.
std::string FreshSqliteShape() {
  ScratchDir dir;
  const std::string path = dir.path() + "/courier.db";
  {
    courier::SqliteStore store(path, courier::Clock::System());
    Status st = store.Open();
    EXPECT_TRUE(st.ok()) << st.ToString();
    st = store.Migrate();
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return "";
  }
  std::string shape = SqliteShape(db);
  sqlite3_close(db);
  return shape;
}

// The store's SQL with its `?` numbered $1, $2 ... as the PostgreSQL
// engine prepares it.
std::string Numbered(std::string sql) {
  for (int n = 1; sql.find('?') != std::string::npos; ++n) sql.replace(sql.find('?'), 1, "$" + std::to_string(n));
  return sql;
}

// One server for the suite (initdb costs a second or more); a database
// per test.
class PgSchemaTest : public courier::testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    conn_ = Connect(uri());
    ASSERT_EQ(::PQstatus(conn_.get()), CONNECTION_OK) << ::PQerrorMessage(conn_.get());
  }

  PGconn* conn() { return conn_.get(); }

  // The plan a long-lived prepared statement ends up with (the generic
  // one) of the statement prepared as `prepare` and run as `execute`.
  std::string GenericPlan(const std::string& prepare, const std::string& execute) {
    PgQuery(conn(), "SET plan_cache_mode = force_generic_plan");
    PgQuery(conn(), "PREPARE " + prepare);
    std::string plan;
    for (const auto& row : PgQuery(conn(), "EXPLAIN EXECUTE " + execute)) plan += row[0] + "\n";
    return plan;
  }

  PgConn conn_{nullptr, &::PQfinish};
};

TEST_F(PgSchemaTest, CreatesTheCurrentSchemaOnAnEmptyDatabase) {
  ASSERT_EQ(pg_schema::ReadVersion(conn()).value(), 0);
  EXPECT_EQ(pg_schema::CheckPgSchema(conn()).message(), "store not initialised: run courier-ctl init");

  Status st = pg_schema::CreatePgSchema(conn());
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_EQ(pg_schema::ReadVersion(conn()).value(), schema::CurrentVersion());
  EXPECT_TRUE(pg_schema::CheckPgSchema(conn()).ok());
  // Every migration applied and recorded, as on SQLite.
  EXPECT_EQ(PgOne(conn(), "SELECT count(*) FROM schema_version"), std::to_string(schema::CurrentVersion()));
  EXPECT_EQ(PgOne(conn(), "SELECT description FROM schema_version WHERE version = 6"),
            schema::Migrations(schema::Dialect::kPostgreSQL)[5].description);
  // applied_on in the store's unit: microseconds since the epoch, now.
  EXPECT_EQ(PgOne(conn(), "SELECT abs(applied_on - extract(epoch FROM now()) * 1000000) < 60000000 "
                          "FROM schema_version WHERE version = 6"),
            "t");
  EXPECT_EQ(::PQtransactionStatus(conn()), PQTRANS_IDLE);
}

// The status write closes a msg's open attempt. On a new store (no
// statistics) the generic plan, the one a long-lived prepared statement
// ends up with, must go straight to that attempt, not through every open
// attempt (idx_attempts_open) or the whole table.
TEST_F(PgSchemaTest, ClosingAnAttemptFindsItByMsgOnANewStore) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string plan = GenericPlan(
      "close_attempt (BIGINT, TEXT, BIGINT) AS UPDATE attempts SET finished_on = $1, outcome = $2 "
      "WHERE msg_id = $3 AND finished_on IS NULL",
      "close_attempt (1, 'sent', 5)");
  EXPECT_NE(plan.find("idx_attempts_open_msg"), std::string::npos) << plan;
}

// A status callback with only the provider's id: on a new store the
// generic plan takes the index that holds outgoing msgs by provider id,
// newest first, not a walk through the channel's msgs.
TEST_F(PgSchemaTest, AStatusByProviderIdFindsItsMsgByIndexOnANewStore) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string plan = GenericPlan(
      "by_external (BIGINT, TEXT) AS SELECT id FROM msgs m WHERE m.channel_id = $1 AND m.external_id = $2 "
      "AND m.direction = 'O' ORDER BY m.id DESC LIMIT 1",
      "by_external (1, 'abc')");
  EXPECT_NE(plan.find("idx_msgs_external_out"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Sort"), std::string::npos) << plan;
}

// The claim's queue read runs under generic plans (PgEngine's claim lock
// sets them: planned afresh each run it cost more than it ran). Generic,
// it still reads the queue's partial index, its statuses being literals.
TEST_F(PgSchemaTest, TheClaimsQueueReadIsPlannedOnceOnTheQueueIndex) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  PgQuery(conn(), "INSERT INTO channels (id, uuid, channel_type, created_on, modified_on) VALUES (1, 'c', 'EX', 1, 1)");
  PgQuery(conn(), "INSERT INTO msgs (uuid, channel_id, direction, status, urn, next_attempt_on, created_on, "
                  "modified_on) SELECT 'm' || g, 1, 'O', CASE WHEN g % 10 = 0 THEN 'Q' ELSE 'W' END, 'tel:1', 0, g, g "
                  "FROM generate_series(1, 5000) g");
  PgQuery(conn(), "ANALYZE msgs");
  const std::string plan = GenericPlan("queue_read AS " + Numbered(courier::sql_detail::NewQueueRead().ArraySql()),
                                       "queue_read ('{0,1}', '{1,2}', '{5,5}', '{10,10}')");
  EXPECT_NE(plan.find("idx_msgs_queue"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
  // Each channel's arm, its msgs in queue order, at most its limit.
  std::string read;
  for (const auto& row : PgQuery(conn(), "EXECUTE queue_read ('{0,1}', '{1,2}', '{3,5}', '{10,10}')")) {
    read += row[0] + ":" + row[1] + " ";
  }
  EXPECT_EQ(read, "0:10 0:20 0:30 ");
}

// A batch's statuses and attempt closes are one statement each over
// arrays (SqlRowBatch). PostgreSQL guesses an unnest's row count, and on a
// new store (no statistics) a join of it could read every open attempt,
// dead ones included, or every msg: each must find its rows by key.
TEST_F(PgSchemaTest, ABatchsStatusesAndClosesFindTheirRowsByKeyOnANewStore) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string close = GenericPlan("close_batch AS " + Numbered(courier::sql_detail::NewAttemptCloses().ArraySql()),
                                        "close_batch ('{1,1}', '{W,W}', '{5,6}')");
  EXPECT_NE(close.find("idx_attempts_open_msg"), std::string::npos) << close;
  EXPECT_EQ(close.find("idx_attempts_open "), std::string::npos) << close;
  EXPECT_EQ(close.find("Seq Scan on attempts"), std::string::npos) << close;
  // The statuses' statement under PgEngine::PlanByKeys, as the store runs it.
  PgQuery(conn(), "SET enable_seqscan = off");
  const std::string move = GenericPlan(
      "move_batch AS " + Numbered(courier::sql_detail::NewStatusMoves().ArraySql()),
      "move_batch ('{5,6}', '{1,1}', '{W,W}', '{Q,Q}', '{1,1}', '{t,t}', '{NULL,NULL}', '{\"\",\"\"}', "
      "'{NULL,NULL}', '{0,0}')");
  EXPECT_NE(move.find("msgs_pkey"), std::string::npos) << move;
  EXPECT_EQ(move.find("Seq Scan on msgs"), std::string::npos) << move;
}

// The batch's lookups and reservations in one statement (sql_intake.cpp,
// LookUpTogether), as the store prepares it and under PlanByKeys: each URN,
// uuid and provider id by its unique index, and a URN's newest msgs by
// idx_msgs_contact_urn, on a store with no statistics.
TEST_F(PgSchemaTest, ABatchsLookupsFindTheirRowsByKeyOnANewStore) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string sql = Numbered(courier::sql_detail::NewBatchLookup().ArraySql());
  PgQuery(conn(), "SET enable_seqscan = off");
  const std::string asks = "('{1,2,3,4,1,6}', '{tel:+1,u-1,ext-1,NULL,tel:+2,tel:+2}', '{NULL,NULL,7,3,NULL,7}')";
  const std::string plan = GenericPlan("lookup AS " + sql, "lookup " + asks);
  for (const char* index : {"contact_urns_urn_key", "msgs_uuid_key", "ux_msgs_incoming_external",
                            "idx_msgs_contact_urn"}) {
    EXPECT_NE(plan.find(index), std::string::npos) << index << " not in\n" << plan;
  }
  EXPECT_EQ(plan.find("Seq Scan on msgs"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Seq Scan on contact_urns"), std::string::npos) << plan;
  // And what it answers: three msg ids, a contact and a URN id for the URN
  // not found, tel:+2 found, and tel:+2's newest incoming msg on channel 7
  // (an outgoing one is newer still).
  PgQuery(conn(), "INSERT INTO channels (id, uuid, channel_type, created_on, modified_on) VALUES (7, 'c', 'EX', 1, 1)");
  PgQuery(conn(), "INSERT INTO contacts (id, uuid, created_on, modified_on) VALUES (1, 'k', 1, 1)");
  PgQuery(conn(), "INSERT INTO contact_urns (id, urn, scheme, path, contact_id) VALUES (1, 'tel:+2', 'tel', '+2', 1)");
  PgQuery(conn(), "INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, "
                  "created_on, modified_on) SELECT 'm' || n, 7, 1, 1, 'I', 'P', 'tel:+2', n, n "
                  "FROM generate_series(1, 10) AS n");
  PgQuery(conn(), "INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, urn, "
                  "created_on, modified_on) VALUES ('out', 7, 1, 1, 'O', 'Q', 'tel:+2', 11, 11)");
  std::string kinds, newest;
  for (const auto& row : PgQuery(conn(), "EXECUTE lookup " + asks)) {
    kinds += row[0] + (row[0] == "5" && !row[2].empty() && !row[3].empty() ? "+" : "") + " ";
    if (row[0] == "6") newest = row[7];
  }
  EXPECT_EQ(kinds, "1 4 4 4 5+ 6 ");
  EXPECT_EQ(newest, "m10");
}

// Ids: assigned when omitted, kept when given (a copy from SQLite), and
// after setval the sequence carries on past the copied ones. Event seqs
// only grow, even past a rolled-back insert and a deleted highest row.
TEST_F(PgSchemaTest, IdsAreAssignedOrKeptAndSeqsNeverReused) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  PgQuery(conn(), "INSERT INTO channels (id, uuid, channel_type, created_on, modified_on) "
                  "VALUES (41, 'copied', 'EX', 1, 1)");
  PgQuery(conn(), "SELECT setval(pg_get_serial_sequence('channels', 'id'), (SELECT max(id) FROM channels))");
  EXPECT_EQ(PgOne(conn(), "INSERT INTO channels (uuid, channel_type, created_on, modified_on) "
                          "VALUES ('new', 'EX', 2, 2) RETURNING id"),
            "42");

  EXPECT_EQ(PgOne(conn(), "INSERT INTO events (topic, payload, created_on) VALUES ('t', '{}', 1) RETURNING seq"),
            "1");
  PgQuery(conn(), "BEGIN");
  EXPECT_EQ(PgOne(conn(), "INSERT INTO events (topic, payload, created_on) VALUES ('t', '{}', 2) RETURNING seq"),
            "2");
  PgQuery(conn(), "ROLLBACK");
  EXPECT_EQ(PgOne(conn(), "INSERT INTO events (topic, payload, created_on) VALUES ('t', '{}', 3) RETURNING seq"),
            "3");
  PgQuery(conn(), "DELETE FROM events WHERE seq = 3");
  EXPECT_EQ(PgOne(conn(), "INSERT INTO events (topic, payload, created_on) VALUES ('t', '{}', 4) RETURNING seq"),
            "4");
  // A payload comes back byte for byte (TEXT, not jsonb).
  const std::string payload = R"({"b": 1,  "a": [1,2], "b": 2})";
  PgQuery(conn(), "INSERT INTO events (topic, payload, created_on) VALUES ('t', '" + payload + "', 5)");
  EXPECT_EQ(PgOne(conn(), "SELECT payload FROM events WHERE created_on = 5"), payload);
  // The CHECKs hold, as on SQLite.
  EXPECT_EQ(PgOne(conn(), "SELECT count(*) FROM channels"), "2");
  PGresult* bad = ::PQexec(conn(), "INSERT INTO msgs (uuid, channel_id, direction, status, urn, created_on, "
                                   "modified_on) VALUES ('m', 41, 'O', 'X', 'tel:+1', 1, 1)");
  EXPECT_EQ(::PQresultStatus(bad), PGRES_FATAL_ERROR);
  EXPECT_NE(std::string(::PQresultErrorMessage(bad)).find("msgs_status_check"), std::string::npos)
      << ::PQresultErrorMessage(bad);
  ::PQclear(bad);
}

TEST_F(PgSchemaTest, ApplyingTwiceChangesNothing) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string shape = PgShape(conn());
  const Rows versions = PgQuery(conn(), "SELECT version, description, applied_on FROM schema_version ORDER BY 1");

  Status again = pg_schema::CreatePgSchema(conn());
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(PgShape(conn()), shape);
  EXPECT_EQ(PgQuery(conn(), "SELECT version, description, applied_on FROM schema_version ORDER BY 1"), versions);
}

// Hosts running `courier-ctl init` at once on an empty database: the
// advisory lock makes all but one wait and find the schema made (without
// it, concurrent CREATE TABLE IF NOT EXISTS fails on a catalog unique key).
TEST_F(PgSchemaTest, ConcurrentCreatorsAllSucceedAndCreateOnce) {
  constexpr int kCreators = 4;
  std::vector<PgConn> conns;
  for (int i = 0; i < kCreators; ++i) {
    conns.push_back(Connect(uri()));
    ASSERT_EQ(::PQstatus(conns.back().get()), CONNECTION_OK) << ::PQerrorMessage(conns.back().get());
  }
  std::vector<Status> results(kCreators);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCreators; ++i) {
    threads.emplace_back([&, i] { results[i] = pg_schema::CreatePgSchema(conns[i].get()); });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(PgOne(conn(), "SELECT count(*) FROM schema_version"),
            std::to_string(schema::CurrentVersion()));
}

TEST_F(PgSchemaTest, RefusesAStoreNewerThanTheProgram) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const int newer = schema::CurrentVersion() + 1;
  PgQuery(conn(), "INSERT INTO schema_version (version, description, applied_on) VALUES (" +
                      std::to_string(newer) + ", 'from a later courier', 0)");
  const std::string shape = PgShape(conn());

  const std::string expected = "store schema is version " + std::to_string(newer) +
                               ", newer than this program's " + std::to_string(schema::CurrentVersion()) +
                               ": upgrade courier";
  Status st = pg_schema::CreatePgSchema(conn());
  EXPECT_EQ(st.code(), Status::Code::kUnavailable);
  EXPECT_EQ(st.message(), expected);
  EXPECT_EQ(st.ExitCode(), 69);
  EXPECT_EQ(pg_schema::CheckPgSchema(conn()).message(), expected);
  // Refused means untouched, and the connection is usable afterwards.
  EXPECT_EQ(::PQtransactionStatus(conn()), PQTRANS_IDLE);
  EXPECT_EQ(PgShape(conn()), shape);
  EXPECT_EQ(pg_schema::ReadVersion(conn()).value(), newer);
}

TEST_F(PgSchemaTest, RefusesANewerVersionTableOnAnOtherwiseEmptyDatabase) {
  PgQuery(conn(), schema::VersionTableDDL());
  PgQuery(conn(), "INSERT INTO schema_version VALUES (" + std::to_string(schema::CurrentVersion() + 5) +
                      ", 'from a later courier', 0)");
  Status st = pg_schema::CreatePgSchema(conn());
  EXPECT_NE(st.message().find("upgrade courier"), std::string::npos) << st.ToString();
  EXPECT_EQ(PgOne(conn(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"),
            "1");
}

// A database that is not empty and not courier's: the failure names the
// clash and leaves nothing behind, not even schema_version (the DDL runs
// in one transaction).
TEST_F(PgSchemaTest, AFailedCreationLeavesTheDatabaseAsItWas) {
  PgQuery(conn(), "CREATE TABLE msgs (note TEXT)");
  Status st = pg_schema::CreatePgSchema(conn());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("\"msgs\" already exists"), std::string::npos) << st.ToString();
  EXPECT_EQ(PgOne(conn(), "SELECT string_agg(table_name, ',') FROM information_schema.tables "
                          "WHERE table_schema = current_schema()"),
            "msgs");
  EXPECT_EQ(::PQtransactionStatus(conn()), PQTRANS_IDLE);
  EXPECT_EQ(pg_schema::ReadVersion(conn()).value(), 0);
}

// The check that keeps one schema for both engines.
TEST_F(PgSchemaTest, MatchesAFreshSqliteStoreTableByTable) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string sqlite = FreshSqliteShape();
  const std::string postgres = PgShape(conn());
  // The comparison itself must see something: every table, with columns,
  // indexes of each kind and foreign keys.
  for (const char* line : {"table events\n", "column msgs.status text NOT NULL default -\n",
                           "column channels.is_active boolean NOT NULL default true\n",
                           "primary key api_idempotency (token_id, idem_key)\n",
                           "index idx_msgs_queue ON msgs (channel_id, priority DESC, id, status, direction, "
                           "next_attempt_on, claimed_by) partial\n",
                           "unique index ux_msgs_incoming_external ON msgs (channel_id, external_id) partial\n",
                           "unique channels (uuid)\n", "foreign key msgs.channel_id -> channels.id\n"}) {
    EXPECT_NE(sqlite.find(line), std::string::npos) << "SQLite shape lacks " << line << sqlite;
  }
  // Less the foreign keys PostgreSQL leaves to the store (schema::
  // References()), each of which SQLite declares.
  std::string sqlite_less_references = sqlite;
  for (const auto& ref : courier::schema::References()) {
    const std::string line = std::string("foreign key ") + ref.table + "." + ref.column + " -> " + ref.parent + "." +
                             ref.parent_key + "\n";
    const auto at = sqlite_less_references.find(line);
    ASSERT_NE(at, std::string::npos) << "SQLite declares no " << line << sqlite;
    sqlite_less_references.erase(at, line.size());
  }
  EXPECT_EQ(postgres, sqlite_less_references);
}

// The references PostgreSQL leaves to the store are every foreign key of
// the tables written for each msg, so none is left unchecked by the tests'
// DanglingReferences; the rest (channel_claims) keep their constraint.
TEST_F(PgSchemaTest, LeavesToTheStoreEveryReferenceOfTheTablesWrittenForEachMsg) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  const std::string sqlite = FreshSqliteShape();
  std::set<std::string> tables;
  for (const auto& ref : courier::schema::References()) tables.insert(ref.table);
  std::string declared;
  std::istringstream lines(sqlite);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& table : tables) {
      if (line.rfind("foreign key " + table + ".", 0) == 0) declared += line + "\n";
    }
  }
  std::set<std::string> listed;
  for (const auto& ref : courier::schema::References()) {
    listed.insert(std::string("foreign key ") + ref.table + "." + ref.column + " -> " + ref.parent + "." +
                  ref.parent_key);
  }
  EXPECT_EQ(declared, Join(listed));
  EXPECT_NE(PgShape(conn()).find("foreign key channel_claims.channel_id -> channels.id\n"), std::string::npos);
}

// The tests' check of those references (dangling_references.h) sees a
// row whose parent is missing, and only that.
TEST_F(PgSchemaTest, TheTestsFindARowWhoseParentIsMissing) {
  ASSERT_TRUE(pg_schema::CreatePgSchema(conn()).ok());
  EXPECT_EQ(courier::testing::DanglingReferences(uri()).value(), "");
  PgQuery(conn(), "INSERT INTO channels (id, uuid, channel_type, created_on, modified_on) VALUES (1, 'c', 'EX', 0, 0)");
  PgQuery(conn(), "INSERT INTO msgs (uuid, channel_id, contact_id, direction, status, urn, created_on, modified_on) "
                  "VALUES ('m', 1, 999, 'I', 'P', 'tel:+1', 0, 0)");
  EXPECT_EQ(courier::testing::DanglingReferences(uri()).value(), "msgs.contact_id -> contacts.id: 1 rows\n");
}

}  // namespace
