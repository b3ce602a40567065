#include "util/gsm7.h"

#include <utility>
#include <vector>

#include "util/utf8.h"

namespace courier {
namespace {

constexpr char kEscape = 0x1B;

// The default alphabet by septet value; 0x1B is the escape to the
// extension table, never a character itself.
const std::u32string& Basic() {
  static const std::u32string table =
      U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1B" U"ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  return table;
}

// The extension table: ESC followed by these septets.
const std::vector<std::pair<char, char32_t>>& Extension() {
  static const std::vector<std::pair<char, char32_t>> table = {
      {0x0A, U'\f'}, {0x14, U'^'}, {0x28, U'{'}, {0x29, U'}'}, {0x2F, U'\\'},
      {0x3C, U'['},  {0x3D, U'~'}, {0x3E, U']'}, {0x40, U'|'}, {0x65, U'€'},
  };
  return table;
}

bool InExtension(char32_t cp) {
  for (const auto& [code, ext] : Extension())
    if (ext == cp) return true;
  return false;
}

bool InBasic(char32_t cp) { return cp != static_cast<char32_t>(kEscape) && Basic().find(cp) != std::u32string::npos; }

}  // namespace

bool IsGsm7(const std::string& text) {
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) return false;
  for (char32_t cp : cps)
    if (!InBasic(cp) && !InExtension(cp)) return false;
  return true;
}

std::string ReplaceGsm7Substitutions(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> kSubs = {
      {"\u2018", "'"}, {"\u2019", "'"}, {"\u201A", "'"}, {"\u201B", "'"}, {"\u2032", "'"},
      {"\u201C", "\""}, {"\u201D", "\""}, {"\u201E", "\""}, {"\u201F", "\""}, {"\u2033", "\""},
      {"\u00AB", "\""}, {"\u00BB", "\""},
      {"\u2010", "-"}, {"\u2011", "-"}, {"\u2012", "-"}, {"\u2013", "-"}, {"\u2014", "-"}, {"\u2015", "-"},
      {"\u2026", "..."}, {"\u00A0", " "}, {"\u2002", " "}, {"\u2003", " "}, {"\u2009", " "}, {"\t", " "},
      // Accented letters outside GSM7 lose their accents (those GSM7 has,
      // such as é, à and Ç, are kept).
      {"á", "a"}, {"â", "a"}, {"ã", "a"}, {"ê", "e"}, {"ë", "e"}, {"í", "i"}, {"î", "i"}, {"ï", "i"},
      {"ó", "o"}, {"ô", "o"}, {"õ", "o"}, {"ú", "u"}, {"û", "u"}, {"ç", "c"}, {"À", "A"}, {"Á", "A"},
      {"Â", "A"}, {"Ã", "A"}, {"È", "E"}, {"Ê", "E"}, {"Ë", "E"}, {"Ì", "I"}, {"Í", "I"}, {"Î", "I"},
      {"Ï", "I"}, {"Ò", "O"}, {"Ó", "O"}, {"Ô", "O"}, {"Õ", "O"}, {"Ù", "U"}, {"Ú", "U"}, {"Û", "U"},
  };
  std::string out = text;
  for (const auto& [from, to] : kSubs) {
    size_t pos = 0;
    while ((pos = out.find(from, pos)) != std::string::npos) {
      out.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  return out;
}

size_t SmsLength(const std::string& text, bool ucs2) {
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) return CodePoints(text) * 2;  // not UTF-8: assume the worst
  size_t n = 0;
  for (char32_t cp : cps) {
    if (ucs2) n += cp >= 0x10000 ? 2 : 1;
    else n += InExtension(cp) ? 2 : 1;
  }
  return n;
}

std::string Gsm7ToUtf8(const std::string& septets) {
  std::string out;
  for (size_t i = 0; i < septets.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(septets[i]);
    if (c == kEscape && i + 1 < septets.size()) {
      const char next = septets[++i];
      char32_t cp = U' ';
      for (const auto& [code, ext] : Extension())
        if (code == next) cp = ext;
      AppendUtf8(out, cp);
    } else if (c < 0x80) {
      AppendUtf8(out, Basic()[c]);
    } else {
      AppendUtf8(out, U'?');
    }
  }
  return out;
}

std::string Utf8ToGsm7(const std::string& utf8) {
  std::u32string cps;
  DecodeUtf8(utf8, cps);
  std::string out;
  for (char32_t cp : cps) {
    if (cp == static_cast<char32_t>(kEscape)) continue;
    const size_t pos = Basic().find(cp);
    if (pos != std::u32string::npos) {
      out += static_cast<char>(pos);
      continue;
    }
    for (const auto& [code, ext] : Extension()) {
      if (ext == cp) {
        out += kEscape;
        out += code;
        break;
      }
    }
  }
  return out;
}

}  // namespace courier
