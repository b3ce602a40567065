#pragma once
// SC — SMS Central, a Nepalese SMS aggregator (reference handlers.md A.2
// "SC"). SMS Central posts incoming SMS (mobile, message) to our receive
// URL; we send with a form POST to its ApiSms.php. It has no delivery
// reports and no public documentation beyond this, so the reference's
// wire format is followed as is.
#include "handlers/handler.h"

namespace courier {

class SmsCentralHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
