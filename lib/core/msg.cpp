#include "core/msg.h"

#include "util/text.h"

namespace courier {

const char* DirectionName(Direction d) {
  switch (d) {
    case Direction::kIn: return "in";
    case Direction::kOut: return "out";
  }
  return "unknown";
}

const char* PriorityName(Priority p) {
  switch (p) {
    case Priority::kBulk: return "bulk";
    case Priority::kHigh: return "high";
  }
  return "unknown";
}

std::optional<Priority> ParsePriority(const std::string& text) {
  const std::string lower = ToLower(text);
  if (lower == "bulk") return Priority::kBulk;
  // A msg an application sends one at a time is "high" (the reference's
  // default priority); "normal" and "default" are accepted as its aliases.
  if (lower == "high" || lower == "normal" || lower == "default") return Priority::kHigh;
  return std::nullopt;
}

std::pair<std::string, std::string> SplitAttachment(const std::string& attachment) {
  auto colon = attachment.find(':');
  if (colon == std::string::npos) return {"", attachment};
  return {attachment.substr(0, colon), attachment.substr(colon + 1)};
}

std::string TextAndAttachments(const Msg& msg) {
  std::string out = msg.text;
  for (const auto& a : msg.attachments) {
    out += "\n";
    out += SplitAttachment(a).second;
  }
  return out;
}

// Works byte-wise: every stripped character is a single byte below 0x20, and
// no byte of a multi-byte UTF-8 sequence is below 0x80, so valid UTF-8 stays
// valid and other bytes pass through untouched.
std::string CleanIncomingText(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool strip = c < 0x20 && c != '\t' && c != '\n' && c != '\r';
    if (!strip) out.push_back(ch);
  }
  return out;
}

}  // namespace courier
