#pragma once
// TG — Telegram: a bot on the Telegram Bot API (reference handlers.md A.1
// "TG"). Telegram posts Updates as JSON to the receive route; media are
// looked up with getFile while receiving. Sending goes to
// <base>/bot<auth_token>/<method>, form-encoded. Telegram has no delivery
// reports.
#include "handlers/handler.h"

namespace courier {

class TelegramHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
