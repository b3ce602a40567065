// OpenStore: from a --db value to a connected Store.
//
//   var/courier.db            a SQLite file (relative to the working dir)
//   sqlite:var/courier.db     the same, explicitly
//   sqlite:///srv/courier.db  SQLite, absolute path (sqlite://PATH form)
//   postgresql://...          reserved: InvalidArgument until implemented
//
// The store is connected but not migrated: a tool that needs the schema
// calls Migrate() (courier-ctl init, daemon start) and otherwise gets
// Unavailable "store not initialised" from the first method it calls.
//
// A read-write open of a store that does not exist yet creates its file
// first, 0600 (or 0640 for store_group): SQLite would create it with the
// umask's mode, usually 0644, readable by everyone (store_file.h).
#include <memory>
#include <string>

#include "store/sqlite_store.h"
#include "store/store_file.h"
#include "store/store.h"
#include "util/text.h"

namespace courier {

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, Clock& clock, int busy_timeout_ms,
                                         StoreAccess access) {
  std::string path;
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    return Status::InvalidArgument("postgresql store not built yet");
  } else if (StartsWith(url, "sqlite://")) {
    path = url.substr(9);
  } else if (StartsWith(url, "sqlite:")) {
    path = url.substr(7);
  } else if (auto scheme_end = url.find("://"); scheme_end != std::string::npos &&
             url.find('/') > scheme_end) {
    return Status::InvalidArgument("unknown store url scheme: '" + url.substr(0, scheme_end) +
                                   "' (use a file path, sqlite:PATH or postgresql://)");
  } else {
    path = url;
  }
  if (path.empty()) return Status::InvalidArgument("store url names no file: '" + url + "'");

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
