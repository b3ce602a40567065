#pragma once
// WC — WeChat official accounts (reference handlers-2.md 7). URNs are
// wechat:<OpenID>, the follower's id for this account.
//
// Receiving: WeChat calls the channel's URL (the server configuration of
// the account) with signature, timestamp and nonce in the query string:
// the lower-case hex SHA-1 of the three strings `secret` (the account's
// Token), timestamp and nonce, sorted and joined.
// - GET is WeChat checking the URL: a matching signature is answered 200
//   with the echostr as text/plain, anything else 400 "unknown request".
// - POST is a push, a plain-text-mode XML <xml>...</xml> (an encrypted
//   push lacks the fields below and is refused). FromUserName and MsgType
//   are required ("request XML doesn't match required schema: field
//   'FromUserName' required"), and MsgId or Event ("missing parameters,
//   must have either 'MsgId' or 'Event'"). An event "subscribe" (the user
//   followed the account) is a new_conversation event; other events are
//   ignored ("unknown event type"). Anything else is a msg: its Content,
//   the external id MsgId, CreateTime as when it was received; an image,
//   voice, video or shortvideo brings its media as the attachment
//   <api>/cgi-bin/media/get?media_id=<MediaId> (MediaId required;
//   courier-fetch adds the access_token, MediaRequestWithToken; an
//   errcode answered with 200 is an error, not the media, and a refused
//   token is bought again and the download tried once more), a
//   location its place (LocationMsg of Location_X, Location_Y, Label).
// - Every success, ignored pushes included, is answered 200 with an empty
//   body: WeChat takes any other body as a reply to pass on to the user,
//   and tells the user the account is out of service when it cannot.
// - The XML is read with nothing outside the body: a DOCTYPE is refused
//   before parsing (no DTD, no entity, external or internal), the parser's
//   external entities are off besides, and a body over 64 KiB is refused.
//
// Sending: an access token bought with GET <api>/cgi-bin/token?appid=
// <wechat_app_id>&grant_type=client_credential&secret=<wechat_app_secret>
// and kept per channel for its expires_in (default 7200 s); then, per part
// of the text and attachment URLs split at max_length (default 1600), POST
// <api>/cgi-bin/message/custom/send?access_token=<token> with {"msgtype":
// "text", "touser": <OpenID>, "text": {"content": <part>}}. WeChat gives
// no message id.
//
// Judging: no answer, 408, 425 and 5xx are E, 429 is E throttled for
// Retry-After, other non-2xx F (FailedAnswer). A 2xx is read for WeChat's
// errcode: absent or 0 is W; -1 (system busy) and 45009 (the daily API
// quota is used up) are E; 40001, 40014 and 42001 (access token invalid or
// expired) refuse the token: it is dropped and the part sent once more
// with a new one, and a refusal of that one too is F; every other code is
// F with WeChat's errmsg (45015: the 48-hour window since the user last
// wrote is over; 45047: too many msgs in that window; 43004: the user does
// not follow the account). The token request is judged the same by HTTP
// status; a 2xx without a token is E and names WeChat's errcode and errmsg
// ("access token request refused: errcode 40013 (invalid appid)").
//
// Departures from the reference:
// - besides the channel's root (/c/wc/<uuid>, the reference's one
//   route), GET and POST /c/wc/<uuid>/receive take the same requests, for
//   accounts set up before courier served the root;
// - pushes are signature-checked as WeChat signs them (401 "missing
//   request signature" / "invalid request signature"; the reference checks
//   only the GET), and a channel without `secret` takes no webhook;
// - CreateTime is read as seconds, as WeChat sends it (the reference read
//   milliseconds, putting every msg in January 1970);
// - sends read WeChat's errcode and a non-2xx other than 5xx and 429 fails
//   the msg (the reference took every answer but 5xx and 429 as W);
// - a refused token is dropped and the part sent once more (the reference
//   kept a refused token until it expired);
// - shortvideo msgs carry their media like video, and location msgs their
//   place (the reference took both as msgs with no text);
// - the 400 answers are courier's JSON error envelope, not text/plain;
// - the text is split at max_length characters, not bytes;
// - no contact names are looked up (the reference described new contacts
//   with GET <api>/cgi-bin/user/info): courier has no step for new
//   contacts, and a lookup per msg would cost a token and a call each;
//
// Config: secret (the Token of the server configuration; needed to
// receive), wechat_app_id and wechat_app_secret (needed to send; the
// secret is redacted from every log, the token request's URL included),
// base_url (replaces https://api.weixin.qq.com for the token, the send and
// the media URLs), max_length. The token is never logged: it is redacted
// from the token request's answer and from the send's URL.
//
// Thread-safety: Receive is stateless; Send shares the token cache, which
// locks (AccessTokenCache).
#include "handlers/access_token_cache.h"
#include "handlers/handler.h"

namespace courier {

class WeChatHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  // A media URL on WeChat's API gets the channel's access_token (bought as
  // for sending, from this process's cache); other URLs go as they are.
  Result<HttpRequestSpec> MediaRequestWithToken(const Channel& channel, const std::string& url, HandlerContext& ctx,
                                                std::vector<ChannelLog>& logs) const override;
  // WeChat answers a refused media download 200 with its errcode; a
  // refused token (40001, 40014, 42001) is forgotten.
  std::optional<MediaRefusal> RefusedMedia(const Channel& channel, const HttpRequestSpec& request,
                                           const HttpExchange& answer) const override;

 private:
  // The channel's token, from the cache or from WeChat; `refusal` is set
  // to the token endpoint's answer when it gave none.
  Result<handlers::AccessTokenCache::Token> AccessToken(const Channel& channel, const Msg& msg, HandlerContext& ctx,
                                                        const std::string& api, std::vector<ChannelLog>& logs,
                                                        std::optional<HttpExchange>& refusal) const;

  mutable handlers::AccessTokenCache tokens_;
};

}  // namespace courier
