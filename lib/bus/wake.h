#pragma once
// Wakes: a one-frame PUSH that tells a daemon to look at the store (or the
// spool) now instead of at its next poll. Best effort by design: a wake
// that finds no daemon is dropped, and the daemon's own poll covers it.
#include <string>

namespace courier {

// Sends one wake to `endpoint` without blocking. Returns false when it
// could not be queued (no peer, or ZeroMQ error); callers may ignore that.
bool PushWake(const std::string& endpoint, const std::string& reason = "wake");

}  // namespace courier
