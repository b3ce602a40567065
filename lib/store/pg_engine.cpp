// PgEngine (pg_engine.h): the connection, the two advisory locks that give
// PostgreSQL what SQLite's write lock gives, event seqs from the events
// table's identity sequence, and the schema.
#include "store/pg_engine.h"

#include <algorithm>

#include "store/pg_listener.h"
#include "store/pg_schema.h"

namespace courier {
namespace {

// Transaction advisory lock keys: "courclm" and "courevt" in ASCII as
// bigints, beside pg_schema's "coursch".
// Only courier's own transactions take them.
//
// With the claim lock, generic plans for the rest of the transaction (the
// claim's statements and the few after it): the server otherwise planned
// the claim's queue read afresh on every run, finding a custom plan
// cheaper than its guess for the generic one (a LIMIT and a due time it
// cannot see), and planning that 16-arm UNION cost more than running it:
// 114 of 139 us a msg sent (pg_stat_statements with track_planning, bench
// send row, 2026-12-06). The generic plan reads the same partial index
// (PgSchemaTest.TheClaimsQueueReadIsPlannedOnceOnTheQueueIndex).
constexpr const char* kTakeClaimLock =
    "SELECT pg_advisory_xact_lock(27988572915330157), set_config('plan_cache_mode', 'force_generic_plan', true)";
constexpr const char* kTakeEventsLock = "SELECT pg_advisory_xact_lock(27988572915463796)";

// `count` values of a sequence (its name is the server's choice:
// kSequenceName, pg_get_serial_sequence), in one statement.
constexpr const char* kNextValues =
    "SELECT nextval(CAST(? AS regclass)) FROM generate_series(1, CAST(? AS INTEGER))";
// The last seq handed out, 0 before the first (a sequence reports
// is_called false until its first nextval or a setval). Read under the
// events lock (shared), so a seq handed out by a transaction still open
// is not reported until that transaction has committed or rolled back.
constexpr const char* kWaitForEventWriters = "SELECT pg_advisory_xact_lock_shared(27988572915463796)";
constexpr const char* kSequenceName = "SELECT pg_get_serial_sequence('events', 'seq')";

// CommitSync on PostgreSQL (commit_sync.h says why a commit of its own
// makes the writer's durable). The transaction must write WAL for its
// commit to wait for the flush: one that only takes an xid
// (pg_current_xact_id) commits asynchronously, as pg_stat_wal's wal_sync
// count shows. A transactional logical message is the smallest such write
// open to every role, needing no table; logical decoding clients that ask
// for messages see one with the prefix "courier-sync" per sync.
// The connection is its own, made on first use and again after a failure;
// it keeps the server's synchronous_commit (on, or what the operator chose).
class PgCommitSync : public CommitSync {
 public:
  PgCommitSync(std::string uri, std::string application_name)
      : uri_(std::move(uri)), application_name_(std::move(application_name)) {}
  // Connects now, so the first Sync (the first batch's answers) does not
  // wait for a connection; a failure here is the first Sync's to report.
  void ConnectEarly() { (void)Connect(); }

  // A connection found lost is replaced and the sync tried once more:
  // any commit that writes WAL made now covers the writer's, so a session
  // the server dropped (a restart the writer already got over) costs
  // nothing.
  Status Sync() override {
    const bool had_session = connection_ != nullptr;
    Status first = TrySync();
    if (first.ok() || !had_session) return first;
    return TrySync();
  }

 private:
  Status Connect() {
    if (connection_) return Status::OK();
    auto connected = PgConnection::Connect(uri_, application_name_);
    if (!connected.ok()) return connected.status();
    connection_ = std::move(connected).value();
    return Status::OK();
  }

  Status TrySync() {
    Status connected = Connect();
    if (!connected.ok()) return connected;
    try {
      connection_->Exec("SELECT pg_logical_emit_message(true, 'courier-sync', '')");
    } catch (const SqlError& e) {
      // Whatever failed, the next try starts from a new session.
      connection_.reset();
      return Status::Unavailable("commits not known durable: " + e.status().message());
    }
    return Status::OK();
  }

  const std::string uri_;
  const std::string application_name_;
  std::unique_ptr<PgConnection> connection_;
};

}  // namespace

PgEngine::PgEngine(std::string uri, std::string application_name, int busy_timeout_ms, StoreAccess access)
    : uri_(std::move(uri)),
      application_name_(std::move(application_name)),
      busy_timeout_ms_(busy_timeout_ms),
      access_(access) {}

PgEngine::~PgEngine() = default;

Status PgEngine::Connect() {
  if (connection_ && connection_->ok()) return Status::OK();
  events_locked_ = false;
  event_sequence_.clear();
  if (connection_) {
    Status st = connection_->Reconnect();
    if (!st.ok()) return st;
  } else {
    auto connected = PgConnection::Connect(uri_, application_name_);
    if (!connected.ok()) return connected.status();
    connection_ = std::move(connected).value();
  }
  // A lock wait (a row another host's transaction holds, the claim or
  // events lock) fails Busy after the busy timeout, as SQLite's does.
  try {
    connection_->Exec("SET lock_timeout = " + std::to_string(busy_timeout_ms_));
    if (commits_without_flush_) connection_->Exec("SET synchronous_commit = off");
  } catch (const SqlError& e) {
    return e.status();
  }
  return Status::OK();
}

int64_t PgEngine::SchemaVersion() {
  Result<int> version = pg_schema::ReadVersion(connection_->get());
  if (!version.ok()) throw SqlError(version.status());
  return *version;
}

Status PgEngine::Migrate(Micros /*now: the server stamps its versions*/) {
  if (access_ == StoreAccess::kReadOnly) return Status::Unavailable("store opened read-only: cannot migrate it");
  return pg_schema::CreatePgSchema(connection_->get());
}

Result<std::shared_ptr<CommitSync>> PgEngine::LeaveSyncToCaller() {
  if (access_ == StoreAccess::kReadOnly) return Status::Unavailable("a read-only store commits nothing");
  commits_without_flush_ = true;
  if (connection_ && connection_->ok()) {
    try {
      connection_->Exec("SET synchronous_commit = off");
    } catch (const SqlError& e) {
      return e.status();
    }
  }
  auto sync = std::make_shared<PgCommitSync>(uri_, application_name_);
  sync->ConnectEarly();
  return std::shared_ptr<CommitSync>(std::move(sync));
}

const char* PgEngine::BeginSql(bool write) const {
  if (access_ == StoreAccess::kReadOnly) return "BEGIN READ ONLY";
  // A read that takes several statements sees one snapshot.
  return write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}

int64_t PgEngine::NextEventSeq() {
  std::vector<int64_t> seqs = NextEventSeqs(1);
  return seqs.front();
}

std::vector<int64_t> PgEngine::NextEventSeqs(int count) {
  SqlStatements& q = connection_->statements();
  if (!events_locked_) {
    // Deferred where allowed: the nextval below is answered after it.
    q(kTakeEventsLock).RunLater();
    events_locked_ = true;
  }
  if (event_sequence_.empty()) {
    auto name = q(kSequenceName);
    if (!name.Step() || name.IsNull(0)) throw SqlError(Status::Corruption("the events table has no seq sequence"));
    event_sequence_ = name.Text(0);
  }
  return NextValues(event_sequence_, count);
}

std::vector<int64_t> PgEngine::NextValues(const std::string& sequence, int count) {
  std::vector<int64_t> values;
  values.reserve(static_cast<size_t>(count));
  auto next = connection_->statements()(kNextValues);
  next.Bind(sequence).Bind(static_cast<int64_t>(count));
  while (next.Step()) values.push_back(next.Int(0));
  if (static_cast<int>(values.size()) != count) {
    throw SqlError(Status::Internal("nextval of " + sequence + " returned " + std::to_string(values.size()) +
                                    " rows, not " + std::to_string(count)));
  }
  // Ascending already (one statement of one session); sorted all the
  // same, as the order of a set-returning function's rows is not promised.
  std::sort(values.begin(), values.end());
  return values;
}

int64_t PgEngine::LastEventSeq() {
  // The shared lock must be held while the sequence is read: in a
  // transaction of its own when the caller has none.
  const bool own_transaction = connection_->transaction_status() == PQTRANS_IDLE;
  if (own_transaction) connection_->Exec("BEGIN READ ONLY");
  try {
    const int64_t last = ReadLastEventSeq();
    if (own_transaction) connection_->Exec("COMMIT");
    return last;
  } catch (...) {
    if (own_transaction && connection_->transaction_status() != PQTRANS_IDLE) {
      try {
        connection_->Exec("ROLLBACK");
      } catch (...) {
        // The connection is gone: so is the transaction.
      }
    }
    throw;
  }
}

int64_t PgEngine::ReadLastEventSeq() {
  SqlStatements& q = connection_->statements();
  q(kWaitForEventWriters).Run();
  std::string sequence;
  {
    auto name = q(kSequenceName);
    if (!name.Step() || name.IsNull(0)) throw SqlError(Status::Corruption("the events table has no seq sequence"));
    sequence = name.Text(0);
  }
  // A sequence is read as a relation; its name comes from the server's
  // catalog, quoted by it, never from input.
  auto last = q("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM " + sequence).OneInt();
  return last.value_or(0);
}

void PgEngine::NotifyAtCommit(const CommitNotices& notices) {
  SqlStatements& q = connection_->statements();
  // Both in one round trip when both are due (a msg queued writes its
  // msg.queued event too).
  if (notices.queued && notices.events) {
    q("SELECT pg_notify(CAST(? AS TEXT), ''), pg_notify(CAST(? AS TEXT), '')")
        .Bind(std::string(kQueuedChannel))
        .Bind(std::string(kEventsChannel))
        .RunLater();
  } else if (notices.queued) {
    courier::NotifyAtCommit(q, kQueuedChannel);
  } else if (notices.events) {
    courier::NotifyAtCommit(q, kEventsChannel);
  }
}

void PgEngine::BeforeClaim() { connection_->statements()(kTakeClaimLock).Run(); }

void PgEngine::PlanByKeys(bool on) {
  // Local to the transaction; `off` again is the session's own setting
  // (SET LOCAL ... TO DEFAULT). Deferred: no round trip of their own.
  connection_->statements()(on ? "SET LOCAL enable_seqscan = off" : "SET LOCAL enable_seqscan TO DEFAULT").RunLater();
}

}  // namespace courier
