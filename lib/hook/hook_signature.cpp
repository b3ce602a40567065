#include "hook/hook_signature.h"

#include <cstdlib>

#include "util/hmac.h"
#include "util/text.h"

namespace courier {

std::string HookSignature(const std::string& secret, int64_t unix_seconds, const std::string& body) {
  const std::string t = std::to_string(unix_seconds);
  return "t=" + t + ",v1=" + HmacSha256Hex(secret, t + "." + body);
}

bool VerifyHookSignature(const std::string& header, const std::string& secret, const std::string& body,
                         int64_t now_unix_seconds, int64_t tolerance_seconds) {
  std::string t;
  std::vector<std::string> candidates;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    const std::string part = Trim(std::string_view(header).substr(start, comma - start));
    if (StartsWith(part, "t=")) t = part.substr(2);
    else if (StartsWith(part, "v1=")) candidates.push_back(part.substr(3));
    start = comma + 1;
  }
  if (t.empty() || t.size() > 18 || !AllDigits(t) || candidates.empty()) return false;
  const int64_t when = std::strtoll(t.c_str(), nullptr, 10);
  if (when < now_unix_seconds - tolerance_seconds || when > now_unix_seconds + tolerance_seconds) return false;
  const std::string expected = HmacSha256Hex(secret, t + "." + body);
  bool matched = false;
  for (const auto& c : candidates) matched = ConstantTimeEquals(c, expected) || matched;
  return matched;
}

}  // namespace courier
