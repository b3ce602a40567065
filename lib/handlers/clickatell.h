#pragma once
// CT — Clickatell (reference handlers.md A.2 "CT"). Clickatell calls our
// receive URL for replies (MO) and our status URL for status updates, as
// its integration settings say: the One API's nested callbacks
// ({"event": {"moText": [...]}} / {"event": {"messageStatusUpdate": [...]}})
// or the SMS Platform API's flat ones (messageId, fromNumber, text ... /
// messageId, statusCode), by JSON POST, form POST or GET. We send through
// the One API, POST /v1/message with the integration's API key; a channel
// whose key belongs to an SMS Platform (HTTP) integration sets api=platform
// to send with GET /messages/http/send as the reference did.
//
// Reply texts are decoded from the charset Clickatell names: UTF-16BE
// given as its bytes, ISO-8859-1 URL-escaped. A status code outside
// Clickatell's tables is ignored with 200 (the others of a One API batch
// are still taken); "message unknown" (1) is ignored too. Sending splits
// at the channel's max_length (else 640); an answer that is not a 2xx
// fails the msg when it is a 4xx (FailedAnswer), except the One API codes
// 26 (opted out: F and the contact stopped), 43 (rate limit: throttled),
// and 18, 19, 20 (internal errors, balance: E); a 2xx without the
// message's apiMessageId fails it, since Clickatell may have taken it.
#include "handlers/handler.h"

namespace courier {

class ClickatellHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
