#include "core/msg_json.h"

#include <simdjson.h>

#include "core/json.h"
#include "core/quick_reply.h"

namespace courier {

void WriteMsgFields(JsonWriter& w, const Msg& m, std::string_view id_key, std::string_view uuid_key) {
  w.Key(id_key);
  if (m.id) w.Int(m.id);
  else w.Null();
  w.Field(uuid_key, m.uuid);
  w.Field("channel_uuid", m.channel_uuid);
  w.Field("channel_type", m.channel_type);
  w.Field("direction", DirectionName(m.direction));
  w.Field("status", MsgStatusString(m.status));
  w.Field("urn", m.urn);
  w.Field("text", m.text);
  w.Field("attachments", m.attachments);
  w.Key("quick_replies");
  WriteQuickReplies(w, m.quick_replies);
  w.Key("template");
  if (m.templating) WriteTemplate(w, *m.templating);
  else w.Null();
  w.Key("locale").StringOrNull(m.locale);
  w.Key("external_id").StringOrNull(m.external_id);
  w.Key("contact_name").StringOrNull(m.contact_name);
  w.Field("priority", PriorityName(m.priority));
  w.Field("error_count", m.error_count);
  w.Key("error_reason").StringOrNull(m.error_reason);
  w.Key("created_on").Time(m.created_on ? std::optional<Micros>(m.created_on) : std::nullopt);
  w.Key("modified_on").Time(m.modified_on ? std::optional<Micros>(m.modified_on) : std::nullopt);
  w.Key("received_on").Time(m.received_on);
  w.Key("sent_on").Time(m.sent_on);
  w.Key("next_attempt_on").Time(m.next_attempt_on);
}

std::string MsgToJson(const Msg& m) {
  JsonWriter w;
  w.BeginObject();
  WriteMsgFields(w, m);
  w.EndObject();
  return w.Take();
}

namespace {

Status ReadTime(const jsondoc::Object& o, std::string_view key, std::optional<Micros>& out) {
  if (jsondoc::IsAbsentOrNull(o, key)) return Status::OK();
  auto text = jsondoc::GetString(o, key);
  if (!text) return Status::InvalidArgument("field '" + std::string(key) + "' must be an RFC 3339 time");
  auto t = ParseRfc3339(*text);
  if (!t) return Status::InvalidArgument("field '" + std::string(key) + "' is not an RFC 3339 time: '" + *text + "'");
  out = *t;
  return Status::OK();
}

// A msg's quick replies and template, read through core/json.h's readers
// from their text: an incoming msg (most of what is decoded) has neither.
Status ReadQuickRepliesAndTemplate(const jsondoc::Object& o, Msg& m) {
  if (!jsondoc::IsAbsentOrNull(o, "quick_replies")) {
    const std::string text = jsondoc::Text(o, "quick_replies");
    if (text.empty() || text[0] != '[') return Status::InvalidArgument("field 'quick_replies' must be an array");
    if (text != "[]") {
      auto quick_replies = ParseQuickReplies(text);
      if (!quick_replies.ok()) return quick_replies.status();
      m.quick_replies = std::move(*quick_replies);
    }
  }
  if (!jsondoc::IsAbsentOrNull(o, "template")) {
    // Not an object: TemplateFromJson names that.
    auto object = jsondoc::GetObject(o, "template") ? json::ParseObject(jsondoc::Text(o, "template"))
                                                    : Result<json::ObjectPtr>(json::ObjectPtr());
    if (!object.ok()) return object.status();
    auto templating = TemplateFromJson(*object);
    if (!templating.ok()) return templating.status();
    m.templating = std::move(*templating);
  }
  return Status::OK();
}

}  // namespace

Result<Msg> MsgFromJson(const jsondoc::Object& o) {
  Msg m;
  if (auto id = jsondoc::GetInt(o, "id")) m.id = *id;
  m.uuid = jsondoc::GetString(o, "uuid").value_or("");
  auto channel = jsondoc::GetString(o, "channel_uuid");
  if (!channel || channel->empty()) return Status::InvalidArgument("field 'channel_uuid' required");
  m.channel_uuid = std::move(*channel);
  m.channel_type = jsondoc::GetString(o, "channel_type").value_or("");

  auto direction = jsondoc::GetString(o, "direction");
  if (!direction) return Status::InvalidArgument("field 'direction' required");
  if (*direction == "in") m.direction = Direction::kIn;
  else if (*direction == "out") m.direction = Direction::kOut;
  else return Status::InvalidArgument("field 'direction' must be \"in\" or \"out\"");

  auto status = jsondoc::GetString(o, "status");
  if (!status) return Status::InvalidArgument("field 'status' required");
  auto parsed = ParseMsgStatus(*status);
  if (!parsed) return Status::InvalidArgument("field 'status' is not a status: '" + *status + "'");
  m.status = *parsed;

  auto urn = jsondoc::GetString(o, "urn");
  if (!urn || urn->empty()) return Status::InvalidArgument("field 'urn' required");
  m.urn = std::move(*urn);
  m.text = jsondoc::GetString(o, "text").value_or("");
  auto attachments = jsondoc::GetStringArray(o, "attachments");
  if (!attachments.ok()) return attachments.status();
  m.attachments = std::move(*attachments);
  Status rich = ReadQuickRepliesAndTemplate(o, m);
  if (!rich.ok()) return rich;
  m.locale = jsondoc::GetString(o, "locale").value_or("");
  m.external_id = jsondoc::GetString(o, "external_id").value_or("");
  m.contact_name = jsondoc::GetString(o, "contact_name").value_or("");
  m.error_reason = jsondoc::GetString(o, "error_reason").value_or("");
  if (auto p = jsondoc::GetString(o, "priority")) {
    auto prio = ParsePriority(*p);
    if (!prio) return Status::InvalidArgument("field 'priority' must be \"high\" or \"bulk\"");
    m.priority = *prio;
  }
  if (auto n = jsondoc::GetInt(o, "error_count")) m.error_count = static_cast<int>(*n);

  std::optional<Micros> created, modified;
  for (auto [key, slot] : {std::pair{"created_on", &created}, {"modified_on", &modified},
                           {"received_on", &m.received_on}, {"sent_on", &m.sent_on},
                           {"next_attempt_on", &m.next_attempt_on}}) {
    Status s = ReadTime(o, key, *slot);
    if (!s.ok()) return s;
  }
  m.created_on = created.value_or(0);
  m.modified_on = modified.value_or(0);
  return m;
}

Result<Msg> MsgFromJsonText(std::string_view text) {
  jsondoc::Parser parser;
  auto object = parser.ParseObject(text);
  if (!object.ok()) return object.status();
  return MsgFromJson(**object);
}

}  // namespace courier
