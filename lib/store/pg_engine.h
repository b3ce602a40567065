#pragma once
// PgEngine: the store's StoreEngine (store_engine.h) on a PostgreSQL
// server, through libpq (pg_connection.h, pg_statement.h).
//
// Its StoreEngine calls:
// - Connect connects once, and again when the last call found the
//   session lost or unusable (the server restarted, a failover left it on
//   a standby): the call after a lost connection reconnects, and fails
//   Unavailable while the server cannot be reached.
// - BeginSql: BEGIN (READ COMMITTED, PostgreSQL's default), BEGIN READ
//   ONLY for a read-only store. What SQLite gets from its one write lock,
//   PostgreSQL gets from two transaction advisory locks, each held to the
//   commit and taken in this order only (so they cannot deadlock with each
//   other):
//     the claim lock (BeforeClaim): claimers take msgs one transaction at
//     a time, so max_workers, tps and the round-robin hold across every
//     sender on every host, and no msg is claimed twice;
//     the events lock (NextEventSeq): event seqs are handed out and
//     committed by one transaction at a time, so seq order is commit
//     order and a consumer reading `seq > cursor` never skips an event
//     committed late (pg_schema.cpp has the whole argument).
// - NotifyAtCommit: pg_notify, heard by PgListener (pg_listener.h) on
//   every host.
// - Migrate: pg_schema's CreatePgSchema (an advisory lock of its own
//   serialises hosts running `courier-ctl init` at once).
//
// Thread-safety: none; one engine per store, used by one thread.
#include <memory>
#include <string>

#include "store/pg_connection.h"
#include "store/store.h"
#include "store/store_engine.h"

namespace courier {

class PgEngine : public StoreEngine {
 public:
  // Does no I/O; Connect() connects to `uri` as `application_name`, and
  // sets the session's lock_timeout to `busy_timeout_ms`.
  PgEngine(std::string uri, std::string application_name, int busy_timeout_ms, StoreAccess access);
  ~PgEngine() override;

  Status Connect() override;
  SqlStatements& Statements() override { return connection_->statements(); }
  int64_t SchemaVersion() override;
  Status Migrate(Micros now) override;
  const char* BeginSql(bool write) const override;
  int64_t NextEventSeq() override;
  std::vector<int64_t> NextEventSeqs(int count) override;
  void EventSeqsForgotten() override { events_locked_ = false; }
  int64_t LastEventSeq() override;
  void BeforeClaim() override;
  const char* LockMsgsRead() const override { return " FOR UPDATE OF m"; }
  bool WritesRowsAsArrays() const override { return true; }
  void PlanByKeys(bool on) override;
  // pg_notify on kQueuedChannel and kEventsChannel (store_notices.h), each
  // at most once per transaction, payload '': PostgreSQL delivers them at
  // COMMIT, never for a rollback.
  void NotifyAtCommit(const CommitNotices& notices) override;

  // PgStore's: this connection's commits stop waiting for the server's
  // WAL flush (synchronous_commit off, set again on every reconnect); the
  // CommitSync waits for it on a connection of its own (commit_sync.h).
  Result<std::shared_ptr<CommitSync>> LeaveSyncToCaller();

  // The connection, for PgStore's own methods (Space, ReclaimSpace).
  PgConnection& connection() { return *connection_; }

 private:
  // LastEventSeq's read, inside a transaction.
  int64_t ReadLastEventSeq();

  std::string uri_;
  std::string application_name_;
  int busy_timeout_ms_;
  StoreAccess access_;
  std::unique_ptr<PgConnection> connection_;
  // LeaveSyncToCaller was called.
  bool commits_without_flush_ = false;
  // The events lock is held by the current transaction.
  bool events_locked_ = false;
  // The events table's sequence, as the server names it (quoted by it);
  // looked up once per connection.
  std::string event_sequence_;
  // `count` values of `sequence`, ascending.
  std::vector<int64_t> NextValues(const std::string& sequence, int count);
};

}  // namespace courier
