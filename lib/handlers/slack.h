#pragma once
// SL — Slack: a bot in a Slack workspace (no reference section; built from
// Slack's current docs). Slack posts Events API callbacks as JSON to the
// receive route, signed with the app's signing secret (X-Slack-Signature
// "v0=" + hex HMAC-SHA256 over "v0:<timestamp>:<body>"); the one-off
// url_verification request is answered with its challenge. Sending uses
// chat.postMessage with the bot token; attachments go as links in the text.
// Slack has no delivery reports.
//
// Config: bot_token (xoxb-…), signing_secret.
#include "handlers/handler.h"

namespace courier {

class SlackHandler : public ChannelHandler {
 public:
  std::string Code() const override { return "SL"; }
  std::string Name() const override { return "Slack"; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
