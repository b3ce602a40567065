#pragma once
// SqliteEngine: the store's StoreEngine (store_engine.h) on one SQLite
// file, through raw sqlite3 (sqlite_statement.h). What it owns and how
// it opens the file (WAL, synchronous=FULL, the busy handler, read-only
// and snapshot modes) is described for users in sqlite_store.h; the
// choices and their measurements are in sqlite_engine.cpp.
//
// Its StoreEngine calls:
// - Connect opens the file with its pragmas, once; a read-only
//   connection that could not read through the WAL (a snapshot)
//   reconnects on every call, so each call reads what is committed now.
// - BeginSql: BEGIN IMMEDIATE for writes (the write lock at BEGIN), BEGIN
//   for reads.
// - NextEventSeq: the write lock is held from BEGIN IMMEDIATE, so the
//   transaction's first event reads the last seq handed out (AUTOINCREMENT
//   keeps it in sqlite_sequence, which moves with an explicit seq) and the
//   rest count up from it. One INSERT per event, no read-back.
// - BeforeClaim: nothing; BEGIN IMMEDIATE's write lock serialises claims.
// - Migrate: schema::Migrations(kSQLite) in one BEGIN IMMEDIATE
//   transaction, DDL through sqlite3_exec (not the statement cache).
//
// The rest serves SqliteStore's own methods: the WAL checkpointer
// (HousekeepInBackground) and LeaveSyncToCaller.
//
// Thread-safety: none; one engine per store, used by one thread.
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>

#include "store/sqlite_statement.h"
#include "store/store.h"
#include "store/store_engine.h"
#include "store/wal_checkpointer.h"

namespace courier {

class SqliteEngine : public StoreEngine {
 public:
  // Does no I/O; Connect() opens `path`.
  SqliteEngine(std::string path, int busy_timeout_ms, StoreAccess access);
  ~SqliteEngine() override;

  Status Connect() override;
  SqlStatements& Statements() override { return *statements_; }
  int64_t SchemaVersion() override;
  Status Migrate(Micros now) override;
  const char* BeginSql(bool write) const override { return write ? "BEGIN IMMEDIATE" : "BEGIN"; }
  int64_t NextEventSeq() override;
  void EventSeqsForgotten() override { next_event_seq_ = 0; }
  int64_t LastEventSeq() override;
  void BeforeClaim() override {}
  const char* LockMsgsRead() const override { return ""; }
  // Nothing: SQLite's processes share a host, and wake each other over
  // ZeroMQ.
  void NotifyAtCommit(const CommitNotices& /*notices*/) override {}

  // SqliteStore's: see its methods of the same names.
  void HousekeepInBackground();
  Result<std::shared_ptr<CommitSync>> LeaveSyncToCaller(Env& env);

  const std::string& path() const { return path_; }

 private:
  // Waiting for another connection's write lock (sqlite_engine.cpp says
  // why not SQLite's own busy_timeout handler).
  struct BusyWait {
    int timeout_ms = 0;
    std::chrono::steady_clock::time_point first;
    static int Handler(void* self, int count);
  };

  void Disconnect();
  // The connection's commits notify `to` of the WAL's size instead of
  // checkpointing themselves.
  void HandCheckpointsTo(WalCheckpointer& to);

  std::string path_;
  int busy_timeout_ms_;
  StoreAccess access_;
  // Connected as an immutable snapshot (read-only, no WAL reachable).
  bool snapshot_ = false;
  // LeaveSyncToCaller: commits do not fsync the WAL; the caller does.
  bool sync_by_caller_ = false;
  BusyWait busy_wait_;
  // The next event seq inside the current write transaction; 0 when it
  // must be read again.
  int64_t next_event_seq_ = 0;
  // Before `db_`: the connection's wal hook points at it.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  // The connection; closed when reset, after its statements.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_{nullptr, &sqlite3_close_v2};
  // After `db_`, so they are finalized first.
  std::unique_ptr<SqliteStatements> statements_;
};

}  // namespace courier
