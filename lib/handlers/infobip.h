#pragma once
// IB — Infobip: a global CPaaS (strong in Africa, Latin America and Asia).
// It posts incoming SMS (JSON `results[]`) and delivery reports to the
// URLs we give it; we send through its SMS "text/advanced" API with basic
// auth (reference handlers.md A.2 "IB").
#include "handlers/handler.h"

namespace courier {

class InfobipHandler : public ChannelHandler {
 public:
  std::string Code() const override { return "IB"; }
  std::string Name() const override { return "Infobip"; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
