#pragma once
// Redaction of channel secrets (invariant 6): every occurrence of a secret
// value, as is or URL-encoded, becomes "********" before a request, a
// response or an error text reaches a channel log or a process log.
#include <string>
#include <vector>

namespace courier {

inline constexpr const char* kRedacted = "********";

std::string Redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace courier
