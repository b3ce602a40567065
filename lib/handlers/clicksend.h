#pragma once
// CS — ClickSend, an Australian SMS REST API (reference handlers-2.md 12).
// ClickSend forwards replies to the URL of an inbound rule, our receive
// route, as a form POST (fields in the body or the query string): `from`
// is the contact (400 when missing), `body` the text, which may be empty. It posts nothing
// else that we take: there are no delivery reports, so a sent msg stays
// W. ClickSend signs nothing: a webhook_token in the rule's URL is all
// there is.
//
// We send each part of the text (attachments as links, split at
// max_length, else 1224) as its own message: POST /v3/sms/send with HTTP
// basic auth (username and API key), {"messages": [{"to", "from",
// "body", "source": "courier"}]}. An answer that is not a 2xx is judged by
// its HTTP status (FailedAnswer: 429 throttled, 5xx and no answer E, other
// 4xx F, with ClickSend's response_msg); a 2xx must say the message's
// status is SUCCESS and give its message_id, else F, since ClickSend
// refused it for good (INVALID_RECIPIENT, INSUFFICIENT_CREDIT ...) or may
// have taken it without saying so, and a retry could send it twice. The
// first message_id is the external id.
//
// Config: username (the account's user name), password (its API key);
// base_url replaces https://rest.clicksend.com.
#include "handlers/handler.h"

namespace courier {

class ClickSendHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
