// OpenStore: from a --db value (store_url.h) to a connected Store.
//
// The store is connected but not migrated: a tool that needs the schema
// calls Migrate() (courier-ctl init, daemon start) and otherwise gets
// Unavailable "store not initialised" from the first method it calls.
//
// A PostgreSQL store is connected at once too: an unreachable server is
// Unavailable here, as a missing SQLite directory is.
//
// A read-write open of a store that does not exist yet creates its file
// first, 0600 (or 0640 for store_group): SQLite would create it with the
// umask's mode, usually 0644, readable by everyone (store_file.h).
#include <errno.h>  // program_invocation_short_name

#include <memory>
#include <string>

#include "store/pg_store.h"
#include "store/sqlite_store.h"
#include "store/store_file.h"
#include "store/store.h"
#include "store/store_url.h"

namespace courier {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, Clock& clock, int busy_timeout_ms,
                                         StoreAccess access) {
  auto parsed = ParseStoreUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (parsed->engine == StoreUrl::Engine::kPostgreSQL) {
    // The program's name ("courier-recv") names its connections in the
    // server's pg_stat_activity.
    auto store = std::make_unique<PgStore>(parsed->uri, program_invocation_short_name, clock, busy_timeout_ms,
                                           access);
    Status st = store->Open();
    if (!st.ok()) return st;
    return std::unique_ptr<Store>(std::move(store));
  }
  const std::string& path = parsed->path;
  if (access == StoreAccess::kReadWrite) {
    Status created = CreateStoreFile(path, StoreGroup());
    if (!created.ok()) return created;
  }
  auto store = std::make_unique<SqliteStore>(path, clock, busy_timeout_ms, access);
  Status st = store->Open();
  if (!st.ok()) return st;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace courier
