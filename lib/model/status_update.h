#pragma once
// StatusUpdate: a change of a msg's status, from a provider callback
// (through a handler) or from courier-send, and what writing it did.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/channel_log.h"
#include "core/clock.h"
#include "core/msg_status.h"

namespace courier {

// A status update from a provider callback or from the sender.
struct StatusUpdate {
  std::string channel_uuid;
  std::optional<int64_t> msg_id;  // by our id, or else by
  std::string msg_uuid;           // our msg's UUID (providers that echo a reference), or else by
  std::string external_id;        // the provider's id (channel + external id)
  MsgStatus status = MsgStatus::kWired;
  std::string new_external_id;    // set the msg's external id (the sender learns it)
  std::string error_reason;       // kept on E/F
  std::optional<Micros> next_attempt_on;  // for E: when to retry
  bool count_error = false;       // E/F from a send attempt: error_count += 1
  std::vector<ChannelLog> logs;   // written in the same transaction
};

enum class StatusOutcome {
  kUpdated,     // written
  kUnchanged,   // same status again
  kIgnored,     // transition not allowed (e.g. W after D)
  kNotFound,    // no such msg on that channel
};

struct StatusResult {
  StatusOutcome outcome = StatusOutcome::kNotFound;
  int64_t msg_id = 0;
  MsgStatus status = MsgStatus::kPending;  // the msg's status afterwards
};

}  // namespace courier
