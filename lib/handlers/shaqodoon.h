#pragma once
// SQ — Shaqodoon: a Somali SMS gateway in the External style: it posts
// incoming msgs to our receive URL, reports statuses by path (sent,
// delivered, failed) with our msg id, and takes our msgs with a GET on a
// configured send_url (reference handlers.md A.2 "SQ").
#include "handlers/handler.h"

namespace courier {

class ShaqodoonHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
