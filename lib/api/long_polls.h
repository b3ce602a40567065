#pragma once
// LongPolls: the GET /api/v1/events requests that found no event after
// their cursor and wait for one, each up to its deadline, holding no
// thread: the HTTP server keeps their connections suspended, and one
// thread of this class watches for new events for all of them.
//
// How it learns of events: it subscribes to courier-recv's and
// courier-send's event feeds (ZeroMQ: a wake-up only) and is poked by the
// API itself after its own writes; whatever it misses is caught by reading
// the store's last seq every `poll_ms` while anyone waits (invariant 4:
// the store is the truth). A waiter whose cursor is behind the last seq
// gets the events after it, read from the store; one whose deadline
// passes gets what the store has then (usually nothing).
//
// Bounded: at most `max_waiting` wait at once; Park refuses the next one
// (the caller answers 503) so a flood of polls cannot hold every
// connection the server has.
//
// Thread-safety: Park and Poke from any thread. Stop() answers everyone
// still waiting (with what the store has) and joins.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/event.h"
#include "store/store.h"

namespace courier {

struct LongPollOptions {
  std::vector<std::string> feeds;  // event PUB endpoints to subscribe to
  int max_waiting = 256;
  int poll_ms = 1000;  // the store is read at least this often while anyone waits
};

class LongPolls {
 public:
  // Called once per waiter, on this class's thread: the events after its
  // cursor (maybe none: the deadline passed or the service is stopping),
  // or the store's error.
  using Answer = std::function<void(Result<std::vector<Event>> events)>;

  LongPolls(StoreOpener opener, LongPollOptions options);
  ~LongPolls();
  LongPolls(const LongPolls&) = delete;
  LongPolls& operator=(const LongPolls&) = delete;

  void Start();
  // Waits for events after `after` (at most `limit`) until `deadline`;
  // false (and `answer` not kept) when max_waiting are waiting already.
  bool Park(int64_t after, int limit, std::chrono::steady_clock::time_point deadline, Answer answer);
  // Something was committed: look now.
  void Poke();
  void Stop();
  size_t waiting() const;

 private:
  struct Waiter {
    int64_t after;
    int limit;
    std::chrono::steady_clock::time_point deadline;
    Answer answer;
  };
  void Run();
  // Answers the waiters that are due (events after their cursor, or
  // deadline passed; all of them when `all`).
  void AnswerDue(bool all);

  StoreOpener opener_;
  const LongPollOptions options_;
  std::unique_ptr<Store> store_;  // the thread's own connection
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::list<Waiter> waiters_;
  bool poked_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace courier
