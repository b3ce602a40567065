#pragma once
// TQ — ThinQ, now Commio: US SMS and MMS (reference handlers-2.md 13).
// ThinQ posts form fields to the URLs set on the account: replies to our
// receive route (from, to and type required; an "sms" carries its text
// in `message`, an "mms" the URL of its media there) and delivery
// receipts to our status route (our msg by ThinQ's `guid`; DELIVRD -> D,
// EXPIRED -> E, DELETED, UNDELIV, UNKNOWN, REJECTD -> F; any other status
// is 400). An EXPIRED msg is left E without a next attempt, as for any E
// a provider reports: whether to send it again is an operator's call
// (courier-ctl retry). An MMS whose `message` is not a URL holds the
// media itself, base64 encoded; with nowhere to keep it, the reply is
// taken without it. ThinQ signs nothing: a webhook_token in the callback
// URLs is all there is.
//
// We send with HTTP basic auth (api_token_user, api_token) under
// /account/<account_id>/product/origination: each attachment first, as
// its own MMS (mms/send, multipart form: from_did, to_did, media_url),
// then each part of the text (split at max_length, else 1600) as an SMS
// (sms/send, JSON from_did, to_did, message). ThinQ's DIDs are US numbers
// without the country code: +12065551212 is 2065551212. The reference
// drops the first character of any number, which makes a number outside
// +1 someone else's; we refuse it instead, before any request: a contact
// outside +1 is F, a channel address that is no US number is E (the
// channel's to fix). Answers are judged by HTTP status (FailedAnswer:
// 429 throttled, 5xx and no answer E, other 4xx F, with ThinQ's message);
// a 2xx without the message's guid is F (AcceptedWithoutId). The first
// guid is the external id.
//
// Config: account_id, api_token_user (the API user name; redacted like
// every setting named a token), api_token; base_url replaces
// https://api.thinq.com.
#include "handlers/handler.h"

namespace courier {

class ThinqHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
