#pragma once
// TRN — Turn.io, a WhatsApp business solution provider whose API keeps
// the shape of the WhatsApp On-Premises Business API (handlers-2.md 1),
// not the Cloud API of WAC and D3C. Scheme whatsapp.
//
// Receive: POST receive takes Turn's webhook, {"contacts": [...],
// "messages": [...], "statuses": [...]} at the top level, and yields a msg
// or a status for each event; events it cannot use are skipped with a
// reason and the others still taken. Turn signs nothing we check: the
// channel UUID in the URL is the secret, and a channel with webhook_token
// set also asks for that (handlers::CheckWebhookToken).
// - Messages: the sender is `from`, else `from_bsuid`, as a whatsapp URN
//   (invalid: 400 "invalid whatsapp id"); the contact's name is the
//   profile name of the contacts[] entry whose wa_id (or user_id) is the
//   sender; the external id is `id` (required); `timestamp` is unix
//   seconds, required, and one that does not read fails the whole
//   webhook (400 "invalid timestamp: <value>"). A message id seen earlier
//   in the same webhook and a group message (group_id) are skipped.
// - Content is read as WAC reads a Cloud API message
//   (whatsapp_cloud::ReadMessageContent), plus the nfm_reply of a WhatsApp
//   Flow (its body as the text). A media id becomes the attachment
//   "<mime>:<base_url origin>/v1/media/<id>" without a request; courier-
//   fetch downloads it with "Authorization: Bearer <auth_token>", sent
//   only to base_url's host (MediaRequest). A media message without an id
//   keeps its caption and has no attachment.
// - Statuses by external id: sending W, sent S, delivered D, read R,
//   failed F (errors[0] as the reason); deleted and unknown ones are
//   skipped with a reason.
//
// Send: POST <base_url origin>/v1/messages with "Authorization: Bearer
// <auth_token>", one request per part, in the bodies WAC builds
// (MetaHandler::MsgPayloads) in the On-Premises shape: no
// messaging_product or recipient_type, preview_url beside text and only
// when the part holds a link, media by id, a template with its namespace
// (the template's, else config fb_namespace). A recipient that is not a
// phone number (a business-scoped user id) goes in `recipient`, not `to`.
// Media are referred to by id: each attachment URL is downloaded and its
// bytes POSTed to <base_url origin>/v1/media with the type read from them;
// the id in media[0].id is kept per channel and URL for 24 hours, a failed
// download or upload for 15 minutes, during which sends of that URL are E
// at once without a request.
//
// Judging each answer: no answer, 5xx and 429 are E (429 throttled for
// Retry-After). Otherwise an error, as {"error": {"code", "message"}} or
// Turn's {"errors": [{"code", "title", "details"}]} and with any HTTP
// status, decides by its code: 429, 4, 80007, 130429, 131048, 131056 and
// 133016 are throttling (E, re-queued after Retry-After or the wait
// meta::ThrottleSeconds gives the code), 131053 (media upload error) is
// E, any other code F. A body that is not JSON is F; so is a 4xx with no
// error in it. Otherwise the msg is W with messages[0].id as its external
// id (the first part's); without one it is still W, the log saying so.
//
// Departures from the reference, on purpose: texts split at the channel's
// max_length (default 4096) in characters, not bytes, and a text that
// cannot be the caption of a lone attachment goes as its own message at
// the full length rather than in 1024-character parts, as WAC sends them;
// a location's text is its name and address (else "lat,lng") and its
// coordinates keep the digits Turn sent; stickers and shared contacts are
// taken (WAC's reading) rather than skipped; a 4xx answer with no error
// in it is F, not W; a message without id is 400; a status of a type we
// do not know does not make the answer two JSON documents (it is skipped
// with the others answered as usual); the answer's message is the usual
// "Message Accepted"/"Status Update Accepted" rather than "Events
// Handled". Left out: a flow reply's response_json (msgs carry no
// payload), and a from_bsuid that differs from `from` (a second URN for
// the contact).
//
// Config: auth_token (secret, to send and to fetch media), base_url (the
// Turn API root, https://whatsapp.turn.io; only its scheme, host and port
// are used), fb_namespace (templates), max_length, webhook_token.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "handlers/handler.h"

namespace courier {

class TurnHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;

 private:
  // What an upload of one URL came to, kept until `expires_on`: the id
  // Turn gave, or why there is none.
  struct MediaUpload {
    std::string id;
    std::string error;
    Micros expires_on = 0;
  };

  // The uploads of every channel of the type, by channel and URL.
  // Thread-safe; expired entries are dropped as new ones come in.
  class MediaUploads {
   public:
    std::optional<MediaUpload> Get(const std::string& key, Micros now);
    void Put(const std::string& key, MediaUpload upload, Micros now);

   private:
    std::mutex mu_;
    std::map<std::string, MediaUpload> entries_;
  };

  // The id Turn knows the media at `url` by: the cached one, else the
  // answer to an upload of its bytes (the requests' logs appended to
  // `logs`); an error when there is none.
  Result<std::string> MediaId(const Channel& channel, const Msg& msg, const std::string& api_root,
                              const std::string& mime, const std::string& url, HandlerContext& ctx,
                              std::vector<ChannelLog>& logs) const;

  mutable MediaUploads uploads_;
};

}  // namespace courier
