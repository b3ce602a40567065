#pragma once
// PgStatement and PgStatements: the PostgreSQL engine of the statement API
// (sql_statement.h) on libpq, over one PGconn.
//
// Each SQL text is prepared once per connection (PQprepare, a generated
// name, on its first Step() or Insert()) after its `?` parameters are
// numbered $1..$n (TranslatePlaceholders below: a `?` inside a quoted
// literal, a quoted identifier, a dollar-quoted string or a comment is
// left alone). Parameters go as text with no type
// (paramTypes NULL): the server infers each one's type from where it
// stands, which is why the contract asks CAST(? AS ...) where nothing fixes
// it. Integers are sent as decimal text, booleans as '1'/'0' (PostgreSQL's
// boolean input accepts both); results come back as text and Int() parses
// them (a BOOLEAN column's 't'/'f' reads 1/0, Text() gives "1"/"0" too, so
// the store's logic sees what SQLite gives it).
//
// Step() runs the statement on its first call (PQexecPrepared: one round
// trip, the whole result is fetched) and then walks the rows. Insert() runs
// a variant prepared with "RETURNING id" appended, one round trip too, and
// returns the id (0 when the statement inserted nothing, e.g. ON CONFLICT DO
// NOTHING; Changes() is 0 then).
//
// Deferred statements (RunLater while PgStatements::AllowDeferred): the
// connection enters libpq's pipeline mode and the statement (and its
// PQsendPrepare on first use) is sent without reading the answer. The next
// Step() or Insert() of any statement on the connection is sent after
// them with a sync, and every answer is read in order: the first error
// among the deferred ones is what that call throws (the server skips
// everything after an error up to the sync, so the call itself did not
// run); with none, the call's own result is read as usual. The pipeline is
// then left. At most kMaxDeferred answers wait: the 257th deferral syncs
// first, so neither side's socket buffer fills with unread answers (which
// would block both in blocking mode). A statement whose prepare was sent in
// a pipeline that failed is prepared again, under a new name, on its next
// use (the server may or may not hold it).
//
// Errors: every failing call throws SqlError carrying the Status that
// StatusForSqlState() gives for the server's SQLSTATE (the table is in
// pg_statement.cpp and the tests); a connection found lost (no result, or
// PQstatus CONNECTION_BAD after the call) is Unavailable whatever the
// SQLSTATE. The message is the server's primary message and the SQLSTATE,
// never the DETAIL (it holds row values) nor the connection string.
// Binding a different number of parameters than the SQL has throws
// Internal before anything is sent; binding text with a NUL byte throws
// InvalidArgument (SQLite stores it, PostgreSQL's text cannot), as the
// server does for text that is not valid UTF-8 (22021).
//
// Schema changes: the server re-plans a prepared statement when a table
// it reads changes, but refuses to run one whose result columns would
// change (`SELECT *` after a column was added): that statement is prepared
// again on its next use and the failing call throws Busy, so the store's
// transaction runner retries it. The store's SQL names its columns, and
// never meets this; a migration run from one host while others run is
// why it is handled.
//
// Lost connections: prepared statements live in the server session, so a
// new session (PgConnection::Reconnect) needs them prepared again:
// Forget() drops the cache, and PgConnection calls it when it reconnects.
// Any Unavailable failure marks the session unusable (PgConnection::ok()
// turns false), so the store's runner replaces it before its next
// transaction even when the socket is still open.
//
// What SQL written for both engines must avoid here: a parameter whose
// type nothing fixes (`? IS NULL`: 42P18, Internal; write CAST); comparing a BOOLEAN column with an integer
// literal (`flag = 1` has no operator; TRUE/FALSE literals, or a bound
// 1/0, work); PostgreSQL's `?` operators of jsonb (they would be numbered
// as parameters; jsonb_exists() says the same); going on after a failed
// statement inside a transaction (PostgreSQL refuses everything but
// ROLLBACK until the transaction ends, where SQLite carries on: use ON
// CONFLICT, or a SAVEPOINT around a statement that may fail); relying on
// Insert()'s id when nothing was inserted (0 here, SQLite's previous
// rowid there: look at Changes()); Changes() after a SELECT (its row
// count here); text that is not UTF-8 or holds a NUL (InvalidArgument
// here, stored by SQLite).
//
// Owned: the statements own their bindings and PGresult; the PGconn is the
// caller's (PgConnection's) and must outlive them.
// Thread-safety: none; one thread per connection, as the contract says.
//
// Cost (bench/pg_driver_bench, cases "select by id" and "intake", driver
// "pgstmt" against bare libpq calls; PostgreSQL 15 on the same 2-vCPU VM
// over loopback TCP, fsync and synchronous_commit on; medians of 3 runs,
// three runs on 2026-12-05 with other builds holding the load average at
// 5 to 7, so compare within a run):
//   single-row SELECT by primary key, prepared, autocommit: one round
//     trip, 38 to 41 us (24,000 to 26,000/s) through PgStatements, 37 to
//     63 us bare (at load 7: 159 against 135 us); client CPU 13.5 to 14 us
//     against 13 to 18: the wrapper is lost in the round trip's noise;
//   single-row INSERT of 16 values inside a 64-row transaction: 162 to 182
//     us a row (5,500 to 6,200 rows/s) against 155 to 184 bare; client CPU
//     19 to 25 us a row against 17 to 20 (the bindings are copied as
//     strings); Insert()'s RETURNING id adds 0 to 6 us of client and 5 to
//     14 us of server CPU over a Run() of the same INSERT;
//   an autocommit INSERT: 4.2 to 4.5 ms, the commit's fdatasync, whatever
//     the driver. Pipelining (not in this API) sends a 64-row transaction
//     in one round trip: 95 us a row, 3 us of client CPU (bare libpq).
#include "store/libpq.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/sql_statement.h"

namespace courier {

// `sql` with each `?` outside literals, quoted identifiers, dollar quotes
// and comments replaced by $1, $2, ... in order; *count gets their number.
std::string TranslatePlaceholders(const std::string& sql, int* count);

// The Status a server error with this SQLSTATE means (the store's
// transaction runner retries Busy, reports Unavailable as "store not
// reachable, try later", and so on). `message` becomes the Status message.
Status StatusForSqlState(const std::string& sqlstate, const std::string& message);

// The Status of a failed libpq call on `conn`: `result` may be null (no
// result at all: out of memory, or the connection gone). Unavailable when
// the connection is bad, else StatusForSqlState of the result's SQLSTATE.
// `what` prefixes the message ("prepare", "execute" ...).
Status PgCallStatus(PGconn* conn, const PGresult* result, const std::string& what);

class PgStatement;

// The deferred statements of one connection, not yet answered.
class PgPipeline {
 public:
  static constexpr int kMaxDeferred = 256;

  explicit PgPipeline(PGconn* conn) : conn_(conn) {}
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  bool allowed() const { return allowed_; }
  void set_allowed(bool allowed) { allowed_ = allowed; }
  // Whether answers are waiting (the connection is in pipeline mode).
  bool waiting() const { return !sent_.empty(); }
  size_t waiting_count() const { return sent_.size(); }
  // Enters pipeline mode if needed; Unavailable if libpq refuses.
  Status Enter();
  // Records what was just sent: `statement`'s prepare or its execution.
  void Sent(PgStatement* statement, bool is_prepare) { sent_.push_back({statement, is_prepare}); }
  // Syncs and reads every answer, then leaves pipeline mode. The first
  // error is returned; with none, *last (when given) gets the answer to
  // the last thing sent (the caller's own statement), which the caller
  // then owns.
  Status Finish(PGresult** last);
  // Finish() with every answer dropped; for after a lost connection too.
  void Discard() noexcept;

 private:
  struct Entry {
    PgStatement* statement;
    bool is_prepare;
  };
  PGconn* conn_;
  bool allowed_ = false;
  std::vector<Entry> sent_;
};

class PgStatement final : public SqlStatement {
 public:
  // `name` is the server-side name it is prepared under; `param_count`
  // the number of $n in `sql` (already translated). `*session_unusable`
  // (its cache's flag) is set when a call fails Unavailable; `pipeline`
  // holds the connection's deferred statements.
  PgStatement(PGconn* conn, bool* session_unusable, PgPipeline* pipeline, std::string name, std::string sql,
              int param_count);
  ~PgStatement() override;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  void BindInt(int64_t value) override;
  void BindText(const std::string& value) override;
  void BindNull() override;

  bool Step() override;
  int64_t Insert() override;

  int64_t Int(int column) const override;
  std::string Text(int column) const override;
  bool IsNull(int column) const override;
  int Changes() const override;

  void Reset() noexcept override;

  // Sent without reading its answer while the pipeline is allowed.
  void RunLater() override;

  // The prepare sent in a failed pipeline may not exist on the server:
  // prepare afresh, under a new name, next time.
  void PrepareAgain();
  // An answer read by the pipeline for this statement failed: the Status
  // to report (Busy after a result type change, which prepares again).
  Status FailedInPipeline(PGresult* res);

 private:
  // Throws `status`, first flagging the session when it is Unavailable.
  [[noreturn]] void Fail(Status status);
  // Runs prepared statement `name` (whose SQL is `sql`; prepared first
  // when *prepared is false) with the bindings; the result is kept.
  void Execute(const std::string& name, const std::string& sql, bool* prepared);
  // The bindings as libpq takes them; throws Internal on a count mismatch.
  std::vector<const char*> Params() const;
  // Sends the prepare (when needed) and the execution into the pipeline.
  void SendToPipeline(const std::string& name, const std::string& sql, bool* prepared);
  // Keeps a successful result as this statement's; throws a failed one.
  void TakeResult(PGresult* res);
  // The value at (current row, column), checked.
  const char* Value(int column) const;
  bool IsBoolean(int column) const;

  PGconn* conn_;
  bool* session_unusable_;
  PgPipeline* pipeline_;
  std::string name_;
  std::string sql_;
  int param_count_;
  bool prepared_ = false;         // name_: sql_
  bool insert_prepared_ = false;  // name_ + "r": sql_ + "\nRETURNING id"

  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  PGresult* result_ = nullptr;
  bool executed_ = false;
  int row_ = -1;
  int changes_ = 0;
};

class PgStatements final : public SqlStatements {
 public:
  explicit PgStatements(PGconn* conn) : conn_(conn), pipeline_(conn) {}
  PgStatements(const PgStatements&) = delete;
  PgStatements& operator=(const PgStatements&) = delete;

  // Drops every cached statement, without telling the server: called when
  // the session they were prepared in is gone. No SqlQuery of this cache
  // may be alive.
  void Forget() {
    pipeline_.Discard();
    cache_.clear();
    session_unusable_ = false;
  }

  void AllowDeferred(bool allowed) override { pipeline_.set_allowed(allowed); }
  void DiscardDeferred() noexcept override { pipeline_.Discard(); }

  // Whether a statement failed Unavailable since the last Forget(): the
  // session should be replaced even if its socket is still open (a
  // read-only transaction error after a failover left this host connected
  // to a standby; an admin shutdown of the backend).
  bool session_unusable() const { return session_unusable_; }
  void MarkSessionUnusable() { session_unusable_ = true; }

  size_t size() const { return cache_.size(); }

 protected:
  SqlStatement& Prepared(const std::string& sql) override;

 private:
  PGconn* conn_;
  PgPipeline pipeline_;
  std::unordered_map<std::string, std::unique_ptr<PgStatement>> cache_;
  bool session_unusable_ = false;
  // Names are never reused within a session; a counter that keeps growing
  // across Forget() is simplest.
  uint64_t next_name_ = 1;
};

}  // namespace courier
