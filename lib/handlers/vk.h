#pragma once
// VK — VKontakte community messages (handlers-2.md 8): a community's
// Callback API brings incoming messages, and the community's token sends
// through the API's messages.send method (version 5.103). Scheme vk; the
// URN path is the user's id.
//
// Receive: VK posts every event, JSON {"type", "group_id", "secret",
// "object"}, to POST receive. `type` and `secret` are required (400);
// `secret` must be config `secret`, compared in constant time (else 401
// "wrong secret key"; the reference answers 400, DESIGN.md says 401; a
// channel without a secret is 400, its configuration being at fault).
// - confirmation: answered with config callback_verification_string as
//   text/plain (400 when the channel has none), which is how VK confirms
//   the server;
// - message_new: object.message's id (the external id), date (unix
//   seconds) and from_id (the contact, vk:<from_id>) are required (400);
//   the text is `text`; its attachments are read in order: a photo as the
//   URL of its size of type "x", else of the last size listed; graffiti
//   its url; a sticker the URL of its first image 128 wide, else of its
//   last image; an audio message its link_mp3; a document its url (typed
//   by its ext); other kinds (video, wall posts, links) are left out. A
//   non-zero geo.coordinates adds geo:<latitude>,<longitude>. Answered
//   with the plain text "ok";
// - any other event is ignored, also answered "ok".
// VK sends an event again until it is answered "ok", so an event we
// cannot use (another type, a message with nothing we can carry) is
// answered "ok" with the reason in the channel log, not with the JSON
// Ignored answer or a 400, which VK would keep re-sending.
//
// Send: one POST to /method/messages.send.json with an empty body, every
// parameter in the query: access_token, v=5.103, user_id (the URN path),
// random_id, message, attachment (the uploaded photos, comma-joined;
// present and empty when none) and, with quick replies, keyboard: a
// one-time keyboard with a button (label cut at 40 characters) per text
// reply, one per row up to 10 and packed up to 4 a row beyond, at most 40
// (VK's limits). An attachment of a type without '/' is dropped; one that
// is not an image goes as its URL after the text ("\n\n" between them);
// an image is uploaded: POST /method/photos.getMessagesUploadServer.json
// gives response.upload_url; the image is downloaded (GET) and POSTed
// there as multipart field `photo` (file name photo.<MIME subtype>); POST
// /method/photos.saveMessagesPhoto.json with the answer's server, photo
// and hash gives response[0] as photo<owner_id>_<id>. Texts are not
// split (VK takes 4096 characters and refuses longer ones).
//
// Judging: no answer and 5xx are E, 429 re-queues after Retry-After, any
// other non-2xx is F. A 2xx must hold an integer `response`, the external
// id; VK's errors come as {"error": {"error_code", "error_msg"}} with HTTP
// 200: codes 6 (too many requests per second; re-queued after 1 s) and 9
// (flood control; after 60 s) are throttling, 1 (unknown error) and 10
// (internal server error) E, any other code F; a 2xx without either is F.
//
// Departures from the reference, on purpose:
// - random_id is the msg id (modulo 2^31), not the msg UUID: VK takes an
//   integer, and the same one on a retry keeps VK from delivering the
//   msg twice;
// - every attachment of an incoming message is read, not only the first,
//   and a location is kept alongside them;
// - a message without text or attachments, and an event of another type,
//   are answered "ok" (see above) rather than 400 or the JSON Ignored;
// - an image whose upload fails goes as its URL in the text, as other
//   files do, rather than being dropped (the failure is in the logs);
// - a non-image attachment's URL alone makes the message when there is
//   no text (no leading blank lines);
// - VK's error codes are judged as above rather than all F;
// - the upload server is asked for each image rather than cached
//   process-wide (an upload URL belongs to one community);
// - no contact names are looked up (the reference called users.get for
//   new contacts): courier has no step for new contacts, and a lookup per
//   msg would cost an API call each. The typing indicator is not sent.
//
// Config: auth_token (the community token; needed to send), secret (the
// Callback API secret key; needed to receive), callback_verification_string
// (the confirmation string VK shows; needed to confirm the server),
// base_url (replaces https://api.vk.com; the /method/... paths are
// appended).
#include "handlers/handler.h"

namespace courier {

class VkHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
