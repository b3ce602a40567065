#pragma once
// CT — Clickatell (reference handlers.md A.2 "CT"). Clickatell calls our
// receive URL for replies (MO) and our status URL for status updates, as
// its integration settings say: the One API's nested callbacks
// ({"event": {"moText": [...]}} / {"event": {"messageStatusUpdate": [...]}})
// or the SMS Platform API's flat ones (messageId, fromNumber, text ... /
// messageId, statusCode), by JSON POST, form POST or GET. We send through
// the One API, POST /v1/message with the integration's API key; a channel
// whose key belongs to an SMS Platform (HTTP) integration sets api=platform
// to send with GET /messages/http/send as the reference did.
#include "handlers/handler.h"

namespace courier {

class ClickatellHandler : public ChannelHandler {
 public:
  std::string Code() const override { return "CT"; }
  std::string Name() const override { return "Clickatell"; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
