#pragma once
// Decoding what providers' and Google's tokens carry: base64url (RFC 4648
// section 5) without padding, as in a JWT's parts.
#include <string>

namespace courier::testing {

// The bytes of `text`; undecodable input gives what decoded before it.
std::string Base64UrlDecode(std::string text);

}  // namespace courier::testing
