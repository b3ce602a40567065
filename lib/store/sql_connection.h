#pragma once
// SqlStore::Impl: the store's logic's shared state on its engine's one
// connection (the store's own, not included outside lib/store):
// - the transaction runner Run(): connect (StoreEngine::Connect), check
//   the schema, begin (the engine's BEGIN), run the body, COMMIT, or
//   ROLLBACK on an error Status or any exception, which comes back as a
//   Status (CurrentExceptionStatus: SqlError carries its own, as each
//   engine maps its errors);
// - the row helpers the method files share inside a transaction, each
//   defined in the file of its concern: channels and contacts
//   (sql_channels.cpp), msgs (sql_msgs.cpp), attempts (sql_statuses.cpp),
//   channel logs (sql_logs.cpp), events (sql_events.cpp), the claim
//   (sql_claim.cpp).
//
// Every statement goes through Q(), the engine's cached prepared
// statements (sql_statement.h); what differs between engines is asked of
// the engine (store_engine.h), never decided here.
//
// Thread-safety: none; one Impl per SqlStore, used by one thread.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/json_writer.h"
#include "store/content_duplicates.h"
#include "store/sql_row_batch.h"
#include "store/sql_rows.h"
#include "store/sql_statement.h"
#include "store/sql_store.h"
#include "store/store_engine.h"

namespace courier {

namespace sql_detail {

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
// payload (sql_events.cpp).
using EventFields = std::function<void(JsonWriter&)>;
// A msg event carries the msg in the shape scripts see from `msgs list
// --json` (MsgToJson), with its id and uuid named msg_id and msg_uuid.
EventFields MsgEventFields(const Msg& m);
// A status.updated event: the msg's status fields.
EventFields StatusEventFields(const Msg& m);

// The statement of SqlStore::Impl::LookUpTogether (sql_intake.cpp), rows
// (kind, key, number) to be added; its plan is tested on a server.
SqlRowBatch NewBatchLookup();
// The claim's read of every channel's queue where the engine writes rows
// as arrays (sql_claim.cpp), rows (arm, channel id, limit, due time) to be
// added; its plan is tested on a server.
SqlRowBatch NewQueueRead();
// The closes of open attempts, rows (finished_on, outcome, msg id), and
// the statuses by msg id applied together (ApplyStatusesTogether), rows as
// it says (sql_statuses.cpp); their plans are tested on a server.
SqlRowBatch NewAttemptCloses();
SqlRowBatch NewStatusMoves();

// A RecentMsg's columns of msgs, in the order RecentMsgAt reads them from
// column `first` of a row.
inline constexpr const char* kRecentMsgColumns =
    "id, uuid, direction, channel_id, text, attachments, received_on, sent_on, claimed_on";
RecentMsg RecentMsgAt(const SqlQuery& q, int first);

}  // namespace sql_detail

struct SqlStore::Impl {
  using Int64 = sql_rows::Int64;
  using NInt = sql_rows::NInt;
  using ChannelRow = sql_rows::ChannelRow;
  using MsgRow = sql_rows::MsgRow;
  using Txn = sql_detail::Txn;
  using EventFields = sql_detail::EventFields;

  Impl(std::unique_ptr<StoreEngine> e, Clock& c) : engine(std::move(e)), clock(c) {}

  std::unique_ptr<StoreEngine> engine;
  Clock& clock;
  // The engine's statements, set by each Connect().
  SqlStatements* statements = nullptr;
  bool schema_ready = false;
  // The channel whose msg came first in the last claim: the next claim's
  // rotation starts after it.
  Int64 last_first_channel = 0;
  // When set, FlushEvents also records each event here (for publishing
  // after the commit).
  std::vector<Event>* collect_events = nullptr;
  // Events appended in the current write transaction, not yet inserted:
  // their payload after the seq (`,"topic":...}`), kept until
  // FlushEvents gives them seqs just before COMMIT.
  struct PendingEvent {
    std::string topic;
    std::string payload_after_seq;
    Micros created_on = 0;
  };
  std::vector<PendingEvent> pending_events;
  // The transaction queued outgoing msgs without a queue event (an import,
  // a msg sent back to the queue by a status): FlushEvents notifies
  // senders (store_notices.h).
  bool msgs_queued = false;
  // Rows that statuses write, gathered while batch_rows is set (a batch
  // of intakes written the fast way) and written by FlushRows: channel
  // logs, and the closes of open attempts (a msg's first close in the
  // batch only: a later one finds nothing open, as it would have run).
  // Otherwise each is written as it comes.
  bool batch_rows = false;
  SqlRowBatch pending_logs{
      "INSERT INTO channel_logs (channel_id, msg_id, description, is_error, error, method, "
      "url, request, response, response_status, elapsed_ms, created_on) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "INSERT INTO channel_logs (channel_id, msg_id, description, is_error, error, method, "
      "url, request, response, response_status, elapsed_ms, created_on) SELECT * FROM {ROWS}",
      {SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kText,
       SqlRowBatch::Type::kBoolean, SqlRowBatch::Type::kText, SqlRowBatch::Type::kText, SqlRowBatch::Type::kText,
       SqlRowBatch::Type::kText, SqlRowBatch::Type::kText, SqlRowBatch::Type::kInteger,
       SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kBigInt}};
  SqlRowBatch pending_closes = sql_detail::NewAttemptCloses();
  std::unordered_set<int64_t> closing_msgs;
  // Writes the gathered rows: before the claim (which opens attempts) and
  // before the commit.
  void FlushRows();
  void ForgetRows() {
    pending_logs.Clear();
    pending_closes.Clear();
    closing_msgs.clear();
  }

  // Channels read during one WriteIntakesAndClaim batch, by uuid.
  std::unordered_map<std::string, ChannelRow>* batch_channels = nullptr;

  // What a batch's fast attempt looks up for all its msgs at once
  // (LookUpBatch), so that on a server an incoming msg costs no round
  // trip of its own: its URN's contact, whether its uuid is taken, and an
  // id for it. A URN or uuid looked up and not found is known absent for
  // the batch; one the batch adds is recorded as it goes.
  struct BatchLookups {
    struct Urn {
      Int64 contact_id = 0;
      Int64 urn_id = 0;
      NInt channel_id;
    };
    std::unordered_map<std::string, Urn> urns;
    std::unordered_set<std::string> urns_looked_up;
    std::unordered_map<std::string, Int64> msg_ids_by_uuid;
    std::unordered_set<std::string> uuids_looked_up;
    std::vector<int64_t> reserved_msg_ids;  // LookUpTogether's, ascending; used in order
    size_t next_reserved = 0;
    // For the URNs looked up and not found: a contact and a URN id each.
    std::vector<int64_t> reserved_contact_ids, reserved_urn_ids;
    size_t next_reserved_contact = 0;
    // Incoming msgs by (channel id, provider id), looked up together where
    // the engine writes rows as arrays (each was a round trip of its own
    // on PostgreSQL): what is stored, and what was looked for; the
    // batch's own inserts are recorded as it goes.
    std::map<std::pair<int64_t, std::string>, std::pair<Int64, std::string>> incoming_by_external;
    std::set<std::pair<int64_t, std::string>> externals_looked_up;
    // The newest incoming msg of each (URN, channel id) for the content
    // duplicates of msgs without a provider id (nullopt: none), where
    // looked up together; the batch's own inserts replace it as they go
    // (they are not yet in the store where its writes are deferred).
    std::map<std::pair<std::string, int64_t>, std::optional<RecentMsg>> last_incoming;
    // Statuses by msg id applied together before the intakes
    // (ApplyStatusesTogether), by the update: the msg as it now is when
    // it moved, nothing when it did not (StatusInTxn then takes its
    // general path); all stamped `statuses_on`.
    std::unordered_map<const StatusUpdate*, std::optional<MsgRow>> statuses;
    Micros statuses_on = 0;
  };
  BatchLookups* batch_lookups = nullptr;
  // Fills *batch_lookups for the incoming msgs of `intakes`, and applies
  // their statuses by msg id together where the engine writes rows as
  // arrays.
  void LookUpBatch(const std::vector<Intake>& intakes);
  // One UPDATE ... RETURNING for every status by msg id in `intakes` that
  // would take StatusInTxn's first path (a move allowed from the msg's
  // status), where it was one round trip each: on PostgreSQL, a send's
  // statuses were the writer's round trips. Only a msg's sole status in
  // the batch, so no two of one msg change order; the batch's requests
  // are concurrent, and these are applied before the rest of it.
  void ApplyStatusesTogether(const std::vector<Intake>& intakes);
  // Where the engine writes rows as arrays (a server, where each was a
  // round trip the writer waited for): the batch's distinct `urns` and
  // `uuids`, the provider ids of its incoming msgs, and ids for its
  // `msgs` msgs and for the contacts of the URNs not found, in one
  // statement.
  void LookUpTogether(const std::vector<Intake>& intakes, const std::vector<std::string>& urns,
                      const std::vector<std::string>& uuids, size_t msgs);

  // A cached prepared statement; see sql_statement.h.
  SqlQuery Q(const std::string& sql) { return (*statements)(sql); }
  Micros Now() const { return clock.Now(); }

  // --- connection and schema (sql_connection.cpp) ----------------------------

  // The engine's Connect(), then its statements.
  Status Connect();
  // OK for this program's version; Unavailable naming both otherwise.
  Status CheckSchema();
  // Rolls the current transaction back; the engine forgets its seqs.
  void Rollback();

  // Runs `body` (returning Result<T>) after connecting and checking the
  // schema, inside a transaction of the given kind. An error Status from
  // the body, or any exception, rolls the transaction back.
  template <typename T, typename Body>
  Result<T> Run(const char* op, Txn txn, Body&& body, bool need_schema = true) {
    Status st = Connect();
    if (!st.ok()) return st;
    if (need_schema) {
      st = CheckSchema();
      if (!st.ok()) return st;
    }
    bool in_txn = false;
    try {
      if (txn != Txn::kNone) {
        statements->Exec(engine->BeginSql(txn == Txn::kWrite));
        engine->EventSeqsForgotten();
        pending_events.clear();
        ForgetRows();
        msgs_queued = false;
        in_txn = true;
      }
      Result<T> result = body();
      if (in_txn) {
        if (result.ok()) {
          FlushRows();
          FlushEvents();
          statements->Exec("COMMIT");
        } else {
          Rollback();
        }
        in_txn = false;
      }
      return result;
    } catch (...) {
      Status failed = sql_detail::CurrentExceptionStatus(op);
      if (in_txn) Rollback();
      return failed;
    }
  }

  template <typename Body>
  Status RunStatus(const char* op, Txn txn, Body&& body, bool need_schema = true) {
    Result<sql_detail::Unit> r = Run<sql_detail::Unit>(
        op, txn,
        [&]() -> Result<sql_detail::Unit> {
          Status st = body();
          if (!st.ok()) return st;
          return sql_detail::Unit{};
        },
        need_schema);
    return r.status();
  }

  // --- channels and contacts (sql_channels.cpp) ---------------------------

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

  // --- msgs (sql_msgs.cpp) ------------------------------------------------

  std::optional<MsgRow> LoadMsgRow(Int64 id);
  std::optional<Msg> LoadMsg(Int64 id);
  // Corruption (CorruptData) when the msg is gone.
  Msg MustLoadMsg(Int64 id);
  std::optional<int64_t> MsgIdByUuid(const std::string& uuid);
  bool MsgUuidExists(const std::string& uuid) { return MsgIdByUuid(uuid).has_value(); }
  // Inserts `m` as given (uuid, status, times...) on channel `ch` for the
  // contact `ref`; returns the new id. With `unless_uuid_taken`, a msg
  // whose uuid is already stored is not inserted and 0 comes back (one
  // statement where a lookup and an insert were two).
  Int64 InsertMsg(const Msg& m, const ContactRef& ref, Int64 channel_id, bool unless_uuid_taken = false);
  // Inserts `m` under `id` (reserved by the engine) without reading an
  // answer (RunLater): a taken uuid is an error, found at the latest by
  // the commit.
  void InsertMsgAs(Int64 id, const Msg& m, const ContactRef& ref, Int64 channel_id);
  // An incoming msg already stored for this channel and provider id.
  std::optional<std::pair<Int64, std::string>> FindIncomingByExternalId(Int64 channel_id, const std::string& ext);
  // The newest incoming msg of a contact URN on a channel.
  std::optional<RecentMsg> LastIncomingOfUrn(Int64 urn_id, Int64 channel_id);
  // The newest outgoing msgs of a contact URN (kRecentOutgoingJudged).
  std::vector<RecentMsg> RecentOutgoingOfUrn(Int64 urn_id);

  // --- attachment fetches (sql_media.cpp) ---------------------------------

  // A pending fetch for each http(s) attachment of `msg` (stored, id
  // set), written without reading an answer; returns how many.
  int InsertFetches(const Msg& msg, Micros ts);
  std::vector<AttachmentFetch> FetchesOfMsg(Int64 msg_id);

  // --- attempts (sql_statuses.cpp) ----------------------------------------

  void CloseAttempts(Int64 msg_id, const std::string& outcome, Micros ts);
  // A status's first path (SqlStore::StatusInTxn): the msg moved to
  // update.status by one UPDATE ... RETURNING, or nothing when that move
  // does not apply (no msg id, Q, a move not allowed from its status).
  std::optional<MsgRow> MoveByMsgId(const StatusUpdate& update, Int64 channel_id, Micros ts);

  // --- channel logs (sql_logs.cpp) ----------------------------------------

  // Writes one log on `default_channel` (0: the channel the log names,
  // looked up; NotFound when there is none), tied to `msg_id` (none when
  // absent; the log's own msg_id is not read).
  void InsertLog(const ChannelLog& log, Int64 default_channel, const NInt& msg_id, Micros ts);

  // --- events (sql_events.cpp) --------------------------------------------

  // Appends an event to the transaction: inserted by FlushEvents, just
  // before the COMMIT, with its seq at the head of its payload:
  // {"seq": N, "topic": T, ...fields}. The seq comes from the engine
  // (NextEventSeq) before the insert, so one INSERT does what an INSERT
  // and an UPDATE of the payload did; the engine keeps seqs growing even
  // after deletes, and seq order commit order.
  void AppendEvent(const std::string& topic, const EventFields& fields, Micros ts);
  // Gives the pending events their seqs (StoreEngine::NextEventSeq) and
  // inserts them, last thing before COMMIT: on PostgreSQL the events lock
  // is then held for these inserts and the commit only, and a transaction
  // that rolls back never took a seq. Each goes to collect_events too.
  // Then the engine's NotifyAtCommit (store_notices.h): events written,
  // msgs queued.
  void FlushEvents();

  // --- the claim (sql_claim.cpp) ------------------------------------------

  // ClaimQueued's work inside the caller's write transaction; does not
  // move the rotation (only a committed claim does).
  std::vector<Msg> Claim(const ClaimRequest& req);
};

}  // namespace courier
