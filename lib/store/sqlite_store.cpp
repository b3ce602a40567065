#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <Poco/Data/DataException.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Data/TypeHandler.h>
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSONString.h>
#include <Poco/Nullable.h>

#include "core/json.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/msg_json.h"
#include "core/msg_status.h"
#include "core/uuid.h"
#include "store/schema.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_statement.h"
#include "store/wal_checkpointer.h"

#include <Poco/Data/SQLite/Utility.h>
#include <sqlite3.h>

namespace courier {

namespace {

using namespace Poco::Data::Keywords;  // use, useRef, into, now
using namespace sqlite_rows;  // NOLINT: the row types and their conversion
using NString = Poco::Nullable<std::string>;

// ---------------------------------------------------------------------------
// SQLite-only. Everything below in this block is specific to SQLite; the
// rest of the file is SQL that PostgreSQL accepts too. A PostgreSQL store
// replaces these: BEGIN ISOLATION LEVEL SERIALIZABLE (or row locks with
// SELECT ... FOR UPDATE SKIP LOCKED in the claim), information_schema for
// the version-table check, and connection parameters instead of pragmas.
namespace sqlite_only {

// Takes the database's write lock at BEGIN, so a writer waits (up to the
// busy timeout) for others to finish instead of failing later when a
// deferred transaction tries to upgrade from read to write, which in WAL
// mode returns SQLITE_BUSY without waiting.
constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";
constexpr const char* kBeginRead = "BEGIN";
constexpr const char* kHasVersionTable =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";

// Per-connection settings. PRAGMA takes no bound parameters; the only value
// formatted into one is our own integer timeout.
std::string BusyTimeoutPragma(int ms) { return "PRAGMA busy_timeout = " + std::to_string(ms); }

// Waiting for another connection's write lock. SQLite's own busy_timeout
// handler sleeps in growing steps up to 100 ms, so a webhook queued behind
// courier-send's commit (a few ms) waited up to 100 ms more; measured p99
// of courier-recv under a concurrent send was near a second. This one
// polls every 50 us, backing off to 1 ms, and gives up after the timeout.
struct BusyWait {
  int timeout_ms = 0;
  std::chrono::steady_clock::time_point first;

  static int Handler(void* self, int count) {
    auto* wait = static_cast<BusyWait*>(self);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) wait->first = now;
    if (now - wait->first >= std::chrono::milliseconds(wait->timeout_ms)) return 0;  // SQLITE_BUSY
    const int shift = count < 5 ? count : 5;
    std::this_thread::sleep_for(std::chrono::microseconds(std::min(50 << shift, 1000)));
    return 1;
  }
};
constexpr const char* kJournalWal = "PRAGMA journal_mode = WAL";
// The highest event seq ever assigned (AUTOINCREMENT keeps it in
// sqlite_sequence, which has no row until the first event); 0 when none.
constexpr const char* kLastEventSeq =
    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), "
    "COALESCE((SELECT MAX(seq) FROM events), 0))";
constexpr const char* kSynchronousFull = "PRAGMA synchronous = FULL";
// In WAL mode NORMAL skips only the fsync of the WAL at each commit; the
// WAL is still synced before every checkpoint copies it into the database.
// Used only where the caller syncs the WAL itself (LeaveSyncToCaller).
constexpr const char* kSynchronousNormal = "PRAGMA synchronous = NORMAL";
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

}  // namespace sqlite_only
// ---------------------------------------------------------------------------

constexpr const char* kNotInitialised = "store not initialised: run courier-ctl init";
constexpr const char* kInterruptedReason = "interrupted, outcome unknown";
constexpr const char* kOperatorFailedReason = "failed by operator";

// A request error found inside a transaction body; rolls it back.
struct RequestError {
  Status status;
};

// An empty value for methods that return only a Status.
struct Unit {};

// "scheme:path" with both parts non-empty.
Status CheckUrn(const std::string& urn) {
  auto colon = urn.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == urn.size()) {
    return Status::InvalidArgument("invalid urn: '" + urn + "'");
  }
  return Status::OK();
}

// --- Event payloads ------------------------------------------------------------

// An event's fields after its seq and topic, written straight into the
// payload.
using EventFields = std::function<void(JsonWriter&)>;

// A msg event carries the msg in the shape scripts see from `msgs list
// --json` (MsgToJson), with its id and uuid named msg_id and msg_uuid.
EventFields MsgEventFields(const Msg& m) {
  return [&m](JsonWriter& w) { WriteMsgFields(w, m, "msg_id", "msg_uuid"); };
}

EventFields StatusEventFields(const Msg& m) {
  return [&m](JsonWriter& w) {
    w.Field("msg_id", m.id);
    w.Field("msg_uuid", m.uuid);
    w.Field("channel_uuid", m.channel_uuid);
    w.Field("channel_type", m.channel_type);
    w.Field("urn", m.urn);
    w.Field("status", Letter(m.status));
    w.Key("external_id").StringOrNull(m.external_id);
    w.Key("error_reason").StringOrNull(m.error_reason);
    w.Field("error_count", m.error_count);
    w.Key("sent_on").Time(m.sent_on);
    w.Key("next_attempt_on").Time(m.next_attempt_on);
    w.Key("modified_on").Time(m.modified_on);
  };
}

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

// Call only from inside a catch block: rethrows the current exception and
// names it as a Status.
Status CurrentExceptionStatus(const std::string& op) {
  namespace sq = Poco::Data::SQLite;
  const std::string prefix = op + ": ";
  try {
    throw;
  } catch (const RequestError& e) {
    return e.status;
  } catch (const CorruptData& e) {
    return Status::Corruption(prefix + e.what());
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

enum class Txn { kNone, kRead, kWrite };

}  // namespace

// ===========================================================================

struct SqliteStore::Impl {
  Impl(std::string p, Clock& c, int busy, StoreAccess a)
      : path(std::move(p)), clock(c), busy_timeout_ms(busy), access(a) {}

  std::string path;
  Clock& clock;
  int busy_timeout_ms;
  StoreAccess access;
  // Connected as an immutable snapshot (read-only, no WAL reachable): each
  // call reconnects, so it reads what is committed now.
  bool snapshot = false;
  sqlite_only::BusyWait busy_wait;  // the connection's busy handler state
  // Before `session`: the connection's wal hook points at it.
  std::unique_ptr<WalCheckpointer> checkpointer;
  std::unique_ptr<Poco::Data::Session> session;
  // After `session`, so it is destroyed (its statements finalized) first.
  std::unique_ptr<SqliteStatements> statements;
  bool schema_ready = false;
  // The next event seq inside the current write transaction; 0 when it
  // must be read again (a new transaction, or after a rollback).
  Int64 next_event_seq = 0;
  // The channel whose msg came first in the last claim: the next claim's
  // rotation starts after it.
  Int64 last_first_channel = 0;
  // When set, AppendEvent also records each event here (for publishing
  // after the commit).
  std::vector<Event>* collect_events = nullptr;
  // LeaveSyncToCaller: commits do not fsync the WAL; the caller does.
  bool sync_by_caller = false;
  // Channels read during one WriteIntakesAndClaim batch, by uuid.
  std::unordered_map<std::string, ChannelRow>* batch_channels = nullptr;

  Poco::Data::Session& S() { return *session; }

  void HandCheckpointsTo(WalCheckpointer& to) {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(*session);
    sqlite3_wal_hook(
        db,
        [](void* target, sqlite3*, const char*, int pages) {
          static_cast<WalCheckpointer*>(target)->Notify(pages);
          return SQLITE_OK;
        },
        &to);  // replaces the autocheckpoint hook: no checkpoint in commits
  }
  // A cached prepared statement (hot paths); see sqlite_statement.h.
  SqliteQuery Q(const std::string& sql) { return (*statements)(sql); }

  // --- connection and schema -------------------------------------------------

  Status Connect() {
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

  // The stored schema version; 0 when the version table is absent.
  Int64 ReadVersion() {
    Int64 has_table = 0;
    S() << sqlite_only::kHasVersionTable, into(has_table), now;
    if (has_table == 0) return 0;
    NInt version;
    S() << "SELECT MAX(version) FROM schema_version", into(version), now;
    return version.isNull() ? 0 : version.value();
  }

  static Status VersionStatus(Int64 version) {
    const int current = schema::CurrentVersion();
    if (version == 0) return Status::Unavailable(kNotInitialised);
    if (version < current) {
      return Status::Unavailable("store schema is version " + std::to_string(version) +
                                 ", this program needs " + std::to_string(current) +
                                 ": run courier-ctl init");
    }
    if (version > current) {
      return Status::Unavailable("store schema is version " + std::to_string(version) +
                                 ", newer than this program's " + std::to_string(current) +
                                 ": upgrade courier");
    }
    return Status::OK();
  }

  Status CheckSchema() {
    if (schema_ready) return Status::OK();
    try {
      Status st = VersionStatus(ReadVersion());
      if (st.ok()) schema_ready = true;
      return st;
    } catch (...) {
      return CurrentExceptionStatus("schema check");
    }
  }

  void Rollback() {
    next_event_seq = 0;
    try {
      statements->Exec("ROLLBACK");
    } catch (...) {
      // Nothing to roll back (BEGIN failed, or SQLite already rolled back
      // after an I/O or full-disk error): the transaction is gone either way.
    }
  }

  // Runs `body` (returning Result<T>) after connecting and checking the
  // schema, inside a transaction of the given kind. An error Status from
  // the body, or any exception, rolls the transaction back.
  template <typename T, typename Body>
  Result<T> Run(const char* op, Txn txn, Body&& body, bool need_schema = true) {
    if (snapshot) {
      statements.reset();
      session.reset();
    }
    Status st = Connect();
    if (!st.ok()) return st;
    if (need_schema) {
      st = CheckSchema();
      if (!st.ok()) return st;
    }
    bool in_txn = false;
    try {
      if (txn != Txn::kNone) {
        statements->Exec(txn == Txn::kWrite ? sqlite_only::kBeginWrite : sqlite_only::kBeginRead);
        next_event_seq = 0;
        in_txn = true;
      }
      Result<T> result = body();
      if (in_txn) {
        if (result.ok()) {
          statements->Exec("COMMIT");
        } else {
          Rollback();
        }
        in_txn = false;
      }
      return result;
    } catch (...) {
      Status failed = CurrentExceptionStatus(op);
      if (in_txn) Rollback();
      return failed;
    }
  }

  template <typename Body>
  Status RunStatus(const char* op, Txn txn, Body&& body) {
    Result<Unit> r = Run<Unit>(op, txn, [&]() -> Result<Unit> {
      Status st = body();
      if (!st.ok()) return st;
      return Unit{};
    });
    return r.status();
  }

  Micros Now() const { return clock.Now(); }

  // --- channels --------------------------------------------------------------

  std::optional<ChannelRow> FindChannelByUUID(const std::string& uuid, bool active_only) {
    if (batch_channels) {
      auto it = batch_channels->find(uuid);
      if (it != batch_channels->end()) {
        if (active_only && !it->second.is_active) return std::nullopt;
        return it->second;
      }
    }
    auto q = Q(std::string(kChannelSelect) + " WHERE uuid = ?");
    q.Bind(uuid);
    if (!q.Step()) return std::nullopt;
    ChannelRow row = ReadRow<ChannelRow>(q);
    if (batch_channels) batch_channels->emplace(uuid, row);
    if (active_only && !row.is_active) return std::nullopt;
    return row;
  }

  std::optional<ChannelRow> FindChannelById(Int64 id, bool active_only) {
    auto q = Q(std::string(kChannelSelect) + " WHERE id = ?");
    q.Bind(static_cast<int64_t>(id));
    if (!q.Step()) return std::nullopt;
    ChannelRow row = ReadRow<ChannelRow>(q);
    if (active_only && !row.is_active) return std::nullopt;
    return row;
  }

  // The channel a msg names: by uuid when set, else by id.
  std::optional<ChannelRow> ChannelOfMsg(const Msg& m, bool active_only) {
    if (!m.channel_uuid.empty()) return FindChannelByUUID(m.channel_uuid, active_only);
    if (m.channel_id != 0) return FindChannelById(m.channel_id, active_only);
    return std::nullopt;
  }

  // --- contacts --------------------------------------------------------------

  struct ContactRef {
    Int64 contact_id = 0;
    Int64 urn_id = 0;
  };

  // The contact owning `urn`, created (with `name`) on first sight. The
  // URN's channel becomes `channel_id` when one is given (the channel the
  // contact was last seen on).
  ContactRef EnsureContact(const std::string& urn, const std::string& name, NInt channel_id,
                           Micros ts) {
    std::optional<ContactRef> found;
    {
      auto q = Q("SELECT id, contact_id FROM contact_urns WHERE urn = ?");
      q.Bind(urn);
      if (q.Step()) found = ContactRef{q.Int(1), q.Int(0)};
    }
    if (found) {
      if (!channel_id.isNull()) {
        const int64_t ch = channel_id.value();
        Q("UPDATE contact_urns SET channel_id = ? "
          "WHERE id = ? AND (channel_id IS NULL OR channel_id <> ?)")
            .Bind(ch)
            .Bind(static_cast<int64_t>(found->urn_id))
            .Bind(ch)
            .Run();
      }
      return *found;
    }
    ContactRef ref;
    const int64_t t = ts;
    ref.contact_id = Q("INSERT INTO contacts (uuid, name, is_stopped, created_on, modified_on) "
                       "VALUES (?, ?, FALSE, ?, ?)")
                         .Bind(NewUUID())
                         .Bind(name)
                         .Bind(t)
                         .Bind(t)
                         .Insert();
    auto colon = urn.find(':');
    auto insert_urn = Q("INSERT INTO contact_urns (urn, scheme, path, contact_id, channel_id) "
                        "VALUES (?, ?, ?, ?, ?)");
    insert_urn.Bind(urn).Bind(urn.substr(0, colon)).Bind(urn.substr(colon + 1)).Bind(static_cast<int64_t>(ref.contact_id));
    if (channel_id.isNull()) insert_urn.BindNull();
    else insert_urn.Bind(static_cast<int64_t>(channel_id.value()));
    ref.urn_id = insert_urn.Insert();
    return ref;
  }

  Contact LoadContact(Int64 contact_id) {
    Contact c;
    {
      auto q = Q("SELECT id, uuid, name, is_stopped, created_on FROM contacts WHERE id = ?");
      q.Bind(static_cast<int64_t>(contact_id));
      if (!q.Step()) throw CorruptData("contact " + std::to_string(contact_id) + " vanished");
      c.id = q.Int(0);
      c.uuid = q.Text(1);
      c.name = q.Text(2);
      c.stopped = q.Int(3) != 0;
      c.created_on = q.Int(4);
    }
    auto q = Q("SELECT urn FROM contact_urns WHERE contact_id = ? ORDER BY id");
    q.Bind(static_cast<int64_t>(contact_id));
    while (q.Step()) c.urns.push_back(q.Text(0));
    return c;
  }

  // --- msgs ------------------------------------------------------------------


  std::optional<MsgRow> LoadMsgRow(Int64 id) {
    auto q = Q(std::string(kMsgSelect) + " WHERE m.id = ?");
    q.Bind(static_cast<int64_t>(id));
    if (!q.Step()) return std::nullopt;
    return ReadRow<MsgRow>(q);
  }

  std::optional<Msg> LoadMsg(Int64 id) {
    auto row = LoadMsgRow(id);
    if (!row) return std::nullopt;
    return ToMsg(*row);
  }

  Msg MustLoadMsg(Int64 id) {
    auto m = LoadMsg(id);
    if (!m) throw CorruptData("msg " + std::to_string(id) + " vanished inside its transaction");
    return *m;
  }

  std::optional<int64_t> MsgIdByUuid(const std::string& uuid) {
    return Q("SELECT id FROM msgs WHERE uuid = ?").Bind(uuid).OneInt();
  }

  bool MsgUuidExists(const std::string& uuid) { return MsgIdByUuid(uuid).has_value(); }

  // Inserts `m` as given (uuid, status, times...) on channel `ch` for the
  // contact `ref`; returns the new id.
  Int64 InsertMsg(const Msg& m, const ContactRef& ref, Int64 channel_id) {
    auto q = Q("INSERT INTO msgs (uuid, channel_id, contact_id, contact_urn_id, direction, status, "
               "urn, text, attachments, external_id, contact_name, priority, error_count, "
               "error_reason, next_attempt_on, created_on, modified_on, received_on, sent_on, "
               "quick_replies) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.Bind(m.uuid)
        .Bind(static_cast<int64_t>(channel_id))
        .Bind(static_cast<int64_t>(ref.contact_id))
        .Bind(static_cast<int64_t>(ref.urn_id))
        .Bind(Letter(m.direction))
        .Bind(Letter(m.status))
        .Bind(m.urn)
        .Bind(m.text)
        .Bind(AttachmentsToJson(m.attachments))
        .BindTextOrNull(m.external_id)
        .Bind(m.contact_name)
        .Bind(static_cast<int64_t>(m.priority))
        .Bind(static_cast<int64_t>(m.error_count))
        .Bind(m.error_reason)
        .Bind(m.next_attempt_on)
        .Bind(m.created_on)
        .Bind(m.modified_on)
        .Bind(m.received_on)
        .Bind(m.sent_on)
        .Bind(AttachmentsToJson(m.quick_replies));
    return q.Insert();
  }

  // An incoming msg already stored for this channel and provider id.
  std::optional<std::pair<Int64, std::string>> FindIncomingByExternalId(Int64 channel_id,
                                                                        const std::string& ext) {
    if (ext.empty()) return std::nullopt;
    auto q = Q("SELECT id, uuid FROM msgs WHERE channel_id = ? AND external_id = ? "
               "AND direction = 'I' ORDER BY id LIMIT 1");
    q.Bind(static_cast<int64_t>(channel_id)).Bind(ext);
    if (!q.Step()) return std::nullopt;
    return std::make_pair(static_cast<Int64>(q.Int(0)), q.Text(1));
  }

  void CloseAttempts(Int64 msg_id, const std::string& outcome, Micros ts) {
    Q("UPDATE attempts SET finished_on = ?, outcome = ? "
      "WHERE msg_id = ? AND finished_on IS NULL")
        .Bind(ts)
        .Bind(outcome)
        .Bind(static_cast<int64_t>(msg_id))
        .Run();
  }

  // --- logs and events -----------------------------------------------------

  // Writes one log; the channel is `default_channel` unless the log names
  // its own; the msg is `msg_id` when given, else the log's.
  void InsertLog(const ChannelLog& log, Int64 default_channel, const NInt& msg_id, Micros ts) {
    Int64 channel_id = default_channel;
    if (log.channel_id != 0) {
      channel_id = log.channel_id;
    } else if (!log.channel_uuid.empty()) {
      auto ch = FindChannelByUUID(log.channel_uuid, false);
      if (!ch) throw RequestError{errors::ChannelNotFound()};
      channel_id = ch->id;
    }
    if (channel_id == 0) {
      throw RequestError{Status::InvalidArgument("channel log names no channel")};
    }
    std::optional<int64_t> m;
    if (!msg_id.isNull()) m = msg_id.value();
    else if (log.msg_id) m = *log.msg_id;
    std::string description = log.description;
    if (description.empty()) description = log.is_error() ? "Error: " + log.error : "Success";
    Q("INSERT INTO channel_logs (channel_id, msg_id, description, is_error, error, method, "
      "url, request, response, response_status, elapsed_ms, created_on) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .Bind(static_cast<int64_t>(channel_id))
        .Bind(m)
        .Bind(description)
        .Bind(log.is_error())
        .Bind(log.error)
        .Bind(log.method)
        .Bind(log.url)
        .Bind(log.request)
        .Bind(log.response)
        .Bind(static_cast<int64_t>(log.status_code))
        .Bind(static_cast<int64_t>(log.elapsed_ms))
        .Bind(log.created_on != 0 ? log.created_on : ts)
        .Run();
  }

  // Inserts an event whose payload carries its own seq:
  // {"seq": N, "topic": T, ...fields}. The seq is known before the insert
  // because the caller's write transaction holds the database's write lock
  // (BEGIN IMMEDIATE), so one INSERT does what an INSERT and an UPDATE of
  // the payload did. AUTOINCREMENT's high-water mark still moves with the
  // explicit seq, so seqs never go back even after deletes.
  Int64 AppendEvent(const std::string& topic, const EventFields& fields, Micros ts) {
    if (next_event_seq == 0) {
      next_event_seq = 1 + *Q(sqlite_only::kLastEventSeq).OneInt();
    }
    const Int64 seq = next_event_seq;
    JsonWriter payload;
    payload.BeginObject();
    payload.Field("seq", seq);
    payload.Field("topic", topic);
    fields(payload);
    payload.EndObject();
    std::string text = payload.Take();
    Q("INSERT INTO events (seq, topic, payload, created_on) VALUES (?, ?, ?, ?)")
        .Bind(static_cast<int64_t>(seq))
        .Bind(topic)
        .Bind(text)
        .Bind(ts)
        .Run();
    ++next_event_seq;
    if (collect_events) collect_events->push_back(Event{seq, topic, text, ts});
    return seq;
  }

  // --- the claim -----------------------------------------------------------

  std::vector<Msg> Claim(const ClaimRequest& req) {
    std::vector<Msg> claimed;
    const Micros ts = req.now != 0 ? req.now : Now();

    std::vector<Int64> channel_ids, max_workers;
    std::map<Int64, std::pair<std::string, std::string>> channel_names;  // id -> uuid, type
    {
      auto q = Q("SELECT id, max_workers, uuid, channel_type FROM channels WHERE is_active = TRUE ORDER BY id");
      while (q.Step()) {
        channel_ids.push_back(q.Int(0));
        max_workers.push_back(q.Int(1));
        channel_names[q.Int(0)] = {q.Text(2), q.Text(3)};
      }
    }
    if (channel_ids.empty()) return claimed;

    std::map<Int64, Int64> in_flight;
    {
      auto q = Q("SELECT channel_id, COUNT(*) FROM msgs WHERE claimed_by IS NOT NULL "
                 "GROUP BY channel_id");
      while (q.Step()) in_flight[q.Int(0)] = q.Int(1);
    }

    // Rotation: start with the first channel after the one served first
    // last time, so with a small limit every channel gets its turn.
    std::size_t start = 0;
    while (start < channel_ids.size() && channel_ids[start] <= last_first_channel) ++start;
    if (start == channel_ids.size()) start = 0;

    // Candidates per channel, in rotation order: highest priority first,
    // then oldest (lowest id). The WHERE repeats idx_msgs_queue's predicate.
    std::vector<std::pair<Int64, std::vector<Int64>>> candidates;
    Int64 due = ts;
    for (std::size_t k = 0; k < channel_ids.size(); ++k) {
      std::size_t i = (start + k) % channel_ids.size();
      Int64 channel_id = channel_ids[i];
      Int64 workers = max_workers[i] > 0 ? max_workers[i] : req.default_max_workers;
      Int64 capacity = workers - in_flight[channel_id];
      auto cap = req.channel_caps.find(channel_id);
      if (cap != req.channel_caps.end()) capacity = std::min<Int64>(capacity, cap->second);
      capacity = std::min<Int64>(capacity, req.limit);
      if (capacity <= 0) continue;
      std::vector<Int64> ids;
      auto q = Q("SELECT id FROM msgs WHERE channel_id = ? AND status IN ('Q', 'E') "
                 "AND direction = 'O' AND claimed_by IS NULL AND next_attempt_on <= ? "
                 "ORDER BY priority DESC, id LIMIT ?");
      q.Bind(static_cast<int64_t>(channel_id)).Bind(static_cast<int64_t>(due)).Bind(static_cast<int64_t>(capacity));
      while (q.Step()) ids.push_back(q.Int(0));
      if (!ids.empty()) candidates.emplace_back(channel_id, std::move(ids));
      // The interleave below takes one msg per channel per round, so once
      // `limit` channels have msgs the first round fills the claim: the
      // channels after them would not be used.
      if (candidates.size() >= static_cast<std::size_t>(req.limit)) break;
    }

    // Interleave: one from each channel per round, until the limit.
    std::vector<std::pair<Int64, Int64>> picked;  // msg id, channel id
    for (std::size_t round = 0; picked.size() < static_cast<std::size_t>(req.limit); ++round) {
      bool any = false;
      for (const auto& [channel_id, ids] : candidates) {
        if (round >= ids.size()) continue;
        any = true;
        picked.emplace_back(ids[round], channel_id);
        if (picked.size() == static_cast<std::size_t>(req.limit)) break;
      }
      if (!any) break;
    }

    const int64_t claimed_on = ts;
    // RETURNING gives the claimed row in kMsgSelect's column order (the
    // channel's uuid and type, blank here, come from channel_names), so
    // the msg is not read again. A msg in Q keeps its status out of SET:
    // SQLite rewrites the entries of every index on a column named in SET.
    constexpr const char* kReturning =
        " RETURNING id, uuid, channel_id, '', '', direction, status, urn, text, attachments, "
        "external_id, contact_name, priority, error_count, error_reason, created_on, modified_on, "
        "received_on, sent_on, next_attempt_on, claimed_by, quick_replies, "
        "(SELECT is_stopped FROM contacts WHERE id = msgs.contact_id)";
    // The msg's contact is its URN's owner and contact_urn_id that URN
    // (every path that stores a msg sets both through EnsureContact). By
    // id, not by URN: in a RETURNING clause SQLite plans `u.urn = msgs.urn`
    // as a scan of contact_urns, once per claimed msg (EXPLAIN QUERY PLAN);
    // by id each is one primary-key lookup inside the claiming statement.
    // The URN's auth only for the channel types that send to it: the
    // lookup is one more random page of contact_urns per msg, which
    // doubled the claim's p50 (2.4 -> 5.0 ms, limit 100, 500k URNs).
    constexpr const char* kReturningUrnAuth = ", (SELECT auth FROM contact_urns WHERE id = msgs.contact_urn_id)";
    constexpr int kStoppedColumn = 22;  // after MsgRow's columns
    constexpr int kUrnAuthColumn = 23;
    std::set<Int64> wants_urn_auth;  // channel ids
    for (const auto& [id, name] : channel_names)
      if (req.urn_auth_types.count(name.second)) wants_urn_auth.insert(id);
    for (const auto& [id, channel_id] : picked) {
      std::optional<MsgRow> row;
      bool contact_stopped = false;
      std::string urn_auth;
      const bool with_urn_auth = wants_urn_auth.count(channel_id) > 0;
      for (const char* update :
           {"UPDATE msgs SET claimed_by = ?, claimed_on = ?, modified_on = ? "
            "WHERE id = ? AND claimed_by IS NULL AND status = 'Q'",
            "UPDATE msgs SET claimed_by = ?, claimed_on = ?, modified_on = ?, status = 'Q' "
            "WHERE id = ? AND claimed_by IS NULL AND status = 'E'"}) {
        auto q = Q(std::string(update) + kReturning + (with_urn_auth ? kReturningUrnAuth : ""));
        q.Bind(req.worker).Bind(claimed_on).Bind(claimed_on).Bind(static_cast<int64_t>(id));
        if (q.Step()) {
          row = ReadRow<MsgRow>(q);
          contact_stopped = q.Int(kStoppedColumn) != 0;
          if (with_urn_auth) urn_auth = q.Text(kUrnAuthColumn);
          break;
        }
      }
      if (!row) continue;  // cannot happen under the write lock; be safe
      Q("INSERT INTO attempts (msg_id, worker, started_on) VALUES (?, ?, ?)")
          .Bind(static_cast<int64_t>(id))
          .Bind(req.worker)
          .Bind(claimed_on)
          .Run();
      std::tie(row->channel_uuid, row->channel_type) = channel_names[row->channel_id];
      claimed.push_back(ToMsg(*row));
      claimed.back().contact_stopped = contact_stopped;
      claimed.back().urn_auth = std::move(urn_auth);
    }
    return claimed;
  }
};

// ===========================================================================

SqliteStore::SqliteStore(std::string path, Clock& clock, int busy_timeout_ms, StoreAccess access)
    : impl_(std::make_unique<Impl>(path, clock, busy_timeout_ms, access)), path_(std::move(path)) {}

SqliteStore::~SqliteStore() = default;

Status SqliteStore::Open() { return impl_->Connect(); }

// --- Schema --------------------------------------------------------------------

Status SqliteStore::Migrate() {
  Impl& d = *impl_;
  Result<Unit> r = d.Run<Unit>(
      "migrate", Txn::kWrite,
      [&]() -> Result<Unit> {
        d.S() << schema::VersionTableDDL(), now;
        Int64 current = d.ReadVersion();
        if (current > schema::CurrentVersion()) return Impl::VersionStatus(current);
        for (const auto& m : schema::Migrations(schema::Dialect::kSQLite)) {
          if (m.version <= current) continue;
          for (const auto& ddl : m.statements) d.S() << ddl, now;
          if (m.edits_schema_text) {
            Int64 cookie = 0;
            d.S() << "PRAGMA schema_version", into(cookie), now;
            d.S() << "PRAGMA schema_version = " + std::to_string(cookie + 1), now;
          }
          Int64 version = m.version;
          std::string description = m.description;
          Int64 applied_on = d.Now();
          d.S() << "INSERT INTO schema_version (version, description, applied_on) "
                   "VALUES (?, ?, ?)",
              use(version), use(description), use(applied_on), now;
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
    Int64 one = 0;
    d.S() << "SELECT 1", into(one), now;
    return Status::OK();
  });
}

// --- Channels ------------------------------------------------------------------

Result<Channel> SqliteStore::AddChannel(const Channel& channel) {
  Impl& d = *impl_;
  return d.Run<Channel>("add channel", Txn::kWrite, [&]() -> Result<Channel> {
    if (channel.type.empty()) return Status::InvalidArgument("channel type is required");
    Channel c = channel;
    if (c.uuid.empty()) {
      c.uuid = NewRandomUUID();  // operators tell channels apart by its first digits
    } else {
      auto normal = NormalizeUUID(c.uuid);
      if (!normal) return Status::InvalidArgument("invalid channel uuid: '" + c.uuid + "'");
      c.uuid = *normal;
    }
    if (c.max_workers < 0) return Status::InvalidArgument("max_workers must be 0 or more");
    if (c.tps < 0) return Status::InvalidArgument("tps must be 0 or more");
    std::string schemes = JoinList(c.schemes);
    std::string config = ConfigToJson(c.config);
    Int64 max_workers = c.max_workers, tps = c.tps;
    if (auto existing = d.FindChannelByUUID(c.uuid, false)) {
      if (existing->is_active) return Status::Conflict("channel " + c.uuid + " exists already");
      // A removed channel added again comes back as it is given now, under
      // its old id, so its msgs, logs and contacts are its own again. Its
      // type stays: the msgs it has were handled as that type.
      if (existing->type != c.type) {
        return Status::Conflict("channel " + c.uuid + " was removed as a " + existing->type +
                                " channel; add it again as " + existing->type + " or under another uuid");
      }
      Int64 id = existing->id, modified_on = d.Now();
      d.S() << "UPDATE channels SET name = ?, address = ?, country = ?, schemes = ?, config = ?, "
               "max_workers = ?, tps = ?, is_active = TRUE, modified_on = ? WHERE id = ?",
          use(c.name), use(c.address), use(c.country), use(schemes), use(config), use(max_workers), use(tps),
          use(modified_on), use(id), now;
      if (d.batch_channels) d.batch_channels->erase(c.uuid);
      c.id = id;
      c.created_on = existing->created_on;
      return c;
    }
    c.created_on = d.Now();
    Int64 created_on = c.created_on;
    Int64 id = 0;
    d.S() << "INSERT INTO channels (uuid, channel_type, name, address, country, schemes, config, "
             "max_workers, tps, is_active, created_on, modified_on) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?) RETURNING id",
        use(c.uuid), use(c.type), use(c.name), use(c.address), use(c.country), use(schemes),
        use(config), use(max_workers), use(tps), use(created_on), use(created_on), into(id), now;
    c.id = id;
    return c;
  });
}

Result<Channel> SqliteStore::GetChannel(const std::string& uuid) {
  Impl& d = *impl_;
  return d.Run<Channel>("get channel", Txn::kNone, [&]() -> Result<Channel> {
    auto row = d.FindChannelByUUID(uuid, true);
    if (!row) return errors::ChannelNotFound();
    return ToChannel(*row);
  });
}

Result<Channel> SqliteStore::GetChannelById(int64_t id) {
  Impl& d = *impl_;
  return d.Run<Channel>("get channel", Txn::kNone, [&]() -> Result<Channel> {
    auto row = d.FindChannelById(id, true);
    if (!row) return errors::ChannelNotFound();
    return ToChannel(*row);
  });
}

Result<std::vector<Channel>> SqliteStore::ListChannels() {
  Impl& d = *impl_;
  return d.Run<std::vector<Channel>>(
      "list channels", Txn::kNone, [&]() -> Result<std::vector<Channel>> {
        std::vector<ChannelRow> rows;
        d.S() << std::string(kChannelSelect) + " WHERE is_active = TRUE ORDER BY id", into(rows),
            now;
        std::vector<Channel> out;
        for (const auto& r : rows) out.push_back(ToChannel(r));
        return out;
      });
}

Status SqliteStore::RemoveChannel(const std::string& uuid) {
  Impl& d = *impl_;
  return d.RunStatus("remove channel", Txn::kWrite, [&]() {
    std::string u = uuid;
    Int64 ts = d.Now();
    Poco::Data::Statement st(d.S());
    st << "UPDATE channels SET is_active = FALSE, modified_on = ? "
          "WHERE uuid = ? AND is_active = TRUE",
        use(ts), use(u);
    if (st.execute() == 0) return errors::ChannelNotFound();
    return Status::OK();
  });
}

// --- Contacts ------------------------------------------------------------------

Result<Contact> SqliteStore::GetContactByURN(const std::string& urn) {
  Impl& d = *impl_;
  // No transaction: the two reads of LoadContact may see different
  // commits only if a URN is added in between, which callers tolerate.
  return d.Run<Contact>("get contact", Txn::kNone, [&]() -> Result<Contact> {
    auto id = d.Q("SELECT contact_id FROM contact_urns WHERE urn = ?").Bind(urn).OneInt();
    if (!id) return Status::NotFound("contact not found");
    return d.LoadContact(*id);
  });
}

Result<std::vector<Contact>> SqliteStore::ListContacts(bool stopped_only) {
  Impl& d = *impl_;
  return d.Run<std::vector<Contact>>(
      "list contacts", Txn::kRead, [&]() -> Result<std::vector<Contact>> {
        std::vector<ContactRow> rows;
        std::vector<UrnRow> urns;
        if (stopped_only) {
          d.S() << "SELECT id, uuid, name, is_stopped, created_on FROM contacts "
                   "WHERE is_stopped = TRUE ORDER BY id",
              into(rows), now;
          d.S() << "SELECT u.contact_id, u.urn FROM contact_urns u "
                   "JOIN contacts c ON c.id = u.contact_id WHERE c.is_stopped = TRUE "
                   "ORDER BY u.id",
              into(urns), now;
        } else {
          d.S() << "SELECT id, uuid, name, is_stopped, created_on FROM contacts ORDER BY id",
              into(rows), now;
          d.S() << "SELECT contact_id, urn FROM contact_urns ORDER BY id", into(urns), now;
        }
        std::map<Int64, std::vector<std::string>> by_contact;
        for (const auto& u : urns) by_contact[u.contact_id].push_back(u.urn);
        std::vector<Contact> out;
        for (const auto& r : rows) {
          Contact c = ToContact(r);
          c.urns = by_contact[r.id];
          out.push_back(std::move(c));
        }
        return out;
      });
}

Result<Contact> SqliteStore::StopInTxn(Impl& d, const std::string& urn, bool stopped, const std::string& channel_uuid) {
  Status st = CheckUrn(urn);
  if (!st.ok()) return st;
  NInt channel_id;
  if (!channel_uuid.empty()) {
    auto ch = d.FindChannelByUUID(channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    channel_id = ch->id;
  }
  const Micros ts = d.Now();
  auto ref = d.EnsureContact(urn, "", channel_id, ts);
  bool s = stopped;
  Int64 t = ts;
  d.S() << "UPDATE contacts SET is_stopped = ?, modified_on = ? WHERE id = ?", use(s), use(t),
      use(ref.contact_id), now;
  Contact contact = d.LoadContact(ref.contact_id);
  d.AppendEvent(stopped ? "contact.stopped" : "contact.unstopped",
                [&](JsonWriter& w) {
                  w.Field("contact_id", contact.id);
                  w.Field("contact_uuid", contact.uuid);
                  w.Field("urn", urn);
                  w.Key("channel_uuid").StringOrNull(channel_uuid);
                  w.Field("stopped", stopped);
                },
                ts);
  return contact;
}

Result<UrnAuthResult> SqliteStore::UrnAuthInTxn(Impl& d, const UrnAuthUpdate& update, int64_t channel_id) {
  Status st = CheckUrn(update.urn);
  if (!st.ok()) return st;
  if (update.auth.empty()) return Status::InvalidArgument("empty auth for urn '" + update.urn + "'");
  const Micros ts = d.Now();
  const int64_t sent_on = update.sent_on != 0 ? update.sent_on : ts;
  auto ref = d.EnsureContact(update.urn, update.contact_name, NInt(channel_id), ts);
  UrnAuthResult result;
  result.contact_id = ref.contact_id;
  {
    auto q = d.Q("UPDATE contact_urns SET auth = ?, auth_sent_on = ? "
                 "WHERE id = ? AND (auth_sent_on IS NULL OR auth_sent_on <= ?)");
    q.Bind(update.auth).Bind(sent_on).Bind(static_cast<int64_t>(ref.urn_id)).Bind(sent_on).Run();
    result.applied = q.Changes() > 0;
  }
  if (result.applied && !update.contact_name.empty()) {
    d.Q("UPDATE contacts SET name = ?, modified_on = ? WHERE id = ? AND name <> ?")
        .Bind(update.contact_name)
        .Bind(static_cast<int64_t>(ts))
        .Bind(static_cast<int64_t>(ref.contact_id))
        .Bind(update.contact_name)
        .Run();
  }
  auto q = d.Q("SELECT uuid FROM contacts WHERE id = ?");
  q.Bind(static_cast<int64_t>(ref.contact_id));
  if (!q.Step()) throw CorruptData("contact " + std::to_string(ref.contact_id) + " vanished");
  result.contact_uuid = q.Text(0);
  return result;
}

Result<Contact> SqliteStore::SetContactStopped(const std::string& urn, bool stopped,
                                               const std::string& channel_uuid) {
  Impl& d = *impl_;
  return d.Run<Contact>("set contact stopped", Txn::kWrite, [&]() -> Result<Contact> { return StopInTxn(d, urn, stopped, channel_uuid); });
}

// --- Incoming ------------------------------------------------------------------

Result<IncomingResult> SqliteStore::IncomingInTxn(Impl& d, Msg msg, const std::vector<ChannelLog>& logs) {
  auto ch = d.ChannelOfMsg(msg, false);
  if (!ch) return errors::ChannelNotFound();
  Status st = CheckUrn(msg.urn);
  if (!st.ok()) return st;

  // Already stored: the same provider id on this channel, or the same
  // uuid (a spool file replayed after its first commit).
  if (auto dup = d.FindIncomingByExternalId(ch->id, msg.external_id)) {
    return IncomingResult{dup->first, dup->second, true};
  }
  if (!msg.uuid.empty()) {
    if (auto id = d.MsgIdByUuid(msg.uuid)) return IncomingResult{*id, msg.uuid, true};
  } else {
    msg.uuid = NewUUID();
  }

  const Micros ts = d.Now();
  msg.channel_id = ch->id;
  msg.channel_uuid = ch->uuid;
  msg.channel_type = ch->type;
  msg.direction = Direction::kIn;
  msg.status = MsgStatus::kPending;
  msg.error_count = 0;
  msg.error_reason.clear();
  msg.next_attempt_on.reset();
  msg.sent_on.reset();
  msg.created_on = ts;
  msg.modified_on = ts;
  if (!msg.received_on) msg.received_on = ts;

  auto ref = d.EnsureContact(msg.urn, msg.contact_name, NInt(ch->id), ts);
  msg.id = d.InsertMsg(msg, ref, ch->id);
  for (const auto& log : logs) d.InsertLog(log, ch->id, NInt(msg.id), ts);
  d.AppendEvent("msg.received", MsgEventFields(msg), ts);
  return IncomingResult{msg.id, msg.uuid, false};
}

Result<IncomingResult> SqliteStore::WriteIncoming(Msg msg, const std::vector<ChannelLog>& logs) {
  Impl& d = *impl_;
  return d.Run<IncomingResult>("write incoming", Txn::kWrite, [&]() -> Result<IncomingResult> { return IncomingInTxn(d, std::move(msg), logs); });
}

Result<std::vector<IntakeOutcome>> SqliteStore::WriteIntakes(const std::vector<Intake>& intakes,
                                                            std::vector<Event>* events) {
  return WriteIntakesAndClaim(intakes, nullptr, nullptr, events);
}

Result<std::vector<IntakeOutcome>> SqliteStore::WriteIntakesAndClaim(const std::vector<Intake>& intakes,
                                                                    const ClaimRequest* claim,
                                                                    std::vector<Msg>* claimed,
                                                                    std::vector<Event>* events) {
  Impl& d = *impl_;
  if (claim && claim->worker.empty()) return Status::InvalidArgument("claim needs a worker name");
  std::vector<Event> collected;
  std::vector<Msg> claimed_here;
  // A batch names few channels many times; nothing in it changes them.
  std::unordered_map<std::string, ChannelRow> channels;
  d.batch_channels = &channels;
  d.collect_events = &collected;
  auto result = d.Run<std::vector<IntakeOutcome>>(
      "write intakes", Txn::kWrite, [&]() -> Result<std::vector<IntakeOutcome>> {
        std::vector<IntakeOutcome> outcomes;
        outcomes.reserve(intakes.size());
        for (const auto& intake : intakes) {
          IntakeOutcome out;
          const size_t events_before = collected.size();
          d.statements->Exec("SAVEPOINT intake");
          Status st;
          try {
            st = WriteOneIntake(d, intake, out);
          } catch (...) {
            st = CurrentExceptionStatus("write intake");
          }
          // The store itself failing sinks the whole batch (the caller
          // spools it); a fault in one intake's data sinks that intake only.
          if (!st.ok() && st.IsUnavailable()) return st;
          if (!st.ok()) {
            d.statements->Exec("ROLLBACK TO SAVEPOINT intake");
            d.next_event_seq = 0;
            collected.resize(events_before);
            out = IntakeOutcome{};
            out.status = st;
          }
          d.statements->Exec("RELEASE SAVEPOINT intake");
          outcomes.push_back(std::move(out));
        }
        // After the statuses, so the claim sees the capacity they freed.
        if (claim && claim->limit > 0) claimed_here = d.Claim(*claim);
        return outcomes;
      });
  d.collect_events = nullptr;
  d.batch_channels = nullptr;
  if (!result.ok()) return result;
  if (events) events->insert(events->end(), collected.begin(), collected.end());
  // Only a committed claim moves the rotation.
  if (!claimed_here.empty()) d.last_first_channel = claimed_here.front().channel_id;
  if (claimed) *claimed = std::move(claimed_here);
  return result;
}

Status SqliteStore::WriteOneIntake(Impl& d, const Intake& intake, IntakeOutcome& out) {
  if (!intake.urn_auths.empty()) {
    auto ch = d.FindChannelByUUID(intake.channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    for (const auto& update : intake.urn_auths) {
      auto r = UrnAuthInTxn(d, update, ch->id);
      if (!r.ok()) return r.status();
      out.urn_auths.push_back(std::move(*r));
    }
  }
  for (size_t i = 0; i < intake.msgs.size(); ++i) {
    std::vector<ChannelLog> logs;
    if (i < intake.msg_logs.size()) logs.push_back(intake.msg_logs[i]);
    auto r = IncomingInTxn(d, intake.msgs[i], logs);
    if (!r.ok()) return r.status();
    out.msgs.push_back(*r);
  }
  for (const auto& update : intake.statuses) {
    auto r = StatusInTxn(d, update);
    if (!r.ok()) return r.status();
    out.statuses.push_back(*r);
  }
  for (const auto& urn : intake.stop_urns) {
    auto r = StopInTxn(d, urn, true, intake.channel_uuid);
    if (!r.ok()) return r.status();
  }
  if (!intake.logs.empty()) {
    auto ch = d.FindChannelByUUID(intake.channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    const Micros ts = d.Now();
    for (const auto& log : intake.logs) d.InsertLog(log, ch->id, NInt(), ts);
  }
  return Status::OK();
}

// --- Outgoing ------------------------------------------------------------------

Result<std::vector<Msg>> SqliteStore::QueueOutgoing(std::vector<Msg> msgs) {
  Impl& d = *impl_;
  return d.Run<std::vector<Msg>>("queue outgoing", Txn::kWrite,
                                 [&]() -> Result<std::vector<Msg>> { return QueueInTxn(d, std::move(msgs)); });
}

Result<std::vector<Msg>> SqliteStore::QueueOutgoingInTransaction(std::vector<Msg> msgs) {
  return QueueInTxn(*impl_, std::move(msgs));
}

Micros SqliteStore::StoreNow() const { return impl_->Now(); }

Result<std::vector<Msg>> SqliteStore::QueueInTxn(Impl& d, std::vector<Msg> msgs) {
  {
    const Micros ts = d.Now();
    std::map<std::string, ChannelRow> by_uuid;
    std::map<Int64, ChannelRow> by_id;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      Msg& m = msgs[i];
      std::optional<ChannelRow> ch;
      if (!m.channel_uuid.empty() && by_uuid.count(m.channel_uuid)) {
        ch = by_uuid[m.channel_uuid];
      } else if (m.channel_uuid.empty() && by_id.count(m.channel_id)) {
        ch = by_id[m.channel_id];
      } else {
        ch = d.ChannelOfMsg(m, true);
        if (!ch) return errors::ChannelNotFound();
        by_uuid[ch->uuid] = *ch;
        by_id[ch->id] = *ch;
      }
      Status st = CheckUrn(m.urn);
      if (!st.ok()) return st;
      if (m.uuid.empty()) {
        m.uuid = NewUUID();
      } else if (d.MsgUuidExists(m.uuid)) {
        return Status::Conflict("msg " + m.uuid + " exists already");
      }
      m.channel_id = ch->id;
      m.channel_uuid = ch->uuid;
      m.channel_type = ch->type;
      m.direction = Direction::kOut;
      m.status = MsgStatus::kQueued;
      m.error_count = 0;
      m.error_reason.clear();
      m.created_on = ts;
      m.modified_on = ts;
      m.received_on.reset();
      m.sent_on.reset();
      if (!m.next_attempt_on) m.next_attempt_on = ts;
      auto ref = d.EnsureContact(m.urn, m.contact_name, NInt(ch->id), ts);
      m.id = d.InsertMsg(m, ref, ch->id);
      d.AppendEvent("msg.queued", MsgEventFields(m), ts);
    }
    return msgs;
  }
}

Result<int64_t> SqliteStore::ImportMsgs(const std::vector<Msg>& msgs) {
  Impl& d = *impl_;
  return d.Run<int64_t>("import msgs", Txn::kWrite, [&]() -> Result<int64_t> {
    const Micros ts = d.Now();
    std::map<std::string, ChannelRow> channels;
    int64_t added = 0;
    for (const Msg& original : msgs) {
      Msg m = original;
      if (m.channel_uuid.empty()) {
        return Status::InvalidArgument("msg " + m.uuid + " names no channel_uuid");
      }
      auto found = channels.find(m.channel_uuid);
      if (found == channels.end()) {
        auto ch = d.FindChannelByUUID(m.channel_uuid, false);
        if (!ch) return Status::NotFound(std::string(errors::kChannelNotFound) + ": " + m.channel_uuid);
        found = channels.emplace(m.channel_uuid, *ch).first;
      }
      const ChannelRow& ch = found->second;
      Status st = CheckUrn(m.urn);
      if (!st.ok()) return Status::InvalidArgument("msg " + m.uuid + ": " + st.message());
      if (m.uuid.empty()) {
        m.uuid = NewUUID();
      } else if (d.MsgUuidExists(m.uuid)) {
        continue;
      }
      if (m.direction == Direction::kIn && d.FindIncomingByExternalId(ch.id, m.external_id)) {
        continue;  // the same provider msg under another uuid
      }
      if (m.created_on == 0) m.created_on = ts;
      if (m.modified_on == 0) m.modified_on = m.created_on;
      auto ref = d.EnsureContact(m.urn, m.contact_name, NInt(ch.id), ts);
      d.InsertMsg(m, ref, ch.id);
      ++added;
    }
    return added;
  });
}

Result<std::vector<Msg>> SqliteStore::ClaimQueued(const ClaimRequest& req) {
  Impl& d = *impl_;
  if (req.worker.empty()) return Status::InvalidArgument("claim needs a worker name");
  if (req.limit <= 0) return std::vector<Msg>{};
  Result<std::vector<Msg>> r = d.Run<std::vector<Msg>>(
      "claim queued", Txn::kWrite, [&]() -> Result<std::vector<Msg>> { return d.Claim(req); });
  // Only a committed claim moves the rotation.
  if (r.ok() && !r->empty()) d.last_first_channel = r->front().channel_id;
  return r;
}

Result<StatusResult> SqliteStore::StatusInTxn(Impl& d, const StatusUpdate& update) {
  auto ch = d.FindChannelByUUID(update.channel_uuid, false);
  if (!ch) return errors::ChannelNotFound();
  if (!update.msg_id && update.external_id.empty()) {
    return Status::InvalidArgument("attempt to update msg status without id or external id");
  }
  const Micros ts = d.Now();

  std::vector<MsgRow> rows;
  const int64_t channel_id = ch->id;
  if (update.msg_id) {
    auto q = d.Q(std::string(kMsgSelect) + " WHERE m.id = ? AND m.channel_id = ? AND m.direction = 'O'");
    q.Bind(static_cast<int64_t>(*update.msg_id)).Bind(channel_id);
    if (q.Step()) rows.push_back(ReadRow<MsgRow>(q));
  } else {
    auto q = d.Q(std::string(kMsgSelect) +
                 " WHERE m.channel_id = ? AND m.external_id = ? AND m.direction = 'O' "
                 "ORDER BY m.id DESC LIMIT 1");
    q.Bind(channel_id).Bind(update.external_id);
    if (q.Step()) rows.push_back(ReadRow<MsgRow>(q));
  }

  StatusResult result;
  if (rows.empty()) {
    for (const auto& log : update.logs) d.InsertLog(log, ch->id, NInt(), ts);
    result.outcome = StatusOutcome::kNotFound;
    result.status = update.status;
    return result;
  }

  const MsgRow& row = rows[0];
  Msg msg = ToMsg(row);
  const MsgStatus from = msg.status;
  const MsgStatus to = update.status;
  const bool in_flight = !row.claimed_by.empty();
  Int64 id = row.id;

  std::string external_id = msg.external_id;
  if (!update.new_external_id.empty()) external_id = update.new_external_id;

  bool release = false;  // the claim ends and the attempt closes
  if (from == to) {
    result.outcome = StatusOutcome::kUnchanged;
    if (to == MsgStatus::kQueued && in_flight) {
      // A send that goes back to the queue (throttled): release the
      // claim and wait for the next attempt.
      release = true;
      d.Q("UPDATE msgs SET claimed_by = NULL, claimed_on = NULL, next_attempt_on = ?, "
          "error_count = error_count + ?, modified_on = ? WHERE id = ?")
          .Bind(update.next_attempt_on ? *update.next_attempt_on : ts)
          .Bind(static_cast<int64_t>(update.count_error ? 1 : 0))
          .Bind(ts)
          .Bind(static_cast<int64_t>(id))
          .Run();
    }
  } else if (!TransitionAllowed(from, to)) {
    result.outcome = StatusOutcome::kIgnored;
  } else {
    result.outcome = StatusOutcome::kUpdated;
    release = true;
    const bool sent = to == MsgStatus::kWired || to == MsgStatus::kSent ||
                      to == MsgStatus::kDelivered || to == MsgStatus::kRead;
    std::optional<int64_t> sent_on = msg.sent_on;
    if (sent && !sent_on) sent_on = ts;
    const bool failed = to == MsgStatus::kErrored || to == MsgStatus::kFailed;
    std::optional<int64_t> next_attempt_on;
    if (to == MsgStatus::kErrored) next_attempt_on = update.next_attempt_on;
    if (to == MsgStatus::kQueued) next_attempt_on = update.next_attempt_on ? *update.next_attempt_on : ts;
    const int error_count = msg.error_count + (update.count_error ? 1 : 0);
    const std::string error_reason = failed ? update.error_reason : std::string();
    // external_id only when it changes: SQLite maintains every index on a
    // column named in SET, changed or not, and two indexes hold it.
    const bool new_external_id = external_id != msg.external_id;
    auto q = d.Q(std::string("UPDATE msgs SET status = ?, modified_on = ?, sent_on = ?, ") +
                 (new_external_id ? "external_id = ?, " : "") +
                 "error_reason = ?, next_attempt_on = ?, error_count = ?, claimed_by = NULL, "
                 "claimed_on = NULL WHERE id = ?");
    q.Bind(Letter(to)).Bind(ts).Bind(sent_on);
    if (new_external_id) q.BindTextOrNull(external_id);
    q.Bind(error_reason).Bind(next_attempt_on).Bind(static_cast<int64_t>(error_count)).Bind(static_cast<int64_t>(id));
    q.Run();
    // The msg as it now is, for the event (no need to read it back).
    msg.status = to;
    msg.modified_on = ts;
    msg.sent_on = sent_on;
    msg.external_id = external_id;
    msg.error_reason = error_reason;
    msg.next_attempt_on = next_attempt_on;
    msg.error_count = error_count;
  }

  if (result.outcome != StatusOutcome::kUpdated && external_id != msg.external_id) {
    d.Q("UPDATE msgs SET external_id = ? WHERE id = ?").BindTextOrNull(external_id).Bind(static_cast<int64_t>(id)).Run();
  }
  // An attempt stays open exactly while its msg is claimed.
  if (release || !in_flight) d.CloseAttempts(id, Letter(to), ts);
  for (const auto& log : update.logs) d.InsertLog(log, ch->id, NInt(id), ts);

  if (result.outcome == StatusOutcome::kUpdated) {
    d.AppendEvent("status.updated", StatusEventFields(msg), ts);
  }
  result.msg_id = id;
  // Unchanged and ignored updates leave the status as it was.
  result.status = msg.status;
  return result;
}

Result<StatusResult> SqliteStore::WriteStatus(const StatusUpdate& update) {
  Impl& d = *impl_;
  return d.Run<StatusResult>("write status", Txn::kWrite, [&]() -> Result<StatusResult> { return StatusInTxn(d, update); });
}

Result<std::vector<std::string>> SqliteStore::OpenAttemptWorkers() {
  Impl& d = *impl_;
  return d.Run<std::vector<std::string>>("open attempt workers", Txn::kNone, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> workers;
    d.S() << "SELECT DISTINCT worker FROM attempts WHERE finished_on IS NULL ORDER BY worker", into(workers), now;
    return workers;
  });
}

Result<std::vector<int64_t>> SqliteStore::FailInterruptedAttempts(const std::string& worker) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>(
      "fail interrupted attempts", Txn::kWrite, [&]() -> Result<std::vector<int64_t>> {
        const Micros ts = d.Now();
        std::vector<Int64> attempt_ids, msg_ids;
        std::vector<std::string> workers;
        if (worker.empty()) {
          d.S() << "SELECT id, msg_id, worker FROM attempts WHERE finished_on IS NULL ORDER BY id",
              into(attempt_ids), into(msg_ids), into(workers), now;
        } else {
          std::string w = worker;
          d.S() << "SELECT id, msg_id, worker FROM attempts "
                   "WHERE finished_on IS NULL AND worker = ? ORDER BY id",
              use(w), into(attempt_ids), into(msg_ids), into(workers), now;
        }
        std::vector<int64_t> failed;
        std::string reason = kInterruptedReason;
        std::string outcome = "interrupted";
        Int64 t = ts;
        for (std::size_t i = 0; i < attempt_ids.size(); ++i) {
          Int64 attempt_id = attempt_ids[i];
          Int64 msg_id = msg_ids[i];
          d.S() << "UPDATE attempts SET finished_on = ?, outcome = ? WHERE id = ?", use(t),
              use(outcome), use(attempt_id), now;
          // Only a msg still claimed by that worker is still in doubt; one
          // that has since had a status keeps it.
          std::vector<Int64> updated;
          d.S() << "UPDATE msgs SET status = 'E', error_reason = ?, next_attempt_on = NULL, "
                   "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
                   "WHERE id = ? AND status = 'Q' AND claimed_by = ? RETURNING id",
              use(reason), use(t), use(msg_id), use(workers[i]), into(updated), now;
          if (updated.empty()) continue;
          failed.push_back(msg_id);
          d.AppendEvent("status.updated", StatusEventFields(d.MustLoadMsg(msg_id)), ts);
        }
        return failed;
      });
}

namespace {

// Re-queues one outgoing E/F msg now; true when it changed.
bool RequeueOne(Poco::Data::Session& s, Int64 id, Micros ts) {
  Int64 t = ts;
  std::vector<Int64> updated;
  s << "UPDATE msgs SET status = 'Q', next_attempt_on = ?, error_reason = '', error_count = 0, "
       "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
       "WHERE id = ? AND direction = 'O' AND status IN ('E', 'F') RETURNING id",
      use(t), use(t), use(id), into(updated), now;
  return !updated.empty();
}

}  // namespace

Result<std::vector<int64_t>> SqliteStore::RetryMsgs(const std::vector<int64_t>& ids) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("retry msgs", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<int64_t> changed;
    std::set<int64_t> seen;
    for (int64_t id : ids) {
      if (!seen.insert(id).second) continue;
      if (!RequeueOne(d.S(), id, ts)) continue;
      changed.push_back(id);
      d.AppendEvent("msg.retried", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

Result<std::vector<int64_t>> SqliteStore::RetryAllErrored() {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("retry errored", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<Int64> ids;
    d.S() << "SELECT id FROM msgs WHERE status = 'E' AND direction = 'O' ORDER BY id", into(ids),
        now;
    std::vector<int64_t> changed;
    for (Int64 id : ids) {
      if (!RequeueOne(d.S(), id, ts)) continue;
      changed.push_back(id);
      d.AppendEvent("msg.retried", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

Result<std::vector<int64_t>> SqliteStore::FailMsgs(const std::vector<int64_t>& ids) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("fail msgs", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<int64_t> changed;
    std::set<int64_t> seen;
    std::string reason = kOperatorFailedReason;
    Int64 t = ts;
    for (int64_t one : ids) {
      if (!seen.insert(one).second) continue;
      Int64 id = one;
      std::vector<Int64> updated;
      d.S() << "UPDATE msgs SET status = 'F', error_reason = ?, next_attempt_on = NULL, "
               "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
               "WHERE id = ? AND direction = 'O' AND status NOT IN ('D', 'R', 'F') RETURNING id",
          use(reason), use(t), use(id), into(updated), now;
      if (updated.empty()) continue;
      d.CloseAttempts(id, "F", ts);
      changed.push_back(id);
      d.AppendEvent("msg.failed", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

// --- Reading -------------------------------------------------------------------

Result<Msg> SqliteStore::GetMsg(int64_t id) {
  Impl& d = *impl_;
  return d.Run<Msg>("get msg", Txn::kNone, [&]() -> Result<Msg> {
    auto m = d.LoadMsg(id);
    if (!m) return errors::MsgNotFound();
    return *m;
  });
}

Result<Msg> SqliteStore::GetMsgByUUID(const std::string& uuid) {
  Impl& d = *impl_;
  return d.Run<Msg>("get msg", Txn::kNone, [&]() -> Result<Msg> {
    std::vector<MsgRow> rows;
    std::string u = uuid;
    d.S() << std::string(kMsgSelect) + " WHERE m.uuid = ?", use(u), into(rows), now;
    if (rows.empty()) return errors::MsgNotFound();
    return ToMsg(rows[0]);
  });
}

Result<std::vector<Msg>> SqliteStore::ListMsgs(const MsgFilter& filter) {
  Impl& d = *impl_;
  return d.Run<std::vector<Msg>>("list msgs", Txn::kRead, [&]() -> Result<std::vector<Msg>> {
    // The SQL grows by fixed fragments; every value is a bound parameter.
    std::string sql = std::string(kMsgSelect) + " WHERE 1 = 1";
    std::string direction, status;
    Int64 channel_id = 0, after_id = 0, limit = filter.limit;
    Poco::Data::Statement st(d.S());
    std::vector<Poco::Data::AbstractBinding::Ptr> binds;
    if (filter.direction) {
      direction = Letter(*filter.direction);
      sql += " AND m.direction = ?";
      binds.push_back(use(direction));
    }
    if (filter.status) {
      status = Letter(*filter.status);
      sql += " AND m.status = ?";
      binds.push_back(use(status));
    }
    if (!filter.channel_uuid.empty()) {
      auto ch = d.FindChannelByUUID(filter.channel_uuid, false);
      if (!ch) return errors::ChannelNotFound();
      channel_id = ch->id;
      sql += " AND m.channel_id = ?";
      binds.push_back(use(channel_id));
    }
    std::string urn = filter.urn;
    if (!urn.empty()) {
      // Through the URN's row (idx_msgs_contact_urn); an unknown URN
      // matches nothing.
      sql += " AND m.contact_urn_id = (SELECT id FROM contact_urns WHERE urn = ?)";
      binds.push_back(use(urn));
    }
    if (filter.after_id) {
      after_id = *filter.after_id;
      sql += " AND m.id > ? ORDER BY m.id ASC";
      binds.push_back(use(after_id));
    } else {
      sql += " ORDER BY m.id DESC";
    }
    if (limit > 0) {
      sql += " LIMIT ?";
      binds.push_back(use(limit));
    }
    std::vector<MsgRow> rows;
    st << sql;
    for (auto& b : binds) st.addBind(b);
    st, into(rows);
    st.execute();
    std::vector<Msg> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(ToMsg(r));
    return out;
  });
}

Result<std::vector<QueueSummary>> SqliteStore::Queue() {
  Impl& d = *impl_;
  return d.Run<std::vector<QueueSummary>>(
      "queue summary", Txn::kRead, [&]() -> Result<std::vector<QueueSummary>> {
        std::vector<Int64> ids;
        std::vector<std::string> uuids, types;
        d.S() << "SELECT id, uuid, channel_type FROM channels WHERE is_active = TRUE ORDER BY id",
            into(ids), into(uuids), into(types), now;
        std::vector<QueueSummary> out;
        std::string interrupted = kInterruptedReason;
        for (std::size_t i = 0; i < ids.size(); ++i) {
          QueueSummary q;
          q.channel_uuid = uuids[i];
          q.channel_type = types[i];
          Int64 id = ids[i];
          Int64 high = 0, bulk = 0, in_flight = 0, retrying = 0, intr = 0, failed = 0;
          // The queue from the covering idx_msgs_queue; F and interrupted
          // through idx_msgs_channel_status. No query reads every msg row.
          d.S() << "SELECT "
                   "COALESCE(SUM(CASE WHEN status = 'Q' AND claimed_by IS NULL AND priority > 0 "
                   "THEN 1 ELSE 0 END), 0), "
                   "COALESCE(SUM(CASE WHEN status = 'Q' AND claimed_by IS NULL AND priority <= 0 "
                   "THEN 1 ELSE 0 END), 0), "
                   "COALESCE(SUM(CASE WHEN claimed_by IS NOT NULL THEN 1 ELSE 0 END), 0), "
                   "COALESCE(SUM(CASE WHEN status = 'E' AND next_attempt_on IS NOT NULL "
                   "THEN 1 ELSE 0 END), 0) "
                   "FROM msgs WHERE channel_id = ? AND status IN ('Q', 'E') AND direction = 'O'",
              use(id), into(high), into(bulk), into(in_flight), into(retrying), now;
          d.S() << "SELECT COUNT(*) FROM msgs "
                   "WHERE channel_id = ? AND status = 'E' AND direction = 'O' AND error_reason = ?",
              use(id), use(interrupted), into(intr), now;
          d.S() << "SELECT COUNT(*) FROM msgs WHERE channel_id = ? AND status = 'F'", use(id),
              into(failed), now;
          // The oldest waiting msg: lowest id first through
          // idx_msgs_channel_status, past at most the claimed ones.
          if (high + bulk > 0) {
            Int64 oldest = 0;
            d.S() << "SELECT created_on FROM msgs WHERE channel_id = ? AND status = 'Q' AND direction = 'O' "
                     "AND claimed_by IS NULL ORDER BY id LIMIT 1",
                use(id), into(oldest), now;
            q.oldest_queued_on = oldest;
          }
          q.queued_high = high;
          q.queued_bulk = bulk;
          q.in_flight = in_flight;
          q.retrying = retrying;
          q.interrupted = intr;
          q.failed = failed;
          out.push_back(std::move(q));
        }
        return out;
      });
}

// --- Channel logs --------------------------------------------------------------

Status SqliteStore::WriteChannelLogs(const std::vector<ChannelLog>& logs) {
  Impl& d = *impl_;
  return d.RunStatus("write channel logs", Txn::kWrite, [&]() {
    const Micros ts = d.Now();
    for (const auto& log : logs) d.InsertLog(log, 0, NInt(), ts);
    return Status::OK();
  });
}

Result<std::vector<ChannelLog>> SqliteStore::ListChannelLogs(std::optional<int64_t> msg_id,
                                                             const std::string& channel_uuid,
                                                             int limit) {
  Impl& d = *impl_;
  return d.Run<std::vector<ChannelLog>>(
      "list channel logs", Txn::kRead, [&]() -> Result<std::vector<ChannelLog>> {
        std::string sql = std::string(kLogSelect) + " WHERE 1 = 1";
        Int64 m = 0, channel_id = 0, lim = limit;
        std::vector<Poco::Data::AbstractBinding::Ptr> binds;
        if (msg_id) {
          m = *msg_id;
          sql += " AND l.msg_id = ?";
          binds.push_back(use(m));
        }
        if (!channel_uuid.empty()) {
          auto ch = d.FindChannelByUUID(channel_uuid, false);
          if (!ch) return errors::ChannelNotFound();
          channel_id = ch->id;
          sql += " AND l.channel_id = ?";
          binds.push_back(use(channel_id));
        }
        sql += " ORDER BY l.id DESC";
        if (lim > 0) {
          sql += " LIMIT ?";
          binds.push_back(use(lim));
        }
        std::vector<LogRow> rows;
        Poco::Data::Statement st(d.S());
        st << sql;
        for (auto& b : binds) st.addBind(b);
        st, into(rows);
        st.execute();
        std::vector<ChannelLog> out;
        for (const auto& r : rows) out.push_back(ToLog(r));
        return out;
      });
}

// --- Events --------------------------------------------------------------------

Result<std::string> SqliteStore::LeaveSyncToCaller() {
  Impl& d = *impl_;
  if (d.path == ":memory:") return Status::Unavailable("an in-memory store has no WAL to sync");
  Status connected = d.Connect();
  if (!connected.ok()) return connected;
  try {
    d.S() << sqlite_only::kSynchronousNormal, Poco::Data::Keywords::now;
  } catch (...) {
    return CurrentExceptionStatus("leave sync to caller");
  }
  d.sync_by_caller = true;
  const char* main_file = sqlite3_db_filename(Poco::Data::SQLite::Utility::dbHandle(*d.session), "main");
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

Result<std::vector<Event>> SqliteStore::EventsAfter(int64_t seq, int limit) {
  Impl& d = *impl_;
  return d.Run<std::vector<Event>>("events", Txn::kNone, [&]() -> Result<std::vector<Event>> {
    Int64 after = seq;
    Int64 lim = limit > 0 ? limit : 1000;
    std::vector<EventRow> rows;
    d.S() << "SELECT seq, topic, payload, created_on FROM events WHERE seq > ? "
             "ORDER BY seq LIMIT ?",
        use(after), use(lim), into(rows), now;
    std::vector<Event> out;
    for (const auto& r : rows) out.push_back(Event{r.seq, r.topic, r.payload, r.created_on});
    return out;
  });
}

Result<int64_t> SqliteStore::LastEventSeq() {
  Impl& d = *impl_;
  // From AUTOINCREMENT's high-water mark too: once retention has pruned
  // every event, the last seq handed out is still the last one.
  return d.Run<int64_t>("last event", Txn::kNone,
                        [&]() -> Result<int64_t> { return *d.Q(sqlite_only::kLastEventSeq).OneInt(); });
}

Result<int64_t> SqliteStore::OldestEventSeq() {
  Impl& d = *impl_;
  return d.Run<int64_t>("oldest event", Txn::kRead, [&]() -> Result<int64_t> {
    auto oldest = d.Q("SELECT MIN(seq) FROM events");
    if (oldest.Step() && !oldest.IsNull(0)) return oldest.Int(0);
    return *d.Q(sqlite_only::kLastEventSeq).OneInt() + 1;
  });
}

Micros SqliteStore::Now() const { return impl_->Now(); }

Status SqliteStore::InTransaction(const char* op, TxnKind kind,
                                  const std::function<Status(SqliteStatements&)>& body) {
  Impl& d = *impl_;
  const Txn txn = kind == TxnKind::kWrite ? Txn::kWrite : kind == TxnKind::kRead ? Txn::kRead : Txn::kNone;
  return d.RunStatus(op, txn, [&]() { return body(*d.statements); });
}

}  // namespace courier
