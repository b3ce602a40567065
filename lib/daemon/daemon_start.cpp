#include "daemon/daemon_start.h"

#include "core/log.h"
#include "spool/spool.h"
#include "store/store.h"

namespace courier {

Status PrepareSpoolAndStore(const Options& options, Clock& clock) {
  Status s = SpoolDir(options.spool_dir).Ensure();
  if (!s.ok()) {
    Log::Error("cannot create spool", {{"spool_dir", options.spool_dir}, {"error", s.message()}});
    return s;
  }
  auto store = OpenStore(options.db, clock);
  Status m = store.ok() ? store.value()->Migrate() : store.status();
  if (!m.ok()) Log::Warn("store unavailable at start, spooling until it is", {{"db", options.db}, {"error", m.message()}});
  return Status::OK();
}

}  // namespace courier
