#include "core/redact.h"

#include <Poco/Base64Encoder.h>

#include <sstream>

namespace courier {
namespace {

void ReplaceAll(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    text.replace(pos, needle.size(), kRedacted);
    pos += std::char_traits<char>::length(kRedacted);
  }
}

std::string UrlEncoded(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 15];
  }
  return out;
}

}  // namespace

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    // Very short values would redact ordinary text; credentials are longer.
    if (secret.size() < 3) continue;
    ReplaceAll(text, secret);
    std::string encoded = UrlEncoded(secret);
    if (encoded != secret) ReplaceAll(text, encoded);
  }
  return text;
}

}  // namespace courier
