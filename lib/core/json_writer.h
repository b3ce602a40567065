#pragma once
// JsonWriter: compact JSON text written straight into a string, for the
// hot paths (event payloads, spool files, webhook answers) where building
// a Poco::JSON tree first cost more than the store write it described
// (perf: Poco::Dynamic::Var allocations and the stringifier were 10-15% of
// the intake writer).
//
// The text is byte for byte what json::Stringify gives for the same
// fields in the same order: keys in call order, `"` `\` and control
// characters escaped (\b \f \n \r \t, others \u00XX), everything else,
// UTF-8 included, as is. Callers are trusted to nest correctly; the writer
// only places the commas.
//
// The text is always well-formed UTF-8, whatever the input: ill-formed
// sequences in strings, keys and Raw text are written as U+FFFD, one per
// maximal subpart (util/utf8.h's ValidUtf8), so no JSON this program
// emits (answers, events, spool files, courier-ctl output) can be refused
// by a strict parser.
//
// Thread-safety: none; one writer per text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace courier {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A string, or null when empty (external_id, error_reason ...).
  JsonWriter& StringOrNull(std::string_view value);
  // An RFC 3339 time, or null.
  JsonWriter& Time(std::optional<Micros> t);
  JsonWriter& Strings(const std::vector<std::string>& values);
  // JSON text written as it is (already a complete value), but for
  // ill-formed UTF-8, which is repaired.
  JsonWriter& Raw(std::string_view json);

  // Key(k) and the value, for the common object member.
  template <typename V>
  JsonWriter& Field(std::string_view key, const V& value) {
    Key(key);
    return Value(value);
  }

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Value(std::string_view v) { return String(v); }
  JsonWriter& Value(const std::string& v) { return String(v); }
  JsonWriter& Value(const char* v) { return String(v); }
  JsonWriter& Value(int64_t v) { return Int(v); }
  JsonWriter& Value(int v) { return Int(v); }
  JsonWriter& Value(bool v) { return Bool(v); }
  JsonWriter& Value(const std::vector<std::string>& v) { return Strings(v); }

  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void BeforeValue() {
    if (need_comma_) out_ += ',';
    need_comma_ = true;
  }

  std::string out_;
  bool need_comma_ = false;
};

// Appends `value` to `out` as a quoted, escaped JSON string; ill-formed
// UTF-8 as U+FFFD.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace courier
