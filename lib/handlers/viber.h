#pragma once
// VP — Viber public accounts / Viber bots through the REST bot API
// (reference handlers.md A.2 "VP"; checked against Viber's current REST
// Bot API docs, developers.viber.com/docs/api/rest-bot-api).
//
// Routes: POST receive takes every callback. Each is signed:
// X-Viber-Content-Signature = hex(HMAC-SHA256(auth token, raw body))
// (the reference's [bug] compared raw digest bytes; we compare the hex, in
// constant time). Events:
//   message            -> a msg (text, picture, video, file, sticker,
//                         contact "name: phone", url, location geo:)
//   delivered / seen   -> D / R by message_token (external id)
//   failed             -> F by message_token
//   unsubscribed       -> stop of viber:<user_id>
//   webhook, subscribed, conversation_started, client_status -> ignored
//                         (acknowledged with 200; this system has no
//                         new-conversation events)
//
// Send: POST <base>/pa/send_message with the X-Viber-Auth-Token header
// (Viber's docs; the reference put auth_token in the body) and JSON
// {receiver, sender:{name}, type, text | media, tracking_data = msg id}.
// Viber answers 200 with {"status":0,"message_token":...}; a non-zero
// status is an error (6 receiverNotSubscribed: failed and stopped; 12
// tooManyRequests: throttled).
//
// Config: auth_token; sender_name (default the channel name, else
// address; Viber requires it, max 28 characters); base_url (default
// https://chatapi.viber.com).
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace courier {

class ViberHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
