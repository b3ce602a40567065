#pragma once
// KN — Kannel: an open-source SMS gateway (SMPP and others) run by the
// operator. Kannel calls our receive URL for incoming msgs (its get-url)
// and our status URL for delivery reports (the dlr-url we hand it); we
// send through its sendsms CGI (reference handlers.md A.1 "KN").
//
// Beyond the reference: an incoming text is decoded by the get-url's
// coding and charset (Kannel passes UCS-2 on as UTF-16BE); an outgoing one
// never needs more SMS per request than the channel's max_messages (the
// sendsms-user's max-messages, default 1), since Kannel cuts a longer one
// silently; a 4xx answer fails the msg; an unknown DLR type is ignored.
// contrib/kannel/ has the Kannel configuration this expects.
#include "handlers/handler.h"

namespace courier {

class KannelHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
