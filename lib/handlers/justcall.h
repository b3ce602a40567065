#pragma once
// JCL — JustCall, a cloud phone system's SMS and MMS (reference
// handlers-2.md 17). Scheme tel.
//
// Receiving: JustCall posts its SMS webhooks as JSON {"data": {...}}, the
// keys matched in any case (as the reference's decoder does). Our receive
// route takes data.type "sms" with direction "I" as a reply: the contact
// is `contact_number` (a number in the channel's country; 400 when it is
// none), the text `content` (may be empty), the external id `messageid`
// (an integer, kept as its digits), the time `datetime` (YYYY-MM-DD
// hh:mm:ss, UTC; absent or empty: the arrival time; anything else 400),
// and the first `mms[].media_url` its attachment, as the reference takes
// (the others are dropped). Our status route takes type "sms" with
// direction "O" as a report for the msg whose external id is `messageid`
// (400 when absent): delivery_status delivered -> D, sent -> S,
// undelivered -> E, failed -> F, any other word 400. On either route any
// other type or direction is taken and ignored (200 "Ignoring request, no
// message"); a body that is not JSON is 400. JustCall signs nothing: a
// webhook_token in the webhook URL is all there is.
//
// Sending: one POST JSON to /v1/texts/new, "Authorization: <api_key>:
// <secret>" (JustCall's own scheme, no prefix): {"from": the channel
// address, "to": the number, "body": the text, "media_url": the
// attachments' URLs joined with ','}. JustCall takes up to 5 media per
// text: with more, media_url is left out and every URL goes as a line of
// the body instead; without any it is left out too. The text is not split
// (JustCall splits it). Answers are judged by HTTP status (FailedAnswer:
// 429 throttled, 5xx and no answer E, other 4xx F, with JustCall's
// message); a 2xx must say "status": "success", else F, since JustCall
// refused it or may have taken it without saying so. The answer's `id` is
// the external id; a success without one stays W without an external id,
// noted in the channel log, as the reference.
//
// Departures from the reference, for sanity:
//  - A bad datetime is 400 "invalid datetime '...', must be YYYY-MM-DD
//    hh:mm:ss (UTC)"; the reference's text asks for RFC 3339, which it
//    does not take.
//  - An unknown delivery_status is refused naming the words we take
//    ("sent", where the reference's text says "send").
//  - A report without messageid is 400 "field 'messageid' required"; the
//    reference reports on external id "0". A reply without one has no
//    external id (the reference's "0").
//
// Config: api_key and secret (JustCall's API key and secret), both needed
// to send; base_url replaces https://api.justcall.io; webhook_token.
#include "handlers/handler.h"

namespace courier {

class JustCallHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
