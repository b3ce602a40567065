#pragma once
// Message digests and HMACs as providers sign their webhooks (Twilio,
// Plivo, Meta, Slack, Viber, LINE, Vonage), in the encodings they use,
// and a comparison for checking them that does not leak where a guess
// went wrong.
//
// Thread-safety: pure functions.
#include <optional>
#include <string>

namespace courier {

enum class DigestAlgorithm { kMd5, kSha1, kSha256, kSha512 };

// Raw digest bytes.
std::string Digest(DigestAlgorithm algorithm, const std::string& data);
// Raw HMAC bytes.
std::string Hmac(DigestAlgorithm algorithm, const std::string& key, const std::string& data);

// Lower-case hex and standard base64 (padded, one line) of raw bytes.
std::string HexEncode(const std::string& bytes);
std::string Base64Encode(const std::string& bytes);
// The bytes of standard base64 (RFC 4648 section 4) with its padding;
// whitespace anywhere is ignored (PEM lines, a key pasted with breaks
// turned into spaces). nullopt for anything else: a foreign character,
// a length that is not a multiple of four, padding before the end.
std::optional<std::string> Base64Decode(const std::string& text);
// The bytes of URL-safe base64 without padding (RFC 4648 section 5, as
// JWTs carry it); nullopt for any character outside that alphabet.
std::optional<std::string> Base64UrlDecode(const std::string& text);
// Whether `text` is a SHA-256 digest in lower-case hex (64 digits), as
// the media store names its files.
bool IsSha256Hex(const std::string& text);

// The signatures providers send most.
std::string HmacSha1Base64(const std::string& key, const std::string& data);    // Twilio
std::string HmacSha256Hex(const std::string& key, const std::string& data);     // Meta, Slack, Viber
std::string HmacSha256Base64(const std::string& key, const std::string& data);  // Plivo, LINE

// Comparison whose time does not depend on where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace courier
