#pragma once
// MBD — MessageBird (now Bird): SMS and MMS through its REST API
// (reference handlers-2.md section 2). Scheme tel.
//
// Receive: MessageBird posts an incoming msg form-encoded to POST receive,
// in one of two layouts: the standard one (text `body`, id `id`, date
// `createdDatetime` as 2006-01-02T15:04:05+00:00) or, when `shortcode` is
// set, the short code one (text `message`, id `mid`, date
// `receive_datetime` as 20060102150405, UTC); `originator` is the
// contact, each `mediaUrls` an attachment. It is answered text/plain
// "OK". Every such webhook must carry a valid Messagebird-Signature-JWT:
// an HMAC JWT (HS256 or HS512) signed with the channel's `secret`, its exp
// and nbf honoured when present, its url_hash the SHA-256 (hex) of the
// URL called without the query (https://<callback_domain><path> when
// the channel sets callback_domain), its payload_hash, when present, the
// SHA-256 of the raw body. A missing or failing signature is 401 (the
// reference answers 400; DESIGN.md), a channel without a secret 400 since
// it is our configuration that is wrong. Only the form body is read, never
// the query, which the signature does not cover.
//
// Status: MessageBird reports by GET status with the report in the query
// (id, reference, recipient, status, statusErrorCode ...), unsigned as
// the reference takes it; a channel with a webhook_token demands it there
// (handlers::CheckWebhookToken). scheduled, sent and buffered are S,
// delivered D, delivery_failed and expired F; any other status is 400 and
// names the statuses that exist (the reference's text names another
// provider's). A report whose date or error code cannot be read is
// answered 200 and ignored. statusErrorCode 103 (the recipient sent STOP)
// also stops the contact `recipient`. The msg is found by `reference`
// when it is a UUID (we send our msg UUID as the reference), else by
// MessageBird's `id`, which the send answer gave us.
//
// Send: one POST of JSON to <base>/messages, or to <base>/mms when the msg
// has attachments, with "Authorization: AccessKey <auth_token>": the
// recipient, our msg UUID as reference, the channel address as
// originator, the text as body and the attachment URLs as mediaUrls; no
// splitting. 429 re-queues for Retry-After, no answer and 5xx are E, any
// other non-2xx F with MessageBird's error description; a 2xx without an
// id is still W (the id is only logged missing).
//
// Config: auth_token (the access key; needed to send), secret (the
// signing key; needed to receive), callback_domain, webhook_token,
// base_url (replaces https://rest.messagebird.com).
#include "handlers/handler.h"

namespace courier {

class MessageBirdHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
