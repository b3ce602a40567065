#pragma once
// SqliteStore::Impl: one connection to the store's SQLite file and what
// every file of the SQLite store shares on it (the store's own, not
// included outside lib/store):
// - the connection: connecting with the pragmas, the schema check, and the
//   transaction runner Run(): connect, check the schema, BEGIN (IMMEDIATE
//   for writes), run the body, COMMIT, or ROLLBACK on an error Status or
//   any exception, which comes back as a Status (CurrentExceptionStatus
//   maps SQLite's errors as sqlite_store.h lists them);
// - the row helpers the method files share inside a transaction, each
//   defined in the file of its concern: channels and contacts
//   (sqlite_channels.cpp), msgs (sqlite_msgs.cpp), attempts
//   (sqlite_statuses.cpp), channel logs (sqlite_logs.cpp), events
//   (sqlite_events.cpp), the claim (sqlite_claim.cpp).
//
// Every statement goes through Q(), the connection's cached prepared
// statements (sql_statement.h's API; SQLite's engine in
// sqlite_statement.h, which says why not POCO Data, with figures).
//
// Thread-safety: none; one Impl per SqliteStore, used by one thread.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include "core/json_writer.h"
#include "store/sqlite_rows.h"
#include "store/sqlite_statement.h"
#include "store/sqlite_store.h"
#include "store/wal_checkpointer.h"

namespace courier {

// SQLite-only: what a PostgreSQL store replaces (BEGIN ISOLATION LEVEL
// SERIALIZABLE, or row locks with SELECT ... FOR UPDATE SKIP LOCKED in the
// claim; a sequence for event seqs; connection parameters instead of
// pragmas, in sqlite_connection.cpp). The rest of the store's SQL is SQL
// that PostgreSQL accepts too.
namespace sqlite_only {

// Takes the database's write lock at BEGIN, so a writer waits (up to the
// busy timeout) for others to finish instead of failing later when a
// deferred transaction tries to upgrade from read to write, which in WAL
// mode returns SQLITE_BUSY without waiting.
inline constexpr const char* kBeginWrite = "BEGIN IMMEDIATE";
inline constexpr const char* kBeginRead = "BEGIN";

// The highest event seq ever assigned (AUTOINCREMENT keeps it in
// sqlite_sequence, which has no row until the first event); 0 when none.
inline constexpr const char* kLastEventSeq =
    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), "
    "COALESCE((SELECT MAX(seq) FROM events), 0))";

// In WAL mode NORMAL skips only the fsync of the WAL at each commit; the
// WAL is still synced before every checkpoint copies it into the database.
// Used only where the caller syncs the WAL itself (LeaveSyncToCaller).
inline constexpr const char* kSynchronousNormal = "PRAGMA synchronous = NORMAL";

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

}  // namespace sqlite_only

namespace sqlite_detail {

// The error reason of a msg whose attempt's outcome is unknown.
inline constexpr const char* kInterruptedReason = "interrupted, outcome unknown";

// A request error found inside a transaction body; rolls it back.
struct RequestError {
  Status status;
};

// An empty value for methods that return only a Status.
struct Unit {};

enum class Txn { kNone, kRead, kWrite };

// Call only from inside a catch block: rethrows the current exception and
// names it as a Status, `op` first.
Status CurrentExceptionStatus(const std::string& op);

// "scheme:path" with both parts non-empty; InvalidArgument otherwise.
Status CheckUrn(const std::string& urn);

// An event's fields after its seq and topic, written straight into the
// payload (sqlite_events.cpp).
using EventFields = std::function<void(JsonWriter&)>;
// A msg event carries the msg in the shape scripts see from `msgs list
// --json` (MsgToJson), with its id and uuid named msg_id and msg_uuid.
EventFields MsgEventFields(const Msg& m);
// A status.updated event: the msg's status fields.
EventFields StatusEventFields(const Msg& m);

}  // namespace sqlite_detail

struct SqliteStore::Impl {
  using Int64 = sqlite_rows::Int64;
  using NInt = sqlite_rows::NInt;
  using ChannelRow = sqlite_rows::ChannelRow;
  using MsgRow = sqlite_rows::MsgRow;
  using Txn = sqlite_detail::Txn;
  using EventFields = sqlite_detail::EventFields;

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
  // Before `db`: the connection's wal hook points at it.
  std::unique_ptr<WalCheckpointer> checkpointer;
  // The connection; closed when reset, after its statements.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db{nullptr, &sqlite3_close_v2};
  // After `db`, so it is destroyed (its statements finalized) first.
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

  // A cached prepared statement; see sql_statement.h.
  SqlQuery Q(const std::string& sql) { return (*statements)(sql); }
  Micros Now() const { return clock.Now(); }

  // --- connection and schema (sqlite_connection.cpp) ------------------------

  // Connects and sets the pragmas; OK at once when connected.
  Status Connect();
  // Closes the connection (its statements first).
  void Disconnect() {
    statements.reset();
    db.reset();
  }
  // The connection's commits notify `to` of the WAL's size instead of
  // checkpointing themselves.
  void HandCheckpointsTo(WalCheckpointer& to);
  // The stored schema version; 0 when the version table is absent.
  Int64 ReadVersion();
  // OK for this program's version; Unavailable naming both otherwise.
  Status CheckSchema();
  void Rollback();

  // Runs `body` (returning Result<T>) after connecting and checking the
  // schema, inside a transaction of the given kind. An error Status from
  // the body, or any exception, rolls the transaction back.
  template <typename T, typename Body>
  Result<T> Run(const char* op, Txn txn, Body&& body, bool need_schema = true) {
    if (snapshot) Disconnect();
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
      Status failed = sqlite_detail::CurrentExceptionStatus(op);
      if (in_txn) Rollback();
      return failed;
    }
  }

  template <typename Body>
  Status RunStatus(const char* op, Txn txn, Body&& body) {
    Result<sqlite_detail::Unit> r = Run<sqlite_detail::Unit>(op, txn, [&]() -> Result<sqlite_detail::Unit> {
      Status st = body();
      if (!st.ok()) return st;
      return sqlite_detail::Unit{};
    });
    return r.status();
  }

  // --- channels and contacts (sqlite_channels.cpp) ---------------------------

  std::optional<ChannelRow> FindChannelByUUID(const std::string& uuid, bool active_only);
  std::optional<ChannelRow> FindChannelById(Int64 id, bool active_only);
  // The channel a msg names: by uuid when set, else by id.
  std::optional<ChannelRow> ChannelOfMsg(const Msg& m, bool active_only);

  struct ContactRef {
    Int64 contact_id = 0;
    Int64 urn_id = 0;
  };

  // The contact owning `urn`, created (with `name`) on first sight. The
  // URN's channel becomes `channel_id` when one is given (the channel the
  // contact was last seen on).
  ContactRef EnsureContact(const std::string& urn, const std::string& name, NInt channel_id, Micros ts);
  Contact LoadContact(Int64 contact_id);

  // --- msgs (sqlite_msgs.cpp) ------------------------------------------------

  std::optional<MsgRow> LoadMsgRow(Int64 id);
  std::optional<Msg> LoadMsg(Int64 id);
  // Corruption (CorruptData) when the msg is gone.
  Msg MustLoadMsg(Int64 id);
  std::optional<int64_t> MsgIdByUuid(const std::string& uuid);
  bool MsgUuidExists(const std::string& uuid) { return MsgIdByUuid(uuid).has_value(); }
  // Inserts `m` as given (uuid, status, times...) on channel `ch` for the
  // contact `ref`; returns the new id.
  Int64 InsertMsg(const Msg& m, const ContactRef& ref, Int64 channel_id);
  // An incoming msg already stored for this channel and provider id.
  std::optional<std::pair<Int64, std::string>> FindIncomingByExternalId(Int64 channel_id, const std::string& ext);

  // --- attempts (sqlite_statuses.cpp) ----------------------------------------

  void CloseAttempts(Int64 msg_id, const std::string& outcome, Micros ts);

  // --- channel logs (sqlite_logs.cpp) ----------------------------------------

  // Writes one log; the channel is `default_channel` unless the log names
  // its own; the msg is `msg_id` when given, else the log's.
  void InsertLog(const ChannelLog& log, Int64 default_channel, const NInt& msg_id, Micros ts);

  // --- events (sqlite_events.cpp) --------------------------------------------

  // Inserts an event whose payload carries its own seq:
  // {"seq": N, "topic": T, ...fields}. The seq is known before the insert
  // because the caller's write transaction holds the database's write lock
  // (BEGIN IMMEDIATE), so one INSERT does what an INSERT and an UPDATE of
  // the payload did. AUTOINCREMENT's high-water mark still moves with the
  // explicit seq, so seqs never go back even after deletes.
  Int64 AppendEvent(const std::string& topic, const EventFields& fields, Micros ts);

  // --- the claim (sqlite_claim.cpp) ------------------------------------------

  // ClaimQueued's work inside the caller's write transaction; does not
  // move the rotation (only a committed claim does).
  std::vector<Msg> Claim(const ClaimRequest& req);
};

}  // namespace courier
