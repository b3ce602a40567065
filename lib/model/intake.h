#pragma once
// Intake: what one webhook (or one finished send) produced, and what
// writing it did. Handlers produce its parts, the spool encodes it as one
// file, the store writes it in one transaction.
#include <cstdint>
#include <string>
#include <vector>

#include "core/channel_event.h"
#include "core/channel_log.h"
#include "core/msg.h"
#include "core/status.h"
#include "model/status_update.h"
#include "model/urn_auth.h"

namespace courier {

// Everything one webhook produced: courier-recv's unit of durability, and
// the content of one spool file. Msgs carry the uuids the receiver already
// promised the provider.
struct Intake {
  std::string channel_uuid;
  std::vector<Msg> msgs;
  std::vector<ChannelLog> msg_logs;    // msg_logs[i] belongs to msgs[i]; may be shorter
  std::vector<StatusUpdate> statuses;  // each with its own logs
  std::vector<std::string> stop_urns;  // contacts that opted out
  std::vector<UrnAuthUpdate> urn_auths;  // written before the msgs
  std::vector<ChannelEvent> channel_events;  // each with its uuid; written after the msgs
  std::vector<ChannelLog> logs;        // logs of the request not tied to a msg
  // Msgs without a provider id that repeat the URN's last msg within this
  // window are that msg (store/content_duplicates.h); 0: never. Set by the
  // receiver and kept in the spool file, so a replay judges alike.
  Micros duplicate_window = 0;
};

// The result of writing one incoming msg.
struct IncomingResult {
  int64_t msg_id = 0;
  std::string msg_uuid;
  bool duplicate = false;  // stored before: its uuid, its provider id, or its content (duplicate_window)
};

// The result of writing one channel event.
struct ChannelEventResult {
  int64_t id = 0;
  std::string contact_uuid;
  bool duplicate = false;  // its uuid was stored before (a replay): nothing written
};

struct IntakeOutcome {
  Status status;  // not ok: this intake's data was refused and nothing of it written
  std::vector<IncomingResult> msgs;
  std::vector<StatusResult> statuses;
  std::vector<UrnAuthResult> urn_auths;  // urn_auths[i] for intake.urn_auths[i]
  std::vector<ChannelEventResult> channel_events;  // channel_events[i] for intake.channel_events[i]
};

}  // namespace courier
