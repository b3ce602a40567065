#pragma once
// TS — Telesom: the Somaliland operator's SMS gateway (reference
// handlers-2.md 19). Scheme tel.
//
// Receive: Telesom calls GET or POST receive with `mobile` (the contact, a
// number in the channel's country) and `msg` (the text), in the query
// string or a form body; names match in any case and the last value of a
// name wins, as the reference's decoder does. Either missing or empty is
// 400 "field '<name>' required". The msg has no external id and is taken
// at its arrival. There is no status route: Telesom reports nothing back.
//
// Send: each part of the text (attachments as links, split at max_length,
// else 160) is one POST, form-encoded, to the send URL: `to` ("0" and the
// number inside the channel's country without its leading zeros), `from`
// (the channel address without '+'), `msg` (the part) and `key`, the
// upper-case hex MD5 of username|password|to|msg|from|DD/MM/YYYY|secret
// with the current UTC date and to, msg and from exactly as sent: the
// credentials themselves never travel.
//
// Judging: each part's answer by HTTP status (FailedAnswer: no answer, 408,
// 425 and 5xx E, 429 E throttled for Retry-After, other 4xx F); a 2xx whose
// body does not contain "Success" is F, Telesom's refusal (its answer is
// in the channel log). Telesom answers no id, so the msg has no
// external id.
//
// Departures from the reference:
//  - A missing msg reads "field 'msg' required", naming the field Telesom
//    posts, where the reference names its own struct field ('message').
//  - Parts are at most max_length characters, not bytes (SplitText, as
//    every handler here splits).
//  - A msg with neither text nor attachments fails before any request.
//  - With base_url set and no send_url, base_url replaces
//    http://telesom.com and /sendsms is appended (the project's rule for
//    pointing a channel at another host).
//
// Telesom signs nothing: with webhook_token set, every webhook must carry
// it (handlers::CheckWebhookToken).
//
// Config: username, password (secret) and secret (the private key in the
// MD5; secret), all needed to send; send_url (a full URL used as is;
// default http://telesom.com/sendsms); base_url; max_length;
// webhook_token.
#include "handlers/handler.h"

namespace courier {

class TelesomHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
