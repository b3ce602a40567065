#include "util/utf8.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "util/text.h"

namespace courier {

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t Utf8SequenceLength(std::string_view text, size_t* invalid) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // The lead byte fixes the length and the range of the second byte
  // (Unicode table 3-7); that range is what excludes overlong forms,
  // surrogates and code points above U+10FFFF.
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) n = 2;
  else if (lead == 0xE0) n = 3, lo = 0xA0;
  else if (lead >= 0xE1 && lead <= 0xEC) n = 3;
  else if (lead == 0xED) n = 3, hi = 0x9F;
  else if (lead >= 0xEE && lead <= 0xEF) n = 3;
  else if (lead == 0xF0) n = 4, lo = 0x90;
  else if (lead >= 0xF1 && lead <= 0xF3) n = 4;
  else if (lead == 0xF4) n = 4, hi = 0x8F;
  size_t good = 1;  // bytes of the sequence that could still start a character
  if (n != 0) {
    for (; good < n && good < text.size(); ++good) {
      const unsigned char c = byte(good);
      const bool fits = good == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
      if (!fits) break;
    }
    if (good == n) return n;
  }
  if (invalid) *invalid = good;
  return 0;
}

namespace {

// The end of the ASCII run at `i`, eight bytes at a time: JSON bodies,
// HTTP heads and most msgs are ASCII, and every intake is checked whole.
size_t SkipAscii(std::string_view text, size_t i) {
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  while (i + 8 <= text.size()) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if ((word & kHighBits) != 0) break;
    i += 8;
  }
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  return i;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    i = SkipAscii(text, i);
    if (i == text.size()) break;
    const size_t n = Utf8SequenceLength(text.substr(i), nullptr);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void AppendValidUtf8(std::string& out, std::string_view text) {
  size_t plain_from = 0, i = 0;
  while (i < text.size()) {
    i = SkipAscii(text, i);
    if (i == text.size()) break;
    size_t invalid = 0;
    const size_t n = Utf8SequenceLength(text.substr(i), &invalid);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(text.data() + plain_from, i - plain_from);
    out += "\xEF\xBF\xBD";  // U+FFFD
    i += invalid;
    plain_from = i;
  }
  out.append(text.data() + plain_from, text.size() - plain_from);
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendValidUtf8(out, text);
  return out;
}

bool MakeValidUtf8(std::string& text) {
  if (IsValidUtf8(text)) return false;
  text = ValidUtf8(text);
  return true;
}

bool DecodeUtf8(const std::string& text, std::u32string& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    const std::string_view rest(text.data() + i, text.size() - i);
    const size_t n = Utf8SequenceLength(rest, nullptr);
    if (n == 0) return false;
    const unsigned char c = static_cast<unsigned char>(text[i]);
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return true;
}

size_t CodePoints(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Truncate(const std::string& text, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (n == max) return text.substr(0, i);
      ++n;
    }
  }
  return text;
}

std::vector<std::string> SplitText(const std::string& text, size_t max) {
  std::vector<std::string> parts;
  if (max == 0) return {text};
  // Byte offsets of each code point start.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  size_t cp = 0;
  while (cp < starts.size()) {
    size_t remaining = starts.size() - cp;
    if (remaining <= max) {
      parts.push_back(text.substr(starts[cp]));
      break;
    }
    // Break after the last whitespace within the limit, if any.
    size_t end = cp + max;  // code point index one past the part
    size_t brk = end;
    // A part that ends right before a space ends at a word boundary already.
    const char next = text[starts[end]];
    const bool boundary_after = next == ' ' || next == '\n' || next == '\t';
    for (size_t j = end; !boundary_after && j > cp; --j) {
      char c = text[starts[j - 1]];
      if (c == ' ' || c == '\n' || c == '\t') {
        brk = j;
        break;
      }
    }
    if (brk == cp) brk = end;
    std::string part = text.substr(starts[cp], starts[brk] - starts[cp]);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\n' || part.back() == '\t')) part.pop_back();
    if (!part.empty()) parts.push_back(part);
    cp = brk;
    while (cp < starts.size() && (text[starts[cp]] == ' ' || text[starts[cp]] == '\n')) ++cp;
  }
  if (parts.empty()) parts.push_back("");
  return parts;
}

std::string Utf16ToUtf8(const std::vector<uint16_t>& units) {
  std::string out;
  for (size_t i = 0; i < units.size(); ++i) {
    char32_t cp = units[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (units[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;  // a lone surrogate is no character
    }
    AppendUtf8(out, cp);
  }
  return out;
}

std::vector<uint16_t> Utf8ToUtf16(const std::string& text) {
  std::u32string cps;
  DecodeUtf8(text, cps);  // on a fault, what came before it
  std::vector<uint16_t> units;
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      units.push_back(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      units.push_back(static_cast<uint16_t>(cp));
    }
  }
  return units;
}

namespace {

std::string Latin1ToUtf8(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) AppendUtf8(out, c);
  return out;
}

}  // namespace

std::string DecodeCharset(const std::string& bytes, const std::string& charset) {
  std::string cs = ToUpper(charset);
  if (cs == "UCS-2" || cs == "UCS2" || cs == "UCS-2BE") cs = "UTF-16BE";
  if (bytes.empty()) return bytes;
  // iconv skips one byte per fault; UTF-8 gets the repair every layer uses.
  if (cs == "UTF-8" || cs == "UTF8") return ValidUtf8(bytes);
  iconv_t cd = cs.empty() ? reinterpret_cast<iconv_t>(-1) : ::iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return IsValidUtf8(bytes) ? bytes : Latin1ToUtf8(bytes);
  // Where a malformed sequence is skipped: a whole code unit of the charset.
  const size_t unit = cs.find("16") != std::string::npos ? 2 : cs.find("32") != std::string::npos ? 4 : 1;
  std::string out;
  std::string in = bytes;
  char* src = in.data();
  size_t left = in.size();
  char buf[1024];
  while (left > 0) {
    char* dst = buf;
    size_t room = sizeof buf;
    const size_t r = ::iconv(cd, &src, &left, &dst, &room);
    out.append(buf, static_cast<size_t>(dst - buf));
    if (r != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL (cut short at the end): one replacement character.
    AppendUtf8(out, 0xFFFD);
    const size_t skip = std::min(unit, left);
    src += skip;
    left -= skip;
  }
  ::iconv_close(cd);
  return out;
}

}  // namespace courier
