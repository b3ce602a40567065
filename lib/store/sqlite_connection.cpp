// SqliteStore::Impl's connection (sqlite_connection.h): opening it with
// its pragmas, the schema check, rollback, and exceptions mapped to Status.
#include "store/sqlite_connection.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>
#include <system_error>

#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/schema.h"

namespace courier {

using namespace sqlite_rows;             // NOLINT: the row types and their conversion
using namespace sqlite_detail;           // NOLINT: the transaction runner's parts

// SQLite-only settings and how a connection is opened (sqlite_connection.h
// says what a PostgreSQL store puts in their place).
namespace sqlite_only {
namespace {

constexpr const char* kHasVersionTable =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";

// Per-connection settings. PRAGMA takes no bound parameters; the only value
// formatted into one is our own integer timeout.
std::string BusyTimeoutPragma(int ms) { return "PRAGMA busy_timeout = " + std::to_string(ms); }

constexpr const char* kJournalWal = "PRAGMA journal_mode = WAL";
constexpr const char* kSynchronousFull = "PRAGMA synchronous = FULL";
constexpr const char* kForeignKeysOn = "PRAGMA foreign_keys = ON";
constexpr const char* kAutoVacuumIncremental = "PRAGMA auto_vacuum = INCREMENTAL";
// Savepoints and multi-row statements inside a transaction need a
// statement journal; on disk that is a temp file created and deleted per
// write batch. It only matters until the transaction ends, so memory.
constexpr const char* kTempStoreMemory = "PRAGMA temp_store = MEMORY";
// Up to 32 MiB of page cache per connection (default 2 MiB): the indexes
// the intake path updates stay in memory instead of being re-read from the
// WAL or the file on each batch. Grows only as pages are used.
constexpr const char* kCacheSize = "PRAGMA cache_size = -32768";

// SQLite's URI for opening `path` read-only (mode=ro), and as an
// immutable snapshot (no locks, no WAL) when `snapshot`. '%', '?' and '#'
// are the characters a URI path must escape.
std::string ReadOnlyUri(const std::string& path, bool snapshot) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char* kHex = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[static_cast<unsigned char>(c) >> 4];
      uri += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      uri += c;
    }
  }
  return uri + (snapshot ? "?mode=ro&immutable=1" : "?mode=ro");
}

// Whether a read-only connection can read `path` through its WAL without
// leaving behind files that keep a writer out. A read-only connection that
// has to create the -wal and -shm cannot remove them when it closes, and
// SQLite makes them with the file's mode, owned by whoever runs (by the
// file's owner when that is root). So: when the WAL exists already, or
// when the files made now would be the owner's and writable by the owner,
// as a writer's are.
bool CanReadThroughWal(const std::string& path) {
  if (::access((path + "-wal").c_str(), F_OK) == 0) return true;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return false;
  const uid_t me = ::geteuid();
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  return (st.st_mode & S_IWUSR) != 0 && (me == st.st_uid || me == 0) &&
         ::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0;
}

void ConfigureOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A Store is used by one thread at a time (store.h), so SQLite's lock
    // on each connection only costs; and its allocation statistics take a
    // process-wide lock on every malloc. Both settings are accepted only
    // before SQLite initialises: if something opened a connection first,
    // SQLite stays serialised, which is slower but just as correct.
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace
}  // namespace sqlite_only

namespace {


// --- Exceptions to Status --------------------------------------------------------

// `status` with `prefix` before its message.
Status Prefixed(const Status& status, const std::string& prefix) {
  std::string message = prefix + status.message();
  switch (status.code()) {
    case Status::Code::kBusy: return Status::Busy(std::move(message));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Status::Code::kConflict: return Status::Conflict(std::move(message));
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Status::Code::kCorruption: return Status::Corruption(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kIOError: return Status::IOError(std::move(message));
    case Status::Code::kUsage: return Status::Usage(std::move(message));
    default: return Status::Internal(std::move(message));
  }
}

}  // namespace

// Call only from inside a catch block: rethrows the current exception and
// names it as a Status.
Status sqlite_detail::CurrentExceptionStatus(const std::string& op) {
  const std::string prefix = op + ": ";
  try {
    throw;
  } catch (const RequestError& e) {
    return e.status;
  } catch (const CorruptData& e) {
    return Status::Corruption(prefix + e.what());
  } catch (const SqlError& e) {
    return Prefixed(e.status(), prefix);
  } catch (const Poco::JSON::JSONException& e) {
    return Status::Corruption(prefix + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::Internal(prefix + e.displayText());
  } catch (const std::exception& e) {
    return Status::Internal(prefix + e.what());
  } catch (...) {
    return Status::Internal(prefix + "unknown exception");
  }
}

void SqliteStore::Impl::HandCheckpointsTo(WalCheckpointer& to) {
  sqlite3_wal_hook(
      db.get(),
      [](void* target, sqlite3*, const char*, int pages) {
        static_cast<WalCheckpointer*>(target)->Notify(pages);
        return SQLITE_OK;
      },
      &to);  // replaces the autocheckpoint hook: no checkpoint in commits
}

Status SqliteStore::Impl::Connect() {
  if (db) return Status::OK();
  if (path.empty()) return Status::InvalidArgument("no store path given");
  if (path != ":memory:") {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::Unavailable("store directory does not exist: " + dir.string());
    }
  }
  sqlite_only::ConfigureOnce();
  const bool read_only = access == StoreAccess::kReadOnly && path != ":memory:";
  snapshot = read_only && !sqlite_only::CanReadThroughWal(path);
  struct stat file_stat;
  const bool new_file = !read_only && path != ":memory:" &&
                        (::stat(path.c_str(), &file_stat) != 0 || file_stat.st_size == 0);
  try {
    sqlite3* opened = nullptr;
    const std::string name = read_only ? sqlite_only::ReadOnlyUri(path, snapshot) : path;
    const int rc = sqlite3_open_v2(name.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                   nullptr);
    db.reset(opened);  // closed again below when anything fails
    if (rc != SQLITE_OK) ThrowSqliteError(opened, rc);
    if (read_only && sqlite3_db_readonly(db.get(), "main") != 1) {
      Disconnect();
      return Status::Internal("store " + path + ": SQLite did not open it read-only");
    }
    statements = std::make_unique<SqliteStatements>(db.get());
    statements->Exec(sqlite_only::BusyTimeoutPragma(busy_timeout_ms));
    busy_wait.timeout_ms = busy_timeout_ms;
    sqlite3_busy_handler(db.get(), &sqlite_only::BusyWait::Handler, &busy_wait);
    // Only a file without pages yet takes this, before the journal mode
    // below writes the first: new stores can give space back after
    // retention without a VACUUM (sqlite_prune.cpp). Not asked of an
    // existing file, where the pragma would need the database's lock.
    if (new_file) statements->Exec(sqlite_only::kAutoVacuumIncremental);
    std::string mode = "wal";  // a reader takes the journal mode the file has
    if (!read_only) {
      auto q = Q(sqlite_only::kJournalWal);
      if (q.Step()) mode = q.Text(0);
    }
    if (mode != "wal" && path != ":memory:") {
      Disconnect();
      return Status::Unavailable("store " + path + ": cannot use WAL journal (journal_mode is '" +
                                 mode + "'; read-only file or directory?)");
    }
    statements->Exec(sync_by_caller ? sqlite_only::kSynchronousNormal : sqlite_only::kSynchronousFull);
    statements->Exec(sqlite_only::kForeignKeysOn);
    statements->Exec(sqlite_only::kTempStoreMemory);
    statements->Exec(sqlite_only::kCacheSize);
    if (checkpointer) HandCheckpointsTo(*checkpointer);
  } catch (...) {
    Status st = CurrentExceptionStatus("open " + path);
    Disconnect();
    return st;
  }
  return Status::OK();
}

Int64 SqliteStore::Impl::ReadVersion() {
  if (Q(sqlite_only::kHasVersionTable).OneInt().value_or(0) == 0) return 0;
  auto q = Q("SELECT MAX(version) FROM schema_version");
  return q.Step() ? q.Int(0) : 0;
}

Status SqliteStore::Impl::CheckSchema() {
  if (schema_ready) return Status::OK();
  try {
    Status st = schema::VersionStatus(ReadVersion());
    if (st.ok()) schema_ready = true;
    return st;
  } catch (...) {
    return CurrentExceptionStatus("schema check");
  }
}

void SqliteStore::Impl::Rollback() {
  next_event_seq = 0;
  try {
    statements->Exec("ROLLBACK");
  } catch (...) {
    // Nothing to roll back (BEGIN failed, or SQLite already rolled back
    // after an I/O or full-disk error): the transaction is gone either way.
  }
}

}  // namespace courier
