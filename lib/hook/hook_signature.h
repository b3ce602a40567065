#pragma once
// How courier-hook signs each POST, so an application can tell courier's
// requests from anyone else's and refuse a replayed one.
//
//   X-Courier-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// v1 is the lower-case hex HMAC-SHA256, keyed with the hook's secret, of
// the decimal timestamp, a '.', and the exact body bytes: "t.body". The
// timestamp is in the signed text, so an application that also refuses a t
// far from its own clock (courier-hook(8) suggests 5 minutes) refuses a
// captured request replayed later. Every format is signed, rapidpro's too.
//
// Thread-safety: pure functions.
#include <cstdint>
#include <string>

namespace courier {

inline constexpr const char* kHookSignatureHeader = "X-Courier-Signature";

// The header's value for `body` sent at `unix_seconds`.
std::string HookSignature(const std::string& secret, int64_t unix_seconds, const std::string& body);

// Whether `header` (the value as received) signs `body` with `secret` and
// its t is within `tolerance_seconds` of `now_unix_seconds`: what an
// application does, here for the tests and as the reference for the man
// page's snippets. Several v1= values are allowed (any one may match), so a
// future secret rotation can send two.
bool VerifyHookSignature(const std::string& header, const std::string& secret, const std::string& body,
                         int64_t now_unix_seconds, int64_t tolerance_seconds = 300);

}  // namespace courier
