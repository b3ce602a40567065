#pragma once
// MTN — MTN Developer Portal, SMS v2 (reference handlers-2.md 4).
//
// Receiving: MTN posts one JSON object to POST receive, its keys matched
// in any case (as the reference's decoder does). A non-empty `message`
// makes it an incoming msg from `senderAddress` (a number in the
// channel's country; 400 when it is none), received at `created` (unix
// milliseconds) when given; `receiverAddress` is not checked. Otherwise
// it is a delivery report for the msg whose external id is
// `transactionId` (none: 200 Ignored): deliveryStatus DELIVRD and
// DeliveredToTerminal are D, DeliveryUncertain and DeliveredToNetwork S,
// EXPIRED F, DeliveryImpossible E; MessageWaiting and
// DeliveryNotificationNotSupported change nothing (200 Ignored); any other
// word is 400 "unknown status '<x>', must be one of ...". MTN signs
// nothing: a webhook_token is all there is.
//
// Sending: a bearer token bought with the app's consumer key and secret
// from POST <api>/v1/oauth/access_token?grant_type=client_credentials
// (form client_id, client_secret), kept per channel in the token cache
// for its expires_in (a JSON string of seconds; an hour when missing or
// 0); then one POST <api>/v2/messages/sms/outbound with {"senderAddress",
// "receiverAddress": [number], "message": text and attachment URLs,
// "clientCorrelator": msg uuid, "cpAddress"?}. No splitting. The external
// id is the answer's transactionId; a 2xx without one leaves the msg W
// without an id (as the reference), noted in the channel log.
//
// Judging: the send by HTTP status (FailedAnswer): no answer, 408, 425 and
// 5xx are E, 429 E throttled for Retry-After, other 4xx F.
//
// Departures from the reference:
//  - A token request that gets no answer, a 5xx or a 429 is E (429
//    throttled), not F: the reference failed the msg for any token
//    failure, which loses msgs to a passing outage of MTN's OAuth
//    endpoint. A 4xx (credentials refused) or a 2xx without access_token
//    still fails the msg (F); nothing is sent without a token.
//  - A deliberate improvement: a 401 from the send for a cached token
//    drops it (AccessTokenCache::Forget) and the msg is sent once more
//    with a new one; the reference kept the refused token until it
//    expired. A token fetched for this very send that is refused is not
//    fetched again: the credentials are at fault, so the 401 fails the msg.
//
// Config: api_key (consumer key) and auth_token (consumer secret), both
// required to send and secret; cp_address (optional); api_host (the
// reference's API root, default https://api.mtn.com) and base_url, which
// does the same and wins over it; webhook_token. The token is never
// logged: it is redacted from the token request's channel log here and
// sent only as the Authorization header, which MakeCall redacts.
//
// Thread-safety: Receive is stateless; Send shares the token cache, which
// locks (AccessTokenCache).
#include "handlers/access_token_cache.h"
#include "handlers/handler.h"

namespace courier {

class MtnHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

 private:
  // The channel's token, from the cache or from MTN; `refusal` is set to
  // the token endpoint's answer when it gave none.
  Result<handlers::AccessTokenCache::Token> AccessToken(const Channel& channel, const Msg& msg, HandlerContext& ctx,
                                                        const std::string& api, std::vector<ChannelLog>& logs,
                                                        std::optional<HttpExchange>& refusal) const;

  mutable handlers::AccessTokenCache tokens_;
};

}  // namespace courier
