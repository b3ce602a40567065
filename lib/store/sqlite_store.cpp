// SqliteStore itself: construction, the schema (Migrate, SchemaVersion,
// Ping), the connection's housekeeping and sync modes, and the entry points
// the concern files share (InTransaction, StoreNow). Each concern's
// methods are in its own file (sqlite_connection.h lists them).
#include "store/sqlite_store.h"

#include <sqlite3.h>

#include "core/log.h"
#include "store/schema.h"
#include "store/sqlite_connection.h"

namespace courier {

using namespace sqlite_rows;             // NOLINT: the row types and their conversion
using namespace sqlite_detail;           // NOLINT: the transaction runner's parts

SqliteStore::SqliteStore(std::string path, Clock& clock, int busy_timeout_ms, StoreAccess access)
    : impl_(std::make_unique<Impl>(path, clock, busy_timeout_ms, access)), path_(std::move(path)) {}

SqliteStore::~SqliteStore() = default;

Status SqliteStore::Open() { return impl_->Connect(); }

Status SqliteStore::Migrate() {
  Impl& d = *impl_;
  Result<Unit> r = d.Run<Unit>(
      "migrate", Txn::kWrite,
      [&]() -> Result<Unit> {
        // DDL runs once: through sqlite3_exec, not into the statement cache.
        auto exec = [&](const std::string& sql) {
          ThrowSqliteError(d.db.get(), sqlite3_exec(d.db.get(), sql.c_str(), nullptr, nullptr, nullptr), sql);
        };
        exec(schema::VersionTableDDL());
        Int64 current = d.ReadVersion();
        if (current > schema::CurrentVersion()) return schema::VersionStatus(current);
        for (const auto& m : schema::Migrations(schema::Dialect::kSQLite)) {
          if (m.version <= current) continue;
          for (const auto& ddl : m.statements) exec(ddl);
          if (m.edits_schema_text) {
            const int64_t cookie = d.Q("PRAGMA schema_version").OneInt().value_or(0);
            exec("PRAGMA schema_version = " + std::to_string(cookie + 1));
          }
          d.Q("INSERT INTO schema_version (version, description, applied_on) VALUES (?, ?, ?)")
              .Bind(static_cast<int64_t>(m.version))
              .Bind(m.description)
              .Bind(d.Now())
              .Run();
        }
        return Unit{};
      },
      /*need_schema=*/false);
  if (r.ok()) d.schema_ready = true;
  return r.status();
}

Result<int> SqliteStore::SchemaVersion() {
  Impl& d = *impl_;
  return d.Run<int>(
      "schema version", Txn::kNone,
      [&]() -> Result<int> { return static_cast<int>(d.ReadVersion()); },
      /*need_schema=*/false);
}

Status SqliteStore::Ping() {
  Impl& d = *impl_;
  return d.RunStatus("ping", Txn::kNone, [&]() {
    d.Q("SELECT 1").Run();
    return Status::OK();
  });
}

Micros SqliteStore::StoreNow() const { return impl_->Now(); }

Result<std::string> SqliteStore::LeaveSyncToCaller() {
  Impl& d = *impl_;
  if (d.path == ":memory:") return Status::Unavailable("an in-memory store has no WAL to sync");
  Status connected = d.Connect();
  if (!connected.ok()) return connected;
  try {
    d.statements->Exec(sqlite_only::kSynchronousNormal);
  } catch (...) {
    return CurrentExceptionStatus("leave sync to caller");
  }
  d.sync_by_caller = true;
  const char* main_file = sqlite3_db_filename(d.db.get(), "main");
  if (main_file == nullptr || *main_file == '\0') return Status::Unavailable("store has no file");
  return std::string(main_file) + "-wal";
}

void SqliteStore::HousekeepInBackground() {
  Impl& d = *impl_;
  if (d.checkpointer || d.path == ":memory:") return;
  if (!d.Connect().ok()) return;
  auto checkpointer = std::make_unique<WalCheckpointer>(d.path, 1000);
  Status started = checkpointer->Start();
  if (!started.ok()) {
    Log::Warn("checkpoints stay in the writer's commits", {{"error", started.message()}});
    return;
  }
  d.checkpointer = std::move(checkpointer);
  d.HandCheckpointsTo(*d.checkpointer);
}

Micros SqliteStore::Now() const { return impl_->Now(); }

Status SqliteStore::InTransaction(const char* op, TxnKind kind,
                                  const std::function<Status(SqlStatements&)>& body) {
  Impl& d = *impl_;
  const Txn txn = kind == TxnKind::kWrite ? Txn::kWrite : kind == TxnKind::kRead ? Txn::kRead : Txn::kNone;
  return d.RunStatus(op, txn, [&]() { return body(*d.statements); });
}

}  // namespace courier
