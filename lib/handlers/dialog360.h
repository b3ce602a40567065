#pragma once
// D3C — 360Dialog, a WhatsApp Business solution provider that relays the
// WhatsApp Cloud API (reference handlers.md B "dialog360"; the
// reference has no spec beyond "Cloud-API payloads", so this follows
// 360Dialog's current docs, docs.360dialog.com "Send And Receive
// Messages" and "Upload, retrieve or delete media").
//
// Routes: POST receive takes the Cloud API webhook as 360Dialog forwards
// it (object whatsapp_business_account, entry[].changes[].value with
// contacts, messages and statuses) and yields msgs and statuses by
// external id. 360Dialog documents no webhook signature (it signs
// nothing and has no verification challenge), so no signature is
// checked: the channel UUID in the URL is the only secret.
//
// Media arrive as ids: GET <base>/<media id> with the D360-API-KEY header
// answers Meta's lookaside URL, which 360Dialog says to fetch through its
// own host (same path and query on waba-v2.360dialog.io, same header);
// the attachment is that rewritten URL.
//
// The webhook is read exactly as WAC reads it (whatsapp_cloud.h): the
// same message types, media ids, timestamps and statuses ("deleted" and
// unknown statuses are ignored with a reason, 200). A failed media lookup
// answers 503, so 360Dialog sends the webhook again.
//
// Send: POST <base>/messages with D360-API-KEY and the Cloud API message
// body (the same payloads as WAC, split at the channel's max_length, else
// 4096); external id messages[0].id. Meta's Graph errors, which 360Dialog
// relays, mean what they mean for WAC (meta.h: throttling, stop, passing,
// else F for an error object or a 4xx; F for a 2xx without the id); its
// own endpoint rate limit, which its error list gives as a 400, re-queues
// after Retry-After or a minute.
//
// Config: api_key (auth_token also accepted); base_url (default
// https://waba-v2.360dialog.io); max_length.
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace courier {

class Dialog360Handler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  // Media in a webhook is a provider id resolved by a request to the
  // provider's API.
  bool ReceiveMayCallOut(const Route&) const override { return true; }
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
