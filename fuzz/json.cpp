// Fuzz target: the JSON reader every handler reads webhooks with
// (lib/core/json). Any text is parsed or refused with a Status, never an
// exception; every accessor answers on whatever was parsed; a parsed
// object prints as text that parses again to the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/json.h"
#include "fuzz_check.h"

namespace {

using namespace courier;

void ReadAll(const json::ObjectPtr& o, int depth) {
  if (depth > 8) return;
  std::vector<std::string> names;
  o->getNames(names);
  for (const auto& key : names) {
    json::GetString(o, key);
    json::GetInt(o, key);
    json::GetBool(o, key);
    json::GetText(o, key);
    json::GetNumber(o, key);
    json::GetNumberLoose(o, key);
    json::GetIntLoose(o, key);
    json::GetId(o, key);
    (void)json::GetStringArray(o, key);
    json::GetArray(o, key);
    for (const auto& child : json::GetObjects(o, key)) ReadAll(child, depth + 1);
    if (auto child = json::GetObject(o, key)) ReadAll(child, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = json::ParseObject(text);
  if (!parsed.ok()) return 0;
  ReadAll(*parsed, 0);
  const std::string printed = json::Stringify(*parsed);
  auto again = json::ParseObject(printed);
  FUZZ_CHECK(again.ok(), "printed object does not parse: " + again.status().message() + "\n" + printed);
  const std::string printed_again = json::Stringify(*again);
  FUZZ_CHECK(printed_again == printed, "first:\n" + printed + "\nsecond:\n" + printed_again);
  return 0;
}
