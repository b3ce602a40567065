#pragma once
// QuickReply: an answer an outgoing msg offers, shown as a button where
// the channel can. Typed, as chat channels offer more than words: a text
// reply (sent back as the user's msg when tapped), a request for the
// user's location, or a link.
//
// In JSON (the API, `courier-ctl send --jsonl`, the store, events) a text
// reply without a description is a plain string, as every version before
// typed replies wrote it and as an application that only offers words
// sends it; any other is an object {"type", "text", and "description"
// (text) or "url" (url)}. "extra" is read as the description or URL too,
// the reference's name for both.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/json_writer.h"
#include "core/status.h"

namespace courier {

enum class QuickReplyType { kText, kLocation, kUrl };

const char* QuickReplyTypeName(QuickReplyType type);  // "text", "location", "url"
std::optional<QuickReplyType> ParseQuickReplyType(std::string_view name);

struct QuickReply {
  QuickReply() = default;
  // A string is a text reply, as in JSON.
  QuickReply(std::string text_reply) : text(std::move(text_reply)) {}  // NOLINT: implicit on purpose
  QuickReply(const char* text_reply) : text(text_reply) {}              // NOLINT: implicit on purpose

  QuickReplyType type = QuickReplyType::kText;
  std::string text;         // what the button says; for a text reply also what comes back
  std::string description;  // text replies: a line under it where the channel lists them
  std::string url;          // url replies: where the button leads

  static QuickReply Text(std::string text, std::string description = "");
  static QuickReply Location(std::string text);
  static QuickReply Url(std::string text, std::string url);

  bool operator==(const QuickReply& other) const {
    return type == other.type && text == other.text && description == other.description && url == other.url;
  }
};

// Each reply valid: text present, valid UTF-8 throughout, a url reply's URL
// http(s); InvalidArgument naming the first that is not.
Status ValidateQuickReplies(const std::vector<QuickReply>& replies);

// As a JSON array (strings for plain text replies, objects otherwise).
void WriteQuickReplies(JsonWriter& w, const std::vector<QuickReply>& replies);
std::string QuickRepliesToJson(const std::vector<QuickReply>& replies);
// Reads what WriteQuickReplies writes (and every string array before it);
// an absent or null member is no replies.
Result<std::vector<QuickReply>> QuickRepliesFromJson(const json::ObjectPtr& object, const std::string& key);
Result<std::vector<QuickReply>> ParseQuickReplies(const std::string& json_array);

// The texts of the text replies, in order: for a channel that can show
// only those (the others are left out, as the reference does).
std::vector<std::string> TextQuickReplies(const std::vector<QuickReply>& replies);

}  // namespace courier
