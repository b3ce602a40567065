#pragma once
// MB — Mblox, now Sinch's XMS batches API (reference handlers-2.md 6).
// Sinch posts every event of the service plan as JSON to one callback
// URL, our receive route, and names the event in `type`: "mo_text" is a
// reply (id, from, to, body and received_at, all required; received_at
// exactly as Sinch writes it, 2016-10-06T09:28:39.220Z, and kept as the
// msg's time), "recipient_delivery_report_sms" a delivery report for the
// batch we sent (batch_id, status). Any other type is refused with 400.
// Sinch signs nothing here: a webhook_token in the callback URL is all
// there is.
//
// Report statuses: Delivered -> D, Dispatched -> S, Aborted, Rejected,
// Failed, Expired -> F, as the reference. Sinch documents four more,
// which the reference refuses with 400 and so has Sinch retry forever:
// Cancelled and Deleted (final, not delivered) are F here; Unknown
// (handed to the operator, no receipt came) is S; Queued (still in
// Sinch's queue, reported because we ask per recipient) is taken and
// ignored. Any other word is 400.
//
// We send each part of the text (attachments as links, split at
// max_length, else 459) as its own batch: POST
// /xms/v1/<username>/batches with "Authorization: Bearer <password>",
// the numbers without '+', per-recipient delivery reports. Answers are
// judged by HTTP status (FailedAnswer: 429 throttled, 5xx and no answer E,
// other 4xx F, with Sinch's error code and text). The batch `id` of the
// first part is the external id the reports carry; a 2xx without one
// stays W without an external id (logged), as the reference: Sinch took
// the batch, and failing it would invite a resend.
//
// Config: username (the service plan id), password (the API token);
// base_url replaces https://api.mblox.com (Sinch's regional hosts, such
// as https://us.sms.api.sinch.com, serve the same path).
#include "handlers/handler.h"

namespace courier {

class MbloxHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
