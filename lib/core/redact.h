#pragma once
// Redaction of credentials (invariants 6 and 9) before a text reaches a
// channel log, a process log or an operator's screen. Two kinds:
//  - Redact: every occurrence of a known secret value (a channel's
//    credentials, Channel::SecretValues), as is or URL-encoded.
//  - MaskUrlCredentials: credentials recognised by their place in a URL
//    or form, whoever they belong to: the password of a URL's userinfo
//    ("https://user:pw@host" -> "https://user:********@host", a bare
//    "https://TOKEN@host" -> "https://********@host") and the value of any
//    query or form parameter whose name contains password, passwd, pass,
//    token, key, secret, sig, signature or auth ("?api_key=K&to=1" ->
//    "?api_key=********&to=1").
// Both replace with kRedacted, so a masked text says where a secret was.
// Pure functions; thread-safe.
#include <string>
#include <vector>

namespace courier {

inline constexpr const char* kRedacted = "********";

// Secrets shorter than this are replaced only where they stand as a whole
// token (no letter or digit touching them), so "ab" is redacted in
// "password=ab&" but not in "about".
inline constexpr size_t kShortSecret = 3;

std::string Redact(std::string text, const std::vector<std::string>& secrets);

// `text` with the credentials of every URL in it, and of every parameter
// that starts the text or follows '?', '&', ';' or a line break, masked.
std::string MaskUrlCredentials(const std::string& text);

// The values MaskUrlCredentials would mask in `text`, as written and
// percent-decoded, for Redact: a secret inside a setting (an External
// channel's send_url) is then also caught where the setting appears in
// another form (expanded into a request, echoed in an error).
std::vector<std::string> UrlCredentials(const std::string& text);

}  // namespace courier
