#include "daemon/store_outage.h"
#include "store/store_url.h"

#include <algorithm>

namespace courier {

StoreOutage::StoreOutage(std::string db, std::chrono::milliseconds first_wait, std::chrono::milliseconds max_wait)
    : db_(RedactStoreUrl(db)),
      first_wait_(std::min(first_wait, max_wait)),
      max_wait_(max_wait),
      next_wait_(first_wait_) {}

std::chrono::milliseconds StoreOutage::Failed(const Status& why, std::optional<Log::Field> detail) {
  if (!ongoing_) {
    ongoing_ = true;
    next_wait_ = first_wait_;
    if (detail) Log::Warn("store unavailable", {{"db", db_}, {"error", why.message()}, *detail});
    else Log::Warn("store unavailable", {{"db", db_}, {"error", why.message()}});
  }
  const auto wait = next_wait_;
  next_wait_ = std::min(next_wait_ * 2, max_wait_);
  return wait;
}

void StoreOutage::Worked(std::optional<Log::Field> detail) {
  if (!ongoing_) return;
  ongoing_ = false;
  next_wait_ = first_wait_;
  if (detail) Log::Info("store available again", {{"db", db_}, *detail});
  else Log::Info("store available again", {{"db", db_}});
}

StoreConnection::StoreConnection(StoreOpener open, StoreOutage outage)
    : open_(std::move(open)), outage_(std::move(outage)) {}

Store* StoreConnection::Get(StopToken& stop) {
  if (store_) return store_.get();
  auto opened = open_();
  if (!opened.ok()) {
    Failed(opened.status(), stop);
    return nullptr;
  }
  store_ = std::move(opened.value());
  return store_.get();
}

void StoreConnection::Failed(const Status& why, StopToken& stop) {
  store_.reset();
  stop.WaitFor(outage_.Failed(why));
}

}  // namespace courier
