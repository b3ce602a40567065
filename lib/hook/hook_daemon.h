#pragma once
// courier-hook: the daemon on the skeleton (daemon/daemon.h) that delivers
// the store's events to the applications' webhooks (courier-hook(8)).
//
// One HookWorker per hook in the store (hook_worker.h says how a hook is
// delivered). The body's own thread:
//   - subscribes to recv-events, send-events and api-events and wakes
//     every worker when one publishes (a committed write), so a healthy
//     application hears of it within milliseconds;
//   - every hook_poll_interval seconds reads the hooks again (new ones get
//     a worker, removed ones lose theirs) and wakes every worker, so events
//     nobody published (courier-ctl's) and missed notifications cost at
//     most that interval;
//   - keeps the per-hook report `courier-ctl status` shows.
// Requests go through a client with OutboundPolicy::Unrestricted() (the
// URLs are the operator's own, DESIGN invariant 8) and a total deadline of
// hook_timeout seconds.
//
// Status (hook-ctl): besides program, pid and uptime_s, "hooks": one
// object per hook, in id order:
//   id, uuid, url (credentials masked), format, paused, paused_reason
//   (null unless paused), cursor, last_seq (the store's last event seq),
//   lag_events (last_seq - cursor, at least 0), oldest_undelivered_age_s
//   (seconds since the first event after the cursor was stored; 0 when
//   none), last_error (null when none), failures (consecutive),
//   next_retry_in_s (seconds until the next attempt after a failure; 0
//   when none is waiting), delivered (events acknowledged since this
//   courier-hook started).
// Store-backed fields are read at most hook_poll_interval ago.
#include "config/options.h"
#include "core/status.h"
#include "daemon/daemon.h"

namespace courier {

extern const DaemonSpec kHookDaemon;

Status RunHook(const Options& options);

}  // namespace courier
