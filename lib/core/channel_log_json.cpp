#include "core/channel_log_json.h"

#include <simdjson.h>

namespace courier {

void WriteChannelLog(JsonWriter& w, const ChannelLog& l) {
  w.BeginObject();
  if (l.id) w.Field("id", l.id);
  w.Field("channel_uuid", l.channel_uuid);
  w.Key("msg_id");
  if (l.msg_id) w.Int(*l.msg_id);
  else w.Null();
  w.Field("description", l.description);
  w.Field("method", l.method);
  w.Field("url", l.url);
  w.Field("status_code", l.status_code);
  w.Key("error").StringOrNull(l.error);
  w.Field("request", l.request);
  w.Field("response", l.response);
  w.Field("elapsed_ms", l.elapsed_ms);
  w.Key("created_on").Time(l.created_on ? std::optional<Micros>(l.created_on) : std::nullopt);
  w.EndObject();
}

std::string ChannelLogToJson(const ChannelLog& l) {
  JsonWriter w;
  WriteChannelLog(w, l);
  return w.Take();
}

Result<ChannelLog> ChannelLogFromJson(const jsondoc::Object& o) {
  ChannelLog l;
  l.id = jsondoc::GetInt(o, "id").value_or(0);
  l.channel_uuid = jsondoc::GetString(o, "channel_uuid").value_or("");
  if (auto id = jsondoc::GetInt(o, "msg_id")) l.msg_id = *id;
  l.description = jsondoc::GetString(o, "description").value_or("");
  l.method = jsondoc::GetString(o, "method").value_or("");
  l.url = jsondoc::GetString(o, "url").value_or("");
  l.status_code = static_cast<int>(jsondoc::GetInt(o, "status_code").value_or(0));
  l.error = jsondoc::GetString(o, "error").value_or("");
  l.request = jsondoc::GetString(o, "request").value_or("");
  l.response = jsondoc::GetString(o, "response").value_or("");
  l.elapsed_ms = jsondoc::GetInt(o, "elapsed_ms").value_or(0);
  if (auto t = jsondoc::GetString(o, "created_on")) {
    auto parsed = ParseRfc3339(*t);
    if (!parsed) return Status::InvalidArgument("channel log created_on is not RFC 3339");
    l.created_on = *parsed;
  }
  return l;
}

}  // namespace courier
