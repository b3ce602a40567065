#include "intake/intake_text.h"

#include "util/utf8.h"

namespace courier {
namespace {

int Repair(std::string& s) { return MakeValidUtf8(s) ? 1 : 0; }

int Repair(std::vector<std::string>& items) {
  int n = 0;
  for (auto& s : items) n += Repair(s);
  return n;
}

int Repair(ChannelLog& log) {
  return Repair(log.channel_uuid) + Repair(log.description) + Repair(log.method) + Repair(log.url) +
         Repair(log.error) + Repair(log.request) + Repair(log.response);
}

int Repair(std::vector<ChannelLog>& logs) {
  int n = 0;
  for (auto& l : logs) n += Repair(l);
  return n;
}

int Repair(ChannelEvent& event) {
  int n = Repair(event.uuid) + Repair(event.urn) + Repair(event.contact_name);
  // A key of the map cannot change in place: the map is built again.
  std::map<std::string, std::string> extra;
  for (const auto& [stored_key, stored_value] : event.extra) {
    std::string key = stored_key, value = stored_value;
    n += Repair(key) + Repair(value);
    extra[key] = value;
  }
  event.extra = std::move(extra);
  return n;
}

int Repair(std::vector<QuickReply>& replies) {
  int n = 0;
  for (auto& reply : replies) n += Repair(reply.text) + Repair(reply.description) + Repair(reply.url);
  return n;
}

int Repair(Msg& m) {
  return Repair(m.uuid) + Repair(m.channel_uuid) + Repair(m.channel_type) + Repair(m.urn) + Repair(m.text) +
         Repair(m.attachments) + Repair(m.quick_replies) + Repair(m.external_id) + Repair(m.contact_name) +
         Repair(m.urn_auth) + Repair(m.error_reason);
}

}  // namespace

int RepairUtf8(Intake& in) {
  int n = Repair(in.channel_uuid);
  for (auto& m : in.msgs) n += Repair(m);
  n += Repair(in.msg_logs);
  for (auto& s : in.statuses) {
    n += Repair(s.channel_uuid) + Repair(s.external_id) + Repair(s.new_external_id) + Repair(s.error_reason) +
         Repair(s.logs);
  }
  n += Repair(in.stop_urns);
  for (auto& a : in.urn_auths) n += Repair(a.urn) + Repair(a.auth) + Repair(a.contact_name);
  for (auto& event : in.channel_events) n += Repair(event);
  n += Repair(in.logs);
  return n;
}

}  // namespace courier
