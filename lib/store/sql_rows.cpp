#include "store/sql_rows.h"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/json_writer.h"
#include "util/text.h"

namespace courier {
namespace sql_rows {

std::optional<Micros> FromNullable(const NInt& v) {
  return v;
}
std::string Letter(MsgStatus s) { return std::string(1, static_cast<char>(s)); }
std::string Letter(Direction d) { return std::string(1, static_cast<char>(d)); }

// --- JSON columns ----------------------------------------------------------

std::string AttachmentsToJson(const std::vector<std::string>& attachments) {
  if (attachments.empty()) return "[]";
  JsonWriter w;
  w.Strings(attachments);
  return w.Take();
}

std::vector<std::string> AttachmentsFromJson(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty() || text == "[]") return out;  // most msgs: no parser needed
  try {
    Poco::JSON::Parser parser;
    auto array = parser.parse(text).extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < array->size(); ++i) out.push_back(array->get(i).toString());
  } catch (const Poco::Exception& e) {
    throw CorruptData("msg attachments are not a JSON array: " + e.displayText());
  }
  return out;
}

std::string ConfigToJson(const std::map<std::string, std::string>& config) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [k, v] : config) object.set(k, v);
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

std::map<std::string, std::string> ConfigFromJson(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  try {
    Poco::JSON::Parser parser;
    auto object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    for (const auto& [k, v] : *object) out[k] = v.isEmpty() ? std::string() : v.toString();
  } catch (const Poco::Exception& e) {
    throw CorruptData("channel config is not a JSON object: " + e.displayText());
  }
  return out;
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (s.empty()) continue;
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// --- Row conversion ----------------------------------------------------------

Msg ToMsg(const MsgRow& r) {
  Msg m;
  m.id = r.id;
  m.uuid = r.uuid;
  m.channel_id = r.channel_id;
  m.channel_uuid = r.channel_uuid;
  m.channel_type = r.channel_type;
  if (r.direction == "I") {
    m.direction = Direction::kIn;
  } else if (r.direction == "O") {
    m.direction = Direction::kOut;
  } else {
    throw CorruptData("msg " + std::to_string(r.id) + " has direction '" + r.direction + "'");
  }
  auto status = ParseMsgStatus(r.status);
  if (r.status.size() != 1 || !status) {
    throw CorruptData("msg " + std::to_string(r.id) + " has status '" + r.status + "'");
  }
  m.status = *status;
  m.urn = r.urn;
  m.text = r.text;
  m.attachments = AttachmentsFromJson(r.attachments);
  if (!r.quick_replies.empty() && r.quick_replies != "[]") {  // most msgs: no parser needed
    auto replies = ParseQuickReplies(r.quick_replies);
    if (!replies.ok()) throw CorruptData("msg quick_replies: " + replies.status().message());
    m.quick_replies = std::move(*replies);
  }
  if (!r.templating.empty()) {
    auto templating = ParseTemplate(r.templating);
    if (!templating.ok()) throw CorruptData("msg template: " + templating.status().message());
    m.templating = std::move(*templating);
  }
  m.locale = r.locale;
  m.external_id = r.external_id;
  m.contact_name = r.contact_name;
  m.priority = r.priority > 0 ? Priority::kHigh : Priority::kBulk;
  m.error_count = static_cast<int>(r.error_count);
  m.error_reason = r.error_reason;
  m.created_on = r.created_on;
  m.modified_on = r.modified_on;
  m.received_on = FromNullable(r.received_on);
  m.sent_on = FromNullable(r.sent_on);
  m.next_attempt_on = FromNullable(r.next_attempt_on);
  return m;
}

Channel ToChannel(const ChannelRow& r) {
  Channel c;
  c.id = r.id;
  c.uuid = r.uuid;
  c.type = r.type;
  c.name = r.name;
  c.address = r.address;
  c.country = r.country;
  c.schemes = SplitList(r.schemes);
  c.config = ConfigFromJson(r.config);
  c.max_workers = static_cast<int>(r.max_workers);
  c.tps = static_cast<int>(r.tps);
  c.created_on = r.created_on;
  return c;
}

ChannelLog ToLog(const LogRow& r) {
  ChannelLog l;
  l.id = r.id;
  l.channel_id = r.channel_id;
  l.channel_uuid = r.channel_uuid;
  l.msg_id = r.msg_id;
  l.description = r.description;
  l.error = r.error;
  l.method = r.method;
  l.url = r.url;
  l.request = r.request;
  l.response = r.response;
  l.status_code = static_cast<int>(r.response_status);
  l.elapsed_ms = r.elapsed_ms;
  l.created_on = r.created_on;
  return l;
}

Contact ToContact(const ContactRow& r) {
  Contact c;
  c.id = r.id;
  c.uuid = r.uuid;
  c.name = r.name;
  c.stopped = r.is_stopped;
  c.created_on = r.created_on;
  return c;
}

Hook ToHook(const HookRow& r) {
  Hook h;
  h.id = r.id;
  h.uuid = r.uuid;
  h.url = r.url;
  for (const auto& topic : SplitList(r.topics)) {
    std::string trimmed = Trim(topic);
    if (!trimmed.empty()) h.topics.push_back(std::move(trimmed));
  }
  h.channel_uuid = r.channel_uuid;
  h.format = r.format;
  h.secret = r.secret;
  h.auth_token = r.auth_token;
  h.batch_size = static_cast<int>(r.batch_size);
  h.paused = r.paused;
  h.paused_reason = r.paused_reason;
  h.cursor = r.cursor;
  h.failures = static_cast<int>(r.failures);
  h.last_error = r.last_error;
  h.last_error_on = FromNullable(r.last_error_on);
  h.next_attempt_on = FromNullable(r.next_attempt_on);
  h.delivered_on = FromNullable(r.delivered_on);
  h.created_on = r.created_on;
  h.modified_on = r.modified_on;
  return h;
}

ApiToken ToApiToken(const ApiTokenRow& r) {
  ApiToken t;
  t.id = r.id;
  t.name = r.name;
  t.token_hash = r.token_hash;
  t.scopes = SplitList(r.scopes);
  t.created_on = r.created_on;
  t.last_used_on = FromNullable(r.last_used_on);
  return t;
}

}  // namespace sql_rows
}  // namespace courier
