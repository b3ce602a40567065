#include "util/utf8.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>

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

bool DecodeUtf8(const std::string& text, std::u32string& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
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
  std::u32string ignored;
  iconv_t cd = cs.empty() ? reinterpret_cast<iconv_t>(-1) : ::iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return DecodeUtf8(bytes, ignored) ? bytes : Latin1ToUtf8(bytes);
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
