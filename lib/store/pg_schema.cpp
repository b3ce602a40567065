// The PostgreSQL store's schema (pg_schema.h): the transaction that creates
// or migrates it.
//
// Events and their order (PgEngine::NextEventSeq and SqlStore's
// FlushEvents do it).
//   Consumers (courier-hook, `courier-ctl events --follow`, the API's long
//   poll) read `seq > cursor` and move the cursor to the highest seq read.
//   On SQLite that is safe because one writer commits at a time. On
//   PostgreSQL, seq comes from a sequence when the row is inserted, but the
//   row becomes visible when its transaction commits: writer A takes seq
//   10, writer B takes 11 and commits first, a consumer reads 11 and moves
//   its cursor past 10, which A then commits: event 10 is never delivered.
//   The plan: every transaction that inserts events takes
//   pg_advisory_xact_lock(<events key>) just before its first INSERT INTO
//   events and holds it to its commit (a transaction-level lock is released
//   only at commit or rollback, after the commit is visible to new
//   snapshots). Seqs are therefore taken and committed by one transaction
//   at a time: seq order is commit order, and a consumer that sees seq N
//   committed will never later see a smaller one appear. Rules that keep it
//   cheap and deadlock-free: events are the last rows a transaction writes
//   (SqlStore keeps them aside and inserts them just before COMMIT:
//   nothing but event inserts and COMMIT after the lock, so the lock is
//   held for the inserts and the commit's flush only, and a lock holder
//   never waits for a row lock another writer holds); the intake writer's
//   group commit takes it once for a whole batch. A rolled-back
//   transaction leaves a gap in seq (sequences are not transactional);
//   consumers already read `seq > cursor`, so a gap costs nothing.
//   The key is a fixed bigint distinct from kSchemaLockKey below. The test
//   the issue asks for: writers racing on several connections while a
//   reader follows, every seq read exactly once, in order.
//
// Value representations, so `courier-ctl store copy` is a row copy: the
// same as SQLite's, column for column (ids and the one-letter codes differ
// in declared type only: schema.cpp says why).
//   - times: BIGINT microseconds since the epoch, as on SQLite (not
//     timestamptz: the store's Clock, not the server's, sets them, and a
//     copy keeps them bit for bit).
//   - JSON (channels.config, msgs.attachments and quick_replies,
//     events.payload): TEXT, not jsonb. jsonb re-serialises (key order,
//     whitespace, duplicate keys), and these texts are handed on as they
//     were stored: event payloads are posted to applications and signed
//     (HMAC over the body), so a copy must keep them byte for byte. Nothing
//     queries inside them.
//   - booleans: BOOLEAN. SQLite stores 1/0, which PostgreSQL's boolean
//     input accepts as text; the store's SQL writes TRUE/FALSE literals,
//     which both accept.
//   - INTEGER where SQLite declares INTEGER (counts, limits, priorities):
//     32 bits on PostgreSQL; no stored value comes near it.
#include "store/pg_schema.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "store/schema.h"

namespace courier {
namespace pg_schema {

namespace {

// Serialises CreatePgSchema across hosts: "courier schema" in ASCII,
// truncated to a bigint. Only courier's own transactions take it.
constexpr long long kSchemaLockKey = 0x636f7572736368LL;

using PgResult = std::unique_ptr<PGresult, decltype(&::PQclear)>;

// Runs one statement without parameters; the server's message (trimmed of
// libpq's trailing newline) naming `what` when it fails.
Result<PgResult> Exec(PGconn* conn, const std::string& sql, const std::string& what) {
  PgResult res(pq::PQexec(conn, sql.c_str()), pq::Loaded().PQclear);
  const ExecStatusType status = pq::PQresultStatus(res.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result<PgResult>(std::move(res));
  std::string error = pq::PQerrorMessage(conn);
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  return Status::Unavailable(what + ": " + error);
}

Status ExecStatus(PGconn* conn, const std::string& sql, const std::string& what) {
  return Exec(conn, sql, what).status();
}

// Records one applied version; applied_on from the server's clock in the
// store's unit (microseconds since the epoch).
Status RecordVersion(PGconn* conn, int version, const std::string& description) {
  const std::string v = std::to_string(version);
  const char* params[] = {v.c_str(), description.c_str()};
  PgResult res(pq::PQexecParams(conn,
                              "INSERT INTO schema_version (version, description, applied_on) "
                              "VALUES ($1::int, $2, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
                              2, nullptr, params, nullptr, nullptr, 0),
               pq::Loaded().PQclear);
  if (pq::PQresultStatus(res.get()) == PGRES_COMMAND_OK) return Status::OK();
  return Status::Unavailable("record schema version " + v + ": " + pq::PQerrorMessage(conn));
}

// Everything CreatePgSchema does inside its transaction.
Status CreateOrMigrate(PGconn* conn) {
  Status st = ExecStatus(conn, "SELECT pg_advisory_xact_lock(" + std::to_string(kSchemaLockKey) + ")",
                         "lock the schema");
  if (!st.ok()) return st;
  // IF NOT EXISTS notices ("already exists, skipping") would reach the
  // client's stderr on every init of a made store; this transaction only.
  st = ExecStatus(conn, "SET LOCAL client_min_messages = warning", "quiet the schema transaction");
  if (!st.ok()) return st;
  // PostgreSQL and SQLite both accept the version table's DDL as written.
  st = ExecStatus(conn, schema::VersionTableDDL(), "create schema_version");
  if (!st.ok()) return st;
  Result<int> recorded = ReadVersion(conn);
  if (!recorded.ok()) return recorded.status();
  int version = *recorded;
  if (version > schema::CurrentVersion()) return schema::VersionStatus(version);

  for (const schema::Migration& m : schema::Migrations(schema::Dialect::kPostgreSQL)) {
    if (m.version <= version) continue;
    for (const std::string& ddl : m.statements) {
      st = ExecStatus(conn, ddl, "migrate to version " + std::to_string(m.version));
      if (!st.ok()) return st;
    }
    st = RecordVersion(conn, m.version, m.description);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace

Result<int> ReadVersion(PGconn* conn) {
  // Two statements: a relation named in a statement must exist when the
  // statement is parsed, even in a CASE branch never taken. to_regclass
  // is NULL for a missing table, without an error that would abort the
  // caller's transaction.
  auto exists = Exec(conn, "SELECT to_regclass('schema_version') IS NOT NULL",
                     "look for the schema_version table");
  if (!exists.ok()) return exists.status();
  if (std::string(pq::PQgetvalue(exists->get(), 0, 0)) != "t") return 0;
  auto res = Exec(conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                  "read the schema version");
  if (!res.ok()) return res.status();
  return static_cast<int>(std::strtol(pq::PQgetvalue(res->get(), 0, 0), nullptr, 10));
}

Status CreatePgSchema(PGconn* conn) {
  if (pq::PQtransactionStatus(conn) != PQTRANS_IDLE) {
    return Status::Internal("CreatePgSchema needs an idle connection (no transaction open)");
  }
  Status st = ExecStatus(conn, "BEGIN", "begin the schema transaction");
  if (!st.ok()) return st;
  st = CreateOrMigrate(conn);
  if (!st.ok()) {
    // The DDL is transactional: the rollback undoes every table made.
    pq::PQclear(pq::PQexec(conn, "ROLLBACK"));
    return st;
  }
  return ExecStatus(conn, "COMMIT", "commit the schema");
}

Status CheckPgSchema(PGconn* conn) {
  Result<int> version = ReadVersion(conn);
  if (!version.ok()) return version.status();
  return schema::VersionStatus(*version);
}

}  // namespace pg_schema
}  // namespace courier
