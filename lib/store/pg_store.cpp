// PgStore: SqlStore on a PgEngine, and the methods whose work is the
// server's: the database's size and VACUUM.
#include "store/pg_store.h"

#include "store/pg_engine.h"
#include "store/sql_statement.h"

namespace courier {

PgStore::PgStore(std::string uri, std::string application_name, Clock& clock, int busy_timeout_ms,
                 StoreAccess access)
    : SqlStore(std::make_unique<PgEngine>(std::move(uri), std::move(application_name), busy_timeout_ms, access),
               clock) {}

PgEngine& PgStore::pg() { return static_cast<PgEngine&>(engine()); }

Status PgStore::Open() { return pg().Connect(); }

Result<std::shared_ptr<CommitSync>> PgStore::LeaveSyncToCaller(Env& /*env: the server syncs*/) {
  return pg().LeaveSyncToCaller();
}

Result<StoreSpace> PgStore::Space() {
  StoreSpace space;
  Status st = InTransaction("store space", TxnKind::kRead, [&](SqlStatements& q) {
    space.file_bytes = q("SELECT pg_database_size(current_database())").OneInt().value_or(0);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return space;
}

Result<StoreSpace> PgStore::ReclaimSpace(bool full) {
  // VACUUM cannot run inside a transaction block, nor be prepared: the
  // simple query protocol, outside the runner's transaction.
  Status st = InTransaction("vacuum", TxnKind::kNone, [&](SqlStatements&) {
    pg().connection().Exec(full ? "VACUUM FULL" : "VACUUM");
    return Status::OK();
  });
  if (!st.ok()) return st;
  return Space();
}

}  // namespace courier
