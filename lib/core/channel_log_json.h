#pragma once
// JSON form of a channel log, shared by `courier-ctl logs --json` and spool
// files (which carry a request's logs until the store takes them).
#include "core/channel_log.h"
#include "core/json_doc.h"
#include "core/json_writer.h"

namespace courier {

// Writes the log as one JSON object.
void WriteChannelLog(JsonWriter& w, const ChannelLog& log);
std::string ChannelLogToJson(const ChannelLog& log);
Result<ChannelLog> ChannelLogFromJson(const jsondoc::Object& object);

}  // namespace courier
