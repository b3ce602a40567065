#pragma once
// Event: one row of the store's event log. Every data change that others
// may want to react to writes one in the same transaction, numbered by
// `seq`, so consumers catch up from the store (ZeroMQ only notifies).
#include <cstdint>
#include <string>

#include "core/clock.h"

namespace courier {

struct Event {
  int64_t seq = 0;
  std::string topic;    // msg.received, status.updated, contact.stopped, msg.queued ...
  std::string payload;  // JSON object text; includes "seq" once stored
  Micros created_on = 0;
};

}  // namespace courier
