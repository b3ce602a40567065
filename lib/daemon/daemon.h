#pragma once
// The daemon skeleton shared by courier-recv, courier-send and
// courier-flush, so every daemon looks the same to an operator and to
// supervisord: foreground, logs on stderr, SIGTERM or SIGINT drains and
// exits 0, a second signal or the deadline ends a stuck shutdown.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

namespace courier {

// Set once when the daemon should stop; loops wait on it instead of
// sleeping so they stop at once.
class StopToken {
 public:
  bool stop_requested() const { return stop_.load(); }
  void RequestStop();
  // Sleeps up to `d`; returns true when stop was requested meanwhile.
  bool WaitFor(std::chrono::milliseconds d);

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Blocks the stop signals in every thread (call before creating any),
// runs `body` on this thread with a token that a signal sets, and returns
// body's exit code. If body has not returned `grace` after the signal, or
// a second signal arrives, the process exits with 75 so supervisors see an
// unclean stop.
int RunDaemon(const std::string& program, std::chrono::seconds grace,
              const std::function<int(StopToken&)>& body);

}  // namespace courier
