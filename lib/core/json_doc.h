#pragma once
// Reading JSON fast, for the decoders on a hot path: every intake
// courier-flush replays is one document (spool/intake_codec.h), and Poco's
// tree (a map node, a Var on the heap and a copy for every field) was two
// thirds of the flusher's decoding thread. simdjson parses into a flat
// tape; the reads below give core/json.h's answers on it (a value absent,
// null or of another type reads as nullopt).
//
// What simdjson refuses that Poco took: ill-formed UTF-8 (ParseObject
// reads each ill-formed sequence as U+FFFD, as util/utf8.h's ValidUtf8
// does), a \u escape of half a surrogate pair (read as U+FFFD too), and
// numbers beyond 64 bits, which nothing courier writes holds. So every
// string read from a parsed document is well-formed UTF-8.
//
// Thread-safety: a Parser is one thread's; what it parsed lives until its
// next Parse.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace simdjson::dom {
class object;
class element;
class parser;
}  // namespace simdjson::dom

namespace courier::jsondoc {

using Object = simdjson::dom::object;
using Element = simdjson::dom::element;

class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses `text`, whose root must be an object: InvalidArgument ("invalid
  // JSON: ...") otherwise. The object stays valid until the next Parse.
  // Sets *repaired_utf8, when given, to whether `text` held ill-formed
  // UTF-8 (read as U+FFFD).
  Result<const Object*> ParseObject(std::string_view text, bool* repaired_utf8 = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::optional<std::string> GetString(const Object& o, std::string_view key);
std::optional<int64_t> GetInt(const Object& o, std::string_view key);
std::optional<bool> GetBool(const Object& o, std::string_view key);
bool Has(const Object& o, std::string_view key);  // null included
// True when `key` is absent or null.
bool IsAbsentOrNull(const Object& o, std::string_view key);
// The object under `key`; nullopt when absent, null or another type.
std::optional<Object> GetObject(const Object& o, std::string_view key);
// Each element of the array under `key`, as objects: empty when absent or
// null; InvalidArgument "'key' must be an array" or "'key' must hold
// objects" otherwise.
Result<std::vector<Object>> GetObjects(const Object& o, std::string_view key);
// An array of strings; empty when absent or null, InvalidArgument
// ("field 'key' must be an array of strings") otherwise.
Result<std::vector<std::string>> GetStringArray(const Object& o, std::string_view key);
// The value under `key` as compact JSON text, for the parts read through
// core/json.h (rare: a msg's template); "" when absent.
std::string Text(const Object& o, std::string_view key);
// Each member of `o` in order: its key and its value when a string.
std::vector<std::pair<std::string, std::optional<std::string>>> StringMembers(const Object& o);

}  // namespace courier::jsondoc
