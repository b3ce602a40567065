#pragma once
// JS — Jasmin: the open-source SMPP gateway (jookies/jasmin). Its HTTP API
// posts incoming SMS and delivery receipts to us as forms and wants the
// body "ACK/Jasmin" back; we send through its /send HTTP API with the
// account's credentials in the query (reference handlers.md A.2 "JS").
//
// Receipts: message_status (ESME_* at level 1, the SMPP receipt stat at
// levels 2 and 3) is mapped by its meaning (table in jasmin.cpp); a value
// outside the table is ignored with 200 and still acknowledged, since
// Jasmin re-sends a receipt until it is. Sending: `to` as digits (no '+'),
// split at the channel's max_length (else 1600); Jasmin's 400, 403 and
// 412 answers fail the msg, except a 403 for the user's throughput quota
// (throttled) or an uncharged balance (E); a 200 without `Success "<id>"`
// fails it too, since Jasmin may have queued it.
#include <string>

#include "handlers/handler.h"

namespace courier {

class JasminHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
