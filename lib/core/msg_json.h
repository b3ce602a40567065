#pragma once
// The JSON shape of a msg that scripts, events and the spool share
// (DESIGN.md "A msg in JSON"): id, uuid, channel_uuid, channel_type,
// direction, status, urn, text, attachments, external_id, contact_name,
// priority, error_count, created_on, modified_on, received_on, sent_on,
// next_attempt_on; times RFC 3339 UTC, absent values null.
//
// MsgFromJson reads back exactly what MsgToJson writes, so `msgs list
// --json` on one store and `msgs import` on another move msgs losslessly.

#include "core/json_doc.h"
#include "core/json_writer.h"
#include "core/msg.h"

namespace courier {

// Writes the msg's members into the object `w` is in (no braces), the id
// and uuid under the names given: events name them msg_id and msg_uuid.
void WriteMsgFields(JsonWriter& w, const Msg& msg, std::string_view id_key = "id",
                    std::string_view uuid_key = "uuid");
// The msg as one JSON object's text.
std::string MsgToJson(const Msg& msg);
// Requires channel_uuid, direction, status and urn; the rest is optional.
Result<Msg> MsgFromJson(const jsondoc::Object& object);
// The same from a JSON object's text.
Result<Msg> MsgFromJsonText(std::string_view text);

}  // namespace courier
