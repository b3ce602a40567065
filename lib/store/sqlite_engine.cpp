// SqliteEngine (sqlite_engine.h): opening the store's file with its
// pragmas, the busy handler, the read-only and snapshot modes, event seqs
// under the write lock, the schema's migrations, the WAL checkpointer and
// the caller-synced mode.
#include "store/sqlite_engine.h"
#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>

#include "core/log.h"
#include "store/schema.h"

namespace courier {
namespace {

// The highest event seq ever assigned (AUTOINCREMENT keeps it in
// sqlite_sequence, which has no row until the first event); 0 when none.
constexpr const char* kLastEventSeq =
    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), "
    "COALESCE((SELECT MAX(seq) FROM events), 0))";

// In WAL mode NORMAL skips only the fsync of the WAL at each commit; the
// WAL is still synced before every checkpoint copies it into the database.
// Used only where the caller syncs the WAL itself (LeaveSyncToCaller).
constexpr const char* kSynchronousNormal = "PRAGMA synchronous = NORMAL";

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
// Up to 32 MiB of page cache per connection unless the operator says
// otherwise (SQLite's default is 2 MiB): the indexes the intake path
// updates stay in memory instead of being re-read from the WAL or the file
// on each batch. Grows only as pages are used; measured, courier-recv's
// peak under the receive bench was 75 MiB with 32 and 39 with 2.
std::atomic<int> g_cache_mib{32};
std::string CacheSizePragma() { return "PRAGMA cache_size = -" + std::to_string(g_cache_mib.load() * 1024); }

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

// Runs DDL (or a pragma with a formatted value) once: through
// sqlite3_exec, not into the statement cache.
void ExecOnce(sqlite3* db, const std::string& sql) {
  ThrowSqliteError(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), sql);
}

}  // namespace

void SetSqliteCacheMiB(int mib) { g_cache_mib = std::max(1, mib); }
int SqliteCacheMiB() { return g_cache_mib.load(); }

// Waiting for another connection's write lock. SQLite's own busy_timeout
// handler sleeps in growing steps up to 100 ms, so a webhook queued behind
// courier-send's commit (a few ms) waited up to 100 ms more; measured p99
// of courier-recv under a concurrent send was near a second. This one
// polls every 50 us, backing off to 1 ms, and gives up after the timeout.
int SqliteEngine::BusyWait::Handler(void* self, int count) {
  auto* wait = static_cast<BusyWait*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) wait->first = now;
  if (now - wait->first >= std::chrono::milliseconds(wait->timeout_ms)) return 0;  // SQLITE_BUSY
  const int shift = count < 5 ? count : 5;
  std::this_thread::sleep_for(std::chrono::microseconds(std::min(50 << shift, 1000)));
  return 1;
}

SqliteEngine::SqliteEngine(std::string path, int busy_timeout_ms, StoreAccess access)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), access_(access) {}

SqliteEngine::~SqliteEngine() { Disconnect(); }

void SqliteEngine::Disconnect() {
  statements_.reset();
  db_.reset();
}

void SqliteEngine::HandCheckpointsTo(WalCheckpointer& to) {
  sqlite3_wal_hook(
      db_.get(),
      [](void* target, sqlite3*, const char*, int pages) {
        static_cast<WalCheckpointer*>(target)->Notify(pages);
        return SQLITE_OK;
      },
      &to);  // replaces the autocheckpoint hook: no checkpoint in commits
}

Status SqliteEngine::Connect() {
  // A snapshot reads the file as it was when opened: open it again.
  if (snapshot_) Disconnect();
  if (db_) return Status::OK();
  if (path_.empty()) return Status::InvalidArgument("no store path given");
  if (path_ != ":memory:") {
    std::filesystem::path dir = std::filesystem::path(path_).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return Status::Unavailable("store directory does not exist: " + dir.string());
    }
  }
  ConfigureOnce();
  const bool read_only = access_ == StoreAccess::kReadOnly && path_ != ":memory:";
  snapshot_ = read_only && !CanReadThroughWal(path_);
  struct stat file_stat;
  const bool new_file = !read_only && path_ != ":memory:" &&
                        (::stat(path_.c_str(), &file_stat) != 0 || file_stat.st_size == 0);
  try {
    sqlite3* opened = nullptr;
    const std::string name = read_only ? ReadOnlyUri(path_, snapshot_) : path_;
    const int rc = sqlite3_open_v2(name.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                   nullptr);
    db_.reset(opened);  // closed again below when anything fails
    if (rc != SQLITE_OK) ThrowSqliteError(opened, rc);
    if (read_only && sqlite3_db_readonly(db_.get(), "main") != 1) {
      Disconnect();
      return Status::Internal("store " + path_ + ": SQLite did not open it read-only");
    }
    statements_ = std::make_unique<SqliteStatements>(db_.get());
    ExecOnce(db_.get(), BusyTimeoutPragma(busy_timeout_ms_));
    busy_wait_.timeout_ms = busy_timeout_ms_;
    sqlite3_busy_handler(db_.get(), &BusyWait::Handler, &busy_wait_);
    // Only a file without pages yet takes this, before the journal mode
    // below writes the first: new stores can give space back after
    // retention without a VACUUM (sqlite_store.cpp's ReclaimSpace). Not
    // asked of an existing file, where the pragma would need the
    // database's lock.
    if (new_file) ExecOnce(db_.get(), kAutoVacuumIncremental);
    std::string mode = "wal";  // a reader takes the journal mode the file has
    if (!read_only) {
      auto q = (*statements_)(kJournalWal);
      if (q.Step()) mode = q.Text(0);
    }
    if (mode != "wal" && path_ != ":memory:") {
      Disconnect();
      return Status::Unavailable("store " + path_ + ": cannot use WAL journal (journal_mode is '" + mode +
                                 "'; read-only file or directory?)");
    }
    ExecOnce(db_.get(), sync_by_caller_ ? kSynchronousNormal : kSynchronousFull);
    ExecOnce(db_.get(), kForeignKeysOn);
    ExecOnce(db_.get(), kTempStoreMemory);
    ExecOnce(db_.get(), CacheSizePragma().c_str());
    if (checkpointer_) HandCheckpointsTo(*checkpointer_);
  } catch (const SqlError& e) {
    Disconnect();
    return PrefixedStatus(e.status(), "open " + path_ + ": ");
  } catch (const std::exception& e) {
    Disconnect();
    return Status::Internal("open " + path_ + ": " + e.what());
  }
  return Status::OK();
}

int64_t SqliteEngine::SchemaVersion() {
  if ((*statements_)(kHasVersionTable).OneInt().value_or(0) == 0) return 0;
  auto q = (*statements_)("SELECT MAX(version) FROM schema_version");
  return q.Step() ? q.Int(0) : 0;
}

Status SqliteEngine::Migrate(Micros now) {
  SqlStatements& q = *statements_;
  q.Exec("BEGIN IMMEDIATE");
  try {
    ExecOnce(db_.get(), schema::VersionTableDDL());
    const int64_t current = SchemaVersion();
    if (current > schema::CurrentVersion()) {
      q.Exec("ROLLBACK");
      return schema::VersionStatus(current);
    }
    for (const auto& m : schema::Migrations(schema::Dialect::kSQLite)) {
      if (m.version <= current) continue;
      for (const auto& ddl : m.statements) ExecOnce(db_.get(), ddl);
      if (m.edits_schema_text) {
        const int64_t cookie = q("PRAGMA schema_version").OneInt().value_or(0);
        ExecOnce(db_.get(), "PRAGMA schema_version = " + std::to_string(cookie + 1));
      }
      q("INSERT INTO schema_version (version, description, applied_on) VALUES (?, ?, ?)")
          .Bind(static_cast<int64_t>(m.version))
          .Bind(m.description)
          .Bind(now)
          .Run();
    }
    q.Exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);  // gone already after some errors
    throw;
  }
  return Status::OK();
}

int64_t SqliteEngine::NextEventSeq() {
  if (next_event_seq_ == 0) next_event_seq_ = 1 + (*statements_)(kLastEventSeq).OneInt().value_or(0);
  return next_event_seq_++;
}

int64_t SqliteEngine::LastEventSeq() { return (*statements_)(kLastEventSeq).OneInt().value_or(0); }

void SqliteEngine::HousekeepInBackground() {
  if (checkpointer_ || path_ == ":memory:") return;
  if (!Connect().ok()) return;
  auto checkpointer = std::make_unique<WalCheckpointer>(path_, 1000);
  Status started = checkpointer->Start();
  if (!started.ok()) {
    Log::Warn("checkpoints stay in the writer's commits", {{"error", started.message()}});
    return;
  }
  checkpointer_ = std::move(checkpointer);
  HandCheckpointsTo(*checkpointer_);
}

namespace {

// The WAL's fdatasync. The file is opened on the first Sync (SQLite
// creates it with the first write) and kept open, so each fdatasync also
// reports writeback errors since the previous one.
class WalSync : public CommitSync {
 public:
  WalSync(std::string path, Env& env) : path_(std::move(path)), env_(env) {}
  ~WalSync() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Sync() override {
    if (fd_ < 0) {
      fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        // No WAL: everything committed is in the main file, checkpointed
        // (and synced) by the connection that removed the WAL.
        if (errno == ENOENT) return Status::OK();
        return Status::Unavailable("cannot open " + path_ + " to sync it: " + std::strerror(errno));
      }
    }
    return env_.SyncFileData(fd_, path_);
  }

 private:
  const std::string path_;
  Env& env_;
  int fd_ = -1;
};

}  // namespace

Result<std::shared_ptr<CommitSync>> SqliteEngine::LeaveSyncToCaller(Env& env) {
  if (path_ == ":memory:") return Status::Unavailable("an in-memory store has no WAL to sync");
  Status connected = Connect();
  if (!connected.ok()) return connected;
  try {
    ExecOnce(db_.get(), kSynchronousNormal);
  } catch (const SqlError& e) {
    return PrefixedStatus(e.status(), "leave sync to caller: ");
  }
  sync_by_caller_ = true;
  const char* main_file = sqlite3_db_filename(db_.get(), "main");
  if (main_file == nullptr || *main_file == '\0') return Status::Unavailable("store has no file");
  return std::shared_ptr<CommitSync>(std::make_shared<WalSync>(std::string(main_file) + "-wal", env));
}

}  // namespace courier
