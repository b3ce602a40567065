#pragma once
// ChannelCache: channels by uuid for courier-recv, so a busy channel does
// not cost a query per webhook. An entry is trusted for `ttl`; after that
// the store is asked again, so a removed or changed channel is seen within
// the TTL. While the store cannot answer, an expired entry is still served
// (the reference's "serve stale while the DB is down"): a provider's
// webhook is better spooled than refused.
//
// App-level webhooks name their channels by a routing key (a phone number
// id, a page id) rather than a uuid: OfType keeps, per channel type, the
// active channels of the type indexed by their key, loaded with one
// ListChannels, trusted for the same TTL and served stale the same way.
// A key that is not in the index reloads it before the TTL is up, at most
// once a second, so a channel just added is found at once and a stream of
// webhooks for a page courier does not serve costs at most one query a
// second.
//
// Thread-safety: all methods may be called from any thread. Lookups of
// cached channels take a shared lock only; misses serialise on the store.
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

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

  // The active channels of one type, by id, and by routing key.
  struct TypeIndex {
    std::vector<std::shared_ptr<const Channel>> channels;
    // The first channel (lowest id) with each key; channels whose key is
    // "" are left out.
    std::unordered_map<std::string, std::shared_ptr<const Channel>> by_key;
  };
  using KeyOf = std::function<std::string(const Channel&)>;
  // The index of `type_code`'s channels, keyed by `key_of` (the same
  // function every call for a type). Reloaded when older than the TTL, or
  // when one of `wanted` is not in it and it is older than a second.
  // Unavailable when the store cannot answer and nothing is cached.
  Result<std::shared_ptr<const TypeIndex>> OfType(const std::string& type_code, const KeyOf& key_of,
                                                  const std::vector<std::string>& wanted = {});

  // Checks the store is reachable (for /status); Unavailable otherwise.
  Status Ping();

 private:
  struct Entry {
    std::shared_ptr<const Channel> channel;
    Micros expires = 0;
  };
  struct TypeEntry {
    std::shared_ptr<const TypeIndex> index;
    Micros loaded = 0;
  };
  Result<Channel> Load(const std::string& uuid);
  // With store_mu_ held: the store, opened when needed.
  Status OpenLocked();

  StoreOpener open_;
  Clock& clock_;
  Micros ttl_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, TypeEntry> types_;  // by upper-case type code
  std::mutex store_mu_;
  std::unique_ptr<Store> store_;
};

}  // namespace courier
