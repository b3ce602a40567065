#pragma once
// SqlRowBatch: rows for one statement shape (an INSERT of channel logs, of
// attempts, of events; the close of attempts), gathered inside a write
// transaction and written together.
//
// Why: on a server every statement costs more than the rows it writes: its
// own protocol messages, executor start and end, and on the writer's one
// connection its share of the serial time every batch waits for. A send
// wrote four such rows a msg, each its own statement (PostgreSQL send,
// pg_stat_statements, 2026-12-06: channel log 51.5 us, attempt close 22.1,
// attempt insert 19.7, event 7.7 of execution alone). Written as arrays,
// a batch of them is one statement whatever its size.
//
// How each engine writes them (Write()):
// - as arrays (PostgreSQL): `set_sql` with `{ROWS}` replaced by
//   `unnest(CAST(? AS T1[]), CAST(? AS T2[]), ...)`, one array literal
//   bound a column, run once (deferred where the statement cache allows
//   it, sql_statement.h);
// - a row at a time (SQLite, in process, where a statement is a library
//   call of about a microsecond): `row_sql` once a row, in the order the
//   rows were added, which is the order the statements ran before.
// Both must mean the same: `row_sql` has a `?` a column in column order,
// `set_sql` names the rows as `{ROWS} AS r (names...)` or inserts
// `SELECT * FROM {ROWS}`, and has no `?` of its own; `{ARRAY k}` in it is
// column k's array again (from 1), for a condition the planner can take
// to an index whatever it guesses of the rows' count: `WHERE t.msg_id =
// r.msg_id AND t.msg_id = ANY({ARRAY 3})`. PostgreSQL plans a prepared
// statement once for all its uses, and an unnest's row count is a guess
// (a join of it could read a whole index of a table it guessed small).
//
// Booleans are bound as integers 1/0 (PostgreSQL's boolean input takes
// both), as everywhere in the store. Text is bound as given; a NUL in it
// is refused by the engine as it is for a single row.
//
// Thread-safety: none; one per transaction's owner.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sql_statement.h"

namespace courier {

class SqlRowBatch {
 public:
  enum class Type { kBigInt, kInteger, kText, kBoolean };

  SqlRowBatch(std::string row_sql, std::string set_sql, std::vector<Type> columns);

  // Cells of the current row, in column order; a row is complete when a
  // cell was added for each column.
  SqlRowBatch& Int(int64_t value);
  SqlRowBatch& Int(const std::optional<int64_t>& value) { return value ? Int(*value) : Null(); }
  SqlRowBatch& Bool(bool value) { return Int(value ? 1 : 0); }
  SqlRowBatch& Text(const std::string& value);
  SqlRowBatch& Null();

  size_t rows() const { return cells_.size() / columns_.size(); }
  bool empty() const { return cells_.empty(); }

  // Writes the complete rows (see above) and forgets them. Internal (before
  // anything is sent) when a row is incomplete; otherwise throws SqlError
  // as the statement does.
  void Write(SqlStatements& statements, bool as_arrays);
  void Clear() { cells_.clear(); }
  // The rows bound as arrays to `set_sql` (which returns rows: an UPDATE
  // ... RETURNING), for the caller to step; the batch is left empty. Only
  // where the engine WritesRowsAsArrays.
  SqlQuery ArrayQuery(SqlStatements& statements);
  // `set_sql` with {ROWS} and {ARRAY k} filled in, as ArrayQuery runs it
  // (for a test of its plan).
  std::string ArraySql() const;

 private:
  struct Cell {
    bool is_null = false;
    bool is_int = false;
    int64_t number = 0;
    std::string text;
  };

  SqlQuery ArrayQuery(SqlStatements& statements, const std::vector<Cell>& cells) const;

  std::string row_sql_;
  std::string set_sql_;
  std::vector<Type> columns_;
  std::vector<Cell> cells_;
};

}  // namespace courier
