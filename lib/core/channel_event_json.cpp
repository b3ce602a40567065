#include "core/channel_event_json.h"

#include <simdjson.h>

namespace courier {

void WriteChannelEventFields(JsonWriter& w, const ChannelEvent& event) {
  w.Field("uuid", event.uuid);
  w.Field("event_type", ChannelEventTypeName(event.type));
  w.Field("urn", event.urn);
  w.Field("contact_name", event.contact_name);
  w.Key("extra").BeginObject();
  for (const auto& [key, value] : event.extra) w.Field(key, value);
  w.EndObject();
  w.Key("occurred_on").Time(event.occurred_on);
}

Result<ChannelEvent> ChannelEventFromJson(const jsondoc::Object& o) {
  ChannelEvent event;
  event.uuid = jsondoc::GetString(o, "uuid").value_or("");
  if (event.uuid.empty()) return Status::InvalidArgument("field 'uuid' required");
  const std::string type = jsondoc::GetString(o, "event_type").value_or("");
  auto parsed = ParseChannelEventType(type);
  if (!parsed) return Status::InvalidArgument("unknown event_type '" + type + "'");
  event.type = *parsed;
  event.urn = jsondoc::GetString(o, "urn").value_or("");
  if (event.urn.empty()) return Status::InvalidArgument("field 'urn' required");
  event.contact_name = jsondoc::GetString(o, "contact_name").value_or("");
  if (!jsondoc::IsAbsentOrNull(o, "extra")) {
    auto extra = jsondoc::GetObject(o, "extra");
    if (!extra) return Status::InvalidArgument("field 'extra' must be an object");
    for (auto& [name, value] : jsondoc::StringMembers(*extra)) {
      if (!value) return Status::InvalidArgument("extra '" + name + "' must be a string");
      event.extra[name] = std::move(*value);
    }
  }
  if (auto t = jsondoc::GetString(o, "occurred_on")) {
    auto when = ParseRfc3339(*t);
    if (!when) return Status::InvalidArgument("field 'occurred_on' is not an RFC 3339 time");
    event.occurred_on = *when;
  }
  return event;
}

}  // namespace courier
