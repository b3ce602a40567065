#pragma once
// Store notices: what a committed write tells the processes waiting on the
// store, on this host or on another, so they look now rather than at their
// next poll. On PostgreSQL a notice is a NOTIFY sent at COMMIT
// (StoreEngine::NotifyAtCommit, pg_listener.h); SQLite sends none (its
// processes share one host and its ZeroMQ wakes: bus/endpoints.h).
//
// Two channels, one per kind of waiter:
// - kQueuedChannel: outgoing msgs became claimable (or may have): a sender
//   should claim now. Sent for the events msg.queued and msg.retried, for
//   imported outgoing msgs (ImportMsgs writes no event) and for a msg sent
//   back to the queue by its status (a throttled send released with its
//   next attempt, E or F back to Q), which write no queue event either.
//   A throttled msg's next attempt is usually later than the notice: the
//   woken sender finds nothing due and claims it at its poll after the
//   next attempt's time; the notice matters when it is due at once (a
//   sender that released it unsent).
// - kEventsChannel: the transaction inserted events: an event reader
//   (courier-hook, courier-api's long polls, courier-ctl events --follow)
//   should read after its cursor now.
// A notice says "look again", never what changed: the reader reads the
// store after every notice, as after a ZeroMQ wake.
//
// Thread-safety: constants and a pure function.
#include <string>

namespace courier {

inline constexpr const char* kQueuedChannel = "courier_queued";
inline constexpr const char* kEventsChannel = "courier_events";

// What one committing transaction notifies.
struct CommitNotices {
  bool events = false;  // it inserted events
  bool queued = false;  // it queued outgoing msgs (or sent some back to the queue)
};

// True for the events whose commit makes outgoing msgs claimable:
// msg.queued and msg.retried.
bool TopicQueuesMsgs(const std::string& topic);

}  // namespace courier
