#pragma once
// The start shared by the daemons that write (courier-recv, courier-send):
// the spool must exist, since it is where data goes when the store cannot
// take it; the store is migrated when reachable, and when it is not the
// daemon runs anyway and spools until it is.
#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"

namespace courier {

// IOError when the spool cannot be created; a store problem is only logged.
Status PrepareSpoolAndStore(const Options& options, Clock& clock);

}  // namespace courier
