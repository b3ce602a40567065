#include "handlers/access_token_cache.h"

#include <algorithm>

#include "util/hmac.h"

namespace courier::handlers {
namespace {

constexpr Micros kRefreshMargin = 60 * kMicrosPerSecond;

}  // namespace

std::shared_ptr<AccessTokenCache::Entry> AccessTokenCache::EntryFor(const std::string& channel_uuid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& entry = entries_[channel_uuid];
  if (!entry) entry = std::make_shared<Entry>();
  return entry;
}

Result<AccessTokenCache::Token> AccessTokenCache::Get(const std::string& channel_uuid, const std::string& fingerprint,
                                                      Micros now, const TokenLifetime& lifetime, const Fetch& fetch) {
  std::shared_ptr<Entry> entry = EntryFor(channel_uuid);
  std::lock_guard<std::mutex> lock(entry->mu);
  if (entry->fingerprint == fingerprint && !entry->token.empty() && now < entry->refresh_on)
    return Token{entry->token, false};

  auto issued = fetch();
  if (!issued.ok()) return issued.status();
  if (issued->value.empty()) return Status::Unavailable("the token endpoint gave no token");
  // A life longer than the provider's longest is not believed (nor
  // overflows); none said is the provider's usual.
  const int64_t seconds =
      std::clamp<int64_t>(issued->expires_in > 0 ? issued->expires_in : lifetime.fallback, 0, lifetime.longest);
  const Micros life = seconds * kMicrosPerSecond;
  entry->fingerprint = fingerprint;
  entry->token = issued->value;
  entry->refresh_on = now + life - std::min(kRefreshMargin, life / 2);
  return Token{entry->token, true};
}

void AccessTokenCache::Forget(const std::string& channel_uuid, const std::string& token) {
  std::shared_ptr<Entry> entry = EntryFor(channel_uuid);
  std::lock_guard<std::mutex> lock(entry->mu);
  if (entry->token == token) {
    entry->token.clear();
    entry->refresh_on = 0;
  }
}

std::string TokenFingerprint(std::initializer_list<std::string> parts) {
  std::string joined;
  for (const auto& part : parts) {
    joined += std::to_string(part.size());
    joined += ':';
    joined += part;
  }
  return HexEncode(Digest(DigestAlgorithm::kSha256, joined));
}

}  // namespace courier::handlers
