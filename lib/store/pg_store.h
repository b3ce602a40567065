#pragma once
// PgStore: the Store on a PostgreSQL server (SqlStore's logic on a
// PgEngine), for courier on several hosts sharing one database.
//
// Owns one libpq connection (pg_connection.h: connect_timeout and
// keepalives so a vanished server is noticed, libpq's URI, environment and
// ~/.pgpass). Commits are durable when the server's are: run it with
// fsync and synchronous_commit on (the defaults), or a 2xx may be lost
// with the server.
//
// What differs from SqliteStore, and why:
// - Concurrency: writers on every host run at once, each in READ
//   COMMITTED transactions; claims and event seqs are serialised by
//   advisory locks (pg_engine.h), so the claim's fairness, max_workers
//   and tps hold across all senders and seq order is commit order.
// - Errors: a server that cannot be reached, or a session lost mid-call,
//   is Unavailable (callers spool; the next call reconnects); serialisation
//   failures, deadlocks, lock and statement timeouts are Busy.
// - Space() is the database's size (pg_database_size) with no free-page
//   figure (PostgreSQL reuses dead rows itself, after autovacuum);
//   ReclaimSpace runs VACUUM (full: VACUUM FULL, which locks each table
//   while it rewrites it). HousekeepInBackground is a no-op (autovacuum is
//   the server's). LeaveSyncToCaller turns synchronous_commit off for the
//   connection; its CommitSync waits for the server's WAL flush.
// - Read-only (StoreAccess::kReadOnly): every transaction is BEGIN READ
//   ONLY, so a writing method fails Unavailable (SQLSTATE 25006).
//
// Thread-safety: none inside; one object per thread (Store's contract).
#include <string>

#include "store/sql_store.h"

namespace courier {

class PgEngine;

class PgStore : public SqlStore {
 public:
  // Does no I/O; the first call connects to `uri` (a libpq URI), naming
  // the program `application_name` in the server's pg_stat_activity.
  // busy_timeout_ms bounds how long a write waits for a lock another
  // connection holds (lock_timeout) before failing with Busy.
  PgStore(std::string uri, std::string application_name, Clock& clock, int busy_timeout_ms = 5000,
          StoreAccess access = StoreAccess::kReadWrite);

  // Connects now: Unavailable with libpq's reason (never the password).
  Status Open();

  Result<StoreSpace> Space() override;
  Result<StoreSpace> ReclaimSpace(bool full) override;
  // synchronous_commit off on this connection; the CommitSync commits a
  // transaction of its own with it on (commit_sync.h).
  Result<std::shared_ptr<CommitSync>> LeaveSyncToCaller(Env& env) override;

 private:
  PgEngine& pg();
};

}  // namespace courier
