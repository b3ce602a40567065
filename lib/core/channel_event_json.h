#pragma once
// The JSON shape of a channel event in the spool and in the
// "channel.event" event: uuid, event_type, urn, contact_name, extra (an
// object of strings), occurred_on (RFC 3339 UTC). ChannelEventFromJson
// reads back what WriteChannelEventFields writes.
#include "core/channel_event.h"
#include "core/json_doc.h"
#include "core/json_writer.h"
#include "core/status.h"

namespace courier {

// Writes the event's members into the object `w` is in (no braces).
void WriteChannelEventFields(JsonWriter& w, const ChannelEvent& event);
// Requires uuid, event_type (a known one) and urn; extra's values must be
// strings.
Result<ChannelEvent> ChannelEventFromJson(const jsondoc::Object& object);

}  // namespace courier
