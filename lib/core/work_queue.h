#pragma once
// WorkQueue: up to `max_threads` threads running submitted jobs in the
// order they came. For work that blocks (a handler's own HTTP request)
// and so must not run on one of courier-recv's event-loop threads.
// Threads start when work arrives and none is idle, so an idle daemon
// that never needs them never has them.
//
// Thread-safety: Submit from any thread. The destructor runs every job
// already submitted, then joins.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace courier {

class WorkQueue {
 public:
  explicit WorkQueue(int max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Jobs must not throw; one that does is logged and dropped.
  void Submit(std::function<void()> job);

 private:
  void Run();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace courier
