#pragma once
// The per-hook report of `courier-ctl status` read from the store, for
// when courier-hook does not answer (it answers the same fields, see
// hook/hook_daemon.h, with `delivered` besides), and for `hook list` and
// `hook show`: id, uuid, url (credentials masked), format, paused,
// paused_reason, cursor, last_seq, lag_events, oldest_undelivered_age_s,
// last_error, failures, next_retry_in_s.
#include "core/clock.h"
#include "core/json.h"
#include "store/store.h"

namespace courier {

// One hook's report; `last_seq` is the store's LastEventSeq().
Result<json::ObjectPtr> HookReport(Store& store, const Hook& hook, int64_t last_seq, Micros now);
// Every hook's, in id order.
Result<json::ArrayPtr> HookReports(Store& store, Micros now);

}  // namespace courier
