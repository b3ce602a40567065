#include "ctl/event_line.h"

#include <optional>
#include <vector>

#include "core/json.h"
#include "ctl/table.h"

namespace courier {
namespace {

// Widths of every column but the last: a seq up to a million, an RFC 3339
// second, the longest topic ("contact.unstopped"), a msg id up to a
// million, a status letter, an E.164 tel URN.
constexpr size_t kWidths[] = {6, 20, 17, 7, 6, 18};

std::string Join(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 == cells.size()) break;
    const size_t width = i < std::size(kWidths) ? kWidths[i] : 0;
    // UTF-8 continuation bytes take no column.
    size_t shown = 0;
    for (unsigned char c : cells[i]) shown += (c & 0xC0) != 0x80;
    line += std::string(shown < width ? width - shown + 2 : 2, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::string OrDash(const std::optional<std::string>& value) {
  return value && !value->empty() ? OneLine(*value) : "-";
}

}  // namespace

std::string EventHeader() { return Join({"SEQ", "TIME", "TYPE", "MSG", "STATUS", "URN", "DETAILS"}); }

std::string EventLine(const Event& event) {
  std::vector<std::string> cells = {std::to_string(event.seq), TableTime(event.created_on), event.topic};
  auto parsed = json::ParseObject(event.payload);
  if (!parsed.ok()) {
    cells.insert(cells.end(), {"-", "-", "-", OneLine(event.payload)});
    return Join(cells);
  }
  const json::ObjectPtr& o = *parsed;
  auto msg_id = json::GetInt(o, "msg_id");
  auto contact = json::GetString(o, "contact_uuid");
  cells.push_back(msg_id ? std::to_string(*msg_id) : "-");
  cells.push_back(OrDash(json::GetString(o, "status")));
  cells.push_back(OrDash(json::GetString(o, "urn")));

  std::vector<std::pair<std::string, std::optional<std::string>>> parts = {
      {"error", json::GetString(o, "error_reason")},
      {"text", json::GetString(o, "text")},
      {"attachments", std::nullopt},
      {"external id", json::GetString(o, "external_id")},
      {"next attempt", std::nullopt},
      {"contact", contact},
      {"event", json::GetString(o, "event_type")},
      {"extra", std::nullopt},
  };
  if (auto attachments = json::GetStringArray(o, "attachments"); attachments.ok() && !attachments->empty()) {
    std::string joined;
    for (const auto& a : *attachments) joined += (joined.empty() ? "" : " ") + a;
    parts[2].second = joined;
  }
  if (auto extra = json::GetObject(o, "extra"); extra && extra->size() > 0) {
    std::string joined;
    for (const auto& name : extra->getNames()) {
      joined += (joined.empty() ? "" : " ") + name + "=" + json::GetTextOrEmpty(extra, name);
    }
    parts[7].second = joined;
  }
  // Every queued msg has a next attempt (now); only a retry's says something.
  if (cells[4] == "E") parts[4].second = json::GetString(o, "next_attempt_on");
  std::string details;
  for (const auto& [name, value] : parts) {
    if (!value || value->empty()) continue;
    details += (details.empty() ? "" : "; ") + name + ": " + OneLine(*value);
  }
  // A topic this version does not know still says what happened.
  if (!msg_id && !contact) details = OneLine(event.payload);
  cells.push_back(details.empty() ? "-" : details);
  return Join(cells);
}

}  // namespace courier
