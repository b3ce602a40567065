#pragma once
// YO — Yo! Uganda: a Ugandan SMS aggregator. It calls our receive URL with
// a GET query string; we send with a GET on its sendsms gateway, trying its
// three hosts in turn (reference handlers.md A.2 "YO").
#include "handlers/handler.h"

namespace courier {

class YoHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
