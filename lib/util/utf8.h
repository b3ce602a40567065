#pragma once
// Characters of UTF-8 text: decoding to code points and back, counting,
// cutting and splitting at character boundaries, UTF-16 for the providers
// that speak it, and other charsets read into UTF-8.
//
// Thread-safety: pure functions.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace courier {

// Decodes UTF-8 into code points; false on malformed input (what
// IsValidUtf8 refuses), with `out` holding the code points before the
// fault.
bool DecodeUtf8(const std::string& text, std::u32string& out);

// True when `text` is well-formed UTF-8 (Unicode 15, table 3-7): no
// overlong forms, no surrogates (CESU-8), nothing above U+10FFFF, no
// sequence cut short.
bool IsValidUtf8(std::string_view text);
// `text` with every ill-formed sequence replaced by U+FFFD, one per
// maximal subpart (the practice Unicode recommends in section 3.9 and
// the WHATWG decoder follows: "\xE2\x82x" is one U+FFFD then "x",
// "\xC0\xAF" two). Well-formed text comes back unchanged. This is the
// one repair every layer uses, so text repaired twice, or by the JSON
// writer and the store alike, reads the same.
std::string ValidUtf8(std::string_view text);
// ValidUtf8(text) appended to `out`.
void AppendValidUtf8(std::string& out, std::string_view text);
// Repairs `text` in place; true when it had to (it was ill-formed).
bool MakeValidUtf8(std::string& text);
// The length of the well-formed UTF-8 sequence at the start of `text`
// (1-4), or 0 when it is ill-formed there, with *invalid set to the
// length of its maximal subpart (at least 1). `text` must not be empty.
size_t Utf8SequenceLength(std::string_view text, size_t* invalid);
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
// U+FFFD; UTF-8 itself is repaired as ValidUtf8 does. A charset iconv
// does not know, or none (Kannel's "8-BIT" for binary SMS, Kannel's
// default for 7-bit text being ISO-8859-1): the bytes are kept when they
// are valid UTF-8, else read as ISO-8859-1, so every byte survives as one
// character. The result is always well-formed UTF-8.
std::string DecodeCharset(const std::string& bytes, const std::string& charset);

}  // namespace courier
