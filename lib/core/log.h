#pragma once
// Process logs for operators: one logfmt line per event on stderr,
//   ts=2026-11-27T20:42:13.123456Z level=info prog=courier-recv msg="message received" channel=... 
// Values are quoted when they contain spaces, quotes or '='. Callers never
// pass secrets (channel configs are not logged); credentials inside URLs
// are masked here too (MaskUrlCredentials), whoever passes them. Thread-safe: each line is
// written with one write(2).
//
// Repeats are rate-limited (RepeatLimiter): a line's key is its level and
// msg (not its fields), and of the lines with one key only the first
// kLogRepeatBurst in a kLogRepeatWindow are printed. The rest are counted,
// and the count is printed as `suppressed=N` on the key's next printed
// line, or on a line of its own (same level and msg, `suppressed=N
// window_s=W`) once the window is over and any line is logged, and at exit.
// So a failure answered once per request (a full disk refusing 17,000
// webhooks in 18 s) costs a few lines, not one a request. Debug lines are
// never suppressed: whoever turns them on wants all of them; nor lines
// written with Unlimited, by a caller with a limit of its own
// (courier-recv's RefusalLog, whose lines differ by path and remote).
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace courier {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

inline constexpr Micros kLogRepeatWindow = 10 * kMicrosPerSecond;
inline constexpr int kLogRepeatBurst = 3;

// Which lines of a key to print: the first `burst` of each `window`
// (which starts at the key's first line after the last window ended).
// Not thread-safe: Log guards its one with a mutex.
class RepeatLimiter {
 public:
  RepeatLimiter(Clock& clock, Micros window, int burst, size_t max_keys = 1024)
      : clock_(clock), window_(window), burst_(burst < 1 ? 1 : burst), max_keys_(max_keys) {}

  struct Verdict {
    bool print = true;
    int64_t suppressed = 0;  // when printing: lines of this key suppressed since the last printed one
  };
  Verdict Admit(const std::string& key);

  // Keys whose window is over with lines suppressed, and how many (each
  // reported once); with `all`, every key with lines suppressed, window
  // over or not. Forgets the keys whose window is over.
  std::vector<std::pair<std::string, int64_t>> TakeSuppressed(bool all = false);

  Clock& clock() const { return clock_; }
  Micros window() const { return window_; }

 private:
  struct Entry {
    Micros window_start = 0;
    int printed = 0;
    int64_t suppressed = 0;
  };
  Clock& clock_;
  const Micros window_;
  const int burst_;
  // Beyond this many keys in one window new keys are printed untracked,
  // so a flood of distinct messages cannot grow the map without bound.
  const size_t max_keys_;
  std::map<std::string, Entry> keys_;
};

class Log {
 public:
  using Field = std::pair<const char*, std::string>;
  // Sets the program name and the lowest level printed ("debug" ... "error").
  static void Init(const std::string& program, const std::string& level);
  static void Debug(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Info(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Warn(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Error(const std::string& msg, std::initializer_list<Field> fields = {});
  // A line the repeat limit does not apply to: for callers that limit
  // their own lines (and count what they hold back).
  static void Unlimited(LogLevel level, const std::string& msg, std::initializer_list<Field> fields = {});
  static bool Enabled(LogLevel level);
  // The line Write would print, for tests.
  static std::string Format(LogLevel level, const std::string& msg, std::initializer_list<Field> fields);
  // Prints the counts of every key with lines suppressed now (at exit,
  // registered by Init).
  static void FlushSuppressed();

  // For tests: where lines go instead of stderr (nullptr: stderr again),
  // and the clock and limits the rate limit uses (the system clock and
  // kLogRepeatWindow/kLogRepeatBurst again with ResetForTest).
  static void SetSinkForTest(std::function<void(const std::string&)> sink);
  static void SetRepeatLimitForTest(Clock& clock, Micros window, int burst);
  static void ResetForTest();

 private:
  static void Write(LogLevel level, const std::string& msg, std::initializer_list<Field> fields, bool limited = true);
};

}  // namespace courier
