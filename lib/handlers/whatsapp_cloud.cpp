#include "handlers/whatsapp_cloud.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <map>

namespace courier::whatsapp_cloud {
namespace {

// Meta's docs list sent, delivered, read and failed for the Cloud API.
const std::map<std::string, MsgStatus>& Statuses() {
  static const std::map<std::string, MsgStatus> table = {
      {"sent", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered},
      {"read", MsgStatus::kRead},
      {"failed", MsgStatus::kFailed},
  };
  return table;
}

// "Name (phone, phone)" for each shared contact.
std::string ContactsText(const json::ObjectPtr& message) {
  std::string out;
  for (const auto& c : json::GetObjects(message, "contacts")) {
    std::string name = json::GetStringOrEmpty(json::GetObject(c, "name"), "formatted_name");
    std::string phones;
    for (const auto& p : json::GetObjects(c, "phones")) {
      std::string phone = json::GetStringOrEmpty(p, "phone");
      if (phone.empty()) phone = json::GetStringOrEmpty(p, "wa_id");
      if (!phone.empty()) phones += (phones.empty() ? "" : ", ") + phone;
    }
    std::string one = name.empty() ? phones : phones.empty() ? name : name + " (" + phones + ")";
    if (!one.empty()) out += (out.empty() ? "" : "\n") + one;
  }
  return out;
}

// Message types whose object holds a media id, a mime_type and a caption.
bool IsMediaType(const std::string& type) {
  static const char* const kTypes[] = {"image", "video", "audio", "voice", "document", "sticker"};
  return std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return type == t; });
}

// Unix seconds as a string ("1454119029", as documented) or a number;
// a fraction is dropped. Nothing for a value no clock could show.
std::optional<Micros> ReceivedOn(const json::ObjectPtr& message) {
  auto ts = json::GetNumberLoose(message, "timestamp");
  if (!ts) return std::nullopt;
  return handlers::MicrosFromSeconds(*ts);
}

}  // namespace

Result<MessageContent> ReadMessageContent(const json::ObjectPtr& m) {
  const std::string type = json::GetStringOrEmpty(m, "type");
  MessageContent content;
  if (type == "text") {
    content.text = json::GetStringOrEmpty(json::GetObject(m, "text"), "body");
  } else if (IsMediaType(type)) {
    json::ObjectPtr media = json::GetObject(m, type);
    content.media = true;
    content.media_id = json::GetId(media, "id");
    content.media_mime = json::GetStringOrEmpty(media, "mime_type");
    content.text = json::GetStringOrEmpty(media, "caption");
  } else if (type == "location") {
    json::ObjectPtr where = json::GetObject(m, "location");
    auto lat = json::GetNumberLoose(where, "latitude"), lng = json::GetNumberLoose(where, "longitude");
    if (!lat || !lng) return Status::InvalidArgument("field 'messages.location.latitude' required");
    auto location = handlers::LocationMsg(*lat, *lng, json::GetStringOrEmpty(where, "name"),
                                          json::GetStringOrEmpty(where, "address"));
    content.text = location.text;
    content.attachments.push_back(location.attachment);
  } else if (type == "button") {  // a template's quick reply button
    content.text = json::GetStringOrEmpty(json::GetObject(m, "button"), "text");
    if (content.text.empty()) content.text = json::GetStringOrEmpty(json::GetObject(m, "button"), "payload");
  } else if (type == "interactive") {  // a reply button or list row of ours
    json::ObjectPtr interactive = json::GetObject(m, "interactive");
    const std::string itype = json::GetStringOrEmpty(interactive, "type");
    if (itype != "button_reply" && itype != "list_reply") {
      content.skipped = "ignoring interactive reply of type '" + itype + "'";
      return content;
    }
    content.text = json::GetStringOrEmpty(json::GetObject(interactive, itype), "title");
  } else if (type == "contacts") {
    content.text = ContactsText(m);
  } else {  // reaction, system, order, unsupported, unknown ...
    content.skipped = "ignoring message of type '" + type + "'";
  }
  return content;
}

Status ReadValue(const Channel& channel, const json::ObjectPtr& value, const MediaResolver& resolve_media,
                 handlers::Collector& c) {
  std::map<std::string, std::string> names;
  for (const auto& contact : json::GetObjects(value, "contacts"))
    names[json::GetStringOrEmpty(contact, "wa_id")] = json::GetStringOrEmpty(json::GetObject(contact, "profile"), "name");

  for (const auto& m : json::GetObjects(value, "messages")) {
    const std::string from = json::GetStringOrEmpty(m, "from"), id = json::GetStringOrEmpty(m, "id"), type = json::GetStringOrEmpty(m, "type");
    if (from.empty()) return Status::InvalidArgument("field 'messages.from' required");
    if (id.empty()) return Status::InvalidArgument("field 'messages.id' required");
    auto urn = URN::FromParts("whatsapp", from);
    if (!urn.ok()) return urn.status();

    auto content = ReadMessageContent(m);
    if (!content.ok()) return content.status();
    if (!content->skipped.empty()) {
      c.skipped.push_back(content->skipped);
      continue;
    }
    if (content->media && content->media_id.empty())
      return Status::InvalidArgument("field 'messages." + type + ".id' required");
    const std::string& text = content->text;
    std::vector<std::string> attachments = std::move(content->attachments);
    if (!content->media_id.empty()) {
      auto media = resolve_media(content->media_id, content->media_mime, c.result.extra_logs);
      if (!media.ok()) return Status::Unavailable("error retrieving media: " + media.status().message());
      attachments.push_back(*media);
    }
    Msg msg = handlers::IncomingMsg(channel, *urn, text);
    msg.external_id = id;
    msg.attachments = std::move(attachments);
    if (auto it = names.find(from); it != names.end()) msg.contact_name = it->second;
    msg.received_on = ReceivedOn(m);
    c.result.msgs.push_back(std::move(msg));
  }

  for (const auto& s : json::GetObjects(value, "statuses")) {
    const std::string id = json::GetStringOrEmpty(s, "id"), status = json::GetStringOrEmpty(s, "status");
    if (id.empty()) return Status::InvalidArgument("field 'statuses.id' required");
    if (status.empty()) return Status::InvalidArgument("field 'statuses.status' required");
    // "deleted" (the user deleted the message) changes nothing we track;
    // a value Meta adds later must not make it send the webhook, with the
    // other events in it, again and again.
    auto mapped = handlers::MapStatus(Statuses(), status);
    if (!mapped) {
      c.skipped.push_back(status == "deleted" ? "ignoring status 'deleted'" : "ignoring unknown status '" + status + "'");
      continue;
    }
    c.result.statuses.push_back(handlers::StatusForExternalId(channel, id, *mapped));
  }
  return Status::OK();
}

Result<Media> LookUpMedia(HandlerContext& ctx, const Channel& channel, const std::string& base_url,
                          const std::pair<std::string, std::string>& auth, const std::string& media_id,
                          const std::string& mime_hint, std::vector<ChannelLog>& logs) {
  HttpRequestSpec req;
  req.method = "GET";
  req.url = base_url + "/" + UrlEscape(media_id);
  req.headers.push_back(auth);
  Msg none;  // the log belongs to the channel, not to a msg
  auto call = handlers::MakeCall(ctx, channel, none, req, "Media Lookup");
  std::string error = call.log.error;
  logs.push_back(call.log);
  if (!call.ok()) return Status::Unavailable(error);
  auto body = json::ParseObject(call.exchange.body);
  Media media;
  media.url = body.ok() ? json::GetStringOrEmpty(*body, "url") : "";
  if (media.url.empty()) return Status::InvalidArgument("no 'url' in media lookup response");
  media.mime_type = body.ok() ? BareMimeType(json::GetStringOrEmpty(*body, "mime_type")) : "";
  if (media.mime_type.empty()) media.mime_type = BareMimeType(mime_hint);
  if (media.mime_type.empty()) media.mime_type = kDefaultMimeType;
  return media;
}

}  // namespace courier::whatsapp_cloud
