#pragma once
// PL — Plivo (reference handlers.md A.2 "PL"). Plivo posts inbound SMS/MMS
// to the application's message_url (our receive route) and delivery
// reports to the `url` we give with each send (our status route), both
// signed with X-Plivo-Signature-V2; we send through Plivo's Message API,
// POST /v1/Account/<auth id>/Message/ with basic auth.
#include "handlers/handler.h"

namespace courier {

class PlivoHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
