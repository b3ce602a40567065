#include "core/work_queue.h"

#include <pthread.h>

#include "core/log.h"

namespace courier {

WorkQueue::~WorkQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkQueue::Submit(std::function<void()> job) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(job));
  if (idle_ == 0 && threads_.size() < max_threads_) {
    threads_.emplace_back([this]() {
      pthread_setname_np(pthread_self(), "work-queue");
      Run();
    });
  } else {
    cv_.notify_one();
  }
}

void WorkQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this]() { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      Log::Error("background job failed", {{"error", e.what()}});
    } catch (...) {
      Log::Error("background job failed", {{"error", "unknown exception"}});
    }
    lock.lock();
  }
}

}  // namespace courier
