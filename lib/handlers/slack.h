#pragma once
// SL — Slack: a bot in a Slack workspace (no reference section; built from
// Slack's current docs). Slack posts Events API callbacks as JSON to the
// receive route, signed with the app's signing secret (X-Slack-Signature
// "v0=" + hex HMAC-SHA256 over "v0:<timestamp>:<body>"); the one-off
// url_verification request is answered with its challenge. Sending uses
// chat.postMessage with the bot token; attachments go as links in the text.
// Slack has no delivery reports.
//
// Shared files. A file's url_private needs the bot token to fetch, which
// no consumer of our msgs has, so each file of a message is made public
// while the webhook is read: files.sharedPublicURL with the user token
// (user tokens only: Slack refuses bots), and the attachment is the
// file's url_private with its pub_secret (the last '-' part of the
// permalink_public Slack answers) as "?pub_secret=", which anyone can
// fetch. A file the event already says is public (public_url_shared) needs
// no call. When the call fails (no answer, an error such as not_allowed
// for a workspace without public sharing, or no permalink_public) the msg
// is still stored, with the file's url_private, and the failed call is a
// channel log with the error: failing the webhook instead would have
// Slack retry it three times and then drop the message for good, while a
// private URL loses nothing (the bot token still fetches it). Without a
// user_token configured, files keep their url_private and no call is
// made. Slack expects an answer within 3 s and retries otherwise; a retry
// of a message already stored is a duplicate by its ts, stored once.
//
// Sending: text split on word boundaries at the channel's max_length
// (else 4000); Web API errors that a retry meets again (channel_not_found,
// not_in_channel, invalid_auth, token_revoked, missing_scope ..., list in
// slack.cpp) fail the msg, ratelimited (as HTTP 429 or in a 200) is
// throttled, other errors are retried; a 2xx saying ok:true without the
// message's ts, or one that cannot be read, fails it (it may have been
// posted).
//
// Quick replies: the last part of a msg with quick replies carries Block
// Kit blocks, its text as a section (so split at a section's 3000
// characters) and a button per text or link reply (location replies are
// left out: Slack cannot ask for one). A click on a text reply's button
// reaches the interactive route (the app's Interactivity Request URL) as
// a signed block_actions payload and becomes the user's msg with the
// reply's text; clicks on link buttons and other apps' buttons are
// ignored.
//
// Config: bot_token (xoxb-…), signing_secret, user_token (xoxp-…, with
// files:write; optional).
#include "handlers/handler.h"

namespace courier {

class SlackHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  // Shared files are made public while the webhook is read.
  bool ReceiveMayCallOut(const Route&) const override { return true; }
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;
};

}  // namespace courier
