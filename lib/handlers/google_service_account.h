#pragma once
// Google service-account credentials and the OAuth 2.0 access tokens they
// buy, for providers on Google APIs (FCM HTTP v1). A service account's
// credentials JSON (what the Google Cloud console downloads: type,
// project_id, private_key_id, private_key, client_email, token_uri) signs
// a JWT (RS256) that the token endpoint exchanges for a bearer token
// valid about an hour (RFC 7523 JWT bearer grant, Google's "OAuth 2.0 for
// server to server applications").
//
// The token endpoint is the credentials' own token_uri (Google's client
// libraries do the same), https://oauth2.googleapis.com/token when absent;
// tests point it at a mock provider. Outbound policy still applies to it.
//
// Secrets: the private key never leaves this file; the assertion and the
// access token are redacted from the token request's channel log here, and
// callers that send the token as a Bearer header get it redacted by
// MakeCall (Authorization). The credentials JSON itself must be kept under
// a secret config key (Channel::SecretValues).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "handlers/access_token_cache.h"
#include "handlers/handler.h"

namespace courier::handlers {

inline constexpr const char* kGoogleTokenUri = "https://oauth2.googleapis.com/token";

struct ServiceAccount {
  std::string client_email;
  std::string private_key;     // PEM (PKCS#8 or PKCS#1), RSA
  std::string private_key_id;  // the JWT's kid, when given
  std::string project_id;
  std::string token_uri;       // kGoogleTokenUri when the JSON has none
};

// Reads a service-account credentials JSON. InvalidArgument naming what is
// wrong (not JSON, no client_email, no private_key); the key is checked
// when it is used, by SignJwtAssertion.
Result<ServiceAccount> ParseServiceAccount(const std::string& credentials_json);

// The signed assertion the token endpoint takes:
//   base64url({"alg":"RS256","typ":"JWT"[,"kid":...]}) . base64url(claims) . base64url(sig)
// claims iss = client_email, scope, aud = token_uri, iat = now,
// exp = now + 3600 (seconds); sig = RSASSA-PKCS1-v1_5 with SHA-256 over
// the first two parts. InvalidArgument when the key cannot be read or is
// not RSA.
Result<std::string> SignJwtAssertion(const ServiceAccount& account, const std::string& scope, Micros now);

// RFC 4648 base64url without padding (JWT's encoding).
std::string Base64Url(const std::string& bytes);

// The channel's access token for these credentials and scope, from
// `cache` or else from the token endpoint, whose exchange is appended to
// `logs` as a channel log for `msg` ("Access Token Requested", the
// assertion and the token redacted). A refused or failed request is an
// error naming the endpoint's error code and description.
Result<AccessTokenCache::Token> GoogleAccessToken(AccessTokenCache& cache, HandlerContext& ctx, const Channel& channel,
                                                 const Msg& msg, const std::string& credentials_json,
                                                 const ServiceAccount& account, const std::string& scope,
                                                 std::vector<ChannelLog>& logs);

}  // namespace courier::handlers
