#pragma once
// The JSON shape of a msg that scripts, events and the spool share
// (DESIGN.md "A msg in JSON"): id, uuid, channel_uuid, channel_type,
// direction, status, urn, text, attachments, external_id, contact_name,
// priority, error_count, created_on, modified_on, received_on, sent_on,
// next_attempt_on; times RFC 3339 UTC, absent values null.
//
// MsgFromJson reads back exactly what MsgToJson writes, so `msgs list
// --json` on one store and `msgs import` on another move msgs losslessly.

#include "core/json.h"
#include "core/msg.h"

namespace courier {

json::ObjectPtr MsgToJson(const Msg& msg);
// Requires channel_uuid, direction, status and urn; the rest is optional.
Result<Msg> MsgFromJson(const json::ObjectPtr& object);

}  // namespace courier
