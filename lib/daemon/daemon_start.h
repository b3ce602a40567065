#pragma once
// How a courier daemon finds its spool and its store at start. The spool
// must exist, since it is where data goes when the store cannot take it.
// The store need not be reachable: a daemon runs anyway (spooling, or
// waiting) and its store connections migrate the schema at the first
// connection that works, before anything is written through them, so a
// store that was down at start is never written with an old schema.
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace courier {

// Files in spool tmp/ older than this at a daemon's start were left by a
// writer killed between writing and renaming them.
inline constexpr Micros kStaleTmpAge = 60 * kMicrosPerSecond;

// Creates the spool's directories; IOError (logged) when it cannot. Then
// removes (and logs how many) files in tmp/ older than kStaleTmpAge.
Status PrepareSpool(const std::string& spool_dir, Clock& clock = Clock::System());

// Connections to `db` (OpenStore, with `busy_timeout_ms`). Until one has
// migrated the store, each connection migrates it first and is refused
// (with the migration's failure) when that fails. Thread-safe: the
// daemon's components call it from their own threads.
StoreOpener MigratingStoreOpener(std::string db, Clock& clock, int busy_timeout_ms);

// Opens one connection through `open`, so the store is migrated at start
// when it is reachable, and an operator reads at start that it is not
// (and, for a daemon that `spools`, that it spools meanwhile). Warns
// first when the store file is readable by others (StoreExposure).
void TryStoreAtStart(const StoreOpener& open, const std::string& db, bool spools);

}  // namespace courier
