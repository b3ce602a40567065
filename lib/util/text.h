#pragma once
// ASCII text helpers every layer shares: case, affixes, trimming, joining.
// They treat bytes above 0x7F as opaque (never changed, never equal to a
// letter), so they are safe on UTF-8 and on protocol words alike; for
// characters, see util/utf8.h.
//
// Thread-safety: pure functions.
#include <string>
#include <string_view>
#include <vector>

namespace courier {

// ASCII letters in lower / upper case; every other byte unchanged.
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
// Equal but for the case of ASCII letters.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);

// Without leading and trailing ASCII white space (space, \t, \n, \v, \f, \r).
std::string Trim(std::string_view s);

// True when `s` is one or more of 0-9 and nothing else.
bool AllDigits(std::string_view s);

// The value of a hexadecimal digit (either case); -1 for any other
// character.
int HexDigitValue(char32_t c);

// The items with `separator` between them.
std::string Join(const std::vector<std::string>& items, std::string_view separator);

// A number as an E.164-ish address without its leading '+', as most
// providers want it ("+250788383383" -> "250788383383"); other text as is.
std::string WithoutPlus(std::string_view number);

}  // namespace courier
