#pragma once
// SqliteStatements: the SQLite engine of sql_statement.h, on raw sqlite3.
// Each statement is prepared once (SQLITE_PREPARE_PERSISTENT) on first use
// and kept for the life of the connection; a use costs a bind and a step.
//
// Why not POCO Data (the suite's named data library): every `session <<
// sql, use(..), into(..), now` parses and plans the SQL again and
// allocates binding objects; on the intake path that was most of the
// writer thread's time (perf: sqlite3Parser, malloc, free). Measured by
// bench/sqlite_statement_bench (CPU us per call, median of 7 runs of
// 20,000 calls, 10,000-msg store, SQLite 3.40.1, a shared 2-core VM;
// bench/results/sqlite_statement.txt):
//
//   statement                               POCO session   cached prepared
//   read: SELECT 4 columns of a msg by id       12.0            5.0
//   write: UPDATE a msg by id (3 values)         7.8            3.1
//
// POCO costs 2.4 to 2.5 times as much per statement, whichever statement:
// the store runs several per webhook and per claimed msg, so it uses POCO
// Data nowhere (only tests look at a store's file through a session).
//
// Errors: a failing sqlite3 call throws SqlError with the Status its
// result code means:
//   BUSY, LOCKED, PROTOCOL                            -> Busy
//   READONLY, IOERR, CANTOPEN, FULL, PERM, AUTH,
//   NOMEM, INTERRUPT                                  -> Unavailable
//   CONSTRAINT_UNIQUE, CONSTRAINT_PRIMARYKEY          -> Conflict
//   other CONSTRAINTs (NOT NULL, CHECK, FOREIGN KEY)  -> InvalidArgument
//   CORRUPT, NOTADB, FORMAT                           -> Corruption
//   anything else                                     -> Internal
// The message is SQLite's own text (sqlite3_errmsg), and for a statement
// that does not prepare, the SQL after it.
//
// Thread-safety: none; belongs to its connection's one thread.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "store/sql_statement.h"

struct sqlite3;
struct sqlite3_stmt;

namespace courier {

// The Status a sqlite3 result code means (the table above), with
// `message`.
Status SqliteStatus(sqlite3* db, int rc, const std::string& message);
// Throws SqlError for a result code other than SQLITE_OK, with
// sqlite3_errmsg's text (then ": " and `context` when given).
void ThrowSqliteError(sqlite3* db, int rc, const std::string& context = std::string());

// One prepared statement on a connection. The text of a BindText is
// copied by SQLite (SQLITE_TRANSIENT), so callers may pass temporaries.
class SqliteStatement : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStatement() override;  // finalizes
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindInt(int64_t value) override;
  void BindText(const std::string& value) override;
  void BindNull() override;
  bool Step() override;
  // sqlite3_last_insert_rowid: cheaper than INSERT ... RETURNING id,
  // which SQLite serves through a temporary table.
  int64_t Insert() override;
  int64_t Int(int column) const override;
  std::string Text(int column) const override;
  bool IsNull(int column) const override;
  int Changes() const override;
  void Reset() override;

 private:
  void Check(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_param_ = 1;
};

class SqliteStatements : public SqlStatements {
 public:
  // Does not own `db`; the statements are finalized before it closes.
  explicit SqliteStatements(sqlite3* db) : db_(db) {}
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  sqlite3* db() const { return db_; }

 protected:
  SqlStatement& Prepared(const std::string& sql) override;

 private:
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

}  // namespace courier
