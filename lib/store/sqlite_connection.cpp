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

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/schema.h"

namespace courier {

using namespace Poco::Data::Keywords;  // NOLINT: use, into, now
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

void RegisterConnector() {
  static std::once_flag once;
  std::call_once(once, [] {
    // A Store is used by one thread at a time (store.h), so SQLite's lock
    // on each connection only costs; and its allocation statistics take a
    // process-wide lock on every malloc. Both settings are accepted only
    // before SQLite initialises: if something opened a connection first,
    // SQLite stays serialised, which is slower but just as correct.
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    Poco::Data::SQLite::Connector::registerConnector();
  });
}

}  // namespace
}  // namespace sqlite_only

namespace {


// --- Exceptions to Status --------------------------------------------------------

// An exception's text without the repeats POCO's SQLite connector makes:
// it appends sqlite3_errmsg() to its own text, which is mostly the same
// words ("attempt to write a readonly database: attempt to write a readonly
// database"). A ": "-separated part equal to the one before it is dropped.
std::string Text(const Poco::Exception& e) {
  const std::string text = e.displayText();
  std::string out, previous;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(": ", start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    bool repeat = start > 0 && part.size() == previous.size() &&
                  std::equal(part.begin(), part.end(), previous.begin(), [](char a, char b) {
                    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                  });
    if (!repeat) out += (start > 0 ? ": " : "") + part;
    previous = std::move(part);
    start = end + 2;
  }
  return out;
}

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
  namespace sq = Poco::Data::SQLite;
  const std::string prefix = op + ": ";
  try {
    throw;
  } catch (const RequestError& e) {
    return e.status;
  } catch (const CorruptData& e) {
    return Status::Corruption(prefix + e.what());
  } catch (const SqlError& e) {
    return Prefixed(e.status(), prefix);
  } catch (const sq::DBLockedException& e) {
    return Status::Busy(prefix + Text(e));
  } catch (const sq::TableLockedException& e) {
    return Status::Busy(prefix + Text(e));
  } catch (const sq::LockProtocolException& e) {
    return Status::Busy(prefix + Text(e));
  } catch (const sq::ReadOnlyException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::IOErrorException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::CantOpenDBFileException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::DatabaseFullException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::DBAccessDeniedException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::AuthorizationDeniedException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::NoMemoryException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::InterruptException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const sq::CorruptImageException& e) {
    return Status::Corruption(prefix + Text(e));
  } catch (const sq::ConstraintViolationException& e) {
    // UNIQUE and PRIMARY KEY: the thing exists already. NOT NULL, CHECK and
    // FOREIGN KEY: the request names or carries something it should not.
    const std::string text = Text(e);
    if (text.find("UNIQUE") != std::string::npos || text.find("PRIMARY KEY") != std::string::npos) {
      return Status::Conflict(prefix + text);
    }
    return Status::InvalidArgument(prefix + text);
  } catch (const Poco::Data::ConnectionFailedException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const Poco::Data::NotConnectedException& e) {
    return Status::Unavailable(prefix + Text(e));
  } catch (const Poco::JSON::JSONException& e) {
    return Status::Corruption(prefix + Text(e));
  } catch (const Poco::Exception& e) {
    return Status::Internal(prefix + Text(e));
  } catch (const std::exception& e) {
    return Status::Internal(prefix + e.what());
  } catch (...) {
    return Status::Internal(prefix + "unknown exception");
  }
}

void SqliteStore::Impl::HandCheckpointsTo(WalCheckpointer& to) {
  sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(*session);
  sqlite3_wal_hook(
      db,
      [](void* target, sqlite3*, const char*, int pages) {
        static_cast<WalCheckpointer*>(target)->Notify(pages);
        return SQLITE_OK;
      },
      &to);  // replaces the autocheckpoint hook: no checkpoint in commits
}

Status SqliteStore::Impl::Connect() {
  if (session) return Status::OK();
  if (path.empty()) return Status::InvalidArgument("no store path given");
  if (path != ":memory:") {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::Unavailable("store directory does not exist: " + dir.string());
    }
  }
  sqlite_only::RegisterConnector();
  const bool read_only = access == StoreAccess::kReadOnly && path != ":memory:";
  snapshot = read_only && !sqlite_only::CanReadThroughWal(path);
  struct stat file_stat;
  const bool new_file = !read_only && path != ":memory:" &&
                        (::stat(path.c_str(), &file_stat) != 0 || file_stat.st_size == 0);
  try {
    session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY,
                                                    read_only ? sqlite_only::ReadOnlyUri(path, snapshot) : path);
    if (read_only && sqlite3_db_readonly(Poco::Data::SQLite::Utility::dbHandle(*session), "main") != 1) {
      session.reset();
      return Status::Internal("store " + path + ": SQLite did not open it read-only");
    }
    int timeout = 0;
    S() << sqlite_only::BusyTimeoutPragma(busy_timeout_ms), into(timeout), now;
    busy_wait.timeout_ms = busy_timeout_ms;
    sqlite3_busy_handler(Poco::Data::SQLite::Utility::dbHandle(*session), &sqlite_only::BusyWait::Handler,
                         &busy_wait);
    // Only a file without pages yet takes this, before the journal mode
    // below writes the first: new stores can give space back after
    // retention without a VACUUM (sqlite_prune.cpp). Not asked of an
    // existing file, where the pragma would need the database's lock.
    if (new_file) S() << sqlite_only::kAutoVacuumIncremental, now;
    std::string mode = "wal";  // a reader takes the journal mode the file has
    if (!read_only) S() << sqlite_only::kJournalWal, into(mode), now;
    if (mode != "wal" && path != ":memory:") {
      session.reset();
      return Status::Unavailable("store " + path + ": cannot use WAL journal (journal_mode is '" +
                                 mode + "'; read-only file or directory?)");
    }
    S() << (sync_by_caller ? sqlite_only::kSynchronousNormal : sqlite_only::kSynchronousFull), now;
    S() << sqlite_only::kForeignKeysOn, now;
    S() << sqlite_only::kTempStoreMemory, now;
    S() << sqlite_only::kCacheSize, now;
    statements = std::make_unique<SqliteStatements>(Poco::Data::SQLite::Utility::dbHandle(*session));
    if (checkpointer) HandCheckpointsTo(*checkpointer);
  } catch (...) {
    Status st = CurrentExceptionStatus("open " + path);
    statements.reset();
    session.reset();
    return st;
  }
  return Status::OK();
}

Int64 SqliteStore::Impl::ReadVersion() {
  Int64 has_table = 0;
  S() << sqlite_only::kHasVersionTable, into(has_table), now;
  if (has_table == 0) return 0;
  NInt version;
  S() << "SELECT MAX(version) FROM schema_version", into(version), now;
  return version.isNull() ? 0 : version.value();
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
