#pragma once
// Process logs for operators: one logfmt line per event on stderr,
//   ts=2026-11-27T20:42:13.123456Z level=info prog=courier-recv msg="message received" channel=... 
// Values are quoted when they contain spaces, quotes or '='. Callers never
// pass secrets (channel configs are not logged); credentials inside URLs
// are masked here too (MaskUrlCredentials), whoever passes them. Thread-safe: each line is
// written with one write(2).
#include <initializer_list>
#include <string>
#include <utility>

namespace courier {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

class Log {
 public:
  using Field = std::pair<const char*, std::string>;
  // Sets the program name and the lowest level printed ("debug" ... "error").
  static void Init(const std::string& program, const std::string& level);
  static void Debug(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Info(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Warn(const std::string& msg, std::initializer_list<Field> fields = {});
  static void Error(const std::string& msg, std::initializer_list<Field> fields = {});
  static bool Enabled(LogLevel level);
  // The line Write would print, for tests.
  static std::string Format(LogLevel level, const std::string& msg, std::initializer_list<Field> fields);

 private:
  static void Write(LogLevel level, const std::string& msg, std::initializer_list<Field> fields);
};

}  // namespace courier
