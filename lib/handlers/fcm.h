#pragma once
// FCM — Firebase Cloud Messaging: chat with a custom app (reference
// handlers.md "FCM"). The app posts what its user writes to the receive
// route and its device registration to the register route; replies go to
// the device as FCM data messages (plus an optional notification) through
// the FCM HTTP v1 API.
//
// Receive (POST form):
//   receive   from (required; URN fcm:<from>), msg (required), fcm_token,
//             name (the contact's name), date ("2006-01-02T15:04:05.000",
//             UTC unless it carries a zone). fcm_token, when given, becomes
//             the auth of the URN (UrnAuthUpdate): a newer one replaces an
//             older one, by the time courier received it.
//   register  urn (fcm:<path> or the bare path), fcm_token (both required),
//             name: creates or updates the contact and its URN's auth and
//             answers {"contact_uuid": "<uuid>"} (the reference's answer).
//
// The register answer and durability (invariant 1): the uuid answered is
// the one the store holds for the URN's contact, an existing contact's or a
// new one's, so it is known only once the write commits
// (WebhookResult::answer_from_store). When the store cannot take the write
// and the intake goes to the spool, the registration is kept (the spool
// replays it, and a token older than the stored one is not applied) but
// the request is answered 503, so the app registers again for its uuid.
// Assigning the uuid up front, as msgs get theirs, was the other way: it
// would be right for a new contact but wrong whenever the URN already has
// one, and from the spool there is no telling which.
//
// Send: POST {base_url or https://fcm.googleapis.com}/v1/projects/<project>/messages:send
//   {"message":{"token": <the URN's auth>, "data":{"type":"rapidpro",
//   "title", "message", "message_id", "quick_replies"?}, "notification"?,
//   "android":{"priority":"high"}, "apns"?}} with a Bearer access token.
//   Texts longer than max_length (default 1024, the reference's) go as one
//   message per part; quick replies (a JSON array, as data values must be
//   strings) ride on the last. The external id is the last segment of the
//   first part's answer `name` ("projects/<p>/messages/<id>").
//   A msg whose URN has no token fails at once ("no fcm token for this
//   contact"): the app never registered or posted one.
//
// Answers (FCM's ErrorCode, from error.details[].errorCode, else
// error.status): INVALID_ARGUMENT 400, SENDER_ID_MISMATCH 403,
// THIRD_PARTY_AUTH_ERROR 401 and UNREGISTERED 404 fail the msg (F); the
// reason for UNREGISTERED says the token is stale (the app was uninstalled
// or its token expired: it must register again; the contact is not
// stopped, since a new registration makes it reachable). QUOTA_EXCEEDED 429
// is E, throttled for Retry-After; UNAVAILABLE 503, INTERNAL 500 and no
// answer are E. A 2xx without `name` is F (AcceptedWithoutId). A 401
// UNAUTHENTICATED for a cached access token drops it and the part is sent
// once more with a new one.
//
// Auth: FCM_CREDENTIALS_JSON holds the service account's credentials JSON
// (a secret config key: redacted everywhere); the access token comes from
// its token_uri (google_service_account.h), cached per channel until a
// minute before it expires. The token request is the msg's first channel
// log when one is made. Setting up the credentials wrong (bad JSON, no
// private key, the token endpoint refusing them) is E like a missing
// config value: the msg is fine, the channel is not.
//
// Config:
//   FCM_CREDENTIALS_JSON  service account credentials (required to send)
//   FCM_PROJECT_ID        the Firebase project; default: the credentials'
//                         project_id
//   FCM_TITLE             title of the data message and notification
//   FCM_NOTIFICATION      "true": also send a notification
//   max_length            longest part of a split text (default 1024)
// The legacy HTTP API (FCM_KEY server keys, /fcm/send) is shut down by
// Google and not supported; a channel that still has only FCM_KEY gets
// an error saying so.
//
// Thread-safety: Receive is stateless; Send shares the token cache, which
// locks (AccessTokenCache).
#include "handlers/google_service_account.h"
#include "handlers/handler.h"

namespace courier {

class FcmHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  bool SendsToUrnAuth() const override { return true; }

 private:
  mutable handlers::AccessTokenCache tokens_;
};

}  // namespace courier
