#pragma once
// PL — Plivo (reference handlers.md A.2 "PL"). Plivo posts inbound SMS/MMS
// to the application's message_url (our receive route) and delivery
// reports to the `url` we give with each send (our status route); we send
// through Plivo's Message API, POST /v1/Account/<auth id>/Message/ with
// basic auth.
//
// Every webhook must be signed with the channel's auth token. A request
// with X-Plivo-Signature-V3 is held to it (it covers the URL, every
// parameter and the nonce); one with only X-Plivo-Signature-V2 (what
// Plivo's messaging callbacks carry; it covers only the URL and the nonce)
// passes only if its nonce was not seen before with another request, since
// a captured V2 signature would otherwise carry any body.
#include <optional>

#include "handlers/handler.h"
#include "handlers/replay_guard.h"

namespace courier {

class PlivoHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

  // How long, and how many, V2 nonces are remembered (per process).
  static constexpr Micros kNonceWindow = 24LL * 3600 * kMicrosPerSecond;
  static constexpr size_t kNonceCapacity = 200000;

 private:
  std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request,
                                              Micros now) const;
  mutable handlers::ReplayGuard v2_nonces_{kNonceWindow, kNonceCapacity};
};

}  // namespace courier
