#pragma once
// Twilio and the providers that speak its API (reference handlers.md A.1
// "TW"), one implementation parameterised by type:
//   TW, T  Twilio: From = channel address, or messaging_service_sid when set
//   TMS    Twilio Messaging Service: always MessagingServiceSid
//   TWA    Twilio WhatsApp: whatsapp URNs, "whatsapp:+<number>" on the wire
//   SW     SignalWire (Twilio-compatible "LaML" API): no signature check,
//          endpoint from config base_url or https://<space>.signalwire.com
//
// Routes: POST receive (answers TwiML), POST status. Settings: Describe()
// in twilio.cpp.
//
// Outcomes: a send answered with an error code Twilio documents as
// permanent (21211 invalid 'To', 21614 not a mobile number, ...) or any
// other 4xx but 429 fails the msg (F) with Twilio's message as the reason;
// 21610 also stops the contact; 20429/HTTP 429 re-queue it for Retry-After;
// 5xx, no answer and transient codes (21611, 30001, ...) are E. A status
// callback failed/undelivered with a transient ErrorCode (30001 queue
// overflow, 30003 unreachable handset, 30008, 30500, 63017, 63018 rate
// limits ...) is E with a next attempt after a delay for that code, so the
// sender sends the msg again; other ErrorCodes are F with the code as the
// reason. An unknown MessageStatus is answered 200 and ignored.
#include "handlers/handler.h"

namespace courier {

class TwilioHandler : public ChannelHandler {
 public:
  enum class Flavor { kTwilio, kMessagingService, kWhatsApp, kSignalWire };

  TwilioHandler(std::string code, std::string name, Flavor flavor = Flavor::kTwilio)
      : type_(Describe(std::move(code), std::move(name), flavor)), flavor_(flavor) {}

  const ChannelTypeInfo& Type() const override { return type_; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;

 private:
  static ChannelTypeInfo Describe(std::string code, std::string name, Flavor flavor);
  ChannelTypeInfo type_;
  Flavor flavor_;
};

}  // namespace courier
