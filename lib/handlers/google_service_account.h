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

// Access tokens per channel, reused until shortly before they expire.
//
// Thread-safety: Get and Forget from any number of threads. Senders of one
// channel that find its token missing or stale wait for the one of them
// that fetches it, so a channel asks for at most one token at a time.
class AccessTokenCache {
 public:
  struct Token {
    std::string value;
    bool fresh = false;  // fetched by this call (not reused)
  };

  // The channel's token for these credentials and scope: the cached one
  // while it has more than a minute left (or half its life, if shorter),
  // else a new one from the token endpoint, whose exchange is appended to
  // `logs` as a channel log for `msg` ("Access Token Requested"). A
  // refused or failed request is an error naming the endpoint's error
  // code and description. Credentials that change (the channel's config
  // edited) are a new cache entry.
  Result<Token> Get(HandlerContext& ctx, const Channel& channel, const Msg& msg, const std::string& credentials_json,
                    const ServiceAccount& account, const std::string& scope, std::vector<ChannelLog>& logs);

  // Drops the channel's token if it is still `token` (the API refused it:
  // revoked, or the clock is off), so the next Get fetches a new one.
  void Forget(const std::string& channel_uuid, const std::string& token);

 private:
  struct Entry {
    std::mutex mu;  // held while fetching
    std::string fingerprint;  // credentials and scope the token is for
    std::string token;
    Micros refresh_on = 0;
  };
  std::shared_ptr<Entry> EntryFor(const std::string& channel_uuid);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace courier::handlers
