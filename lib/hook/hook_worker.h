#pragma once
// HookWorker: delivers one hook's events on a thread of its own, with its
// own store connection and HTTP client, so a slow or dead application
// holds up only its own hook (never another hook, nor recv or send, which
// never wait for courier-hook).
//
// Each round it reads the hook from the store (so a pause, resume, rewind
// or removal by courier-ctl is seen at the next round: within the poll
// interval when idle or waiting, after the events read in this round, at
// most `fetch` of them, when posting), then the events after its cursor,
// and posts them in seq order, batch by batch (hook_batch.h),
// moving the cursor after each 2xx by compare-and-set from the value it
// read (a rewind meanwhile wins, and the next round starts from it).
// - A failure (no answer within the deadline, a transport error, any other
//   status) is recorded on the hook with the next attempt's time
//   (hook_backoff.h): the wait survives a restart, and the same events are
//   posted again after it, forever, until a 2xx, a pause or a rewind.
// - 410 Gone pauses the hook, with the reason, until an operator resumes it.
// - A cursor behind the oldest stored event (retention pruned events never
//   delivered) is logged as an error and recorded as the hook's last error;
//   delivery goes on with the events still stored.
// - A store outage is logged once (StoreConnection) and waited out.
// - The hook removed from the store ends the worker (done() turns true).
//
// At least once: the cursor moves only after the answer, so a crash or
// kill between the application's 2xx and the cursor's commit posts the
// batch again (same seqs, same uuids); nothing is posted twice otherwise.
// The cursor's commits skip the fsync (a power failure can only take back
// its last moves: more redelivery); the events read are synced to disk
// before they are posted, so an application never sees an event a power
// failure could take back (whose seq another event would then get): one
// fdatasync covers every event committed before it, so a backlog costs one.
//
// Thread-safety: Wake, Stop, delivered and done may be called from any
// thread; the rest runs on the worker's own thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/env.h"
#include "daemon/stop_token.h"
#include "http/http_client.h"
#include "model/hook.h"
#include "store/store.h"

namespace courier {

struct HookWorkerOptions {
  std::string db;                                    // names the store in log lines
  std::chrono::milliseconds poll{1000};              // the longest an idle worker waits before looking again
  HttpClientOptions http;                            // its client's (deadline, Unrestricted policy)
  int fetch = 100;                                   // events read per round (at least batch_size)
  Env* env = nullptr;                                // syncs the WAL; null: Env::Default()
};

class HookWorker {
 public:
  HookWorker(int64_t hook_id, StoreOpener open_store, HookWorkerOptions options, Clock& clock);
  ~HookWorker();  // Stop()
  HookWorker(const HookWorker&) = delete;
  HookWorker& operator=(const HookWorker&) = delete;

  void Start();
  // Look at the store now (new events were committed, or the hook changed).
  void Wake();
  // Ends the worker: a POST in flight is aborted (its events stay
  // unacknowledged, and are posted again by the next courier-hook).
  void Stop();

  int64_t hook_id() const { return hook_id_; }
  // Events acknowledged by the application since the start.
  int64_t delivered() const { return delivered_.load(); }
  // The hook is gone from the store: the thread has ended.
  bool done() const { return done_.load(); }

 private:
  void Run();
  // One round; false when the worker should end.
  bool Round(Store& store, bool& store_failed, Status& store_error);
  // A new connection commits without an fsync each (LeaveSyncToCaller);
  // its CommitSync is what MakeReadEventsDurable runs.
  void UseConnection(Store& store);
  // The store's CommitSync (SQLite's WAL fdatasync, PostgreSQL's WAL
  // flush), so no event is posted before it is durable; OK where commits
  // sync themselves.
  Status MakeReadEventsDurable();
  // Sleeps up to `d`, less when stopped or, with `wakes_end_it`, woken.
  void Sleep(std::chrono::milliseconds d, bool wakes_end_it = true);

  const int64_t hook_id_;
  StoreOpener open_store_;
  HookWorkerOptions options_;
  Clock& clock_;
  std::unique_ptr<HttpClient> http_;
  StopToken stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::atomic<int64_t> delivered_{0};
  std::atomic<bool> done_{false};
  int64_t noted_gap_cursor_ = -1;  // the cursor whose pruned events were last reported
  const Store* configured_store_ = nullptr;
  std::shared_ptr<CommitSync> commit_sync_;
  int64_t durable_through_ = 0;  // events up to this seq are synced (MakeReadEventsDurable)
  std::mt19937_64 random_;
  std::thread thread_;
};

}  // namespace courier
