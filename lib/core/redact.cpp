#include "core/redact.h"

#include <algorithm>
#include <cctype>
#include <cstring>

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

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Replaces `needle` where no letter or digit touches it on either side.
void ReplaceWholeTokens(std::string& text, const std::string& needle) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    const size_t end = pos + needle.size();
    const bool starts = pos == 0 || !IsWordChar(text[pos - 1]) || !IsWordChar(needle.front());
    const bool ends = end == text.size() || !IsWordChar(text[end]) || !IsWordChar(needle.back());
    if (starts && ends) {
      text.replace(pos, needle.size(), kRedacted);
      pos += std::char_traits<char>::length(kRedacted);
    } else {
      ++pos;
    }
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

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and '+' (a space in forms) decoded; anything malformed kept.
std::string PercentDecoded(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Where a URL or a parameter value ends in running text: a dump, a log
// line, a JSON string.
bool EndsValue(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || std::strchr("&#;\"'<>\\", c) != nullptr;
}
bool EndsAuthority(char c) { return EndsValue(c) || c == '/' || c == '?'; }

// Errs on the side of masking: "pass" also covers password and passwd,
// "sig" signature, "key" api_key and apikey, "auth" authorization.
bool IsCredentialName(const std::string& name) {
  std::string lower = PercentDecoded(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"pass", "token", "key", "secret", "sig", "auth"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_-.%[]", c) != nullptr;
}

struct Span {
  size_t begin, end;
};

// The spans of `text` that hold credentials, in order, not overlapping.
std::vector<Span> CredentialSpans(const std::string& text) {
  std::vector<Span> spans;
  // Userinfo: scheme://[user[:password]@]host
  for (size_t pos = text.find("://"); pos != std::string::npos; pos = text.find("://", pos + 3)) {
    const size_t start = pos + 3;
    size_t end = start;
    while (end < text.size() && !EndsAuthority(text[end])) ++end;
    const size_t at = text.rfind('@', end == 0 ? 0 : end - 1);
    if (at == std::string::npos || at < start || at >= end) continue;
    const size_t colon = text.find(':', start);
    const size_t secret_begin = colon != std::string::npos && colon < at ? colon + 1 : start;
    if (secret_begin < at) spans.push_back({secret_begin, at});
  }
  // Parameters: [?&;\n or start]name=value
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != 0 && std::strchr("?&;\n", text[i - 1]) == nullptr) continue;
    size_t eq = i;
    while (eq < text.size() && IsNameChar(text[eq])) ++eq;
    if (eq == i || eq >= text.size() || text[eq] != '=') continue;
    if (!IsCredentialName(text.substr(i, eq - i))) continue;
    size_t end = eq + 1;
    while (end < text.size() && !EndsValue(text[end])) ++end;
    if (end > eq + 1) spans.push_back({eq + 1, end});
    i = end == 0 ? 0 : end - 1;
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::vector<Span> merged;
  for (const auto& s : spans) {
    if (!merged.empty() && s.begin < merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

}  // namespace

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    // A very short value replaced wherever it occurs would redact
    // ordinary text ("ab" in "about"), so it is replaced only as a whole
    // token; still, it is a secret, and where it stands alone it goes.
    auto replace = secret.size() < kShortSecret ? ReplaceWholeTokens : ReplaceAll;
    replace(text, secret);
    std::string encoded = UrlEncoded(secret);
    if (encoded != secret) replace(text, encoded);
  }
  return text;
}

std::string MaskUrlCredentials(const std::string& text) {
  const std::vector<Span> spans = CredentialSpans(text);
  if (spans.empty()) return text;
  std::string out;
  size_t done = 0;
  for (const auto& s : spans) {
    out.append(text, done, s.begin - done);
    out += kRedacted;
    done = s.end;
  }
  out.append(text, done, std::string::npos);
  return out;
}

std::vector<std::string> UrlCredentials(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& s : CredentialSpans(text)) {
    std::string value = text.substr(s.begin, s.end - s.begin);
    // A template placeholder ({{id}}) or a value already masked is no
    // credential.
    if (value == kRedacted || value.find("{{") != std::string::npos) continue;
    std::string decoded = PercentDecoded(value);
    out.push_back(value);
    if (decoded != value) out.push_back(std::move(decoded));
  }
  return out;
}

}  // namespace courier
