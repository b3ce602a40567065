#pragma once
// RC — Rocket.Chat, through the RapidPro app installed on the Rocket.Chat
// server (reference handlers-2.md 16). Scheme rocketchat.
//
// Receive: the app posts each visitor's message as JSON to POST receive:
// {"user": {"urn", "username", "full_name"}, "text", "attachments":
// [{"type", "url"}]}. The body is read first (400 when it is not JSON or
// lacks user.urn); then the Authorization header must be exactly "Token
// <secret>", compared in constant time, else 401 "invalid Authorization
// header" (a channel without a secret is 400: our configuration is
// wrong). A message with neither text nor attachments is 400. The msg
// comes from rocketchat:<user.urn>, named user.full_name; our URNs have no
// display part, so user.username, which the reference kept there, names
// the contact instead when full_name is empty. Each attachment's url is an
// attachment, with the app's type when that is a MIME type. No external
// id; received when it arrives. The app reports no delivery.
//
// Send: POST <base_url>/message with "Authorization: Token <secret>" and
// {"user": <URN path, without a "#display" part that RapidPro's URNs may
// carry>, "bot": <bot_username>, "text", "attachments": [{"type", "url"}]},
// text and attachments left out when empty; one request, no splitting.
// Standard judging (FailedAnswer: 429 throttled for Retry-After, 5xx and
// no answer E, other non-2xx F); a 2xx must carry the message's `id`, the
// external id, else F, since the app may have posted it and a retry could
// post it twice.
//
// Config: base_url (needed to send: the app's public API root,
// https://SERVER/api/apps/public/APP_ID; unlike other types' base_url it
// keeps its path, a trailing '/' dropped), secret (the token the app and
// courier share, both ways), bot_username (the bot that speaks),
// admin_auth_token and admin_user_id (sent as X-Auth-Token and X-User-Id
// when courier downloads an attachment from the server, and only to
// base_url's host).
#include "handlers/handler.h"

namespace courier {

class RocketChatHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
