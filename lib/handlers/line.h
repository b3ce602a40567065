#pragma once
// LN — LINE Messaging API bots (reference handlers.md A.2 "LN"; checked
// against LINE's current Messaging API reference,
// developers.line.biz/en/reference/messaging-api).
//
// Routes: POST receive takes LINE's webhook {"destination", "events":[]},
// signed with X-Line-Signature = base64(HMAC-SHA256(channel secret, raw
// body)) (the reference's [later] check). Events:
//   message (text, image, video, audio, file, location, sticker) -> msgs
//     from line:<source.userId>, external id message.id, timestamp in ms;
//     media LINE hosts are attachments on its content endpoint
//     (https://api-data.line.me/v2/bot/message/<id>/content, which needs
//     the channel access token to fetch), external media their URL;
//   unfollow -> stop of line:<source.userId>;
//   an empty events list (LINE's "Verify" button) and other events
//     (follow, postback, join...) -> ignored with 200.
// LINE has no delivery reports, so there is no status route.
//
// Send: POST <base>/v2/bot/message/push with Authorization: Bearer
// <auth_token>, X-Line-Retry-Key (the msg uuid, so that a retry after a
// timeout is not sent twice) and {to, messages:[...]} of at most 5
// message objects per request (LINE's limit; more go in further
// requests): images as image messages, other attachments as links in the
// text, text split on word boundaries at the channel's max_length, else
// LINE's 5000 characters (the reference split at 2000). External id: the
// first request's sentMessages[0].id, else its x-line-request-id. A 409
// (retry key already accepted) is a success; 429 is throttled (60 s
// unless Retry-After says otherwise); any other 4xx fails the msg; 5xx and
// no answer are retried.
//
// Config: secret (channel secret), auth_token (channel access token),
// base_url (default https://api.line.me).
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace courier {

class LineHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
