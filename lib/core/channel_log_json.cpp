#include "core/channel_log_json.h"

namespace courier {

json::ObjectPtr ChannelLogToJson(const ChannelLog& l) {
  auto o = json::NewObject();
  if (l.id) o->set("id", l.id);
  o->set("channel_uuid", l.channel_uuid);
  if (l.msg_id) o->set("msg_id", *l.msg_id);
  else o->set("msg_id", Poco::Dynamic::Var());
  o->set("description", l.description);
  o->set("method", l.method);
  o->set("url", l.url);
  o->set("status_code", l.status_code);
  json::SetNullableString(o, "error", l.error);
  o->set("request", l.request);
  o->set("response", l.response);
  o->set("elapsed_ms", l.elapsed_ms);
  json::SetTime(o, "created_on", l.created_on ? std::optional<Micros>(l.created_on) : std::nullopt);
  return o;
}

Result<ChannelLog> ChannelLogFromJson(const json::ObjectPtr& o) {
  if (!o) return Status::InvalidArgument("channel log must be an object");
  ChannelLog l;
  l.id = json::GetInt(o, "id").value_or(0);
  l.channel_uuid = json::GetString(o, "channel_uuid").value_or("");
  if (auto id = json::GetInt(o, "msg_id")) l.msg_id = *id;
  l.description = json::GetString(o, "description").value_or("");
  l.method = json::GetString(o, "method").value_or("");
  l.url = json::GetString(o, "url").value_or("");
  l.status_code = static_cast<int>(json::GetInt(o, "status_code").value_or(0));
  l.error = json::GetString(o, "error").value_or("");
  l.request = json::GetString(o, "request").value_or("");
  l.response = json::GetString(o, "response").value_or("");
  l.elapsed_ms = json::GetInt(o, "elapsed_ms").value_or(0);
  if (auto t = json::GetString(o, "created_on")) {
    auto parsed = ParseRfc3339(*t);
    if (!parsed) return Status::InvalidArgument("channel log created_on is not RFC 3339");
    l.created_on = *parsed;
  }
  return l;
}

}  // namespace courier
