#pragma once
// NX — Vonage (formerly Nexmo) SMS API (reference handlers.md A.2 "NX").
// Vonage calls our receive URL for inbound SMS and our status URL for
// delivery receipts, by GET, POST (form) or POST-JSON as the account's
// dashboard says; we send through POST https://rest.nexmo.com/sms/json.
// When the channel has a signature_secret, webhooks must carry Vonage's
// `sig` (signed webhooks) or they are refused.
//
// Outcomes: a send answer's messages[].status decides (see kPermanentStatuses
// in nexmo.cpp): codes Vonage documents as unchangeable fail the msg at
// once, 1 and 10 re-queue it, 5 and unknown codes are E; a 200 without a
// message-id is F. A delivery receipt with a status outside Vonage's table
// is answered 200 and ignored with an info entry. Texts are split at the
// channel's max_length (default 1600).
#include "handlers/handler.h"

namespace courier {

class NexmoHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
