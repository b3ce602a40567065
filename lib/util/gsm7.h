#pragma once
// GSM 03.38 (GSM7), the 7-bit SMS alphabet: which texts fit it, how much
// room a text takes in an SMS, and unpacked septets (one byte each, as
// SMPP gateways hand them over) to UTF-8 and back.
//
// Thread-safety: pure functions.
#include <string>

namespace courier {

// True when every character of the UTF-8 `text` is in the default
// alphabet or its extension table (^ { } \ [ ] ~ | € and form feed), i.e.
// it can go as a 7-bit SMS. Invalid UTF-8 is not GSM7.
bool IsGsm7(const std::string& text);

// Replaces common characters outside GSM7 with look-alikes that are in it
// (smart quotes -> ' and ", dashes -> -, ellipsis -> ..., no-break space
// and tab -> space, accented vowels and ç outside GSM7 -> without their
// accents), for "smart" encoding: try this, then check IsGsm7.
std::string ReplaceGsm7Substitutions(const std::string& text);

// How much room UTF-8 `text` takes in an SMS: GSM7 septets when `ucs2` is
// false (a character of the extension table takes two: the escape and
// itself), else UTF-16 code units (a character outside the BMP, an emoji,
// takes two). One SMS holds 160 septets or 70 units; a part of a
// concatenated one 153 or 67.
size_t SmsLength(const std::string& text, bool ucs2);

// Unpacked septets (extension characters as ESC + code) as UTF-8; an
// unknown extension code is a space, as GSM 03.38 suggests, and a byte
// above 0x7F a '?'.
std::string Gsm7ToUtf8(const std::string& septets);
// UTF-8 as unpacked septets; characters outside GSM7 are left out
// (callers check IsGsm7 first).
std::string Utf8ToGsm7(const std::string& utf8);

}  // namespace courier
