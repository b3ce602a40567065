#pragma once
// BW — Bandwidth: US SMS and MMS through its Messaging API v2 (reference
// handlers-2.md section 3). Scheme tel.
//
// Receive: Bandwidth posts every callback as a JSON array of events, of
// which only the first is read (an empty array is answered 200 and
// ignored). POST receive takes a message-received event: `type` and
// `message.id` are required, `message.time` must be
// 2006-01-02T15:04:05Z (a fraction of a second is taken, as the
// reference's Go parser takes one), the contact is `message.from`, the
// text `message.text`, each `message.media` URL an attachment. POST status
// takes message-sending (S), message-delivered (D) and message-failed (F,
// with Bandwidth's errorCode and description as the reason) for the msg
// whose external id is `message.id`; another type is 400. Bandwidth signs
// nothing; its applications can send basic auth with their callbacks, so
// a channel with a webhook_token demands it (as the basic auth password,
// handlers::CheckWebhookToken) and without one every webhook is taken, as
// in the reference.
//
// Send: POST JSON to <base>/api/v2/users/<account_id>/messages with basic
// auth username:password: applicationId, to, from (the channel address),
// text, and on the first request the attachment URLs as media. Texts are
// split at 2048 characters (max_length); a msg with attachments only is
// one request with an empty text. 429 re-queues for Retry-After, no
// answer and 5xx are E, any other non-2xx F with Bandwidth's type and
// description, a 2xx whose body is not JSON F (Bandwidth may have taken
// it: a retry could send it twice); a 2xx without an id is still W. The
// first request's id is the msg's external id.
//
// Media: Bandwidth's media URLs need the same basic auth, sent only to
// bandwidth.com hosts or the channel's base_url.
//
// Config: username, password, account_id and messaging_application_id
// (or the older application_id), all needed to send (a send without one
// is E with no request, as for every type, where the reference fails the
// msg); webhook_token, max_length, base_url (replaces
// https://messaging.bandwidth.com).
#include "handlers/handler.h"

namespace courier {

class BandwidthHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
