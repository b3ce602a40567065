#pragma once
// Time as the library sees it: microseconds since the Unix epoch, UTC.
//
// Components take a Clock& instead of reading the system clock, so tests can
// move time (backoff, TTLs, TPS windows) without sleeping.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace courier {

using Micros = int64_t;  // microseconds since 1970-01-01T00:00:00Z

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;
  // The process-wide real clock.
  static Clock& System();
};

// A clock tests set by hand, and may move while the code under test
// reads it from other threads.
class ManualClock : public Clock {
 public:
  explicit ManualClock(Micros start) : now_(start) {}
  Micros Now() const override { return now_.load(std::memory_order_relaxed); }
  void Set(Micros t) { now_.store(t, std::memory_order_relaxed); }
  void Advance(Micros d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<Micros> now_;
};

inline constexpr Micros kMicrosPerSecond = 1000000;

// RFC 3339 UTC with microseconds: 2017-07-04T10:32:11.123456Z
std::string FormatRfc3339(Micros t);
// Accepts RFC 3339 with or without fraction and with Z or an offset.
std::optional<Micros> ParseRfc3339(std::string_view text);

}  // namespace courier
