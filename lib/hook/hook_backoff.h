#pragma once
// How long courier-hook waits before posting to a failing application
// again: exponential from 1 s, doubling per consecutive failure, capped at
// 10 minutes, with "equal jitter" (a random point in the upper half of the
// step), so many hooks failing together (one application behind them all
// went down) do not come back in lock step, and no wait is ever shorter
// than half its step.
//
//   failures: 1     2     3     4      ...  10           11 and more
//   wait:     0.5-1 1-2   2-4   4-8 s  ...  256-512 s    300-600 s
//
// Thread-safety: pure function.
#include "core/clock.h"

namespace courier {

inline constexpr Micros kHookFirstRetry = kMicrosPerSecond;
inline constexpr Micros kHookMaxRetry = 600 * kMicrosPerSecond;

// The wait after the `failures`-th consecutive failure (1 for the first);
// `random01` is uniform in [0, 1): the jitter.
Micros HookRetryDelay(int failures, double random01);

}  // namespace courier
