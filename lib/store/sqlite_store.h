#pragma once
// SqliteStore: the Store on one SQLite file: SqlStore's logic on a
// SqliteEngine (sqlite_engine.h), plus what only SQLite has (Space,
// ReclaimSpace, the WAL checkpointer, the caller-synced WAL).
//
// Owns: one SQLite connection on the database file, through raw sqlite3.
// The file runs in WAL mode with synchronous=FULL, so a method that
// returned OK has its transaction on disk (invariant 1: a 2xx is durable).
// Several processes may open the same file; every writing method runs in
// one `BEGIN IMMEDIATE` transaction, so writers serialise on the
// database's write lock and wait up to the busy timeout for it, then fail
// with Busy.
//
// Read-only (StoreAccess::kReadOnly): the file is opened with SQLite's
// mode=ro and never written. When the WAL exists (the store is open
// elsewhere, or a crash left it), reads go through it and its
// shared-memory index with shared locks as usual, read-only when those
// files are not writable. Without a WAL, a reading connection would have to
// create the -wal and -shm and could not remove them; it does so only when
// they come out as a writer's would (the file's owner's, writable by the
// owner: run as the owner or root, on a file the owner may write, in a
// directory this process may write). Otherwise each call reads the main file
// afresh as an immutable snapshot: all that was committed when the last
// connection closed. The trade-off: a snapshot takes no locks, so a writer
// that opens, commits and closes (checkpointing into the file) while a call
// reads may make that call fail with Corruption or see a mix of before and
// after; the next call reads again.
//
// Errors (SqlStore's): SQLite's busy/locked become Busy; read-only, I/O,
// cannot-open and disk-full become Unavailable with SQLite's text;
// constraint violations become Conflict (unique) or InvalidArgument
// (others); anything unexpected is Internal (sqlite_statement.h maps them).
//
// Thread-safety: none inside. One object per thread (Store's contract).
#include <string>

#include "store/sql_store.h"

namespace courier {

class SqliteEngine;

// The page cache each SQLite connection opened from now on may keep, for
// the whole process (the option sqlite_cache_mb); 32 MiB unless set. A
// daemon opens a few connections (courier-recv: the intake writer's, the
// channel cache's), and each grows only as pages are used. Thread-safe.
void SetSqliteCacheMiB(int mib);
int SqliteCacheMiB();

class SqliteStore : public SqlStore {
 public:
  static constexpr int kDefaultBusyTimeoutMs = 5000;

  // Does no I/O; Open() (or the first call of any method) connects.
  SqliteStore(std::string path, Clock& clock, int busy_timeout_ms = kDefaultBusyTimeoutMs,
              StoreAccess access = StoreAccess::kReadWrite);

  // Connects and sets the connection's pragmas. Unavailable when the
  // file's directory does not exist or the file cannot be opened for
  // writing in WAL mode (read-only: cannot be opened for reading). Calling
  // it again after success does nothing.
  Status Open();

  const std::string& path() const { return path_; }

  // WAL checkpoints on a WalCheckpointer thread with its own connection,
  // triggered (wal hook) when this connection's commits take the WAL past
  // 1000 pages; this connection no longer checkpoints. If the checkpoint
  // connection cannot be opened, checkpoints stay where they were.
  void HousekeepInBackground() override;
  Result<std::shared_ptr<CommitSync>> LeaveSyncToCaller(Env& env) override;

  // Space reclaim: every store this version creates has auto_vacuum =
  // INCREMENTAL (set before the file's first page is written; older files
  // keep NONE until a full ReclaimSpace converts them), and
  // ReclaimSpace(false) frees 1000 pages per transaction; a PASSIVE
  // checkpoint afterwards lets the file itself shrink.
  Result<StoreSpace> Space() override;
  Result<StoreSpace> ReclaimSpace(bool full) override;

 private:
  SqliteEngine& sqlite();

  std::string path_;
};

}  // namespace courier
