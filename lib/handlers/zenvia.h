#pragma once
// ZVW / ZVS — Zenvia (Brazil) on its v2 API: WhatsApp and SMS channels
// share one webhook format (events of type MESSAGE and MESSAGE_STATUS) and
// one send endpoint per channel, /v2/channels/<whatsapp|sms>/messages,
// with the API token in X-API-TOKEN (reference handlers.md A.2 "ZV" and
// B: at HEAD the v1 handler was split into ZVW and ZVS on the v2 API).
//
// A text longer than the channel's max_length (default 4096 WhatsApp,
// 1152 SMS) goes as several text contents of one request. A send refused
// with a 4xx but 429, or accepted without an id, fails the msg (F). A
// status event with a code outside Zenvia's documented ones is recorded as
// E with the code as the reason (not refused); DELETED and VERIFIED are
// ignored with an info entry.
#include "handlers/handler.h"

namespace courier {

class ZenviaHandler : public ChannelHandler {
 public:
  enum class Kind { kWhatsApp, kSms };
  explicit ZenviaHandler(Kind kind) : kind_(kind) {}
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

 private:
  Kind kind_;
};

}  // namespace courier
