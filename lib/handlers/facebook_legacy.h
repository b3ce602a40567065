#pragma once
// FB — Facebook Messenger, the legacy per-page channel (handlers-2.md 5):
// one channel per Facebook page, addressed by the page id, sending with
// that page's access token. Scheme facebook. The app-level Messenger type
// (FBA, meta.h) serves the same pages through one webhook per Meta app;
// this type keeps the channels made before it working, and reads
// attachments, referrals and Graph API errors as FBA does.
//
// Verification: GET receive with hub.mode=subscribe (else 400 "unknown
// request"), hub.verify_token equal to config `secret` (else 401 "token
// does not match secret"; the reference answers 400, DESIGN.md says 401;
// a channel without a secret is 400) and config `auth_token` set (else
// 400 "missing auth token for FB channel") is answered with the bare
// hub.challenge as text/plain. Before answering, the page is subscribed to
// the app: POST /v3.3/me/subscribed_apps with the form access_token=<page
// token>&subscribed_fields=messages,message_deliveries,messaging_optins,
// messaging_postbacks,messaging_referrals, its answer only logged (the
// challenge is answered whatever it says). The reference makes that call
// in the background about two seconds after answering; a handler cannot
// start work after its answer, so it is made synchronously (Receive may
// call out) and adds one Graph API round trip to the verification. It
// names the fields because the Graph API requires subscribed_fields on
// that call since v3.2 (the reference sends the token alone). Should it
// fail, an operator subscribes the page with the same request (one line):
//   curl -X POST https://graph.facebook.com/v3.3/me/subscribed_apps
//     -d subscribed_fields=messages,message_deliveries,messaging_optins,messaging_postbacks,messaging_referrals
//     -d access_token=<page token>
//
// Events: POST receive, JSON {"object": "page", "entry": [{"messaging":
// [...]}]}. Another object is 200 Ignored "ignoring non-page request", no
// entries "ignoring request, no entries". The reference checks no
// signature; a channel with config `app_secret` (the Meta app's secret)
// also demands Meta's X-Hub-Signature-256 over the raw body, as FBA does
// (401 when missing or wrong). Each messaging event whose recipient.id is
// the channel address yields, with the sender as facebook:<sender.id>
// (numeric, else 400 "invalid facebook id") and timestamp in ms:
// - message: a msg with mid as its external id (required; the same mid
//   twice in one webhook is taken once), text, and attachments: a
//   location as geo:<lat>,<long>, any other with a payload.url starting
//   "http" (except fallback, a shared link) as <type>:<url> typed as FBA
//   types them. The Like sticker (369239263222822, 369239343222814,
//   369239383222810, as message.sticker_id or an image's
//   payload.sticker_id) makes the text 👍. Echoes of our own msgs and
//   messages with nothing usable are skipped with a reason;
// - postback: a new-conversation event, or a referral event when its
//   referral carries a ref, with the postback's title and payload (and
//   the referral's parameters) as extra;
// - referral: a referral event; optin: a referral event with the
//   opt-in's ref (an opt-in without a sender, known only by a user_ref
//   we could not send to, is skipped);
// - delivery: D for each of delivery.mids, by external id;
// - anything else is skipped ("ignoring unknown entry type").
//
// Send: POST /v3.3/me/messages?access_token=<auth_token>, JSON, one request
// per part in the bodies FBA builds (MetaHandler::Payloads): each
// attachment first as {"attachment": {"type", "payload": {"url",
// "is_reusable": true}}} (image, video, audio, else file), then the text
// split at max_length (default 640), the text quick replies (at most 13,
// titles cut at 20 characters) on the last request. Every answer is
// judged as FBA judges it (meta::GraphFailure): no answer and 5xx are E,
// 429 and Meta's rate-limit codes re-queue after Retry-After, 551 (the
// person is not available) fails the msg and stops the contact, codes
// Meta calls passing (1, 2, 1200, is_transient) are E, any other error
// (also in a 2xx) or 4xx is F; a 2xx without message_id is F. The first
// message_id is the external id.
//
// Departures from the reference, on purpose:
// - messaging_type is always RESPONSE: a msg does not say which incoming
//   msg it answers, and NON_PROMOTIONAL_SUBSCRIPTION, the reference's
//   other value, belonged to subscription messaging, which Meta retired;
// - every event of an entry is read, not only messaging[0] (Meta sends
//   one, but the field is an array);
// - a sticker other than the Like leaves the text as it is (the reference
//   empties it) and arrives as its image;
// - coordinates keep the digits Meta sent rather than %f's six decimals;
// - Graph API errors are judged by their codes as above rather than by
//   the HTTP status alone;
// - the optional app_secret signature check, and subscribed_fields above;
// - no contact names are looked up (the reference described new contacts
//   with GET /v3.3/<psid>?fields=first_name,last_name): courier has no
//   step for new contacts, and a lookup per msg would cost a Graph call
//   each.
//
// Config: auth_token (the page access token; needed to send and to
// verify), secret (the webhook verify token), app_secret (optional, see
// above), max_length, base_url (replaces https://graph.facebook.com; the
// /v3.3/... paths are appended).
#include "handlers/handler.h"

namespace courier {

class FacebookLegacyHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  // The verification (a GET) subscribes the page to the app through the
  // Graph API; events (POSTs) are read without a request.
  bool ReceiveMayCallOut(const Route& route) const override { return route.method == "GET"; }
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
