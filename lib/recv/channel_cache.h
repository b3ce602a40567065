#pragma once
// ChannelCache: channels by uuid for courier-recv, so a busy channel does
// not cost a query per webhook. An entry is trusted for `ttl`; after that
// the store is asked again, so a removed or changed channel is seen within
// the TTL. While the store cannot answer, an expired entry is still served
// (the reference's "serve stale while the DB is down"): a provider's
// webhook is better spooled than refused.
//
// Thread-safety: all methods may be called from any thread. Lookups of
// cached channels take a shared lock only; misses serialise on the store.
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/channel.h"
#include "core/clock.h"
#include "store/store.h"

namespace courier {

class ChannelCache {
 public:
  ChannelCache(StoreOpener open, Clock& clock, Micros ttl);

  // The channel with `uuid` (normalised) whose type is `type_code`.
  // NotFound "channel not found", InvalidArgument "channel type wrong",
  // or Unavailable when the store cannot answer and nothing is cached.
  // Shared, not copied: a webhook reads its channel, nothing changes it.
  Result<std::shared_ptr<const Channel>> Get(const std::string& type_code, const std::string& uuid);

  // Checks the store is reachable (for /status); Unavailable otherwise.
  Status Ping();

 private:
  struct Entry {
    std::shared_ptr<const Channel> channel;
    Micros expires = 0;
  };
  Result<Channel> Load(const std::string& uuid);

  StoreOpener open_;
  Clock& clock_;
  Micros ttl_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::mutex store_mu_;
  std::unique_ptr<Store> store_;
};

}  // namespace courier
