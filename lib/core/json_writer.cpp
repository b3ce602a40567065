#include "core/json_writer.h"

#include <cstdint>
#include <cstring>

#include "util/utf8.h"

namespace courier {
namespace {

// Whether any of the eight bytes in `w` is more than a byte to copy: one
// of a multi-byte sequence (>= 0x80, checked for well-formedness), a
// control character (< 0x20), '"' or '\\'. Each test is the classic
// "has a byte less than n" on the word; it has no false negatives, and a
// false positive only sends the word to the byte-at-a-time loop.
inline bool NeedsEscapingOrChecking(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  const auto has_byte_below = [](uint64_t v, uint64_t n) { return (v - n * kOnes) & ~v & kHighs; };
  return ((w & kHighs) | has_byte_below(w, 0x20) | has_byte_below(w ^ ('"' * kOnes), 1) |
          has_byte_below(w ^ ('\\' * kOnes), 1)) != 0;
}

}  // namespace

// Event payloads, spool files and answers are mostly keys, uuids, URNs,
// times and texts that are ASCII needing no escaping: skipped eight bytes
// at a time (a msg's event payload was 11% of courier-flush's writing
// thread, escaped a byte at a time).
void AppendJsonString(std::string& out, std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  out.reserve(out.size() + value.size() + 2);
  out += '"';
  size_t plain_from = 0;
  // The plain words up to the first byte that matters, then a byte at a
  // time: testing words again after each byte that mattered made text in
  // scripts of multi-byte characters (Amharic, Arabic) 40% slower.
  size_t i = 0;
  for (uint64_t word; i + 8 <= value.size(); i += 8) {
    std::memcpy(&word, value.data() + i, 8);
    if (NeedsEscapingOrChecking(word)) break;
  }
  for (; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      size_t invalid = 0;
      const size_t n = Utf8SequenceLength(value.substr(i), &invalid);
      if (n != 0) {
        i += n - 1;
        continue;
      }
      out.append(value.data() + plain_from, i - plain_from);
      out += "\xEF\xBF\xBD";  // U+FFFD, as ValidUtf8 would
      i += invalid - 1;
      plain_from = i + 1;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value.data() + plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(value.data() + plain_from, value.size() - plain_from);
  out += '"';
}

JsonWriter& JsonWriter::Open(char c) {
  BeforeValue();
  out_ += c;
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::Close(char c) {
  out_ += c;
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_ += ':';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::StringOrNull(std::string_view value) { return value.empty() ? Null() : String(value); }

JsonWriter& JsonWriter::Time(std::optional<Micros> t) { return t ? String(FormatRfc3339(*t)) : Null(); }

JsonWriter& JsonWriter::Strings(const std::vector<std::string>& values) {
  BeginArray();
  for (const auto& v : values) String(v);
  return EndArray();
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  BeforeValue();
  // Raw text comes from the store (event payloads) and may predate the
  // writer's own guarantee; outside strings JSON is ASCII, so repairing
  // the whole text repairs the strings in it.
  AppendValidUtf8(out_, json);
  return *this;
}

}  // namespace courier
