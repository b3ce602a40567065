#include "handlers/replay_guard.h"

#include "util/hmac.h"

namespace courier::handlers {

bool ReplayGuard::Admit(const std::string& scope, const std::string& nonce, const std::string& request, Micros now) {
  const std::string key = scope + '\n' + nonce;
  // A digest, so that what is held per nonce does not grow with bodies.
  const std::string digest = Digest(DigestAlgorithm::kSha256, request);
  std::lock_guard<std::mutex> lock(mu_);
  Forget(now);
  auto it = digests_.find(key);
  if (it != digests_.end()) return ConstantTimeEquals(it->second, digest);
  digests_.emplace(key, digest);
  order_.emplace_back(now, key);
  Forget(now);
  return true;
}

void ReplayGuard::Forget(Micros now) {
  while (!order_.empty() && (order_.size() > capacity_ || now - order_.front().first > window_)) {
    digests_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace courier::handlers
