#include "recv/channel_cache.h"

#include <algorithm>

namespace courier {
namespace {

bool SameType(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::toupper(x) == std::toupper(y); });
}

}  // namespace

ChannelCache::ChannelCache(StoreOpener open, Clock& clock, Micros ttl)
    : open_(std::move(open)), clock_(clock), ttl_(ttl) {}

Result<Channel> ChannelCache::Load(const std::string& uuid) {
  std::lock_guard<std::mutex> lock(store_mu_);
  if (!store_) {
    auto opened = open_();
    if (!opened.ok()) return opened.status();
    store_ = std::move(opened.value());
  }
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
      if (!SameType(it->second.channel->type, type_code)) return errors::ChannelWrongType();
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
  if (!SameType(channel->type, type_code)) return errors::ChannelWrongType();
  return channel;
}

Status ChannelCache::Ping() {
  std::lock_guard<std::mutex> lock(store_mu_);
  if (!store_) {
    auto opened = open_();
    if (!opened.ok()) return opened.status();
    store_ = std::move(opened.value());
  }
  Status s = store_->Ping();
  if (!s.ok()) store_.reset();
  return s;
}

}  // namespace courier
