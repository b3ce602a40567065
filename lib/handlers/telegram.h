#pragma once
// TG — Telegram: a bot on the Telegram Bot API (reference handlers.md A.1
// "TG"). Telegram posts Updates as JSON to the receive route; media are
// looked up with getFile while receiving. Sending goes to
// <base>/bot<auth_token>/<method>, form-encoded. Telegram has no delivery
// reports.
//
// Webhooks are authenticated when the channel has a secret_token (the
// secret_token given to setWebhook, which Telegram sends back in every
// X-Telegram-Bot-Api-Secret-Token header): a missing or different header
// is 401 and nothing is stored.
//
// The bot token is the bot's only credential and Telegram's file URLs
// carry it (<base>/file/bot<token>/<file_path>), so a received file is
// stored token-free, as "<mime>:<base>/file/bot/<file_path>" (the token's
// place left empty); TelegramFetchUrl puts the token back when courier
// itself fetches the file. No answer, msg, event or log holds the token.
#include <string>

#include "core/status.h"
#include "handlers/handler.h"

namespace courier {

// The URL courier fetches a received file from: `stored_url` (the URL part
// of an attachment this handler stored, "<base>/file/bot/<file_path>")
// with the channel's auth_token in the token's place. The result is a
// credential: it must reach no log, answer or store. InvalidArgument when
// `stored_url` is not such a URL of the channel's base_url, or the channel
// has no auth_token.
Result<std::string> TelegramFetchUrl(const Channel& channel, const std::string& stored_url);

class TelegramHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
