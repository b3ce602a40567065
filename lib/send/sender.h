#pragma once
// Sender: courier-send's foreman and its pool of sender threads.
//
// The foreman claims queued msgs from the store (ClaimQueued: round-robin
// across channels, high priority first, FIFO within, at most a channel's
// max_workers in flight) and hands them to sender threads; it keeps each
// channel under its `tps` by capping what it claims per second, and holds
// back a channel the provider throttled until the provider's Retry-After.
//
// At most once (invariant 3): the claim commits an open attempt before any
// provider is called; the status write closes it. A process that dies in
// between leaves the attempt open, and the next start marks the msg E
// "interrupted, outcome unknown" instead of sending it again.
//
// Statuses and channel logs go through an IntakeWriter, so the writes of
// all sender threads share commits, and fall back to the spool when the
// store cannot take them (courier-flush replays them). The foreman's
// claims go through the same writer (IntakeWriter::Claim), so a claim and
// the statuses that freed its capacity are one commit, one fsync. A claim
// whose answer is lost (its COMMIT or the sync after it failed) may have
// committed: the next claim takes whatever it left in this sender's name
// (ClaimRequest::in_doubt_since), so a live sender strands no msg.
//
// Outbound policy (invariant 8): a send during which the HTTP client
// refused an address (HttpExchange::refused) fails, F, with the refusal as
// its reason, whatever the handler made of the missing answer: no retry
// reaches an address the policy forbids.
//
// Stopping: sends in progress get send_grace_s to finish; then their
// requests are aborted and they end E (retried later, never counted sent).
//
// Thread-safety: Run() on one thread; Snapshot() from any.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.h"
#include "core/clock.h"
#include "daemon/stop_token.h"
#include "handlers/registry.h"
#include "http/http_client.h"
#include "intake/intake_writer.h"
#include "model/media_reference.h"
#include "store/store.h"

namespace courier {

struct SenderOptions {
  std::string worker;   // names this sender on its attempts: "host:pid"
  int max_workers = 32;
  int max_retries = 3;
  int retry_backoff_s = 60;
  std::string base_url;  // where providers reach courier-recv (callbacks)
  std::string db;        // names the store in the log lines of an outage
  // After a stop, how long sends in progress may go on before their
  // requests are aborted (HttpClient::Abort): the msgs go back to E.
  int send_grace_s = 30;
  // A sender on another host whose heartbeat is older than this is dead:
  // its open attempts are marked interrupted.
  int heartbeat_timeout_s = 30;
  // A sender thread that has waited this long for a msg ends: the threads
  // a burst needed do not stay for the quiet after it.
  int worker_idle_s = 60;
  // Where the media store is served, and at which public URL providers
  // fetch its files: outgoing attachments naming a stored file are
  // rewritten to it, or fail unsent without one (model/media_reference.h).
  LocalMediaUrls media;
};

// One channel's sends since start, by how they ended.
struct SendOutcomes {
  int64_t sent = 0;
  int64_t errored = 0;
  int64_t failed = 0;
  int64_t throttled = 0;
};

struct SenderSnapshot {
  std::map<std::string, int> in_flight;  // channel uuid -> sends in progress
  int threads = 0;        // sender threads running (made as sends need them)
  int64_t sent = 0;       // W, S or D
  int64_t errored = 0;    // E, will be retried
  int64_t failed = 0;     // F
  int64_t throttled = 0;  // re-queued after the provider throttled
  int64_t interrupted = 0;  // found unfinished at start
  // The four above by channel uuid: each channel's sums are the totals.
  std::map<std::string, SendOutcomes> by_channel;
};

class Sender {
 public:
  Sender(StoreOpener open, const HandlerRegistry& handlers, IntakeWriter& writer, HttpClient& http, Clock& clock,
         SenderOptions options);
  ~Sender();

  // Claims and sends until `stop`; then claims nothing more, lets sends in
  // progress finish (aborting their requests after send_grace_s), releases
  // msgs claimed but not started (a claim that ends after the stop starts
  // nothing: all of it is released), and returns OK. While the store cannot be reached it logs the outage once
  // and tries again every second.
  Status Run(StopToken& stop, WakeReceiver& wake);

  SenderSnapshot Snapshot() const;

 private:
  struct ChannelState {
    Channel channel;
    int in_flight = 0;
    Micros second = 0;   // the second `sent_in_second` counts
    int sent_in_second = 0;
    Micros paused_until = 0;  // throttled by the provider
  };

  // A sender thread: takes msgs from work_ until stopping, or until it
  // has waited worker_idle_s for one (then it marks itself `exited` and
  // returns, for the foreman to join).
  struct Worker {
    std::thread thread;
    bool exited = false;
  };
  void Work(Worker* self);
  // Under mu_: starts a thread when queued msgs outnumber the threads
  // waiting for one, up to max_workers. Threads are made as sends need
  // them: an idle sender holds none (64 idle threads were 1.1 MiB).
  void StartWorkerIfNeeded();
  // Joins the threads that have exited; all of them when stopping.
  void JoinWorkers(bool all);
  void SendOne(const Msg& msg);
  Status RefreshChannels(Store& store);
  std::map<int64_t, int> ChannelCaps(Micros now, bool* tps_limited);
  // Gives a claimed msg to the sender threads, or, for a stopped
  // contact, fails it without a request.
  void HandOut(Store& store, Msg msg);
  // Ends a claimed msg F with `reason`, no provider called.
  void FailUnsent(const Msg& msg, const std::string& reason);
  // Puts claimed msgs that no provider was called for back in the queue
  // (Q, due now, no error counted).
  void Release(const std::vector<Msg>& msgs);
  // Marks interrupted the open attempts of dead senders: on this host, a
  // process no longer running (this one's predecessor after a crash, or a
  // sibling); elsewhere, one silent for heartbeat_timeout_s, counting no
  // silence from before `judging_since` (when this sender last regained
  // the store). Attempts of live senders are left alone.
  Status RecoverDeadWorkers(Store& store, Micros judging_since);

  StoreOpener open_;
  const HandlerRegistry& handlers_;
  IntakeWriter& writer_;
  HttpClient& http_;
  Clock& clock_;
  SenderOptions options_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // work queued or stopping
  std::condition_variable done_cv_;  // a send finished
  std::deque<Msg> work_;
  bool stopping_ = false;
  int busy_ = 0;  // claimed and not finished, across channels
  std::map<int64_t, ChannelState> channels_;
  Micros channels_loaded_ = 0;
  SenderSnapshot counters_;
  std::list<Worker> workers_;
  int live_workers_ = 0;  // started and not exited
  int idle_workers_ = 0;  // of those, waiting for work
};

// Exponential backoff with ±10% jitter: base * 2^(errors-1) seconds.
Micros RetryDelay(int retry_backoff_s, int error_count, uint32_t random);

}  // namespace courier
