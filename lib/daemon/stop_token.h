#pragma once
// How a daemon's loops wait: until they are asked to stop, until they are
// woken, or until a time has passed, whichever comes first, so that a
// SIGTERM is seen at once and a wake costs no poll interval.
//
// Thread-safety: a StopToken is shared by every thread of a daemon;
// WaitForWork runs on the one thread that owns the WakeReceiver.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "bus/bus.h"

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

// Sleeps up to `at_most`, returning early when a stop is requested or,
// when `wakes_end_wait`, when a wake arrives on `wake` (an unbound
// WakeReceiver only sleeps). With `wakes_end_wait` false wakes are drained
// and ignored: a daemon waiting out a store outage is woken for every file
// courier-recv spools, and must not try the store for each.
// Returns true when the wait ended on a wake.
bool WaitForWork(WakeReceiver& wake, StopToken& stop, std::chrono::milliseconds at_most, bool wakes_end_wait = true);

}  // namespace courier
