// SqlStore itself: construction, the schema (Migrate, SchemaVersion,
// Ping), and the entry points the concern files and the engines' Store
// subclasses share (InTransaction, Now, engine). Each concern's methods
// are in its own file (sql_connection.h lists them).
#include "store/sql_store.h"

#include "store/schema.h"
#include "store/sql_connection.h"

namespace courier {

using namespace sql_detail;  // NOLINT: the transaction runner's parts

SqlStore::SqlStore(std::unique_ptr<StoreEngine> engine, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(engine), clock)) {}

SqlStore::~SqlStore() = default;

StoreEngine& SqlStore::engine() { return *impl_->engine; }

Status SqlStore::Migrate() {
  Impl& d = *impl_;
  Status st = d.RunStatus("migrate", Txn::kNone, [&]() { return d.engine->Migrate(d.Now()); },
                          /*need_schema=*/false);
  if (st.ok()) d.schema_ready = true;
  return st;
}

Result<int> SqlStore::SchemaVersion() {
  Impl& d = *impl_;
  return d.Run<int>(
      "schema version", Txn::kNone, [&]() -> Result<int> { return static_cast<int>(d.engine->SchemaVersion()); },
      /*need_schema=*/false);
}

Status SqlStore::Ping() {
  Impl& d = *impl_;
  return d.RunStatus("ping", Txn::kNone, [&]() {
    d.Q("SELECT 1").Run();
    return Status::OK();
  });
}

Micros SqlStore::Now() const { return impl_->Now(); }

Status SqlStore::InTransaction(const char* op, TxnKind kind, const std::function<Status(SqlStatements&)>& body) {
  Impl& d = *impl_;
  const Txn txn = kind == TxnKind::kWrite ? Txn::kWrite : kind == TxnKind::kRead ? Txn::kRead : Txn::kNone;
  return d.RunStatus(op, txn, [&]() { return body(*d.statements); });
}

}  // namespace courier
