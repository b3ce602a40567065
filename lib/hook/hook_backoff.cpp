#include "hook/hook_backoff.h"

#include <algorithm>

namespace courier {

Micros HookRetryDelay(int failures, double random01) {
  Micros step = kHookFirstRetry;
  // 2^10 s is past the cap already: no overflow for any count.
  for (int i = 1; i < std::min(failures, 11); ++i) step *= 2;
  step = std::min(step, kHookMaxRetry);
  const double jitter = std::clamp(random01, 0.0, 1.0);
  return step / 2 + static_cast<Micros>(static_cast<double>(step / 2) * jitter);
}

}  // namespace courier
