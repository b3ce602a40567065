#pragma once
// SqlQuery and SqlStatements: the one statement API the store's logic is
// written against, whichever engine holds the data. Each engine provides a
// SqlStatement (one prepared statement) and a SqlStatements (the
// connection's statement cache): SQLite on raw sqlite3
// (sqlite_statement.h), PostgreSQL on libpq (pg_statement.h).
//
// SQL given to Query() is written once for both engines:
// - parameters are `?`, bound in order (the PostgreSQL engine numbers
//   them $1, $2 ... when it prepares the statement; a `?` inside a quoted
//   literal is left alone);
// - booleans are bound and read as integers 1/0 (both engines accept
//   '1'/'0' for a BOOLEAN parameter; a BOOLEAN column reads as 1/0);
// - a parameter whose type the statement does not fix (`? IS NULL`,
//   `SELECT ?`) is written CAST(? AS BIGINT) or CAST(? AS TEXT): PostgreSQL
//   must know every parameter's type when it prepares;
// - Insert() is only for an INSERT into a table with an `id` column.
//
// Deferred statements: RunLater() runs a statement whose result nobody
// reads (an INSERT of a log, an UPDATE whose count is not wanted). While
// the cache allows it (SqlStatements::AllowDeferred), an engine that talks
// to a server may send it without waiting for the answer (PostgreSQL's
// pipeline mode): its answer, and so its error, is read with the next
// statement that returns something, which then throws that error instead
// of running. A transaction that defers must therefore not go on after
// catching an error it means to survive (a savepoint's work): the store
// defers only where any error sinks the whole transaction. Where deferring
// is not allowed, or the engine runs in process (SQLite), RunLater() is
// Run().
//
// Errors: a failing call throws SqlError carrying the Status it means
// (Busy, Unavailable, Conflict, InvalidArgument, Corruption or Internal, as
// each engine's mapping says), so the store's transaction runner rolls
// back and returns it, whichever engine raised it.
//
// Thread-safety: none; a statement cache belongs to its connection's one
// thread, and only one SqlQuery of a given SQL text may be alive at a time
// (they share the prepared statement).
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/status.h"

namespace courier {

// What an engine's statement call throws: the failure as a Status.
class SqlError : public std::runtime_error {
 public:
  explicit SqlError(Status status) : std::runtime_error(status.ToString()), status_(std::move(status)) {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

// One prepared statement of an engine. Parameters are bound in order
// from the first; Reset() makes it ready for the next use.
class SqlStatement {
 public:
  virtual ~SqlStatement() = default;

  virtual void BindInt(int64_t value) = 0;
  virtual void BindText(const std::string& value) = 0;
  virtual void BindNull() = 0;

  // Executes on the first call; then true while there is a row to read.
  virtual bool Step() = 0;
  // Executes an INSERT and returns the new row's id.
  virtual int64_t Insert() = 0;

  virtual int64_t Int(int column) const = 0;
  virtual std::string Text(int column) const = 0;  // NULL reads as ""
  virtual bool IsNull(int column) const = 0;

  // Rows changed by the last INSERT/UPDATE/DELETE this statement ran.
  virtual int Changes() const = 0;

  // Drops the bindings and the result: ready for the next use.
  virtual void Reset() = 0;

  // Executes a statement whose rows are not wanted, perhaps without
  // waiting for its answer (see Deferred statements above).
  virtual void RunLater() {
    while (Step()) {
    }
  }
};

// One use of a cached statement: bind parameters in order, step, read
// columns. Resets the statement when it goes out of scope, so a statement
// is never left mid-step holding a read snapshot or a result.
class SqlQuery {
 public:
  explicit SqlQuery(SqlStatement* statement) : statement_(statement) {}
  SqlQuery(SqlQuery&& other) noexcept : statement_(other.statement_) { other.statement_ = nullptr; }
  SqlQuery(const SqlQuery&) = delete;
  SqlQuery& operator=(const SqlQuery&) = delete;
  ~SqlQuery() {
    if (statement_ != nullptr) statement_->Reset();
  }

  SqlQuery& Bind(int64_t value) {
    statement_->BindInt(value);
    return *this;
  }
  SqlQuery& Bind(int value) { return Bind(static_cast<int64_t>(value)); }
  SqlQuery& Bind(bool value) { return Bind(static_cast<int64_t>(value ? 1 : 0)); }
  SqlQuery& Bind(const std::string& value) {
    statement_->BindText(value);
    return *this;
  }
  SqlQuery& Bind(const char* value) { return Bind(std::string(value)); }
  SqlQuery& BindNull() {
    statement_->BindNull();
    return *this;
  }
  SqlQuery& Bind(const std::optional<int64_t>& value) { return value ? Bind(*value) : BindNull(); }
  // NULL when empty (columns such as external_id are NULL, never '').
  SqlQuery& BindTextOrNull(const std::string& value) { return value.empty() ? BindNull() : Bind(value); }

  bool Step() { return statement_->Step(); }
  // Executes to the end (statements that return nothing, or whose rows are
  // not wanted).
  void Run() {
    while (Step()) {
    }
  }
  // Run(), or sent without waiting for its answer where the engine and the
  // cache allow it (see Deferred statements above).
  void RunLater() { statement_->RunLater(); }
  int64_t Insert() { return statement_->Insert(); }
  // Steps once and returns column 0 as an integer, if a row came back.
  std::optional<int64_t> OneInt() {
    if (!Step()) return std::nullopt;
    return Int(0);
  }

  int64_t Int(int column) const { return statement_->Int(column); }
  std::string Text(int column) const { return statement_->Text(column); }
  bool IsNull(int column) const { return statement_->IsNull(column); }
  std::optional<int64_t> OptionalInt(int column) const {
    if (IsNull(column)) return std::nullopt;
    return Int(column);
  }
  int Changes() const { return statement_->Changes(); }

 private:
  SqlStatement* statement_;
};

// A connection's prepared statements, each prepared on first use and kept
// for the life of the connection.
class SqlStatements {
 public:
  virtual ~SqlStatements() = default;

  SqlQuery operator()(const std::string& sql) { return SqlQuery(&Prepared(sql)); }

  // Runs SQL that has no parameters and returns no rows (BEGIN, COMMIT,
  // SAVEPOINT ...).
  void Exec(const std::string& sql) { (*this)(sql).Run(); }

  // Whether RunLater() may defer (false until allowed). The store allows
  // it only in transactions that any error rolls back whole.
  virtual void AllowDeferred(bool allowed) { (void)allowed; }
  // Reads and drops the answers of deferred statements, errors included:
  // before a ROLLBACK, which must run whatever they said. Never throws.
  virtual void DiscardDeferred() noexcept {}

 protected:
  // The statement for `sql`, prepared on first use; throws SqlError.
  virtual SqlStatement& Prepared(const std::string& sql) = 0;
};

}  // namespace courier
