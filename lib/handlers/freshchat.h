#pragma once
// FC — FreshChat, Freshworks' customer-messaging inbox, where courier acts
// as one agent (reference handlers-2.md 15). Scheme freshchat; a contact's
// URN path is "<FreshChat channel id>/<user id>", since a reply must name
// both.
//
// Receive: FreshChat posts its webhooks as JSON to POST receive, each
// signed: X-FreshChat-Signature is the base64 of an RSA PKCS#1 v1.5
// signature over the SHA-256 of the raw body, checked with the channel's
// `secret`, the account's webhook public key in PEM (SubjectPublicKeyInfo;
// RapidPro keeps it on one line, which reads the same, since the key's
// base64 is read without its white space). A body that is not JSON is 400
// before the signature is looked at; a missing, undecodable or wrong
// signature is 401 (the reference answers 400; DESIGN.md), a channel
// without a usable key 400, since it is our configuration that is wrong.
// A webhook without data.message or without its actor_id (assignments,
// resolutions) is 200 Ignored, and so is a message whose actor_type is
// agent: our own sends, echoed back. A message becomes a msg from
// freshchat:<channel_id>/<actor_id> (400 when channel_id is missing:
// nothing could answer it), external id `id`, received at `created_time`
// (RFC 3339, 400 when unreadable). Its message_parts give the text (the
// text.content of each text part, joined with a newline) and the
// attachments (each image.url); the reference kept only the last text and
// the last image, losing the others.
//
// Send: POST <base>/v2/conversations with "Authorization: Bearer
// <auth_token>" and {"messages": [{"message_parts": [...], "actor_id":
// <username>, "actor_type": "agent"}], "channel_id", "users": [{"id"}]}
// taken from the URN: a text part when there is text, then an image part
// per image/* attachment. FreshChat's messages carry no other media: any
// other attachment is left out, with a channel log naming it; a msg left
// with nothing to carry fails (F) without a request. No splitting.
// Standard judging (FailedAnswer: 429 throttled for Retry-After, 5xx and
// no answer E, other non-2xx F, with FreshChat's `message`); a 2xx is W
// without an external id, as FreshChat sends no delivery reports to match.
//
// Config: username (the agent id the msgs are sent as), auth_token (the
// API token), secret (the webhook public key), base_url (replaces
// https://api.freshchat.com; an account's own API domain goes there).
#include "handlers/handler.h"

namespace courier {

class FreshchatHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
