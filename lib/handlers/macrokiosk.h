#pragma once
// MK — Macrokiosk, a South-East Asian SMS aggregator (reference
// handlers-2.md 14). Scheme tel.
//
// Receiving: MacroKiosk calls our receive route by GET or POST with the
// fields in the query or a form, their names matched in any case
// (MacroKiosk writes msgId, the reference reads msgid) and the last value
// of a repeated one taken. A reply to a short code carries `shortcode` (our
// number) and `from` (the contact); one to a long number `longcode` and
// `msisdn`; the pair of whichever kind is present must be complete (400
// "missing shortcode, longcode, from or msisdn parameters") and our number
// must be the channel's address (400 "invalid to number [...]"), a leading
// '+' on either side aside. `text` is the text, `msgId` the external id,
// `time` when it was received: YYYY-MM-DDhh:mm:ss with no separator
// between date and time, Malaysian time, which has been UTC+8 without
// daylight saving since 1982, so a fixed +08:00 stands in for
// Asia/Kuala_Lumpur. A time that does not read so is 400. MacroKiosk
// expects the body "-1" (text/plain) for a reply it may consider taken.
//
// Delivery reports come the same ways to our status route: `msgId` and
// `status` are required (400 "field 'msgid' required"); ACCEPTED -> S,
// DELIVERED -> D, UNDELIVERED -> F, PROCESSING -> W; any other word is
// taken and ignored (200). The reports are answered with the usual JSON.
// MacroKiosk signs nothing: a webhook_token in the URLs given to it is all
// there is.
//
// Sending: the text and attachment links, with the common non-GSM7
// look-alikes replaced (smart quotes, dashes, no-break space and tab, and
// the accented vowels and c-cedilla that GSM7 lacks lose their accents),
// split at max_length (else 1600) characters; each part one POST JSON to
// /bulksms/send: {"user", "pass", "to" (the number without '+'), "text",
// "from" (macrokiosk_sender_id), "servid" (macrokiosk_service_id),
// "type"}, type "0" when the whole replaced text is GSM7, else "5"
// (unicode). Answers are judged by HTTP status (FailedAnswer: 429
// throttled, 5xx and no answer E, other 4xx F). The first part's `MsgID`
// (any case) is the external id the reports carry; a 2xx without one
// stays W without an external id, noted in the channel log, as the
// reference: MacroKiosk took the msg, and failing it would invite a resend.
//
// Departures from the reference, for sanity:
//  - A reply without `time` is taken at its arrival time; the reference
//    refuses it, losing the reply, since it parses an empty time.
//  - The error for a bad time is ours ("invalid time '...', must be ..."),
//    not Go's parser's message.
//  - The channel address and MacroKiosk's number are compared without a
//    leading '+', so an address written in E.164 still matches.
//  - Texts are split by characters (the toolbox's SplitText), where the
//    reference counts UTF-8 bytes.
//
// Config: username, password (the account's), macrokiosk_sender_id,
// macrokiosk_service_id, all needed to send; base_url replaces
// https://www.etracker.cc; max_length; webhook_token.
#include "handlers/handler.h"

namespace courier {

class MacrokioskHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
