#pragma once
// AccessTokenCache: the bearer tokens handlers buy from a provider's token
// endpoint before they can send (FCM's Google OAuth, MTN, WeChat, Hormuud,
// ...), one per channel, reused until shortly before they expire.
//
// Each handler that needs one keeps a cache as a member: handlers are
// built once per process (HandlerRegistry), so every sender thread of a
// courier-send shares it. A token is never logged; the fetch a handler
// passes in must redact it from its own channel log.
//
// Thread-safety: Get and Forget from any number of threads. Senders of
// one channel that find its token missing or stale wait for the one of
// them that fetches it, so a channel asks for at most one token at a
// time; channels do not wait for each other.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace courier::handlers {

// What a token endpoint answered: the token and how long it lives
// (seconds; 0 when the answer did not say).
struct IssuedToken {
  std::string value;
  int64_t expires_in = 0;
};

// How long a provider's tokens are believed to live: `fallback` seconds
// when the answer does not say, never more than `longest`.
struct TokenLifetime {
  int64_t fallback = 3600;
  int64_t longest = 86400;
};

class AccessTokenCache {
 public:
  struct Token {
    std::string value;
    bool fresh = false;  // fetched by this call (not reused)
  };
  // Asks the provider for a token; its error is Get's.
  using Fetch = std::function<Result<IssuedToken>()>;

  // The channel's token for `fingerprint` (whatever the token depends
  // on: its credentials, its scope; a change, as when the channel's config
  // is edited, is a new token): the cached one while it has more than a
  // minute left (or half its life, if shorter), else one from `fetch`.
  // A failed fetch caches nothing.
  Result<Token> Get(const std::string& channel_uuid, const std::string& fingerprint, Micros now,
                    const TokenLifetime& lifetime, const Fetch& fetch);

  // Drops the channel's token if it is still `token` (the provider
  // refused it: revoked, expired early, a clock off), so the next Get
  // fetches a new one; a newer token another sender fetched stays.
  void Forget(const std::string& channel_uuid, const std::string& token);

 private:
  struct Entry {
    std::mutex mu;  // held while fetching
    std::string fingerprint;
    std::string token;
    Micros refresh_on = 0;
  };
  std::shared_ptr<Entry> EntryFor(const std::string& channel_uuid);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

// A fingerprint of `parts` (the credentials a token depends on) that does
// not keep them in memory in the clear: hex SHA-256 of their joined bytes.
std::string TokenFingerprint(std::initializer_list<std::string> parts);

}  // namespace courier::handlers
