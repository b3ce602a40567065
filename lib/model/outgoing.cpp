#include "model/outgoing.h"

#include "core/urn.h"
#include "core/uuid.h"
#include "model/media_reference.h"
#include "util/utf8.h"

namespace courier {
namespace {

Status ValidateAttachment(const std::string& a) {
  // A file courier keeps; courier-send checks that it exists and gives the
  // provider its public URL (model/media_reference.h).
  if (IsMediaReference(a)) {
    if (!ParseLocalMedia(a, {}))
      return Status::InvalidArgument("attachment media: must name a file by its SHA-256 (64 lower-case hex digits): '" + a + "'");
    return Status::OK();
  }
  auto [mime, url] = SplitAttachment(a);
  if (mime.find('/') == std::string::npos || mime.find(' ') != std::string::npos)
    return Status::InvalidArgument("attachment must be MIME:URL, e.g. image/jpeg:https://example.com/a.jpg, not '" + a + "'");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("attachment URL must start with http:// or https://: '" + a + "'");
  return Status::OK();
}

Status Refuse(std::string* field, const std::string& name, Status status) {
  if (field != nullptr) *field = name;
  return status;
}

// A string member; absent or null is fine (nullopt), another type is not.
Result<std::optional<std::string>> StringMember(const json::ObjectPtr& o, const std::string& key) {
  if (!o->has(key) || o->isNull(key)) return std::optional<std::string>();
  auto value = json::GetString(o, key);
  if (!value) return Status::InvalidArgument("field '" + key + "' must be a string");
  return value;
}

}  // namespace

Result<OutgoingRequest> OutgoingRequestFromJson(const json::ObjectPtr& object, std::string* field) {
  OutgoingRequest r;
  for (const char* key : {"channel", "channel_uuid", "urn", "text", "priority", "locale"}) {
    auto value = StringMember(object, key);
    if (!value.ok()) return Refuse(field, key, value.status());
  }
  auto channel = json::GetString(object, "channel");
  if (!channel) channel = json::GetString(object, "channel_uuid");
  if (!channel) return Refuse(field, "channel", Status::InvalidArgument("field 'channel' required"));
  auto urn = json::GetString(object, "urn");
  if (!urn) return Refuse(field, "urn", Status::InvalidArgument("field 'urn' required"));
  auto attachments = json::GetStringArray(object, "attachments");
  if (!attachments.ok()) return Refuse(field, "attachments", attachments.status());
  auto quick_replies = QuickRepliesFromJson(object, "quick_replies");
  if (!quick_replies.ok()) return Refuse(field, "quick_replies", quick_replies.status());
  r.channel = *channel;
  r.urn = *urn;
  r.text = json::GetString(object, "text").value_or("");
  r.attachments = *attachments;
  r.quick_replies = *quick_replies;
  if (object->has("template") && !object->isNull("template")) {
    auto templating = TemplateFromJson(json::GetObject(object, "template"));
    if (!templating.ok()) return Refuse(field, "template", templating.status());
    r.templating = std::move(*templating);
  }
  r.locale = json::GetString(object, "locale").value_or("");
  r.priority = json::GetString(object, "priority").value_or("high");
  return r;
}

Result<std::string> OutgoingChannelUuid(const OutgoingRequest& request) {
  auto uuid = NormalizeUUID(request.channel);
  if (!uuid) return Status::InvalidArgument("not a channel UUID: '" + request.channel + "'");
  return *uuid;
}

Result<Msg> BuildOutgoingMsg(const Channel& channel, const OutgoingRequest& request, std::string* field) {
  auto urn = URN::Parse(request.urn, channel.country);
  if (!urn.ok()) return Refuse(field, "urn", urn.status());
  bool scheme_ok = channel.schemes.empty();
  for (const auto& s : channel.schemes) scheme_ok = scheme_ok || s == urn->scheme();
  if (!scheme_ok)
    return Refuse(field, "urn",
                  Status::InvalidArgument("channel " + channel.uuid + " (" + channel.type + ") cannot send to " +
                                          urn->scheme() + ": URNs"));
  if (request.text.empty() && request.attachments.empty() && !request.templating)
    return Refuse(field, "text", Status::InvalidArgument("a msg needs text, an attachment or a template"));
  if (request.templating) {
    if (Status checked = ValidateTemplate(*request.templating); !checked.ok()) return Refuse(field, "template", checked);
  }
  if (!IsValidUtf8(request.locale) || request.locale.size() > 35)
    return Refuse(field, "locale", Status::InvalidArgument("locale must be a language tag such as rw or en-US"));
  // The application's own input: refused, not repaired, so it learns of
  // the fault instead of a contact receiving U+FFFD (DESIGN.md 9).
  if (!IsValidUtf8(request.text)) return Refuse(field, "text", Status::InvalidArgument("text is not valid UTF-8"));
  for (const auto& item : request.attachments)
    if (!IsValidUtf8(item))
      return Refuse(field, "attachments", Status::InvalidArgument("an attachment is not valid UTF-8"));
  if (Status replies = ValidateQuickReplies(request.quick_replies); !replies.ok())
    return Refuse(field, "quick_replies", replies);
  for (const auto& a : request.attachments) {
    Status s = ValidateAttachment(a);
    if (!s.ok()) return Refuse(field, "attachments", s);
  }
  auto priority = ParsePriority(request.priority);
  if (!priority)
    return Refuse(field, "priority",
                  Status::InvalidArgument("priority must be high or bulk, not '" + request.priority + "'"));
  Msg msg;
  msg.channel_id = channel.id;
  msg.channel_uuid = channel.uuid;
  msg.channel_type = channel.type;
  msg.direction = Direction::kOut;
  msg.status = MsgStatus::kQueued;
  msg.urn = urn->ToString();
  msg.text = request.text;
  msg.attachments = request.attachments;
  msg.quick_replies = request.quick_replies;
  msg.templating = request.templating;
  msg.locale = request.locale;
  msg.priority = *priority;
  return msg;
}

}  // namespace courier
