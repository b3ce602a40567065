// SqliteStore: SqlStore on a SqliteEngine, and the methods only SQLite
// has: the file's space and its reclaim, the WAL checkpointer, the
// caller-synced WAL.
#include "store/sqlite_store.h"

#include <thread>

#include "store/sql_statement.h"
#include "store/sqlite_engine.h"

namespace courier {
namespace {

// Pages freed per incremental_vacuum transaction: 4 MiB at 4 KiB pages.
constexpr int kVacuumPagesPerStep = 1000;

}  // namespace

SqliteStore::SqliteStore(std::string path, Clock& clock, int busy_timeout_ms, StoreAccess access)
    : SqlStore(std::make_unique<SqliteEngine>(path, busy_timeout_ms, access), clock), path_(std::move(path)) {}

SqliteEngine& SqliteStore::sqlite() { return static_cast<SqliteEngine&>(engine()); }

Status SqliteStore::Open() { return sqlite().Connect(); }

void SqliteStore::HousekeepInBackground() { sqlite().HousekeepInBackground(); }

Result<std::shared_ptr<CommitSync>> SqliteStore::LeaveSyncToCaller(Env& env) { return sqlite().LeaveSyncToCaller(env); }

Result<StoreSpace> SqliteStore::Space() {
  StoreSpace space;
  Status st = InTransaction("store space", TxnKind::kRead, [&](SqlStatements& q) {
    const int64_t page = *q("PRAGMA page_size").OneInt();
    space.file_bytes = page * *q("PRAGMA page_count").OneInt();
    space.free_bytes = page * *q("PRAGMA freelist_count").OneInt();
    space.incremental = *q("PRAGMA auto_vacuum").OneInt() == 2;  // 2: INCREMENTAL
    return Status::OK();
  });
  if (!st.ok()) return st;
  return space;
}

Result<StoreSpace> SqliteStore::ReclaimSpace(bool full) {
  if (full) {
    // VACUUM cannot run inside a transaction; it takes the write lock for
    // the whole rewrite, and the auto_vacuum set just before applies to
    // the file it writes.
    Status st = InTransaction("vacuum", TxnKind::kNone, [](SqlStatements& q) {
      q.Exec("PRAGMA auto_vacuum = INCREMENTAL");
      q.Exec("VACUUM");
      return Status::OK();
    });
    if (!st.ok()) return st;
  } else {
    auto space = Space();
    if (!space.ok()) return space.status();
    // A file without incremental vacuum keeps its free pages for new rows.
    for (bool more = space->incremental && space->free_bytes > 0; more;) {
      Status st = InTransaction("incremental vacuum", TxnKind::kWrite, [&](SqlStatements& q) {
        q.Exec("PRAGMA incremental_vacuum(" + std::to_string(kVacuumPagesPerStep) + ")");
        more = *q("PRAGMA freelist_count").OneInt() > 0;
        return Status::OK();
      });
      if (!st.ok()) return st;
      if (more) std::this_thread::sleep_for(kPauseBetweenBatches);
    }
  }
  // The shrunken database is in the WAL until a checkpoint copies it back
  // and cuts the file to its new size. PASSIVE: it takes no lock a writer
  // waits for (TRUNCATE and RESTART hold the write lock while they wait for
  // readers: a receiver's commits failed Busy behind one). What a reader
  // still needs is left for the daemons' next checkpoints.
  Status st = InTransaction("checkpoint", TxnKind::kNone, [](SqlStatements& q) {
    q("PRAGMA wal_checkpoint(PASSIVE)").Step();
    return Status::OK();
  });
  if (!st.ok()) return st;
  return Space();
}

}  // namespace courier
