#pragma once
// IB — Infobip: a global CPaaS (strong in Africa, Latin America and Asia).
// It posts incoming SMS and MMS (JSON `results[]`) and delivery reports to
// the URLs we give it; we send a msg without attachments through its SMS
// API (POST /sms/3/messages) and one with attachments as an MMS (POST
// /mms/2/messages), reference handlers.md A.2 "IB".
//
// Config: api_key (sent as "Authorization: App <key>", Infobip's
// recommended scheme) or username and password (basic auth, as channels
// made for the reference have); base_url, the account's personal base URL
// ("xyz.api.infobip.com", a scheme is optional; default
// https://api.infobip.com); max_length (SMS parts, default 1600); mms
// ("false": attachments go as links in the SMS text, for destinations MMS
// does not reach; default true).
//
// Outcomes: a send answer whose status group is REJECTED or UNDELIVERABLE,
// or a 4xx but 429, fails the msg (F) with Infobip's status name as the
// reason; an accepted answer without a messageId is F too (a retry could
// send it twice); 429, 5xx and no answer are E. Delivery reports are read
// one by one: a report with a status group we do not know, or for a
// messageId that is not one of ours (the parts after the first of a split
// text), is skipped with an info entry and the others are still written.
#include "handlers/handler.h"

namespace courier {

class InfobipHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
