#pragma once
// SqliteStore: the Store on one SQLite file, through raw sqlite3.
//
// Owns: one SQLite connection on the database file. The
// file runs in WAL mode with synchronous=FULL, so a method that returned OK
// has its transaction on disk (invariant 1: a 2xx is durable). Several
// processes may open the same file; every writing method runs in one
// `BEGIN IMMEDIATE` transaction, so writers serialise on the database's
// write lock and wait up to the busy timeout for it, then fail with Busy.
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
// Read-only (StoreAccess::kReadOnly): the file is opened with SQLite's
// mode=ro and never written. When the WAL exists (the store is open
// elsewhere, or a crash left it), reads go through it and its
// shared-memory index with shared locks as usual, read-only when those
// files are not writable. Without a WAL, a reading connection would have to
// create the -wal and -shm and could not remove them; it does so only when
// they come out as a writer's would (the file's owner's, writable by the
// owner: run as the owner or root, on a file the owner may write, in a
// directory this process may write). Otherwise each call reads the main file
// afresh as an immutable snapshot: all that was committed when the last
// connection closed. The trade-off: a snapshot takes no locks, so a writer
// that opens, commits and closes (checkpointing into the file) while a call
// reads may make that call fail with Corruption or see a mix of before and
// after; the next call reads again.
//
// Errors: no exception leaves a method. SQLite's busy/locked become Busy;
// read-only, I/O, cannot-open and disk-full become Unavailable with
// SQLite's text; constraint violations become Conflict (unique) or
// InvalidArgument (others); anything unexpected is Internal.
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

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace courier {

class SqlStatements;

class SqliteStore : public Store {
 public:
  static constexpr int kDefaultBusyTimeoutMs = 5000;

  // Does no I/O; Open() (or the first call of any method) connects.
  SqliteStore(std::string path, Clock& clock, int busy_timeout_ms = kDefaultBusyTimeoutMs,
              StoreAccess access = StoreAccess::kReadWrite);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Connects and sets the connection's pragmas. Unavailable when the
  // file's directory does not exist or the file cannot be opened for
  // writing in WAL mode (read-only: cannot be opened for reading). Calling
  // it again after success does nothing.
  Status Open();

  const std::string& path() const { return path_; }

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
  Result<std::vector<int64_t>> FailInterruptedAttempts(const std::string& worker) override;
  Result<std::vector<std::string>> OpenAttemptWorkers() override;
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
  // NotFound when the uuid is unknown), tied to its msg_id when set.
  Status WriteChannelLogs(const std::vector<ChannelLog>& logs);
  Result<std::vector<ChannelLog>> ListChannelLogs(std::optional<int64_t> msg_id,
                                                  const std::string& channel_uuid,
                                                  int limit) override;

  // Events
  Result<std::vector<Event>> EventsAfter(int64_t seq, int limit) override;

  // WAL checkpoints on a WalCheckpointer thread with its own connection,
  // triggered (wal hook) when this connection's commits take the WAL past
  // 1000 pages; this connection no longer checkpoints. If the checkpoint
  // connection cannot be opened, checkpoints stay where they were.
  void HousekeepInBackground() override;
  Result<std::string> LeaveSyncToCaller() override;
  Result<int64_t> LastEventSeq() override;
  Result<int64_t> OldestEventSeq() override;

  // Application hooks (sqlite_hooks.cpp). topics are stored as a comma
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

  // Retention (sqlite_prune.cpp). Each batch is one BEGIN IMMEDIATE
  // transaction (a dry run: one read transaction); between batches the
  // connection sleeps a moment so that writers waiting in their busy
  // handlers (which poll at most 1 ms apart) take the lock before the next
  // batch does. Space reclaim: every store this version creates has
  // auto_vacuum = INCREMENTAL (set before the file's first page is
  // written; older files keep NONE until a full ReclaimSpace converts
  // them), and ReclaimSpace(false) frees 1000 pages per transaction; a
  // TRUNCATE checkpoint afterwards lets the file itself shrink.
  Result<PruneCounts> Prune(const PruneRequest& request) override;
  Result<StoreSpace> Space() override;
  Result<StoreSpace> ReclaimSpace(bool full) override;

  // Applications' API (sqlite_api.cpp). Scopes are stored as a comma
  // list; idempotency rows hold the queued msgs' uuids as a JSON array.
  Result<ApiToken> AddApiToken(const ApiToken& token) override;
  Result<std::vector<ApiToken>> ListApiTokens() override;
  Status RemoveApiToken(const std::string& name) override;
  Result<ApiToken> FindApiToken(const std::string& token_hash) override;
  Status TouchApiToken(int64_t id, Micros when) override;
  Result<std::vector<Result<IdempotentQueue>>> QueueOutgoingBatch(std::vector<QueueRequest> requests) override;

 private:
  struct Impl;
  // Bodies of the writing methods, run inside a transaction the caller
  // owns, so WriteIntakes can put many of them in one commit.
  static Result<IncomingResult> IncomingInTxn(Impl& d, Msg msg, const std::vector<ChannelLog>& logs);
  static Result<StatusResult> StatusInTxn(Impl& d, const StatusUpdate& update);
  static Result<Contact> StopInTxn(Impl& d, const std::string& urn, bool stopped, const std::string& channel_uuid);
  static Result<UrnAuthResult> UrnAuthInTxn(Impl& d, const UrnAuthUpdate& update, int64_t channel_id);
  static Status WriteOneIntake(Impl& d, const Intake& intake, IntakeOutcome& out);
  static Result<std::vector<Msg>> QueueInTxn(Impl& d, std::vector<Msg> msgs);
  // For sqlite_api.cpp, inside InTransaction(kWrite): QueueOutgoing's
  // work in that transaction; and the store's clock.
  Result<std::vector<Msg>> QueueOutgoingInTransaction(std::vector<Msg> msgs);
  Micros StoreNow() const;

  // For sqlite_prune.cpp: runs `body` on this connection's cached
  // statements after connecting and checking the schema, inside a
  // transaction of `kind` (committed when body returns OK, else rolled
  // back), with exceptions mapped to Status as every method does.
  enum class TxnKind { kNone, kRead, kWrite };
  Status InTransaction(const char* op, TxnKind kind, const std::function<Status(SqlStatements&)>& body);
  // The store's clock, for the files that have only InTransaction.
  Micros Now() const;

  std::unique_ptr<Impl> impl_;
  std::string path_;
};

}  // namespace courier
