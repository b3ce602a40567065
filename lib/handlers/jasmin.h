#pragma once
// JS — Jasmin: the open-source SMPP gateway (jookies/jasmin). Its HTTP API
// posts incoming SMS and delivery receipts to us as forms and wants the
// body "ACK/Jasmin" back; we send through its /send HTTP API with the
// account's credentials in the query (reference handlers.md A.2 "JS").
#include <string>

#include "handlers/handler.h"

namespace courier {

class JasminHandler : public ChannelHandler {
 public:
  std::string Code() const override { return "JS"; }
  std::string Name() const override { return "Jasmin"; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

  // GSM 03.38 unpacked septets (one byte each, extension characters as
  // ESC + code) to UTF-8 and back; Encode leaves characters outside GSM7
  // out (callers check IsGsm7 first).
  static std::string DecodeGsm7(const std::string& septets);
  static std::string EncodeGsm7(const std::string& utf8);
};

}  // namespace courier
