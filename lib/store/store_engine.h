#pragma once
// StoreEngine: what the store's logic (SqlStore, sql_store.h) needs from
// the database engine beyond running SQL, so that the logic is written
// once and every engine runs the same code path. An engine is one
// connection to one database: SQLite (sqlite_engine.h) or PostgreSQL.
//
// Each call exists because the engines do that thing differently:
// - Connect: SQLite opens a file with pragmas (or reconnects per call as
//   a read-only snapshot); PostgreSQL connects to a server.
// - BeginSql: SQLite takes the write lock at BEGIN (BEGIN IMMEDIATE) so
//   writers queue instead of failing on the upgrade; PostgreSQL begins
//   as usual and locks what it must (NextEventSeq, BeforeClaim).
// - NextEventSeq / EventSeqsForgotten / LastEventSeq: seq order must be
//   commit order. SQLite holds the write lock from BEGIN, so the seq is
//   read once per transaction from AUTOINCREMENT's high-water mark and
//   counted up; PostgreSQL takes a transaction advisory lock and calls
//   nextval. The store inserts a transaction's events last, just before
//   its COMMIT, so that lock is held for the event inserts and the
//   commit only.
// - BeforeClaim: SQLite's claim is serialised by the write lock already;
//   PostgreSQL serialises claimers (advisory lock, or FOR UPDATE SKIP
//   LOCKED).
// - LockMsgsRead: reading a msg to update it; SQLite's writers are
//   serialised already, PostgreSQL's lock the row.
// - NotifyAtCommit: telling processes on other hosts that the commit
//   queued msgs or wrote events (store_notices.h); PostgreSQL NOTIFYs,
//   SQLite does nothing (its processes wake each other over ZeroMQ).
// - SchemaVersion / Migrate: reading the version table when it may be
//   absent, and creating or upgrading the schema, are engine DDL.
//
// The Store methods that have no logic to share (Space, ReclaimSpace,
// HousekeepInBackground, LeaveSyncToCaller) are the engine's Store
// subclass's (SqliteStore), not calls here.
//
// Errors: calls that run SQL throw SqlError (sql_statement.h), as
// statements do, so the transaction runner maps them in one place;
// Connect returns its Status.
//
// Thread-safety: none; an engine belongs to its store's one thread.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/sql_statement.h"
#include "store/store_notices.h"

namespace courier {

// `status` with `prefix` before its message, its code kept: how the
// transaction runner and the engines name a SqlError by its operation.
Status PrefixedStatus(const Status& status, const std::string& prefix);

class StoreEngine {
 public:
  virtual ~StoreEngine() = default;

  // Called at the start of every store call: connects when not connected
  // (OK at once when connected). Unavailable when the database cannot be
  // reached.
  virtual Status Connect() = 0;
  // The connection's statement cache; valid after Connect() returned OK,
  // until the next Connect().
  virtual SqlStatements& Statements() = 0;

  // The store's recorded schema version; 0 when it has none (no version
  // table). Outside any transaction.
  virtual int64_t SchemaVersion() = 0;
  // Creates the schema or upgrades it to schema::CurrentVersion(), in a
  // transaction of its own (outside the runner's); `now` stamps the
  // versions applied. A newer schema is refused (schema::VersionStatus).
  virtual Status Migrate(Micros now) = 0;

  // The statement that begins a transaction that will write (`write`) or
  // only read.
  virtual const char* BeginSql(bool write) const = 0;

  // The seq of the next event, inside a write transaction, just before
  // the event's insert; each call returns a new seq, greater than every
  // seq committed before this transaction. The store calls it only for
  // the transaction's events, after everything else the transaction
  // writes and right before its COMMIT (SqlStore::Impl::FlushEvents), so
  // an engine may take a lock here that it holds to the commit without
  // ever waiting for another writer while holding it.
  virtual int64_t NextEventSeq() = 0;
  // `count` seqs at once, ascending: NextEventSeq `count` times, in one
  // round trip where the engine talks to a server.
  virtual std::vector<int64_t> NextEventSeqs(int count) {
    std::vector<int64_t> seqs;
    for (int i = 0; i < count; ++i) seqs.push_back(NextEventSeq());
    return seqs;
  }
  // The seqs handed out since the last call may not have been used: the
  // transaction (or a savepoint) rolled back, or a new one begins.
  virtual void EventSeqsForgotten() = 0;
  // The highest seq ever handed out and committed, even after retention
  // pruned that event; 0 when none.
  virtual int64_t LastEventSeq() = 0;

  // Inside the claiming write transaction, before the claim reads the
  // queue: whatever makes concurrent claims take each msg once.
  virtual void BeforeClaim() = 0;

  // Whether a batch of rows is written as one statement binding a column
  // as one array (SqlRowBatch): where each statement is a server's work
  // and a share of the writer's serial time (PostgreSQL), not where it is
  // a library call (SQLite: one statement a row, as before).
  virtual bool WritesRowsAsArrays() const { return false; }
  // Around a statement over arrays whose rows it finds by key (`on`
  // before, `!on` after, in the same transaction): the planner must probe
  // the key for each row, not trade the probes for a scan of a table it
  // guesses small (PostgreSQL on a new store, before its first ANALYZE:
  // enable_seqscan off for that statement). Nothing where statements are
  // not planned against statistics that way.
  virtual void PlanByKeys(bool on) { (void)on; }

  // Appended to a SELECT of msgs (aliased `m`) whose rows the transaction
  // then updates from what it read (a status write deciding a
  // transition): on PostgreSQL " FOR UPDATE OF m", so two hosts writing a
  // status of one msg apply one after the other instead of the later
  // commit undoing the earlier (a W landing after the D it preceded);
  // SQLite's write lock already orders them ("").
  virtual const char* LockMsgsRead() const = 0;

  // Inside a transaction, right before its COMMIT (called for every
  // transaction, read-only ones with nothing set): delivers `notices` to
  // the store's listeners when, and only if, the commit succeeds.
  virtual void NotifyAtCommit(const CommitNotices& notices) = 0;
};

}  // namespace courier
