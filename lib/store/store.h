#pragma once
// Store: everything courier keeps durably. One interface so the same
// programs can run on SQLite (one machine) or, later, PostgreSQL.
//
// Contract:
// - Every method is one transaction: it commits completely or not at all.
// - Every data change that others may want to react to also inserts an event
//   row (topic + JSON payload) in the same transaction, numbered by `seq`,
//   so consumers catch up from the store (ZeroMQ only notifies).
// - Failures come back as Status: Unavailable/Busy/IOError mean "the store
//   cannot take this now" (callers spool or retry); NotFound and
//   InvalidArgument are about the request.
// - Thread-safety: a Store object is used by one thread at a time. Open one
//   per thread; several processes may share the database file.
//
// What it writes and returns (Intake, StatusUpdate, Contact, Event ...) is
// the model's (lib/model/): handlers and the spool use those values
// without seeing the Store.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/channel.h"
#include "core/channel_log.h"
#include "core/clock.h"
#include "core/env.h"
#include "core/msg.h"
#include "core/status.h"
#include "model/contact.h"
#include "model/event.h"
#include "model/attachment_fetch.h"
#include "model/hook.h"
#include "model/intake.h"
#include "model/status_update.h"
#include "model/urn_auth.h"
#include "store/commit_sync.h"

namespace courier {

// Filters for listing msgs; newest first unless after_id is set.
struct MsgFilter {
  std::optional<Direction> direction;
  std::optional<MsgStatus> status;
  std::string channel_uuid;
  std::string urn;  // normalised (URN::ToString); "" for any
  std::optional<int64_t> after_id;  // ascending from this id (for paging and tails)
  int limit = 100;
};

// Per-channel queue counts for `courier-ctl queue`.
struct QueueSummary {
  std::string channel_uuid;
  std::string channel_type;
  int64_t queued_high = 0;
  int64_t queued_bulk = 0;
  int64_t in_flight = 0;
  int64_t retrying = 0;     // E with a next attempt
  int64_t failed = 0;       // F
  int64_t interrupted = 0;  // E whose attempt's outcome is unknown
  // created_on of the oldest msg counted in queued_high or queued_bulk
  // (waiting, unclaimed); 0 when there is none.
  Micros oldest_queued_on = 0;
};

struct ClaimRequest {
  std::string worker;  // who claims (host:pid), recorded on the attempt
  Micros now = 0;
  int limit = 1;       // most msgs to claim in this call
  // Per-channel cap on top of max_workers - in_flight (the sender's TPS
  // budget); channels absent here are capped by max_workers only.
  std::map<int64_t, int> channel_caps;
  int default_max_workers = 32;  // for channels with max_workers 0
  // Channel types (codes as stored, e.g. "FCM") whose msgs are sent to
  // their URN's auth: only their claimed msgs come with Msg::urn_auth, so
  // the others do not pay for the lookup.
  std::set<std::string> urn_auth_types;
  // Nonzero: the `now` of this worker's first claim since its last answered
  // one whose answer was lost (the commit or its sync failed, so it may have
  // committed). Every msg still claimed by this worker with a claimed_on
  // from then on is claimed again, before any new one and with its open
  // attempt kept: nobody else sends a live worker's msgs, so without this
  // they would wait for the worker's restart. The worker's `now` must grow
  // with each claim.
  Micros in_doubt_since = 0;
};

// Retention: what Prune removes, oldest first. Each kind has its own
// cutoff (rows older than it go: created_on < cutoff for channel logs and
// events, modified_on < cutoff for msgs); a kind without one is kept.
//
// Which rows: channel logs and events are removed from the oldest (lowest
// id / seq) up to the first one not older than the cutoff, so what is kept
// is always a contiguous newest range (an event follower sees one clean
// boundary, see OldestEventSeq). Msgs are removed only when finished from
// courier's side: incoming msgs (stored P, handed to the app by their
// event), and outgoing msgs in W, S, D, R or F that are not claimed. Q and
// E msgs (queued, or awaiting a retry or an operator) are never removed,
// whatever their age. A msg goes together with its attempts and its
// channel logs; contacts and URNs stay (a stop flag outlives any msg).
struct PruneRequest {
  std::optional<Micros> logs_before;
  std::optional<Micros> events_before;
  std::optional<Micros> msgs_before;
  // courier-api's Idempotency-Keys remembered since before this.
  std::optional<Micros> idempotency_before;
  // Rows removed per transaction: each batch holds the write lock only for
  // its own deletes, so other writers' commits go in between.
  int batch_size = 1000;
  // Stops after this many batches (0: no limit), with finished = false: a
  // daemon interleaves a large backlog with its other work.
  int max_batches = 0;
  // Count what would go, delete nothing (same selection as a real run).
  bool dry_run = false;
  // Called after each batch's commit, before the next begins (the write
  // lock is free then). Returning false stops the prune (finished = false).
  std::function<bool()> between_batches;
};

struct PruneCounts {
  int64_t logs = 0;      // channel logs older than logs_before
  int64_t events = 0;    // events and channel events older than events_before
  int64_t msgs = 0;
  int64_t msg_logs = 0;  // channel logs of the msgs removed (not counted in logs)
  int64_t attempts = 0;  // attempts of the msgs removed
  int64_t idempotency_keys = 0;
  int64_t batches = 0;   // transactions committed (or, dry, selections made)
  bool finished = true;  // false: stopped by max_batches or between_batches
};

// The store's file space (SQLite: pages). free_bytes is space inside the
// file that new rows reuse before the file grows; `incremental` says
// whether the file can give it back to the file system without a VACUUM.
struct StoreSpace {
  int64_t file_bytes = 0;
  int64_t free_bytes = 0;
  bool incremental = false;
};

// A courier-api token as stored: its SHA-256 (hex), never the token.
struct ApiToken {
  int64_t id = 0;
  std::string name;
  std::string token_hash;
  std::vector<std::string> scopes;  // send, read, admin
  Micros created_on = 0;
  std::optional<Micros> last_used_on;
};

// What one request of QueueOutgoingBatch did: queued `msgs` now, or found
// them queued by an earlier request with the same key (replayed).
struct IdempotentQueue {
  std::vector<Msg> msgs;
  bool replayed = false;
};

// One application request's msgs for QueueOutgoingBatch: with a `key`,
// queued at most once per (token_id, key); without, as QueueOutgoing(msgs).
struct QueueRequest {
  int64_t token_id = 0;
  std::string key;
  std::string request_hash;
  std::vector<Msg> msgs;
};

class Store {
 public:
  virtual ~Store() = default;

  // Schema
  virtual Status Migrate() = 0;  // create or upgrade; idempotent
  virtual Result<int> SchemaVersion() = 0;
  virtual Status Ping() = 0;

  // Channels
  // Fills id, and uuid if empty. The uuid of a removed channel (of the
  // same type) reactivates it with the settings given, under its old id;
  // Conflict for an active one or another type.
  virtual Result<Channel> AddChannel(const Channel& channel) = 0;
  virtual Result<Channel> GetChannel(const std::string& uuid) = 0;  // NotFound: channel not found
  virtual Result<std::vector<Channel>> ListChannels() = 0;
  virtual Status RemoveChannel(const std::string& uuid) = 0;  // deactivates; msgs stay

  // Contacts
  virtual Result<std::vector<Contact>> ListContacts(bool stopped_only) = 0;
  // Stops or unstops the contact owning the URN (creating it if needed);
  // writes a contact.stopped / contact.unstopped event.
  virtual Result<Contact> SetContactStopped(const std::string& urn, bool stopped,
                                            const std::string& channel_uuid) = 0;

  // Writes many intakes in one transaction (group commit), each under its
  // own savepoint so one intake's bad data does not sink the others (its
  // outcome carries the error). The whole call fails, with nothing
  // written, only when the store cannot take writes (Busy, Unavailable,
  // IOError): callers spool. Replaying an intake is idempotent (msg uuids,
  // external ids). Events written are appended to *events when given.
  // Each incoming msg goes in with its contact/URN, its channel log and a
  // msg.received event. A msg whose external id is already stored for its
  // channel, or whose uuid is (a spool file replayed), is a duplicate:
  // nothing of it is written and the first msg's id and uuid come back.
  // msg.uuid is kept when set, else generated.
  virtual Result<std::vector<IntakeOutcome>> WriteIntakes(const std::vector<Intake>& intakes,
                                                          std::vector<Event>* events) = 0;

  // WriteIntakes, then, when `claim` is given, ClaimQueued(*claim) into
  // *claimed, all in ONE transaction: courier-send's writer commits the
  // statuses of finished sends and its next claim with one fsync instead
  // of two commits racing for the write lock. The claim runs after the
  // intakes, so it sees the capacity their statuses freed. Fails as a
  // whole like WriteIntakes (nothing written, nothing claimed).
  virtual Result<std::vector<IntakeOutcome>> WriteIntakesAndClaim(const std::vector<Intake>& intakes,
                                                                  const ClaimRequest* claim,
                                                                  std::vector<Msg>* claimed,
                                                                  std::vector<Event>* events) = 0;

  // Outgoing: queue msgs (status Q) in one transaction; fills ids and uuids.
  virtual Result<std::vector<Msg>> QueueOutgoing(std::vector<Msg> msgs) = 0;
  // Inserts msgs as they are (any direction and status), keeping their
  // uuids; a msg whose uuid exists is skipped. Returns how many were new.
  // All or nothing; an error names the msg uuid or the channel uuid it is
  // about (NotFound "channel not found: UUID" when the channel is unknown).
  virtual Result<int64_t> ImportMsgs(const std::vector<Msg>& msgs) = 0;

  // Claims up to req.limit queued msgs (status Q, next_attempt_on <= now,
  // not claimed), round-robin across channels, high priority first and
  // FIFO within a channel, and journals an open attempt for each. Atomic
  // across processes: no msg is claimed twice. Each msg comes with its
  // contact's stop flag (Msg::contact_stopped) and, on channels of
  // req.urn_auth_types, its URN's auth (Msg::urn_auth). The msgs of claims
  // in doubt (ClaimRequest::in_doubt_since) come last and count against
  // req.limit.
  virtual Result<std::vector<Msg>> ClaimQueued(const ClaimRequest& req) = 0;

  // Applies a status (and its logs) to a msg, closing its open attempt.
  virtual Result<StatusResult> WriteStatus(const StatusUpdate& update) = 0;

  // Marks the msgs of open attempts (claimed, never finished) E
  // "interrupted, outcome unknown" without a next attempt, and returns
  // their ids. An empty `worker`: everyone's attempts. A named one: its
  // attempts, and its heartbeat row goes with them, in one transaction,
  // unless it has beaten since the caller read `last_beat_seen` (0: it had
  // no row) -- then it lives, nothing changes and the result is empty. So
  // a sender judged dead on a stale read is never failed or forgotten
  // after its next heartbeat.
  virtual Result<std::vector<int64_t>> FailInterruptedAttempts(const std::string& worker, Micros last_beat_seen) = 0;

  // The workers that have attempts open (claimed, unfinished), each with
  // the start of its newest open attempt.
  virtual Result<std::map<std::string, Micros>> OpenAttemptWorkers() = 0;

  // Senders' heartbeats (several hosts: a sender elsewhere cannot be
  // checked by pid). Heartbeat records that `worker` is alive at `now`
  // (the first one also its start); EndHeartbeat forgets it (a clean
  // stop). FailInterruptedAttempts(worker, ...) forgets it too.
  virtual Status Heartbeat(const std::string& worker, Micros now) = 0;
  virtual Status EndHeartbeat(const std::string& worker) = 0;
  // Every worker's last heartbeat, by name.
  virtual Result<std::map<std::string, Micros>> Heartbeats() = 0;

  // Operator actions. Retry re-queues E/F msgs now; Fail marks them F.
  virtual Result<std::vector<int64_t>> RetryMsgs(const std::vector<int64_t>& ids) = 0;
  virtual Result<std::vector<int64_t>> RetryAllErrored() = 0;
  virtual Result<std::vector<int64_t>> FailMsgs(const std::vector<int64_t>& ids) = 0;

  // Reading
  virtual Result<Msg> GetMsg(int64_t id) = 0;
  virtual Result<Msg> GetMsgByUUID(const std::string& uuid) = 0;
  virtual Result<std::vector<Msg>> ListMsgs(const MsgFilter& filter) = 0;
  virtual Result<std::vector<QueueSummary>> Queue() = 0;

  // Channel logs
  virtual Result<std::vector<ChannelLog>> ListChannelLogs(std::optional<int64_t> msg_id,
                                                          const std::string& channel_uuid,
                                                          int limit) = 0;

  // Events
  virtual Result<std::vector<Event>> EventsAfter(int64_t seq, int limit) = 0;

  // For a connection that writes under load (an IntakeWriter's): move the
  // store's housekeeping that would otherwise run inside this connection's
  // commits (SQLite's WAL checkpoints) to a thread of the store's own. A
  // no-op where there is none. Call once, after opening.
  virtual void HousekeepInBackground() {}
  // For a writer that pipelines its batches (IntakeWriter, HookWorker):
  // from now on a COMMIT on this connection makes its writes visible to
  // other connections but not yet durable. The caller makes them durable
  // with the returned CommitSync (commit_sync.h), and must do so before it
  // tells anyone (a provider, an event subscriber, a sender) that they
  // happened. What that buys: the next batch is written while the last
  // one syncs. `env` is the SQLite WAL's fdatasync (fault injection).
  // Unavailable where the store cannot do this; commits then stay durable
  // by themselves. Call once, after opening; it survives reconnects.
  virtual Result<std::shared_ptr<CommitSync>> LeaveSyncToCaller(Env& /*env*/) {
    return Status::Unavailable("not supported");
  }
  virtual Result<int64_t> LastEventSeq() = 0;

  // The lowest event seq still stored: events below it were pruned (or
  // never existed). LastEventSeq() + 1 when no event is stored. A consumer
  // whose cursor is below OldestEventSeq() - 1 has missed events.
  virtual Result<int64_t> OldestEventSeq() = 0;

  // Application hooks (courier-hook). Hooks are addressed by id; GetHook
  // also takes the uuid. NotFound "hook not found: REF" for an unknown one.
  // Adds `hook` as given (its cursor included) and fills id, uuid when
  // empty, created_on and modified_on.
  virtual Result<Hook> AddHook(const Hook& hook) = 0;
  virtual Result<Hook> GetHook(const std::string& id_or_uuid) = 0;
  virtual Result<std::vector<Hook>> ListHooks() = 0;  // by id
  virtual Status RemoveHook(int64_t id) = 0;
  // Pausing records the reason; resuming clears it and the wait before the
  // next attempt (failures start again from 0), so delivery resumes now.
  virtual Status SetHookPaused(int64_t id, bool paused, const std::string& reason) = 0;
  // Sets the cursor (an operator's replay: events after `cursor` are posted
  // again) and clears the retry wait and failure count.
  virtual Status RewindHook(int64_t id, int64_t cursor) = 0;
  // Compare-and-set after a 2xx: moves the cursor from `from` to `to` and
  // clears the failures and wait, only if the cursor is still `from`.
  // false (nothing changed) when it is not: the hook was rewound or
  // removed meanwhile, and the caller reads it again.
  virtual Result<bool> AdvanceHookCursor(int64_t id, int64_t from, int64_t to) = 0;
  // A failed delivery from `cursor`: one more failure, its error and time,
  // and when to try again; only if the cursor is still `cursor` (false
  // otherwise, as AdvanceHookCursor).
  virtual Result<bool> RecordHookFailure(int64_t id, int64_t cursor, const std::string& error,
                                         Micros next_attempt_on) = 0;
  // Records `error` as the hook's last error (with its time) without
  // counting a failure: what an operator must see though delivery goes on
  // (events pruned before they were delivered).
  virtual Status NoteHookError(int64_t id, const std::string& error) = 0;

  // Retention (see PruneRequest): batches of deletes, each its own
  // transaction. Counts what went (or, dry, would go); on an error the
  // batches committed before it stay committed.
  virtual Result<PruneCounts> Prune(const PruneRequest& request) = 0;

  // The file's size and free space.
  virtual Result<StoreSpace> Space() = 0;
  // Gives free space back to the file system: a store created with
  // incremental vacuum (every store made by this version) in small steps
  // that each hold the write lock briefly. With `full`, a VACUUM instead:
  // rewrites the whole file (holding the write lock throughout, and needing
  // free disk for a copy) and turns incremental vacuum on for older stores.
  // Returns the space after.
  virtual Result<StoreSpace> ReclaimSpace(bool full) = 0;

  // Applications' API (courier-api)
  //
  // Tokens are kept as a hash only (the caller hashes); names are unique
  // (Conflict). FindApiToken reads, TouchApiToken records a use: the API
  // touches at most once a minute per token, so authenticating a request
  // costs a read, not a write.
  virtual Result<ApiToken> AddApiToken(const ApiToken& token) = 0;  // fills id, created_on
  virtual Result<std::vector<ApiToken>> ListApiTokens() = 0;
  // NotFound "token not found"; the token's idempotency keys go with it.
  virtual Status RemoveApiToken(const std::string& name) = 0;
  virtual Result<ApiToken> FindApiToken(const std::string& token_hash) = 0;  // NotFound
  virtual Status TouchApiToken(int64_t id, Micros when) = 0;
  // Many requests in ONE transaction (courier-api's group commit), in
  // order. A request without a key is QueueOutgoing(msgs). With a key,
  // QueueOutgoing under an Idempotency-Key, together with the key's row:
  // the first request with (token_id, key) queues the msgs and remembers
  // their uuids with request_hash; a later one (in this batch or a later
  // call) with the same request_hash queues nothing and returns the msgs
  // first queued (replayed = true, in their first order); with another
  // request_hash, Conflict. A key pruned (PruneRequest::idempotency_before)
  // is new again.
  // Each request's outcome is its own: a key used with another request is
  // Conflict for that request only (nothing of it written). A request whose
  // msgs cannot be queued (a channel removed meanwhile) fails the whole
  // call with its error and nothing is written: the caller then queues the
  // requests one by one to tell which.
  virtual Result<std::vector<Result<IdempotentQueue>>> QueueOutgoingBatch(std::vector<QueueRequest> requests) = 0;

  // The fetch stage (model/attachment_fetch.h, courier-fetch(8)).
  // WriteIntakes writes a pending fetch for each http(s) attachment of
  // each msg it stores, and its "msg.received" event then carries
  // "media_pending": how many.
  //
  // ClaimFetches: up to `limit` pending fetches that are due and not
  // under a lease still running, the longest due first, each now leased
  // to `worker` for `lease` (attempts counted), with its msg's uuid and
  // channel.
  virtual Result<std::vector<AttachmentFetch>> ClaimFetches(const std::string& worker, int limit, Micros lease) = 0;
  // Applies a claimed fetch's outcome: stored (its file recorded in
  // media), failed, or pending again from retry_on. Only a pending fetch
  // changes: a second finish (another worker's, after a lease lapsed)
  // is not applied. Finishing a msg's last pending fetch rewrites the
  // msg's attachments (each stored one "content_type:url") and writes a
  // "msg.attachments" event: the msg, and "media", each fetch's state.
  // The outcome's log is written on the msg, applied or not. NotFound
  // when the fetch (pruned with its msg) is gone.
  virtual Result<FetchFinished> FinishFetch(const FetchOutcome& outcome) = 0;
  // The workers holding a lease on a pending fetch, and the release of
  // every lease whose worker name starts with `worker_prefix`: a fetcher
  // starting frees what its crashed predecessor on the same host held,
  // instead of waiting for those leases to lapse. Returns how many.
  virtual Result<std::vector<std::string>> FetchClaimers() = 0;
  virtual Result<int64_t> ReleaseFetchClaims(const std::string& worker_prefix) = 0;
  virtual Result<std::vector<AttachmentFetch>> ListFetches(int64_t msg_id) = 0;  // by position
  virtual Result<FetchBacklog> GetFetchBacklog() = 0;
  // The media store's files as recorded; NotFound.
  virtual Result<MediaFile> GetMedia(const std::string& sha256) = 0;
  // Files no fetch stored since `before`, least recently stored first.
  virtual Result<std::vector<MediaFile>> ListMediaUsedBefore(Micros before, int limit) = 0;
  // Forgets a file's record unless a fetch stored it at or after
  // `before` meanwhile; true when forgotten (the caller then removes it).
  virtual Result<bool> ForgetMedia(const std::string& sha256, Micros before) = 0;
};

// Makes a new connection to the store; components that run on their own
// thread hold one each (a Store is single-threaded).
using StoreOpener = std::function<Result<std::unique_ptr<Store>>()>;

// How a connection may use the store. kReadOnly never writes the store
// file nor creates files beside it, so it works for a user who can only
// read the store (and cannot change it by mistake); every writing method
// then fails with Unavailable.
enum class StoreAccess { kReadWrite, kReadOnly };

// Opens the store named by `url`: a file path or sqlite:PATH (SQLite).
// Other schemes fail with InvalidArgument until they are implemented.
// busy_timeout_ms bounds how long a write waits for another process's lock
// before failing with Busy.
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, Clock& clock = Clock::System(),
                                         int busy_timeout_ms = 5000,
                                         StoreAccess access = StoreAccess::kReadWrite);

}  // namespace courier
