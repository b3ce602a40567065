#pragma once
// Msg: a message in either direction, the unit the store, the spool and the
// events all carry.
//
// Incoming msgs are built by handlers from webhooks (status P); outgoing ones
// are queued by courier-ctl (status Q) and claimed by courier-send.
// Attachments are "mime/type:url" strings.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/msg_status.h"
#include "core/msg_template.h"
#include "core/quick_reply.h"

namespace courier {

enum class Direction : char { kIn = 'I', kOut = 'O' };
const char* DirectionName(Direction d);  // "in" / "out"

enum class Priority : int { kBulk = 0, kHigh = 1 };
const char* PriorityName(Priority p);  // "bulk" / "high"
std::optional<Priority> ParsePriority(const std::string& text);

struct Msg {
  int64_t id = 0;  // 0 until stored
  std::string uuid;
  int64_t channel_id = 0;
  std::string channel_uuid;
  std::string channel_type;
  Direction direction = Direction::kIn;
  MsgStatus status = MsgStatus::kPending;
  std::string urn;
  std::string text;
  std::vector<std::string> attachments;
  std::vector<QuickReply> quick_replies;  // outgoing: answers offered as buttons where the channel can
  // Outgoing: sent as this provider template (WhatsApp) where the channel
  // takes templates; others send the text.
  std::optional<MsgTemplate> templating;
  std::string locale;  // the msg's language (BCP 47, "rw", "en-US"); "" unknown
  std::string external_id;
  std::string contact_name;
  // Set by a claim (not stored, not in JSON): the msg's contact (the owner
  // of `urn`) had opted out when the msg was claimed, so courier-send
  // fails it unsent.
  bool contact_stopped = false;
  // Set by a claim (not stored with the msg, not in JSON): the auth kept
  // with the msg's URN (UrnAuthUpdate; FCM: the device's registration
  // token), "" when it has none.
  std::string urn_auth;
  Priority priority = Priority::kHigh;
  int error_count = 0;
  std::string error_reason;
  Micros created_on = 0;
  Micros modified_on = 0;
  std::optional<Micros> received_on;
  std::optional<Micros> sent_on;
  std::optional<Micros> next_attempt_on;
};

// Splits "image/jpeg:https://x/y.jpg" at the first ':' into
// ("image/jpeg", "https://x/y.jpg"); no ':' gives ("", whole).
std::pair<std::string, std::string> SplitAttachment(const std::string& attachment);

// The text followed by "\n<url>" for each attachment, for SMS providers that
// can only carry media as links.
std::string TextAndAttachments(const Msg& msg);

// Removes the control characters the reference strips from incoming text
// (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F); keeps tab, LF, CR.
std::string CleanIncomingText(const std::string& text);

}  // namespace courier
