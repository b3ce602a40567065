#include "daemon/daemon_start.h"

#include <atomic>
#include <memory>

#include "core/log.h"
#include "spool/spool.h"
#include "store/store_file.h"
#include "store/store_url.h"

namespace courier {

Status PrepareSpool(const std::string& spool_dir, Clock& clock) {
  SpoolDir spool(spool_dir);
  Status s = spool.Ensure();
  if (!s.ok()) {
    Log::Error("cannot create spool", {{"spool_dir", spool_dir}, {"error", s.message()}});
    return s;
  }
  auto removed = spool.RemoveStaleTmp(clock.Now() - kStaleTmpAge);
  if (!removed.ok()) {
    Log::Warn("cannot clean spool tmp/", {{"spool_dir", spool_dir}, {"error", removed.status().message()}});
  } else if (*removed > 0) {
    Log::Info("removed files a killed writer left in spool tmp/",
              {{"spool_dir", spool_dir}, {"files", std::to_string(*removed)}});
  }
  return Status::OK();
}

StoreOpener MigratingStoreOpener(std::string db, Clock& clock, int busy_timeout_ms) {
  // Two threads may both migrate at first; Migrate is idempotent and one
  // transaction, so the second finds the work done.
  auto migrated = std::make_shared<std::atomic<bool>>(false);
  return [db = std::move(db), &clock, busy_timeout_ms, migrated]() -> Result<std::unique_ptr<Store>> {
    auto store = OpenStore(db, clock, busy_timeout_ms);
    if (!store.ok() || migrated->load()) return store;
    Status m = store.value()->Migrate();
    if (!m.ok()) return m;
    migrated->store(true);
    return store;
  };
}

void TryStoreAtStart(const StoreOpener& open, const std::string& db, bool spools) {
  const std::string exposed = StoreExposure(StoreFilePath(db));
  if (!exposed.empty()) Log::Warn("store readable by others", {{"db", RedactStoreUrl(db)}, {"problem", exposed}});
  auto store = open();
  if (store.ok()) return;
  Log::Warn(spools ? "store unavailable at start, spooling until it is" : "store unavailable at start",
            {{"db", RedactStoreUrl(db)}, {"error", store.status().message()}});
}

}  // namespace courier
