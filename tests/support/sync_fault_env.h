#pragma once
// SyncFaultEnv: the real filesystem, with the store's WAL syncs
// (Env::SyncFileData) counted and, on request, failed or held, for tests
// of what happens when a commit is not known durable.
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "pass_through_env.h"

namespace courier::testing {

class SyncFaultEnv : public PassThroughEnv {
 public:
  std::atomic<int> syncs{0};
  std::atomic<int> fail_next_syncs{0};
  // While held, every WAL sync waits for Release().
  void Hold() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(gate_mu_);
      held_ = false;
    }
    gate_cv_.notify_all();
  }
  void WaitForAHeldSync() {
    std::unique_lock<std::mutex> lock(gate_mu_);
    gate_cv_.wait(lock, [this] { return waiting_ > 0; });
  }
  Status SyncFileData(int fd, const std::string& path) override {
    {
      std::unique_lock<std::mutex> lock(gate_mu_);
      if (held_) {
        ++waiting_;
        gate_cv_.notify_all();
        gate_cv_.wait(lock, [this] { return !held_; });
        --waiting_;
      }
    }
    syncs++;
    if (fail_next_syncs > 0) {
      fail_next_syncs--;
      return Status::IOError("injected: fdatasync " + path + " failed");
    }
    return Env::Default().SyncFileData(fd, path);
  }

 private:
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool held_ = false;
  int waiting_ = 0;
};

}  // namespace courier::testing
