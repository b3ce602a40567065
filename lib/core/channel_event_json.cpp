#include "core/channel_event_json.h"

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

Result<ChannelEvent> ChannelEventFromJson(const json::ObjectPtr& o) {
  ChannelEvent event;
  event.uuid = json::GetStringOrEmpty(o, "uuid");
  if (event.uuid.empty()) return Status::InvalidArgument("field 'uuid' required");
  const std::string type = json::GetStringOrEmpty(o, "event_type");
  auto parsed = ParseChannelEventType(type);
  if (!parsed) return Status::InvalidArgument("unknown event_type '" + type + "'");
  event.type = *parsed;
  event.urn = json::GetStringOrEmpty(o, "urn");
  if (event.urn.empty()) return Status::InvalidArgument("field 'urn' required");
  event.contact_name = json::GetStringOrEmpty(o, "contact_name");
  if (o->has("extra") && !o->isNull("extra")) {
    auto extra = json::GetObject(o, "extra");
    if (!extra) return Status::InvalidArgument("field 'extra' must be an object");
    for (const auto& name : extra->getNames()) {
      auto value = json::GetString(extra, name);
      if (!value) return Status::InvalidArgument("extra '" + name + "' must be a string");
      event.extra[name] = *value;
    }
  }
  if (auto t = json::GetString(o, "occurred_on")) {
    auto when = ParseRfc3339(*t);
    if (!when) return Status::InvalidArgument("field 'occurred_on' is not an RFC 3339 time");
    event.occurred_on = *when;
  }
  return event;
}

}  // namespace courier
