#pragma once
// Characters of UTF-8 text: decoding to code points and back, counting,
// cutting and splitting at character boundaries, UTF-16 for the providers
// that speak it, and other charsets read into UTF-8.
//
// Thread-safety: pure functions.
#include <cstdint>
#include <string>
#include <vector>

namespace courier {

// Decodes UTF-8 into code points; false on malformed input, with `out`
// holding the code points before the fault.
bool DecodeUtf8(const std::string& text, std::u32string& out);
// Appends the UTF-8 encoding of one code point.
void AppendUtf8(std::string& out, char32_t cp);
// How many code points UTF-8 `text` holds (the bytes that do not
// continue a sequence, so malformed input still gets a count).
size_t CodePoints(const std::string& text);
// The first `max` code points of UTF-8 `text`; all of it when shorter.
std::string Truncate(const std::string& text, size_t max);

// Splits text into parts of at most `max` characters (code points),
// breaking at whitespace near the end of a part when there is one.
std::vector<std::string> SplitText(const std::string& text, size_t max);

// UTF-16 code units as UTF-8: a surrogate pair is one character, a lone
// surrogate becomes U+FFFD.
std::string Utf16ToUtf8(const std::vector<uint16_t>& units);
// UTF-8 as UTF-16 code units (characters outside the BMP as surrogate
// pairs); malformed UTF-8 yields what decodes before the fault.
std::vector<uint16_t> Utf8ToUtf16(const std::string& text);

// Bytes in the named charset as UTF-8, for providers that pass through
// what the SMSC delivered (Kannel's %C: UTF-16BE for UCS-2, UTF-8,
// ISO-8859-1, ...). Any charset iconv knows is decoded; UCS-2 is read as
// UTF-16BE; a sequence that is malformed in the named charset becomes
// U+FFFD. A charset iconv does not know, or none (Kannel's "8-BIT" for
// binary SMS): the bytes are kept when they are valid UTF-8, else read as
// ISO-8859-1, so every byte survives as one character.
std::string DecodeCharset(const std::string& bytes, const std::string& charset);

}  // namespace courier
