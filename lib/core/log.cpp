#include "core/log.h"

#include <unistd.h>

#include <atomic>

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

}  // namespace

void Log::Init(const std::string& program, const std::string& level) {
  g_program = program;
  LogLevel l = LogLevel::kInfo;
  if (level == "debug") l = LogLevel::kDebug;
  else if (level == "warn") l = LogLevel::kWarn;
  else if (level == "error") l = LogLevel::kError;
  g_level = static_cast<int>(l);
}

bool Log::Enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

std::string Log::Format(LogLevel level, const std::string& msg, std::initializer_list<Field> fields) {
  std::string line = "ts=" + FormatRfc3339(Clock::System().Now()) + " level=" + LevelName(level) + " prog=" + g_program +
                     " msg=";
  // The last guard of invariant 6: a URL's userinfo password or api_key
  // parameter never reaches a log, whichever caller forgot it.
  AppendValue(line, MaskUrlCredentials(msg));
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    AppendValue(line, MaskUrlCredentials(v));
  }
  line += '\n';
  return line;
}

void Log::Write(LogLevel level, const std::string& msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  std::string line = Format(level, msg, fields);
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

void Log::Debug(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kDebug, m, f); }
void Log::Info(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kInfo, m, f); }
void Log::Warn(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kWarn, m, f); }
void Log::Error(const std::string& m, std::initializer_list<Field> f) { Write(LogLevel::kError, m, f); }

}  // namespace courier
