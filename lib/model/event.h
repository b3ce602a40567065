#pragma once
// Event: one row of the store's event log. Every data change that others
// may want to react to writes one in the same transaction, numbered by
// `seq`, so consumers catch up from the store (ZeroMQ only notifies).
#include <cstdint>
#include <string>

#include "core/clock.h"

namespace courier {

// Every topic the store writes, for those who name topics (courier-ctl hook
// add --events checks against it). Add a topic here when the store starts
// writing it.
inline constexpr const char* kEventTopics[] = {"msg.received",    "msg.queued",        "msg.retried",
                                               "msg.failed",      "status.updated",    "contact.stopped",
                                               "contact.unstopped", "channel.event", "msg.attachments"};

struct Event {
  int64_t seq = 0;
  std::string topic;    // msg.received, status.updated, contact.stopped, msg.queued ...
  std::string payload;  // JSON object text; includes "seq" once stored
  Micros created_on = 0;
};

}  // namespace courier
