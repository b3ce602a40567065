#pragma once
// The WhatsApp Cloud API webhook, read once for WAC (Meta's own endpoint,
// meta.cpp) and D3C (360Dialog, dialog360.cpp). 360Dialog proxies the
// Cloud API: it forwards Meta's webhooks unchanged and answers media
// lookups in Meta's shape, so both handlers decode one format and a fix to
// that decoding belongs to both. What a handler does its own way is passed
// in as a Dialect: where the API is and how it is authorised, which
// message types carry media, what form of media id and timestamp it
// takes, and how a media URL is fetched.
//
// The error and skip texts here are the ones both handlers answer with.
// Stateless functions; safe from any thread.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "handlers/common.h"
#include "handlers/handler.h"

namespace courier::whatsapp_cloud {

// What a handler reads its own way.
struct Dialect {
  // The message types whose object holds a media id, a mime_type and a
  // caption (image, video, ...).
  std::vector<std::string> media_types;
  // The id of such an object; "" when it has none.
  std::function<std::string(const json::ObjectPtr& media)> media_id;
  // When a message was received, from its timestamp; nullopt leaves it
  // unset.
  std::function<std::optional<Micros>(const json::ObjectPtr& message)> received_on;
  // A media id as an attachment ("mime:url"), the lookup's log appended
  // to `logs`; the error's text follows "error retrieving media: ".
  std::function<Result<std::string>(const std::string& media_id, const std::string& mime_hint,
                                     std::vector<ChannelLog>& logs)>
      resolve_media;
};

// Reads one change's value (of field "messages") into `c`: a msg for each
// of value.messages[] from a whatsapp: URN, with the contact's profile
// name from value.contacts[]; a skip reason for each message it ignores;
// a status by external id for each of value.statuses[] (sent, delivered,
// read, failed). Message types: the dialect's media types (the caption
// as text, the resolved media as attachment); text (text.body); location
// (name and address, else "lat,lng", as text, and a geo attachment);
// button (a template's quick reply: its text, else its payload);
// interactive (a reply button or list row of ours: its title; other
// replies are skipped); contacts ("Name (phone, phone)", a line each).
// Others are skipped. An error (a message without from, id, media id or
// coordinates; a status without id or status, or with another status; a
// failed media lookup) is returned as the text to answer; what `c` holds
// then is to be dropped but for its logs.
Status ReadValue(const Channel& channel, const json::ObjectPtr& value, const Dialect& dialect,
                 handlers::Collector& c);

// A media id looked up: the URL the media is fetched from and its type.
struct Media {
  std::string mime_type;
  std::string url;
};
// GET <base_url>/<media id> with the `auth` header answers {"url",
// "mime_type", ...}. The type is the answer's, else `mime_hint` (the
// webhook's), both without parameters ("audio/ogg; codecs=opus" ->
// "audio/ogg"), else application/octet-stream. The request's log
// ("Media Lookup", the channel's, no msg's) is appended to `logs` either
// way. Errors: Unavailable with the log's error when the request failed;
// InvalidArgument when the answer names no URL.
Result<Media> LookUpMedia(HandlerContext& ctx, const Channel& channel, const std::string& base_url,
                          const std::pair<std::string, std::string>& auth, const std::string& media_id,
                          const std::string& mime_hint, std::vector<ChannelLog>& logs);

}  // namespace courier::whatsapp_cloud
