#pragma once
// EX — External: a generic HTTP gateway that posts incoming msgs to us and
// takes ours at a URL template (reference handlers.md A.1 "EX").
#include "handlers/handler.h"

namespace courier {

class ExternalHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
