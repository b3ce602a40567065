#include "api/long_polls.h"

#include "bus/bus.h"
#include "core/log.h"

namespace courier {
namespace {

// How long the thread listens to the feeds before it looks at pokes and
// deadlines again: the latency of a poke (courier-api's own writes) and
// the precision of a deadline.
constexpr int kSliceMs = 50;

}  // namespace

LongPolls::LongPolls(StoreOpener opener, LongPollOptions options)
    : opener_(std::move(opener)), options_(std::move(options)) {}

LongPolls::~LongPolls() { Stop(); }

void LongPolls::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

bool LongPolls::Park(int64_t after, int limit, std::chrono::steady_clock::time_point deadline, Answer answer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || static_cast<int>(waiters_.size()) >= options_.max_waiting) return false;
    waiters_.push_back(Waiter{after, limit, deadline, std::move(answer)});
    // Look at once: an event committed after the caller read the store,
    // and announced before we listened, would otherwise wait for the poll.
    poked_ = true;
  }
  cv_.notify_all();
  return true;
}

void LongPolls::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void LongPolls::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t LongPolls::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

void LongPolls::Run() {
  EventWaiter feeds(options_.feeds);
  auto last_read = std::chrono::steady_clock::time_point();
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !waiters_.empty(); });
      if (stopping_) break;
    }
    const bool announced = feeds.Wait(kSliceMs);
    bool poked;
    {
      std::lock_guard<std::mutex> lock(mu_);
      poked = poked_;
      poked_ = false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (announced || poked || now - last_read >= std::chrono::milliseconds(options_.poll_ms)) {
      last_read = now;
      AnswerDue(false);
    } else {
      // Deadlines only: no reason to think the store has news.
      bool any_due = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& w : waiters_) any_due = any_due || w.deadline <= now;
      }
      if (any_due) AnswerDue(false);
    }
  }
  AnswerDue(true);
}

void LongPolls::AnswerDue(bool all) {
  int64_t last = -1;  // unknown
  if (!store_) {
    auto opened = opener_();
    if (opened.ok()) store_ = std::move(opened.value());
  }
  if (store_) {
    auto seq = store_->LastEventSeq();
    if (seq.ok()) {
      last = *seq;
    } else {
      Log::Warn("long polls: cannot read the store", {{"error", seq.status().message()}});
      store_.reset();  // a fresh connection next time
    }
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<Waiter> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (all || it->deadline <= now || (last >= 0 && it->after < last)) {
        due.push_back(std::move(*it));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : due) {
    Result<std::vector<Event>> events =
        store_ ? store_->EventsAfter(w.after, w.limit)
               : Result<std::vector<Event>>(Status::Unavailable("store unavailable"));
    if (!events.ok()) store_.reset();
    w.answer(std::move(events));
  }
}

}  // namespace courier
