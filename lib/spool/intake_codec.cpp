#include "spool/intake_codec.h"

#include <simdjson.h>

#include "core/channel_event_json.h"
#include "core/channel_log_json.h"
#include "core/json_doc.h"
#include "core/msg_json.h"

namespace courier {
namespace {

void WriteLogs(JsonWriter& w, std::string_view key, const std::vector<ChannelLog>& logs) {
  w.Key(key).BeginArray();
  for (const auto& l : logs) WriteChannelLog(w, l);
  w.EndArray();
}

// Calls `each` on every object of the array under `key` (none when it
// is absent or null).
template <typename F>
Status ForEachObject(const jsondoc::Object& o, const char* key, F each) {
  auto items = jsondoc::GetObjects(o, key);
  if (!items.ok()) return items.status();
  for (size_t i = 0; i < items->size(); ++i) {
    Status s = each((*items)[i]);
    if (!s.ok()) return Status::InvalidArgument(std::string(key) + "[" + std::to_string(i) + "]: " + s.message());
  }
  return Status::OK();
}

}  // namespace

std::string EncodeIntake(const Intake& in) {
  JsonWriter w;
  w.BeginObject();
  w.Field("kind", "intake");
  w.Field("version", kIntakeFormatVersion);
  w.Field("channel_uuid", in.channel_uuid);
  w.Key("msgs").BeginArray();
  for (const auto& m : in.msgs) {
    w.BeginObject();
    WriteMsgFields(w, m);
    w.EndObject();
  }
  w.EndArray();
  WriteLogs(w, "msg_logs", in.msg_logs);
  w.Key("statuses").BeginArray();
  for (const auto& s : in.statuses) {
    w.BeginObject();
    w.Field("channel_uuid", s.channel_uuid);
    w.Key("msg_id");
    if (s.msg_id) w.Int(*s.msg_id);
    else w.Null();
    w.Key("msg_uuid").StringOrNull(s.msg_uuid);
    w.Key("external_id").StringOrNull(s.external_id);
    w.Field("status", MsgStatusString(s.status));
    w.Key("new_external_id").StringOrNull(s.new_external_id);
    w.Key("error_reason").StringOrNull(s.error_reason);
    w.Key("next_attempt_on").Time(s.next_attempt_on);
    w.Field("count_error", s.count_error);
    WriteLogs(w, "logs", s.logs);
    w.EndObject();
  }
  w.EndArray();
  w.Field("stop_urns", in.stop_urns);
  w.Key("urn_auths").BeginArray();
  for (const auto& a : in.urn_auths) {
    w.BeginObject();
    w.Field("urn", a.urn);
    w.Field("auth", a.auth);
    w.Field("contact_name", a.contact_name);
    w.Key("sent_on").Time(a.sent_on != 0 ? std::optional<Micros>(a.sent_on) : std::nullopt);
    w.EndObject();
  }
  w.EndArray();
  if (!in.channel_events.empty()) {
    w.Key("channel_events").BeginArray();
    for (const auto& event : in.channel_events) {
      w.BeginObject();
      WriteChannelEventFields(w, event);
      w.EndObject();
    }
    w.EndArray();
  }
  WriteLogs(w, "logs", in.logs);
  if (in.duplicate_window > 0) w.Field("duplicate_window_ms", static_cast<int64_t>(in.duplicate_window / 1000));
  w.EndObject();
  return w.Take();
}

Result<Intake> DecodeIntake(const std::string& body, bool* repaired_utf8) {
  // Files spooled before JsonWriter repaired text hold a provider's
  // ill-formed bytes as they came; the parser reads them as U+FFFD.
  // One parser a thread keeps its buffers from one intake to the next.
  thread_local jsondoc::Parser parser;
  auto parsed = parser.ParseObject(body, repaired_utf8);
  if (!parsed.ok()) return parsed.status();
  const jsondoc::Object& o = **parsed;
  if (jsondoc::GetString(o, "kind") != "intake") return Status::InvalidArgument("not an intake (kind must be \"intake\")");
  int64_t version = 1;
  if (jsondoc::Has(o, "version")) {
    auto v = jsondoc::GetInt(o, "version");
    if (!v || *v < 1) return Status::InvalidArgument("field 'version' must be a positive integer");
    version = *v;
  }
  if (version > kIntakeFormatVersion)
    return Status::InvalidArgument("intake format version " + std::to_string(version) +
                                   " is newer than this program reads (" + std::to_string(kIntakeFormatVersion) +
                                   "): replay it with a newer courier-flush");
  Intake in;
  auto channel = jsondoc::GetString(o, "channel_uuid");
  if (!channel || channel->empty()) return Status::InvalidArgument("field 'channel_uuid' required");
  in.channel_uuid = *channel;

  Status s = ForEachObject(o, "msgs", [&](const jsondoc::Object& item) -> Status {
    auto m = MsgFromJson(item);
    if (!m.ok()) return m.status();
    if (m->uuid.empty()) return Status::InvalidArgument("field 'uuid' required");
    in.msgs.push_back(std::move(*m));
    return Status::OK();
  });
  if (!s.ok()) return s;
  auto read_logs = [](std::vector<ChannelLog>& into) {
    return [&into](const jsondoc::Object& item) -> Status {
      auto l = ChannelLogFromJson(item);
      if (!l.ok()) return l.status();
      into.push_back(std::move(*l));
      return Status::OK();
    };
  };
  s = ForEachObject(o, "msg_logs", read_logs(in.msg_logs));
  if (!s.ok()) return s;
  s = ForEachObject(o, "statuses", [&](const jsondoc::Object& item) -> Status {
    StatusUpdate u;
    u.channel_uuid = jsondoc::GetString(item, "channel_uuid").value_or(in.channel_uuid);
    if (auto id = jsondoc::GetInt(item, "msg_id")) u.msg_id = *id;
    u.msg_uuid = jsondoc::GetString(item, "msg_uuid").value_or("");
    u.external_id = jsondoc::GetString(item, "external_id").value_or("");
    auto status = ParseMsgStatus(jsondoc::GetString(item, "status").value_or(""));
    if (!status) return Status::InvalidArgument("field 'status' required");
    u.status = *status;
    u.new_external_id = jsondoc::GetString(item, "new_external_id").value_or("");
    u.error_reason = jsondoc::GetString(item, "error_reason").value_or("");
    if (auto t = jsondoc::GetString(item, "next_attempt_on")) {
      auto parsed = ParseRfc3339(*t);
      if (!parsed) return Status::InvalidArgument("field 'next_attempt_on' is not an RFC 3339 time");
      u.next_attempt_on = *parsed;
    }
    u.count_error = jsondoc::GetBool(item, "count_error").value_or(false);
    if (!u.msg_id && u.msg_uuid.empty() && u.external_id.empty())
      return Status::InvalidArgument("status needs msg_id, msg_uuid or external_id");
    Status ls = ForEachObject(item, "logs", read_logs(u.logs));
    if (!ls.ok()) return ls;
    in.statuses.push_back(std::move(u));
    return Status::OK();
  });
  if (!s.ok()) return s;
  s = ForEachObject(o, "channel_events", [&](const jsondoc::Object& item) -> Status {
    auto event = ChannelEventFromJson(item);
    if (!event.ok()) return event.status();
    in.channel_events.push_back(std::move(*event));
    return Status::OK();
  });
  if (!s.ok()) return s;
  if (jsondoc::Has(o, "duplicate_window_ms")) {
    auto ms = jsondoc::GetInt(o, "duplicate_window_ms");
    if (!ms || *ms < 0) return Status::InvalidArgument("field 'duplicate_window_ms' must be a whole number >= 0");
    in.duplicate_window = *ms * 1000;
  }
  auto stops = jsondoc::GetStringArray(o, "stop_urns");
  if (!stops.ok()) return stops.status();
  in.stop_urns = *stops;
  s = ForEachObject(o, "urn_auths", [&](const jsondoc::Object& item) -> Status {
    UrnAuthUpdate a;
    a.urn = jsondoc::GetString(item, "urn").value_or("");
    a.auth = jsondoc::GetString(item, "auth").value_or("");
    if (a.urn.empty()) return Status::InvalidArgument("field 'urn' required");
    if (a.auth.empty()) return Status::InvalidArgument("field 'auth' required");
    a.contact_name = jsondoc::GetString(item, "contact_name").value_or("");
    if (auto t = jsondoc::GetString(item, "sent_on")) {
      auto parsed = ParseRfc3339(*t);
      if (!parsed) return Status::InvalidArgument("field 'sent_on' is not an RFC 3339 time");
      a.sent_on = *parsed;
    }
    in.urn_auths.push_back(std::move(a));
    return Status::OK();
  });
  if (!s.ok()) return s;
  s = ForEachObject(o, "logs", read_logs(in.logs));
  if (!s.ok()) return s;
  return in;
}

}  // namespace courier
