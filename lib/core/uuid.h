#pragma once
// UUIDs: random (v4) generation and strict parsing of the textual form.
#include <optional>
#include <string>
#include <string_view>

namespace courier {

// A fresh random UUID, lower-case canonical text. Thread-safe.
std::string NewUUID();
// Lower-cases and checks the 8-4-4-4-12 hex form; nullopt when malformed.
std::optional<std::string> NormalizeUUID(std::string_view text);

}  // namespace courier
