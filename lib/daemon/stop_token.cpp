#include "daemon/stop_token.h"

#include <algorithm>

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

bool WaitForWork(WakeReceiver& wake, StopToken& stop, std::chrono::milliseconds at_most, bool wakes_end_wait) {
  // A wake socket cannot wait on the token too, so the wait is cut in
  // slices short enough for a stop to be seen at once.
  constexpr int64_t kSliceMs = 200;
  const auto deadline = std::chrono::steady_clock::now() + at_most;
  while (!stop.stop_requested()) {
    // Rounded up: a wait that ignores wakes lasts its whole time.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (wake.Wait(static_cast<int>(std::min<int64_t>(left.count(), kSliceMs))) && wakes_end_wait) return true;
  }
  return false;
}

}  // namespace courier
