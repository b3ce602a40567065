#pragma once
// courier-fetch: the daemon on the skeleton (daemon/daemon.h) that
// downloads and keeps incoming attachments (courier-fetch(8)).
//
// fetch_workers threads, each with its own store connection, claim one
// due fetch at a time (Store::ClaimFetches, leased for the download's
// timeout and a minute), download it (fetch/fetcher.h) and apply the
// outcome with its channel log (Store::FinishFetch). A worker with
// nothing due waits for a wake: the body's thread wakes them all when an
// event feed publishes (a msg committed by courier-recv, here or, on
// PostgreSQL, on another host) and every two seconds regardless, so
// retries falling due are seen. Each msg whose last fetch finished is
// announced on fetch-events, which wakes courier-hook and the API's
// long polls.
//
// Nothing is lost to a crash or a stop: a fetch is pending in the store
// until its outcome is committed; a download cut short (SIGTERM aborts
// them) is claimed again when its lease lapses, and the media store
// keeps one file for the same bytes stored twice. While the store is
// down the workers wait it out (daemon/store_outage.h); a download done
// meanwhile is applied once it is back.
//
// Status (fetch-ctl): besides program, pid and uptime_s: workers,
// in_flight, stored, failed, retried (outcomes applied since start), and
// "backlog": pending, due, failed (the store's, read at most two seconds
// ago), oldest_pending_age_s (0 when none).
#include "config/options.h"
#include "core/status.h"
#include "daemon/daemon.h"

namespace courier {

extern const DaemonSpec kFetchDaemon;

Status RunFetch(const Options& options);

}  // namespace courier
