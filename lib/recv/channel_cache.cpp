#include "recv/channel_cache.h"

#include <algorithm>

#include "util/text.h"

namespace courier {
namespace {

// How soon a routing key that is not in a type's index may reload it.
constexpr Micros kMissReload = kMicrosPerSecond;

}  // namespace

ChannelCache::ChannelCache(StoreOpener open, Clock& clock, Micros ttl)
    : open_(std::move(open)), clock_(clock), ttl_(ttl) {}

Status ChannelCache::OpenLocked() {
  if (store_) return Status::OK();
  auto opened = open_();
  if (!opened.ok()) return opened.status();
  store_ = std::move(opened.value());
  return Status::OK();
}

Result<Channel> ChannelCache::Load(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(store_mu_);
  if (Status s = OpenLocked(); !s.ok()) return s;
  auto channel = store_->GetChannel(uuid);
  if (!channel.ok() && channel.status().IsUnavailable()) store_.reset();  // reconnect next time
  return channel;
}

Result<std::shared_ptr<const Channel>> ChannelCache::Get(const std::string& type_code, const std::string& uuid) {
  const Micros now = clock_.Now();
  std::shared_ptr<const Channel> stale;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = entries_.find(uuid);
    if (it != entries_.end()) {
      if (!EqualsIgnoreCase(it->second.channel->type, type_code)) return errors::ChannelWrongType();
      if (it->second.expires > now) return it->second.channel;
      stale = it->second.channel;
    }
  }
  auto loaded = Load(uuid);
  if (!loaded.ok()) {
    if (loaded.status().IsNotFound()) {
      std::unique_lock<std::shared_mutex> lock(mu_);
      entries_.erase(uuid);
      return errors::ChannelNotFound();
    }
    if (stale) return stale;
    return loaded.status();
  }
  auto channel = std::make_shared<const Channel>(std::move(*loaded));
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    entries_[uuid] = Entry{channel, now + ttl_};
  }
  if (!EqualsIgnoreCase(channel->type, type_code)) return errors::ChannelWrongType();
  return channel;
}

Result<std::shared_ptr<const ChannelCache::TypeIndex>> ChannelCache::OfType(const std::string& type_code,
                                                                           const KeyOf& key_of,
                                                                           const std::vector<std::string>& wanted) {
  const std::string type = ToUpper(type_code);
  const Micros now = clock_.Now();
  auto current = [&]() {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = types_.find(type);
    return it == types_.end() ? TypeEntry{} : it->second;
  };
  auto good_enough = [&](const TypeEntry& e) {
    if (!e.index || e.loaded + ttl_ <= now) return false;
    const bool recent = e.loaded + std::min(ttl_, kMissReload) > now;
    return recent || std::all_of(wanted.begin(), wanted.end(), [&](const std::string& k) { return e.index->by_key.count(k) > 0; });
  };
  const TypeEntry seen = current();
  if (good_enough(seen)) return seen.index;

  std::lock_guard<std::mutex> store_lock(store_mu_);
  // Another request may have reloaded it while this one waited: one query
  // serves every request that was waiting for it.
  if (TypeEntry now_cached = current(); now_cached.index && now_cached.loaded > seen.loaded) return now_cached.index;

  Result<std::vector<Channel>> listed = Status::Unavailable("store not open");
  if (Status s = OpenLocked(); !s.ok()) {
    listed = s;
  } else {
    listed = store_->ListChannels();
    if (!listed.ok() && listed.status().IsUnavailable()) store_.reset();
  }
  if (!listed.ok()) {
    if (seen.index) return seen.index;  // stale beats refusing the webhook
    return listed.status();
  }
  auto index = std::make_shared<TypeIndex>();
  for (auto& c : *listed) {
    if (!EqualsIgnoreCase(c.type, type)) continue;
    auto channel = std::make_shared<const Channel>(std::move(c));
    const std::string key = key_of(*channel);
    if (!key.empty()) index->by_key.emplace(key, channel);  // the first (lowest id) wins
    index->channels.push_back(std::move(channel));
  }
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    types_[type] = TypeEntry{index, now};
  }
  return std::shared_ptr<const TypeIndex>(index);
}

Status ChannelCache::Ping() {
  std::lock_guard<std::mutex> lock(store_mu_);
  if (Status s = OpenLocked(); !s.ok()) return s;
  Status s = store_->Ping();
  if (!s.ok()) store_.reset();
  return s;
}

}  // namespace courier
