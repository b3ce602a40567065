#include "daemon/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "core/log.h"
#include "core/status.h"

namespace courier {

void StopToken::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool StopToken::WaitFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

int RunDaemon(const std::string& program, std::chrono::seconds grace, const std::function<int(StopToken&)>& body) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  StopToken token;
  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (finished) return;
      if (sig == SIGHUP) continue;  // reserved for reloads; ignored for now
      if (token.stop_requested()) {
        Log::Warn("second signal, exiting now", {{"signal", std::to_string(sig)}});
        _exit(exit_code::kTempFail);
      }
      Log::Info("stopping", {{"signal", std::to_string(sig)}});
      token.RequestStop();
      std::thread([grace] {
        std::this_thread::sleep_for(grace);
        Log::Error("shutdown took longer than the grace period, exiting", {{"grace_s", std::to_string(grace.count())}});
        _exit(exit_code::kTempFail);
      }).detach();
    }
  });

  int rc = exit_code::kSoftware;
  try {
    rc = body(token);
  } catch (const std::exception& e) {
    Log::Error("fatal", {{"error", e.what()}});
  }
  finished = true;
  pthread_kill(waiter.native_handle(), SIGHUP);  // wake the waiter so it can return
  waiter.join();
  Log::Info("stopped", {{"exit", std::to_string(rc)}});
  (void)program;
  return rc;
}

}  // namespace courier
