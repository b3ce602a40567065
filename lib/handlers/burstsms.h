#pragma once
// BS — Burst SMS, transmitsms.com: Australian and New Zealand SMS
// (reference handlers-2.md 18). Scheme tel.
//
// Receiving: Burst SMS calls the URLs set on the account with GET and
// query parameters. A reply comes to our receive route: the contact in
// `mobile` (400 "missing required field 'mobile'"; a number in the
// channel's country), the text in `response`; it carries no id we keep and
// is taken at its arrival. A delivery report comes to our status route,
// for the msg whose external id is `message_id` (400 "missing required
// field 'message_id'"): status delivered -> D, pending -> S, soft-bounce
// -> E, hard-bounce -> F; any other word is 400 "unknown status value
// '<x>'". Burst SMS signs nothing: a webhook_token in the URLs given to it
// is all there is.
//
// Sending: each part of the text (attachments as links, split at
// max_length, else 612) is one POST to /send-sms.json, a form (`to`: the
// number without '+', `from`: the channel address, `message`: the part)
// with HTTP basic auth (the API key and secret). Answers are judged by
// HTTP status (FailedAnswer: 429 throttled, 5xx and no answer E, other 4xx
// F, with Burst SMS's error code and description); a 2xx must be JSON with
// a non-zero `message_id`, else F, since Burst SMS may have taken it and a
// retry could send it twice. The first part's message_id is the external
// id.
//
// Departures from the reference, for sanity:
//  - A report without `status` is 400 "missing required field 'status'",
//    not "unknown status value ''".
//  - username (the API key) is not masked as a secret: redaction goes by
//    a setting's name, and a username is shown. It only ever travels in
//    the basic auth header, which channel logs redact whole.
//  - Texts are split by characters (the toolbox's SplitText), where the
//    reference counts UTF-8 bytes.
//
// Config: username (the API key), password (the API secret), both needed
// to send; base_url replaces https://api.transmitsms.com; max_length;
// webhook_token.
#include "handlers/handler.h"

namespace courier {

class BurstSmsHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
