#pragma once
// AT — Africa's Talking: a pan-African SMS aggregator (KE, UG, TZ, NG, RW,
// MW ...). It posts incoming msgs, delivery reports and bulk-SMS opt-outs
// to the callback URLs set in its dashboard; we send through its
// version1/messaging API (reference handlers.md A.1 "AT").
#include "handlers/handler.h"

namespace courier {

class AfricasTalkingHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
