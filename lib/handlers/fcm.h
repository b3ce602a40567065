#pragma once
// FCM — Firebase Cloud Messaging: push to a custom app (reference
// handlers.md A.1 "FCM"). The app posts incoming messages as a form to the
// receive route (from, msg, fcm_token, optional name and date) and device
// registrations to the register route; replies go out as FCM data messages
// (plus an optional notification) through the HTTP v1 API or the legacy
// HTTP API, as configured.
//
// Config:
//   FCM_PROJECT_ID + FCM_ACCESS_TOKEN  HTTP v1: the Firebase project and an
//                                      OAuth 2.0 access token (scope
//                                      firebase.messaging) used as Bearer.
//   FCM_KEY                            legacy server key (Authorization: key=…),
//                                      used when no project id is set.
//   FCM_API                            "v1" or "legacy" to force one.
//   FCM_TITLE                          title of the data message/notification.
//   FCM_NOTIFICATION                   "true": also send a notification.
//
// Limitations (the store keeps no per-URN auth): the fcm_token posted on
// receive and register is not saved, and `register` is answered Ignored
// with that reason. A send therefore addresses the device by the URN path:
// apps must use their FCM registration token as `from`/`urn` path. Minting
// access tokens from a service-account key is left to the operator.
#include "handlers/handler.h"

namespace courier {

class FcmHandler : public ChannelHandler {
 public:
  std::string Code() const override { return "FCM"; }
  std::string Name() const override { return "Firebase Cloud Messaging"; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
