#include "hook/hook_worker.h"

#include <algorithm>

#include "core/env.h"
#include "core/log.h"
#include "core/redact.h"
#include "daemon/store_outage.h"
#include "hook/hook_backoff.h"
#include "hook/hook_batch.h"

namespace courier {
namespace {

constexpr auto kFirstOutageWait = std::chrono::seconds(1);
constexpr auto kMaxOutageWait = std::chrono::seconds(30);
// What of an application's error answer goes into last_error and the log.
constexpr size_t kErrorBodyChars = 200;

std::string FailureText(const HttpExchange& ex) {
  if (ex.status_code == 0) return "no answer: " + ex.error;
  std::string text = "HTTP " + std::to_string(ex.status_code);
  std::string body = ex.body.substr(0, kErrorBodyChars);
  std::replace(body.begin(), body.end(), '\n', ' ');
  if (!body.empty()) text += ": " + body;
  return text;
}

}  // namespace


HookWorker::HookWorker(int64_t hook_id, StoreOpener open_store, HookWorkerOptions options, Clock& clock)
    : hook_id_(hook_id),
      open_store_(std::move(open_store)),
      options_(std::move(options)),
      clock_(clock),
      http_(NewPocoHttpClient(options_.http)),
      random_(std::random_device{}()) {}

HookWorker::~HookWorker() { Stop(); }

void HookWorker::UseConnection(Store& store) {
  if (&store == configured_store_) return;
  configured_store_ = &store;
  // Commits without an fsync each: a cursor's move survives a crash of any
  // process, and a power failure can only take back its last moves, whose
  // events are then posted again, which at-least-once allows. An fsync per
  // acknowledged POST would cap a hook at a few hundred POSTs a second.
  Env& env = options_.env != nullptr ? *options_.env : Env::Default();
  auto sync = store.LeaveSyncToCaller(env);
  commit_sync_ = sync.ok() ? std::move(sync).value() : nullptr;
  durable_through_ = 0;  // another connection: sync again before posting
}

Status HookWorker::MakeReadEventsDurable() {
  if (!commit_sync_) return Status::OK();  // a store whose commits sync themselves
  return commit_sync_->Sync();
}

void HookWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void HookWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void HookWorker::Stop() {
  stop_.RequestStop();
  http_->Abort();
  Wake();
  if (thread_.joinable()) thread_.join();
}

void HookWorker::Sleep(std::chrono::milliseconds d, bool wakes_end_it) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return (wakes_end_it && woken_) || stop_.stop_requested(); });
  woken_ = false;
}

void HookWorker::Run() {
  StoreConnection store(open_store_, StoreOutage(options_.db, kFirstOutageWait, kMaxOutageWait));
  while (!stop_.stop_requested()) {
    Store* s = store.Get(stop_);
    if (s == nullptr) continue;
    UseConnection(*s);
    bool store_failed = false;
    Status error;
    // No exception may leave the thread; the store and client return
    // Status, so one here is a bug: logged, then the round is tried again.
    bool go_on = true;
    try {
      go_on = Round(*s, store_failed, error);
    } catch (const std::exception& e) {
      Log::Error("hook worker failed", {{"hook", std::to_string(hook_id_)}, {"error", e.what()}});
      Sleep(options_.poll);
      continue;
    }
    if (store_failed) {
      store.Failed(error, stop_);
      continue;
    }
    store.Worked();
    if (!go_on) break;
  }
  done_ = !stop_.stop_requested();
}

bool HookWorker::Round(Store& store, bool& store_failed, Status& store_error) {
  auto fail = [&](const Status& st) {
    store_failed = true;
    store_error = st;
    return true;
  };
  auto read = store.GetHook(std::to_string(hook_id_));
  if (!read.ok()) {
    if (read.status().IsNotFound()) return false;
    return fail(read.status());
  }
  const Hook& hook = *read;
  const std::string id = std::to_string(hook.id);
  // A paused or failing hook is not woken by new events (they come by the
  // hundred a second under load); it reads itself again at least every
  // poll, which is when a resume or rewind is seen.
  if (hook.paused) {
    Sleep(options_.poll, false);
    return true;
  }
  const Micros now = clock_.Now();
  if (hook.next_attempt_on && *hook.next_attempt_on > now) {
    const auto left = std::chrono::milliseconds((*hook.next_attempt_on - now + 999) / 1000);
    Sleep(std::min(left, options_.poll), false);
    return true;
  }

  auto oldest = store.OldestEventSeq();
  if (!oldest.ok()) return fail(oldest.status());
  if (hook.cursor < *oldest - 1 && noted_gap_cursor_ != hook.cursor) {
    const std::string gap = "events " + std::to_string(hook.cursor + 1) + " to " + std::to_string(*oldest - 1) +
                            " were pruned before they were delivered";
    Log::Error("hook missed pruned events", {{"hook", id}, {"uuid", hook.uuid}, {"error", gap}});
    Status noted = store.NoteHookError(hook.id, gap);
    if (!noted.ok() && !noted.IsNotFound()) return fail(noted);
    noted_gap_cursor_ = hook.cursor;
  }

  auto events = store.EventsAfter(hook.cursor, std::max(options_.fetch, hook.batch_size));
  if (!events.ok()) return fail(events.status());
  if (events->empty()) {
    Sleep(options_.poll);
    return true;
  }
  // courier-recv's writer makes a commit visible before its fdatasync
  // ends (IntakeWriter pipelining). An event posted, then lost to a power
  // failure, would let its seq (and uuid) be given to another event that
  // the application would drop as a duplicate: sync first. A sync covers
  // every commit visible before it starts, so the last seq read just
  // before it says how far it reaches: a backlog is synced once, not once
  // a round, and a round within it pays nothing (the WAL this worker's
  // own cursor commits dirty would make each sync a disk write).
  if (events->back().seq > durable_through_) {
    auto last = store.LastEventSeq();
    if (!last.ok()) return fail(last.status());
    Status durable = MakeReadEventsDurable();
    if (!durable.ok()) return fail(durable);
    durable_through_ = std::max(*last, events->back().seq);
  }

  int64_t cursor = hook.cursor;
  size_t at = 0;
  while (!stop_.stop_requested()) {
    HookBatch batch = NextHookBatch(hook, *events, at);
    if (batch.through_seq == 0) return true;  // all fetched events done: read again
    at = batch.next;
    if (!batch.events.empty()) {
      const Micros sent_at = clock_.Now();
      auto request = HookRequest(hook, batch.events, sent_at / kMicrosPerSecond);
      HttpExchange answer;
      if (request.ok()) {
        answer = http_->Do(*request);
        if (stop_.stop_requested()) return true;  // aborted by Stop: not the application's failure
      }
      if (request.ok() && answer.ok()) {
        delivered_ += static_cast<int64_t>(batch.events.size());
      } else if (request.ok() && answer.status_code == 410) {
        const std::string reason = "410 Gone from the application at " + FormatRfc3339(clock_.Now());
        Log::Warn("hook paused: the application answered 410 Gone",
                  {{"hook", id}, {"uuid", hook.uuid}, {"url", MaskUrlCredentials(hook.url)}});
        Status paused = store.SetHookPaused(hook.id, true, reason);
        if (paused.ok()) paused = store.NoteHookError(hook.id, FailureText(answer));
        if (!paused.ok() && !paused.IsNotFound()) return fail(paused);
        return true;
      } else {
        const std::string error = request.ok() ? FailureText(answer) : request.status().message();
        const Micros wait = HookRetryDelay(hook.failures + 1, std::uniform_real_distribution<double>(0, 1)(random_));
        Log::Warn("hook delivery failed",
                  {{"hook", id}, {"uuid", hook.uuid}, {"url", MaskUrlCredentials(hook.url)},
                   {"first_seq", std::to_string(batch.events.front()->seq)}, {"error", error},
                   {"failures", std::to_string(hook.failures + 1)},
                   {"retry_in_ms", std::to_string(wait / 1000)}});
        auto recorded = store.RecordHookFailure(hook.id, cursor, error, clock_.Now() + wait);
        if (!recorded.ok()) return fail(recorded.status());
        return true;
      }
    }
    auto moved = store.AdvanceHookCursor(hook.id, cursor, batch.through_seq);
    if (!moved.ok()) return fail(moved.status());
    if (!*moved) return true;  // rewound or removed meanwhile: read it again
    if (hook.failures > 0 && cursor == hook.cursor) {
      Log::Info("hook delivering again", {{"hook", id}, {"uuid", hook.uuid}, {"after_failures", std::to_string(hook.failures)}});
    }
    cursor = batch.through_seq;
  }
  return true;
}

}  // namespace courier
