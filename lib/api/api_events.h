#pragma once
// ApiEvents: courier-api's event feed, `api-events` (endpoints.h), so that
// what courier-api commits wakes the event readers (courier-hook,
// courier-ctl events --follow) at once instead of at their next poll.
//
// courier-recv and courier-send publish every event their IntakeWriter
// commits. courier-api's events are made by other writes (the msgs of
// POST /api/v1/msgs in QueueWriter's group commit, retries, contact stops
// and unstops), which return no events; so this feed says only that
// events were committed: one message per commit, however many events it
// made, two frames like the other feeds: the topic of the events (e.g.
// "msg.queued"), then `{"source":"courier-api"}`. A subscriber reads the
// events themselves from the store after its cursor (invariant 4: the
// store is the truth; a notice missed is caught by the reader's poll).
//
// Publish after the commit, never before: a reader woken earlier would
// find nothing and wait for its poll.
//
// Thread-safety: Committed from any thread; it never blocks (a slow or
// absent subscriber loses notices, as PUB does).
#include <string>

#include "bus/bus.h"
#include "core/status.h"

namespace courier {

class ApiEvents {
 public:
  // Binds `endpoint` (ipc://RUN_DIR/api-events.sock). On failure the
  // feed stays silent, which only delays the readers to their poll.
  Status Bind(const std::string& endpoint);
  // A commit made events of `topic`.
  void Committed(const std::string& topic);

 private:
  Publisher publisher_;
};

}  // namespace courier
