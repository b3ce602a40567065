#pragma once
// SqlStore: the Store's logic written once over an engine (store_engine.h)
// and the engine's statements (sql_statement.h), so every engine runs the
// same code path: an invariant the tests prove on SQLite holds on
// PostgreSQL by construction. Constructed by an engine's Store subclass
// (SqliteStore), which adds what has no logic to share (Space,
// ReclaimSpace, HousekeepInBackground, LeaveSyncToCaller).
//
// Every writing method runs in one write transaction of the engine's
// (StoreEngine::BeginSql); a method that returned OK has committed.
//
// Thread-safety: none inside. One object per thread (Store's contract).
// The claim's round-robin position is kept in the object, so each sender
// process rotates fairly over its own calls.
//
// Opening does not create or upgrade the schema: Migrate() does (courier-ctl
// init, daemon start). Until then every other method but SchemaVersion()
// (which returns 0) fails with Unavailable "store not initialised: run
// courier-ctl init"; a schema older or newer than this program's is
// Unavailable too, naming both versions. Ping() checks the schema as well,
// so a health check reports an uninitialised store as unhealthy.
//
// Errors: no exception leaves a method. The engine's errors come as the
// Status its SqlError carries (Busy, Unavailable, Conflict for a unique
// key, InvalidArgument for other constraints, Corruption, Internal),
// after the operation's name; stored data that cannot be read back is
// Corruption.
//
// SQL: written once for both engines, as sql_statement.h's contract says
// (`?` parameters, booleans as TRUE/FALSE literals and bound 1/0, no
// engine-only functions, INSERT ... without RETURNING through Insert()).
//
// Choices the Store interface leaves open, made here:
// - ClaimQueued claims outgoing msgs in Q, and msgs in E whose
//   next_attempt_on has passed (a scheduled retry); a claimed E msg goes
//   back to Q while in flight. An E with no next attempt (interrupted, or
//   given none) waits for an operator's retry.
// - Only active channels are claimed from. WriteIntakes (its msgs and
//   statuses), WriteStatus, ListMsgs and ImportMsgs find a channel whether
//   or not it was removed (spooled data and history outlive a channel);
//   AddChannel, GetChannel, ListChannels and QueueOutgoing see active
//   channels only.
// - WriteStatus of Q on a msg in flight (a throttled send going back to the
//   queue) releases the claim, sets next_attempt_on (given, else now) and
//   closes the attempt; the outcome is kUnchanged and no event is written.
// - Queue() returns one row for every active channel, zeros included.
// - Operator retry resets error_count to 0: a fresh set of attempts.
// - An attempt stays open exactly while its msg is claimed. A status that
//   is ignored (W after D) leaves a claimed msg claimed; any other status
//   write releases it. FailInterruptedAttempts only turns msgs that are
//   still claimed into E; an open attempt whose msg has moved on is just
//   closed.
// - WriteIntakes and QueueOutgoing keep a given msg uuid. WriteIntakes treats
//   a known uuid as a duplicate (a spool file replayed after its commit);
//   QueueOutgoing answers Conflict. ImportMsgs skips known uuids and, for
//   incoming msgs, a provider id already stored for the channel.
// - EventsAfter with limit <= 0 returns at most 1000 events; ListMsgs and
//   ListChannelLogs with limit <= 0 have no limit.
// - Channel logs keep the error text in their own column (and in the
//   description "Error: ..." when none was given).
// - An intake's URN auths are written before its msgs, each only when its
//   sent_on is not older than the URN's stored one (equal: applied again,
//   so a replay is idempotent); no event is written for them (an auth is
//   the app's credential, not news for event consumers).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/store.h"

namespace courier {

namespace sql_rows {
struct ChannelRow;
}  // namespace sql_rows

class SqlStatements;
class StoreEngine;

class SqlStore : public Store {
 public:
  // Does no I/O; the first call of any method connects `engine`.
  SqlStore(std::unique_ptr<StoreEngine> engine, Clock& clock);
  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  // Schema
  Status Migrate() override;
  Result<int> SchemaVersion() override;
  Status Ping() override;

  // Channels
  Result<Channel> AddChannel(const Channel& channel) override;
  Result<Channel> GetChannel(const std::string& uuid) override;
  Result<std::vector<Channel>> ListChannels() override;
  Status RemoveChannel(const std::string& uuid) override;

  // Contacts
  Result<std::vector<Contact>> ListContacts(bool stopped_only) override;
  Result<Contact> SetContactStopped(const std::string& urn, bool stopped,
                                    const std::string& channel_uuid) override;

  // Msgs
  Result<std::vector<IntakeOutcome>> WriteIntakes(const std::vector<Intake>& intakes,
                                                  std::vector<Event>* events) override;
  Result<std::vector<IntakeOutcome>> WriteIntakesAndClaim(const std::vector<Intake>& intakes,
                                                          const ClaimRequest* claim, std::vector<Msg>* claimed,
                                                          std::vector<Event>* events) override;
  Result<std::vector<Msg>> QueueOutgoing(std::vector<Msg> msgs) override;
  Result<int64_t> ImportMsgs(const std::vector<Msg>& msgs) override;
  Result<std::vector<Msg>> ClaimQueued(const ClaimRequest& req) override;
  Result<StatusResult> WriteStatus(const StatusUpdate& update) override;
  Result<std::vector<int64_t>> FailInterruptedAttempts(const std::string& worker, Micros last_beat_seen) override;
  Result<std::map<std::string, Micros>> OpenAttemptWorkers() override;
  Status Heartbeat(const std::string& worker, Micros now) override;
  Status EndHeartbeat(const std::string& worker) override;
  Result<std::map<std::string, Micros>> Heartbeats() override;
  Result<std::vector<int64_t>> RetryMsgs(const std::vector<int64_t>& ids) override;
  Result<std::vector<int64_t>> RetryAllErrored() override;
  Result<std::vector<int64_t>> FailMsgs(const std::vector<int64_t>& ids) override;

  // Reading
  Result<Msg> GetMsg(int64_t id) override;
  Result<Msg> GetMsgByUUID(const std::string& uuid) override;
  Result<std::vector<Msg>> ListMsgs(const MsgFilter& filter) override;
  Result<std::vector<QueueSummary>> Queue() override;

  // Channel logs
  // Not on Store (no program writes logs apart from their msg, status or
  // intake): tests use it to make free logs, also ones naming no channel
  // or an unknown msg. One transaction; each log on the channel its
  // channel_id or channel_uuid names (InvalidArgument when it names none,
  // NotFound when the uuid is unknown), tied to its msg_id when set
  // (NotFound "msg not found" when no such msg).
  Status WriteChannelLogs(const std::vector<ChannelLog>& logs);
  Result<std::vector<ChannelLog>> ListChannelLogs(std::optional<int64_t> msg_id,
                                                  const std::string& channel_uuid,
                                                  int limit) override;

  // Events
  Result<std::vector<Event>> EventsAfter(int64_t seq, int limit) override;

  Result<int64_t> LastEventSeq() override;
  Result<int64_t> OldestEventSeq() override;

  // Application hooks (sql_hooks.cpp). topics are stored as a comma
  // list; GetHook reads a reference of digits only as an id.
  Result<Hook> AddHook(const Hook& hook) override;
  Result<Hook> GetHook(const std::string& id_or_uuid) override;
  Result<std::vector<Hook>> ListHooks() override;
  Status RemoveHook(int64_t id) override;
  Status SetHookPaused(int64_t id, bool paused, const std::string& reason) override;
  Status RewindHook(int64_t id, int64_t cursor) override;
  Result<bool> AdvanceHookCursor(int64_t id, int64_t from, int64_t to) override;
  Result<bool> RecordHookFailure(int64_t id, int64_t cursor, const std::string& error,
                                 Micros next_attempt_on) override;
  Status NoteHookError(int64_t id, const std::string& error) override;

  // Retention (sql_prune.cpp). Each batch is one write transaction (a
  // dry run: one read transaction); between batches the connection
  // sleeps kPauseBetweenBatches so that writers waiting for the lock take
  // it before the next batch does. Space and ReclaimSpace are the
  // engine's Store subclass's (store_engine.h says why).
  Result<PruneCounts> Prune(const PruneRequest& request) override;

  // Applications' API (sql_api.cpp). Scopes are stored as a comma
  // list; idempotency rows hold the queued msgs' uuids as a JSON array.
  Result<ApiToken> AddApiToken(const ApiToken& token) override;
  Result<std::vector<ApiToken>> ListApiTokens() override;
  Status RemoveApiToken(const std::string& name) override;
  Result<ApiToken> FindApiToken(const std::string& token_hash) override;
  Status TouchApiToken(int64_t id, Micros when) override;
  Result<std::vector<Result<IdempotentQueue>>> QueueOutgoingBatch(std::vector<QueueRequest> requests) override;

  // The fetch stage (sql_media.cpp).
  Result<std::vector<AttachmentFetch>> ClaimFetches(const std::string& worker, int limit, Micros lease) override;
  Result<FetchFinished> FinishFetch(const FetchOutcome& outcome) override;
  Result<std::vector<std::string>> FetchClaimers() override;
  Result<int64_t> ReleaseFetchClaims(const std::string& worker_prefix) override;
  Result<std::vector<AttachmentFetch>> ListFetches(int64_t msg_id) override;
  Result<FetchBacklog> GetFetchBacklog() override;
  Result<MediaFile> GetMedia(const std::string& sha256) override;
  Result<std::vector<MediaFile>> ListMediaUsedBefore(Micros before, int limit) override;
  Result<bool> ForgetMedia(const std::string& sha256, Micros before) override;

 protected:
  // After a commit, before the next batch's write transaction: a SQLite
  // writer waiting for the lock polls at most 1 ms apart (SqliteEngine's
  // busy handler), so 2 ms lets it in first instead of losing the race
  // to our next batch.
  static constexpr std::chrono::milliseconds kPauseBetweenBatches{2};

  StoreEngine& engine();

  // Runs `body` on the connection's statements after connecting and
  // checking the schema, inside a transaction of `kind` (committed when
  // body returns OK, else rolled back), with exceptions mapped to Status
  // as every method does.
  enum class TxnKind { kNone, kRead, kWrite };
  Status InTransaction(const char* op, TxnKind kind, const std::function<Status(SqlStatements&)>& body);
  // The store's clock.
  Micros Now() const;

 private:
  struct Impl;
  // Bodies of the writing methods, run inside a transaction the caller
  // owns, so WriteIntakes can put many of them in one commit.
  // `log`, when not null, is the msg's channel log (Intake::msg_logs).
  static Result<IncomingResult> IncomingInTxn(Impl& d, Msg msg, const ChannelLog* log, Micros duplicate_window);
  static Result<StatusResult> StatusInTxn(Impl& d, const StatusUpdate& update);
  static Result<Contact> StopInTxn(Impl& d, const std::string& urn, bool stopped, const std::string& channel_uuid);
  static Result<UrnAuthResult> UrnAuthInTxn(Impl& d, const UrnAuthUpdate& update, int64_t channel_id);
  static Result<ChannelEventResult> ChannelEventInTxn(Impl& d, const ChannelEvent& event,
                                                      const sql_rows::ChannelRow& ch);
  static Status WriteOneIntake(Impl& d, const Intake& intake, IntakeOutcome& out);
  // WriteOneIntake with an exception as its Status.
  static Status WriteIntakeOrFail(Impl& d, const Intake& intake, IntakeOutcome& out);
  // WriteOneIntake under a savepoint: its own failure goes in out.status
  // and is rolled back alone; only the store's failure is returned.
  static Status WriteIntakeUnderSavepoint(Impl& d, const Intake& intake, IntakeOutcome& out);
  static Result<std::vector<Msg>> QueueInTxn(Impl& d, std::vector<Msg> msgs);
  // For sql_api.cpp, inside InTransaction(kWrite): QueueOutgoing's
  // work in that transaction.
  Result<std::vector<Msg>> QueueOutgoingInTransaction(std::vector<Msg> msgs);

  std::unique_ptr<Impl> impl_;
};

}  // namespace courier
