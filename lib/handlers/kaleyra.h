#pragma once
// KWA — Kaleyra WhatsApp: Kaleyra's (India) WhatsApp API, v1 (reference
// handlers-2.md 11). Scheme whatsapp.
//
// Receive: Kaleyra calls GET receive with the message in the query string
// (names match in any case; the last value of a name wins): `from`
// (required: 400 "field 'from' required") is the contact, as
// whatsapp:<from> (400 "invalid whatsapp id" when it is not one); a `type`
// other than text, image, video, voice or document is answered 200
// Ignored "ignoring request, unknown message type" before anything else
// is checked; `body` is the text and `media_url` an attachment, and a
// message with neither is 400 "no text or media"; `created_at` is when it
// was received, in unix seconds (anything else is 400 "invalid
// created_at: <value>"); `name` is the contact's name. No external id.
//
// Status: Kaleyra calls GET status (the callback_url of each send) with
// `id` (its message id, our external id) and `status` (both required):
// "0" F, sent W, delivered D, read R; any other is 200 Ignored "unknown
// status: <x>".
//
// Send: POST <base>/v1/<account_sid>/messages, the API key as the form
// field api-key (no Authorization header), with channel=WhatsApp, from
// (the channel address), to (the contact's id), and callback_url
// https://<callback domain>/c/kwa/<channel uuid>/status (with the
// channel's webhook_token, when set, so its statuses pass).
//  - A msg without attachments is one form-urlencoded request with
//    type=text and the whole text as `body` (WhatsApp takes long texts: no
//    splitting), and preview_url=true when the text holds an http(s) link.
//  - A msg with attachments is one request per attachment, in order: the
//    attachment is downloaded (log "Media Download", its bytes left out of
//    the log), then posted as multipart/form-data with type=media, the
//    file as part `media` (named after the URL's last path segment, typed
//    by the attachment's type, else what its bytes say) and, on the first
//    attachment only, the msg's text as `caption`. A download that fails
//    (no answer or not a 2xx) stops the send: E "unable to fetch media".
//    An attachment that is not an http(s) URL fails the msg (F) before any
//    request, since no retry could fetch it.
//
// Judging: every request's answer by HTTP status (FailedAnswer: no answer,
// 408, 425 and 5xx E, 429 E throttled for Retry-After, other 4xx F, with
// Kaleyra's message when it gives one); the first refused request stops
// the send. A 2xx without an `id` leaves the msg W, the log saying so.
// The external id is the `id` of the last request that gave one.
//
// Departures from the reference:
//  - [quirk] The reference judges only the last request of a msg with
//    attachments and ignores the answers before it; here each answer is
//    judged, so a refused attachment fails or retries the msg as the
//    table above says, and the external id is the last successful one's.
//  - A msg with neither text nor attachments fails (F) without a request.
//  - A link is any "http://" or "https://" in the text, as WAC decides it.
//
// Kaleyra signs nothing: with webhook_token set, every webhook must carry
// it (handlers::CheckWebhookToken).
//
// Config: account_sid and api_key (needed to send; the key is a secret),
// base_url (replaces https://api.kaleyra.io), callback_domain (the host in
// callback_url when not that of courier's base URL), webhook_token.
#include "handlers/handler.h"

namespace courier {

class KaleyraHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
