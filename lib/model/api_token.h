#pragma once
// courier-api's bearer tokens: how one is made, how it is kept (only its
// SHA-256, so a copy of the store does not give access to the API), and
// what its scopes allow.
//
// A token is "ctk_" and 43 base64url characters of 32 random bytes from
// OpenSSL's CSPRNG: long enough that the hash needs no salt (nobody can
// enumerate 256 bits), recognisable by its prefix in a leaked file.
//
// Scopes: `send` (queue and retry msgs), `read` (msgs, events, channels),
// `admin` (everything, and stopping or unstopping contacts).
//
// Thread-safety: plain functions.
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {

inline constexpr const char* kApiScopeSend = "send";
inline constexpr const char* kApiScopeRead = "read";
inline constexpr const char* kApiScopeAdmin = "admin";

// A new token; Internal when the CSPRNG fails (never a weak one).
Result<std::string> NewApiToken();
// What the store keeps for `token`: lower-case hex SHA-256.
std::string ApiTokenHash(const std::string& token);
// "send,read" (any order, spaces allowed) as a list without repeats;
// InvalidArgument naming an unknown scope or an empty list.
Result<std::vector<std::string>> ParseApiScopes(const std::string& text);
// Whether a token with `scopes` may do what needs `needed` (admin may do
// all).
bool ApiScopeAllows(const std::vector<std::string>& scopes, const std::string& needed);

}  // namespace courier
