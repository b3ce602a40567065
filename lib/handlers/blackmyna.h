#pragma once
// BM — Blackmyna: a Nepalese SMS aggregator (removed from the reference in
// 2023). It calls our receive and status URLs with GET query strings and
// takes our msgs at its smsmessaging API with basic auth (reference
// handlers.md A.1 "BM").
#include "handlers/handler.h"

namespace courier {

class BlackmynaHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
