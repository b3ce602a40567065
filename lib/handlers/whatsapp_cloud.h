#pragma once
// The WhatsApp Cloud API webhook, read once for WAC (Meta's own endpoint,
// meta.cpp) and D3C (360Dialog, dialog360.cpp). 360Dialog proxies the
// Cloud API: it forwards Meta's webhooks unchanged and answers media
// lookups in Meta's shape, so both handlers decode one format, the same
// way, and a fix to that decoding belongs to both. What differs is only
// where a media id is looked up and how that request is authorised, passed
// in as a MediaResolver.
//
// Where Meta's docs leave room, both read the webhook alike (tested for
// both): a "voice" message is media like "audio" (the Cloud API sends voice
// notes as audio with voice:true; the On-Premises API, which 360Dialog's
// older hosted API relayed, as type "voice"); a media id may be a JSON
// string or integer; a timestamp may be a string or a number and its
// fraction is dropped; MIME types are lower-cased and lose their
// parameters.
//
// TRN (Turn, turn.cpp) keeps the On-Premises API's webhook, whose messages
// are the same objects in another envelope: it reads each message's
// content with ReadMessageContent and the envelope its own way.
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

// A media id as an attachment ("mime:url"), the lookup's log appended to
// `logs`; the error's text follows "error retrieving media: ".
using MediaResolver = std::function<Result<std::string>(const std::string& media_id, const std::string& mime_hint,
                                                        std::vector<ChannelLog>& logs)>;

// Reads one change's value (of field "messages") into `c`: a msg for each
// of value.messages[] from a whatsapp: URN, with the contact's profile
// name from value.contacts[]; a skip reason for each message it ignores;
// a status by external id for each of value.statuses[] (sent, delivered,
// read, failed; "deleted" and values Meta may add later are skipped with
// a reason, the other events still read). Message types: image, video,
// audio, voice, document and sticker (the caption as text, the resolved
// media as attachment); text (text.body); location (name and address,
// else "lat,lng", as text, and a geo attachment); button (a template's
// quick reply: its text, else its payload); interactive (a reply button or
// list row of ours: its title; other replies are skipped); contacts
// ("Name (phone, phone)", a line each). Others are skipped. An error (a
// message without from, id, media id or coordinates; a status without id
// or status) is returned as InvalidArgument; a failed media lookup as
// Unavailable (a passing fault: the webhook is worth sending again). What
// `c` holds after an error is to be dropped but for its logs.
Status ReadValue(const Channel& channel, const json::ObjectPtr& value, const MediaResolver& resolve_media,
                 handlers::Collector& c);

// What one message of value.messages[] says, by its type as ReadValue
// reads it, before its media id is looked up; for providers that read
// the messages' envelope (sender, id, time) their own way.
struct MessageContent {
  std::string text;
  std::vector<std::string> attachments;
  bool media = false;      // a media type: media_id names the file ("" when the message names none)
  std::string media_id;
  std::string media_mime;  // as the webhook gives it
  std::string skipped;     // set: the message is ignored, for this reason
};
// InvalidArgument for a location without coordinates.
Result<MessageContent> ReadMessageContent(const json::ObjectPtr& message);

// A media id looked up: the URL the media is fetched from and its type.
struct Media {
  std::string mime_type;
  std::string url;
};
// GET <base_url>/<media id> with the `auth` header answers {"url",
// "mime_type", ...}. The type is the answer's, else `mime_hint` (the
// webhook's), both lower-cased and without parameters ("Audio/OGG;
// codecs=opus" -> "audio/ogg"), else application/octet-stream. The request's log
// ("Media Lookup", the channel's, no msg's) is appended to `logs` either
// way. Errors: Unavailable with the log's error when the request failed;
// InvalidArgument when the answer names no URL.
Result<Media> LookUpMedia(HandlerContext& ctx, const Channel& channel, const std::string& base_url,
                          const std::pair<std::string, std::string>& auth, const std::string& media_id,
                          const std::string& mime_hint, std::vector<ChannelLog>& logs);

}  // namespace courier::whatsapp_cloud
