#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "core/redact.h"

namespace courier {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::string g_program = "courier";

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendValue(std::string& out, const std::string& v) {
  bool quote = v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') quote = true;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\', out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  out += '"';
}

// The rate limit's state: one limiter, the sink, and when expired keys
// were last looked for (at most once a second, not on every line).
struct Limits {
  std::mutex mu;
  std::unique_ptr<RepeatLimiter> limiter = std::make_unique<RepeatLimiter>(Clock::System(), kLogRepeatWindow,
                                                                           kLogRepeatBurst);
  std::function<void(const std::string&)> sink;
  Micros next_sweep = 0;
};

Limits& TheLimits() {
  static Limits* limits = new Limits;  // never destroyed: lines may be logged during exit
  return *limits;
}

Clock& LogClock() {
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  return l.limiter->clock();
}

const char kKeySeparator = '\x1f';

std::string KeyOf(LogLevel level, const std::string& msg) {
  return std::to_string(static_cast<int>(level)) + kKeySeparator + msg;
}

std::pair<LogLevel, std::string> FromKey(const std::string& key) {
  const size_t sep = key.find(kKeySeparator);
  return {static_cast<LogLevel>(std::atoi(key.substr(0, sep).c_str())), key.substr(sep + 1)};
}

std::string FormatLine(Micros now, LogLevel level, const std::string& msg, const Log::Field* begin,
                       const Log::Field* end, int64_t suppressed, Micros window) {
  std::string line = "ts=" + FormatRfc3339(now) + " level=" + LevelName(level) + " prog=" + g_program + " msg=";
  // The last guard of invariant 6: a URL's userinfo password or api_key
  // parameter never reaches a log, whichever caller forgot it.
  AppendValue(line, MaskUrlCredentials(msg));
  for (const Log::Field* f = begin; f != end; ++f) {
    line += ' ';
    line += f->first;
    line += '=';
    AppendValue(line, MaskUrlCredentials(f->second));
  }
  if (suppressed > 0) line += " suppressed=" + std::to_string(suppressed);
  if (window > 0) line += " window_s=" + std::to_string(window / kMicrosPerSecond);
  line += '\n';
  return line;
}

// Called with l.mu held.
void Emit(Limits& l, const std::string& line) {
  if (l.sink) {
    l.sink(line);
    return;
  }
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

// Called with l.mu held: a line for each key whose window is over with
// lines suppressed.
void EmitSuppressed(Limits& l, bool all) {
  const Micros now = l.limiter->clock().Now();
  for (const auto& [key, count] : l.limiter->TakeSuppressed(all)) {
    auto [level, msg] = FromKey(key);
    Emit(l, FormatLine(now, level, msg, nullptr, nullptr, count, l.limiter->window()));
  }
}

}  // namespace

RepeatLimiter::Verdict RepeatLimiter::Admit(const std::string& key) {
  const Micros now = clock_.Now();
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= max_keys_) return {};
    keys_.emplace(key, Entry{now, 1, 0});
    return {};
  }
  Entry& e = it->second;
  if (now - e.window_start >= window_) {
    Verdict v{true, e.suppressed};
    e = Entry{now, 1, 0};
    return v;
  }
  if (e.printed < burst_) {
    ++e.printed;
    return {};
  }
  ++e.suppressed;
  return {false, 0};
}

std::vector<std::pair<std::string, int64_t>> RepeatLimiter::TakeSuppressed(bool all) {
  std::vector<std::pair<std::string, int64_t>> out;
  const Micros now = clock_.Now();
  for (auto it = keys_.begin(); it != keys_.end();) {
    const bool over = now - it->second.window_start >= window_;
    if (it->second.suppressed > 0 && (over || all)) {
      out.emplace_back(it->first, it->second.suppressed);
      it->second.suppressed = 0;
    }
    it = over ? keys_.erase(it) : std::next(it);
  }
  return out;
}

void Log::Init(const std::string& program, const std::string& level) {
  static std::once_flag at_exit;
  std::call_once(at_exit, [] {
    TheLimits();
    std::atexit(&Log::FlushSuppressed);
  });
  g_program = program;
  LogLevel l = LogLevel::kInfo;
  if (level == "debug") l = LogLevel::kDebug;
  else if (level == "warn") l = LogLevel::kWarn;
  else if (level == "error") l = LogLevel::kError;
  g_level = static_cast<int>(l);
}

bool Log::Enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

std::string Log::Format(LogLevel level, const std::string& msg, std::initializer_list<Field> fields) {
  return FormatLine(LogClock().Now(), level, msg, fields.begin(), fields.end(), 0, 0);
}

void Log::Write(LogLevel level, const std::string& msg, std::initializer_list<Field> fields, bool limited) {
  if (!Enabled(level)) return;
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  const Micros now = l.limiter->clock().Now();
  if (now >= l.next_sweep) {
    EmitSuppressed(l, false);
    l.next_sweep = now + kMicrosPerSecond;
  }
  RepeatLimiter::Verdict v;
  if (limited && level != LogLevel::kDebug) v = l.limiter->Admit(KeyOf(level, msg));
  if (!v.print) return;
  Emit(l, FormatLine(now, level, msg, fields.begin(), fields.end(), v.suppressed, 0));
}

void Log::FlushSuppressed() {
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  EmitSuppressed(l, true);
}

void Log::SetSinkForTest(std::function<void(const std::string&)> sink) {
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  l.sink = std::move(sink);
}

void Log::SetRepeatLimitForTest(Clock& clock, Micros window, int burst) {
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  l.limiter = std::make_unique<RepeatLimiter>(clock, window, burst);
  l.next_sweep = 0;
}

void Log::ResetForTest() {
  Limits& l = TheLimits();
  std::lock_guard<std::mutex> lock(l.mu);
  l.sink = nullptr;
  l.limiter = std::make_unique<RepeatLimiter>(Clock::System(), kLogRepeatWindow, kLogRepeatBurst);
  l.next_sweep = 0;
}

void Log::Unlimited(LogLevel level, const std::string& m, std::initializer_list<Field> f) { Write(level, m, f, false); }
void Log::Debug(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kDebug, m, f); }
void Log::Info(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kInfo, m, f); }
void Log::Warn(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kWarn, m, f); }
void Log::Error(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kError, m, f); }

}  // namespace courier
