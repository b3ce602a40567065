#pragma once
// SqliteStatements: prepared statements kept for the life of a connection,
// for the store's hot paths (intake writes, claims, status writes).
//
// Why not POCO Data here: every `session << sql, now` parses and plans the
// SQL again and allocates binding objects; on the intake path that was
// most of the writer thread's time (perf: sqlite3Parser, malloc, free).
// A statement prepared once and reset after each use costs a bind and a
// step. The same sqlite3 connection is shared with the POCO session, so
// both take part in the same transactions.
//
// Errors: a failing sqlite3 call throws the POCO SQLite exception for its
// result code (Poco::Data::SQLite::Utility::throwException), so callers
// map errors to Status in one place whichever API raised them.
//
// Thread-safety: none; belongs to its connection's one thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace courier {

// One use of a cached statement: bind parameters in order, step, read
// columns. Resets the statement (and clears its bindings) when it goes out
// of scope, so a statement is never left mid-step holding a read snapshot.
class SqliteQuery {
 public:
  SqliteQuery(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteQuery(SqliteQuery&& other) noexcept;
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;
  ~SqliteQuery();

  SqliteQuery& Bind(int64_t value);
  SqliteQuery& Bind(int value) { return Bind(static_cast<int64_t>(value)); }
  SqliteQuery& Bind(bool value) { return Bind(static_cast<int64_t>(value ? 1 : 0)); }
  // The text is copied only if SQLite needs it beyond the step
  // (SQLITE_TRANSIENT); callers may pass temporaries.
  SqliteQuery& Bind(const std::string& value);
  SqliteQuery& Bind(const char* value) { return Bind(std::string(value)); }
  SqliteQuery& BindNull();
  SqliteQuery& Bind(const std::optional<int64_t>& value);
  // NULL when empty (columns such as external_id are NULL, never '').
  SqliteQuery& BindTextOrNull(const std::string& value);

  // Advances to the next row: true when there is one, false when done.
  bool Step();
  // Steps to the end (statements that return nothing, or whose rows are
  // not wanted).
  void Run();
  // Runs an INSERT and returns the new row's rowid. Cheaper than INSERT ...
  // RETURNING id, which SQLite serves through a temporary table.
  int64_t Insert();
  // Steps once and returns column 0 as an integer, if a row came back.
  std::optional<int64_t> OneInt();

  int64_t Int(int column) const;
  std::string Text(int column) const;  // NULL reads as ""
  bool IsNull(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int Changes() const;

 private:
  void Check(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int next_param_ = 1;
};

class SqliteStatements {
 public:
  explicit SqliteStatements(sqlite3* db) : db_(db) {}
  ~SqliteStatements();  // finalizes every statement
  SqliteStatements(const SqliteStatements&) = delete;
  SqliteStatements& operator=(const SqliteStatements&) = delete;

  // The statement for `sql`, prepared on first use. Only one SqliteQuery of
  // a given SQL text may be alive at a time (they share the statement).
  SqliteQuery operator()(const std::string& sql);

  // Runs SQL that has no parameters and returns no rows (BEGIN, COMMIT,
  // SAVEPOINT ...) through the cache too.
  void Exec(const std::string& sql) { (*this)(sql).Run(); }

  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace courier
