#include "core/json_doc.h"

#include <simdjson.h>

#include "util/utf8.h"

namespace courier::jsondoc {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// The code unit of the \u escape at `at` (the backslash), or -1.
int EscapedUnit(std::string_view text, size_t at) {
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
  int unit = 0;
  for (size_t i = at + 2; i < at + 6; ++i) {
    if (!IsHex(text[i])) return -1;
    const char c = text[i];
    unit = unit * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return unit;
}

// `text` with each \u escape of half a surrogate pair that has no other
// half replaced by \ufffd; nullopt when there is none. Outside strings JSON
// has no backslash, so every backslash met here starts an escape.
std::optional<std::string> RepairSurrogateEscapes(std::string_view text) {
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') continue;
    const int unit = EscapedUnit(text, i);
    if (unit < 0) {
      ++i;  // another escape: skip the character it escapes
      continue;
    }
    bool lone = false;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int next = EscapedUnit(text, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        i += 11;  // a whole pair
        continue;
      }
      lone = true;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      lone = true;
    }
    if (lone) {
      out.append(text.data() + copied, i - copied);
      out += "\\ufffd";
      copied = i + 6;
    }
    i += 5;
  }
  if (copied == 0) return std::nullopt;
  out.append(text.data() + copied, text.size() - copied);
  return out;
}

std::optional<Element> Member(const Object& o, std::string_view key) {
  Element value;
  if (o.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

}  // namespace

struct Parser::State {
  simdjson::dom::parser parser;
  Object root;
  std::string repaired;  // the text parsed, when it had to be repaired
};

Parser::Parser() : state_(std::make_unique<State>()) {}
Parser::~Parser() = default;

Result<const Object*> Parser::ParseObject(std::string_view text, bool* repaired_utf8) {
  if (repaired_utf8 != nullptr) *repaired_utf8 = false;
  Element root;
  auto error = state_->parser.parse(text.data(), text.size()).get(root);
  // simdjson validates UTF-8 anyway, so text is repaired only when it
  // refuses it: no second pass over every well-formed document.
  if (error == simdjson::UTF8_ERROR) {
    state_->repaired = ValidUtf8(text);
    text = state_->repaired;
    if (repaired_utf8 != nullptr) *repaired_utf8 = true;
    error = state_->parser.parse(text.data(), text.size()).get(root);
  }
  if (error == simdjson::STRING_ERROR) {
    if (auto repaired = RepairSurrogateEscapes(text)) {
      state_->repaired = std::move(*repaired);
      error = state_->parser.parse(state_->repaired.data(), state_->repaired.size()).get(root);
    }
  }
  if (error != simdjson::SUCCESS) return Status::InvalidArgument(std::string("invalid JSON: ") + simdjson::error_message(error));
  if (root.get(state_->root) != simdjson::SUCCESS) return Status::InvalidArgument("expected a JSON object");
  return &state_->root;
}

std::optional<std::string> GetString(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  std::string_view text;
  if (!value || value->get(text) != simdjson::SUCCESS) return std::nullopt;
  return std::string(text);
}

std::optional<int64_t> GetInt(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  int64_t n = 0;
  if (!value || !value->is_int64() || value->get(n) != simdjson::SUCCESS) return std::nullopt;
  return n;
}

std::optional<bool> GetBool(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  bool b = false;
  if (!value || value->get(b) != simdjson::SUCCESS) return std::nullopt;
  return b;
}

bool Has(const Object& o, std::string_view key) { return Member(o, key).has_value(); }

bool IsAbsentOrNull(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  return !value || value->is_null();
}

std::optional<Object> GetObject(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  Object object;
  if (!value || value->get(object) != simdjson::SUCCESS) return std::nullopt;
  return object;
}

Result<std::vector<Object>> GetObjects(const Object& o, std::string_view key) {
  std::vector<Object> out;
  auto value = Member(o, key);
  if (!value || value->is_null()) return out;
  simdjson::dom::array array;
  if (value->get(array) != simdjson::SUCCESS) return Status::InvalidArgument("'" + std::string(key) + "' must be an array");
  out.reserve(array.size());
  for (Element item : array) {
    Object object;
    if (item.get(object) != simdjson::SUCCESS)
      return Status::InvalidArgument("'" + std::string(key) + "' must hold objects");
    out.push_back(object);
  }
  return out;
}

Result<std::vector<std::string>> GetStringArray(const Object& o, std::string_view key) {
  std::vector<std::string> out;
  auto value = Member(o, key);
  if (!value || value->is_null()) return out;
  const Status wrong = Status::InvalidArgument("field '" + std::string(key) + "' must be an array of strings");
  simdjson::dom::array array;
  if (value->get(array) != simdjson::SUCCESS) return wrong;
  for (Element item : array) {
    std::string_view text;
    if (item.get(text) != simdjson::SUCCESS) return wrong;
    out.emplace_back(text);
  }
  return out;
}

std::string Text(const Object& o, std::string_view key) {
  auto value = Member(o, key);
  return value ? simdjson::minify(*value) : std::string();
}

std::vector<std::pair<std::string, std::optional<std::string>>> StringMembers(const Object& o) {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  for (auto member : o) {
    std::string_view text;
    out.emplace_back(std::string(member.key),
                     member.value.get(text) == simdjson::SUCCESS ? std::optional<std::string>(text) : std::nullopt);
  }
  return out;
}

}  // namespace courier::jsondoc
