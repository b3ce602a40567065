#include "core/msg_json.h"

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

Status ReadTime(const json::ObjectPtr& o, const std::string& key, std::optional<Micros>& out) {
  if (!o->has(key) || o->isNull(key)) return Status::OK();
  auto text = json::GetString(o, key);
  if (!text) return Status::InvalidArgument("field '" + key + "' must be an RFC 3339 time");
  auto t = ParseRfc3339(*text);
  if (!t) return Status::InvalidArgument("field '" + key + "' is not an RFC 3339 time: '" + *text + "'");
  out = *t;
  return Status::OK();
}

}  // namespace

Result<Msg> MsgFromJson(const json::ObjectPtr& o) {
  Msg m;
  if (auto id = json::GetInt(o, "id")) m.id = *id;
  m.uuid = json::GetString(o, "uuid").value_or("");
  auto channel = json::GetString(o, "channel_uuid");
  if (!channel || channel->empty()) return Status::InvalidArgument("field 'channel_uuid' required");
  m.channel_uuid = *channel;
  m.channel_type = json::GetString(o, "channel_type").value_or("");

  auto direction = json::GetString(o, "direction");
  if (!direction) return Status::InvalidArgument("field 'direction' required");
  if (*direction == "in") m.direction = Direction::kIn;
  else if (*direction == "out") m.direction = Direction::kOut;
  else return Status::InvalidArgument("field 'direction' must be \"in\" or \"out\"");

  auto status = json::GetString(o, "status");
  if (!status) return Status::InvalidArgument("field 'status' required");
  auto parsed = ParseMsgStatus(*status);
  if (!parsed) return Status::InvalidArgument("field 'status' is not a status: '" + *status + "'");
  m.status = *parsed;

  auto urn = json::GetString(o, "urn");
  if (!urn || urn->empty()) return Status::InvalidArgument("field 'urn' required");
  m.urn = *urn;
  m.text = json::GetString(o, "text").value_or("");
  auto attachments = json::GetStringArray(o, "attachments");
  if (!attachments.ok()) return attachments.status();
  m.attachments = *attachments;
  auto quick_replies = QuickRepliesFromJson(o, "quick_replies");
  if (!quick_replies.ok()) return quick_replies.status();
  m.quick_replies = *quick_replies;
  if (o->has("template") && !o->isNull("template")) {
    auto templating = TemplateFromJson(json::GetObject(o, "template"));
    if (!templating.ok()) return templating.status();
    m.templating = std::move(*templating);
  }
  m.locale = json::GetString(o, "locale").value_or("");
  m.external_id = json::GetString(o, "external_id").value_or("");
  m.contact_name = json::GetString(o, "contact_name").value_or("");
  m.error_reason = json::GetString(o, "error_reason").value_or("");
  if (auto p = json::GetString(o, "priority")) {
    auto prio = ParsePriority(*p);
    if (!prio) return Status::InvalidArgument("field 'priority' must be \"high\" or \"bulk\"");
    m.priority = *prio;
  }
  if (auto n = json::GetInt(o, "error_count")) m.error_count = static_cast<int>(*n);

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

}  // namespace courier
