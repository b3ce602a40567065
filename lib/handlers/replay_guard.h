#pragma once
// Remembers which request each nonce of a signed webhook came with, so that
// a signature that does not cover the body (Plivo's X-Plivo-Signature-V2
// signs only the URL and the nonce) cannot be replayed with another body:
// a nonce seen again with a different request is refused. The same request
// again is the provider retrying it, and passes.
//
// Memory is per process and bounded: a nonce is forgotten after `window`,
// or earlier, oldest first, when `capacity` nonces are held. Callers admit
// a nonce only after its signature checked out, so only the provider's
// own nonces take room.
//
// Thread-safety: Admit may be called from any number of threads.
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/clock.h"

namespace courier::handlers {

class ReplayGuard {
 public:
  ReplayGuard(Micros window, size_t capacity) : window_(window), capacity_(capacity) {}

  // True when `nonce` (within `scope`, a channel) is new, or was last
  // admitted with this same `request` (the method, URL and body); false
  // when it came before with another request. Remembers it either way it
  // is admitted.
  bool Admit(const std::string& scope, const std::string& nonce, const std::string& request, Micros now);

 private:
  void Forget(Micros now);  // what is past the window or over capacity

  const Micros window_;
  const size_t capacity_;
  std::mutex mu_;
  std::map<std::string, std::string> digests_;         // scope '\n' nonce -> digest of its request
  std::deque<std::pair<Micros, std::string>> order_;  // (first seen, key), oldest first
};

}  // namespace courier::handlers
