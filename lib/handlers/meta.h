#pragma once
// WAC, FBA, IG — Meta's app-level webhooks and the Graph API send
// endpoints (reference handlers.md A.2 "FB" and B "meta"): WhatsApp Cloud
// API, Facebook Messenger and Instagram messaging share the webhook
// verification, the X-Hub-Signature-256 check, the Graph API error shape
// and its throttling answers; they differ in payloads.
//
// Routes: GET receive answers Meta's verification challenge (hub.mode =
// subscribe, hub.verify_token = config verify_token or webhook_secret,
// hub.challenge echoed as plain text); POST receive takes the signed
// webhook (sha256=hex(HMAC-SHA256(config app_secret, raw body))) and
// yields msgs and statuses by external id.
//
// Config: access_token (auth_token also accepted), app_secret,
// verify_token (or webhook_secret), api_version (default v21.0); WAC:
// phone_number_id (else the address); FBA: page_id (else the address);
// IG: page_id (else "me", the page the token belongs to). The address of
// FBA and IG channels is the page id and the Instagram account id that
// webhooks name in entry[].id.
#include <string>
#include <vector>

#include "handlers/handler.h"

namespace courier {

class MetaHandler : public ChannelHandler {
 public:
  enum class Kind { kWhatsApp, kMessenger, kInstagram };
  explicit MetaHandler(Kind kind) : kind_(kind) {}

  std::string Code() const override;  // WAC, FBA, IG
  std::string Name() const override;  // WhatsApp Cloud, Facebook, Instagram
  std::vector<Route> Routes() const override;
  // Media in a webhook is a provider id resolved by a request to the
  // provider's API.
  bool ReceiveMayCallOut() const override { return true; }
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

  // The JSON bodies one outgoing msg becomes, in sending order: attachments
  // first, then the text (split at the provider's limit), with the quick
  // replies on the last part. Msg carries no quick replies yet, so Send
  // passes none; this is public so that the quick reply payloads can be
  // tested and wired in when it does.
  std::vector<std::string> Payloads(const std::string& recipient, const std::string& text,
                                    const std::vector<std::string>& attachments,
                                    const std::vector<std::string>& quick_replies) const;

 private:
  Kind kind_;
};

}  // namespace courier
