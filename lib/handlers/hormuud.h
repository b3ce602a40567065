#pragma once
// HM — Hormuud: a Somali operator's SMS API (reference handlers-2.md 10).
//
// Receiving: Hormuud calls POST receive with the msg's fields in the query
// string or a form body: Sender and ShortCode (required), MessageText (may
// be empty) and TimeSent (an integer, not used: the msg is received when
// it arrives). Names match in any case, as the reference's decoder does;
// the last value of a name wins. A missing field is 400 "field 'sender'
// required" / "field 'shortcode' required", a TimeSent that is not an
// integer 400 as well. There are no status callbacks and Hormuud signs
// nothing: a webhook_token is all there is.
//
// Sending: a bearer token bought from POST <api>/token (password grant:
// Username, Password, grant_type=password) and kept per channel in the
// token cache for its expires_in (default an hour); then, per part of the
// text and attachment URLs split at max_length (default 160), POST
// <api>/api/SendSMS with {"mobile", "message", "senderid", "mType": -1,
// "eType": -1, "UDH": ""}. The external id is the first part's
// Data.MessageID, unless it is empty or the string "null".
//
// Judging: the token request and each send are judged by HTTP status
// (FailedAnswer): no answer, 408, 425 and 5xx are E, 429 is E throttled
// for Retry-After, other 4xx F. A 2xx token answer without access_token
// is E; nothing is sent without a token.
//
// Departure from the reference (a deliberate improvement): a 401 from
// SendSMS for a cached token drops it (AccessTokenCache::Forget) and the
// part is sent once more with a new one; the reference kept using the
// refused token until it expired. A token fetched for this very send that
// is refused is not fetched again: the credentials are at fault, so the
// 401 fails the msg.
//
// Config: username and password (required to send; the password is a
// secret), base_url (replaces https://smsapi.hormuud.com for both the
// token and the send URL), max_length, webhook_token. The token is never
// logged: it is redacted from the token request's channel log here and
// sent only as the Authorization header, which MakeCall redacts.
//
// Thread-safety: Receive is stateless; Send shares the token cache, which
// locks (AccessTokenCache).
#include "handlers/access_token_cache.h"
#include "handlers/handler.h"

namespace courier {

class HormuudHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

 private:
  // The channel's token, from the cache or from Hormuud; `refusal` is
  // set to the token endpoint's answer when it gave none.
  Result<handlers::AccessTokenCache::Token> AccessToken(const Channel& channel, const Msg& msg, HandlerContext& ctx,
                                                        const std::string& api, std::vector<ChannelLog>& logs,
                                                        std::optional<HttpExchange>& refusal) const;

  mutable handlers::AccessTokenCache tokens_;
};

}  // namespace courier
