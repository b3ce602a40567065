#include "core/uuid.h"

#include <Poco/UUID.h>
#include <Poco/UUIDGenerator.h>

#include <cctype>

namespace courier {

std::string NewUUID() {
  // UUIDGenerator serialises createRandom() with its own mutex, so the
  // shared default generator is safe to use from any thread.
  std::string s = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::string> NormalizeUUID(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace courier
