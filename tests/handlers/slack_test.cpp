// SL — Slack: receive (url_verification, signed message events, files,
// ignored events, signature and timestamp checks) and send
// (chat.postMessage, split text, files as links, errors, rate limits).
#include "handlers/slack.h"

#include <ctime>

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kSecret = "8f742231b10e8888abcd99yyyzzz85a5";
const std::string kBotToken = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
const char* kJson = "application/json";

Channel SlChannel() {
  return TestChannel("SL", "U0BOT", "", {{"bot_token", kBotToken}, {"signing_secret", kSecret}}, {"slack"});
}

std::string Now(int64_t offset = 0) { return std::to_string(static_cast<int64_t>(std::time(nullptr)) + offset); }

// Headers Slack would send for `body` at `timestamp`, signed with `secret`.
std::map<std::string, std::string> Signed(const std::string& body, const std::string& timestamp = Now(),
                                          const std::string& secret = kSecret) {
  return {{"x-slack-request-timestamp", timestamp},
          {"x-slack-signature", "v0=" + courier::HmacSha256Hex(secret, "v0:" + timestamp + ":" + body)}};
}

std::string Event(const std::string& event) {
  return R"({"token":"x","team_id":"T061EG9R6","api_app_id":"A0PNCHHK2","type":"event_callback",)"
         R"("event_id":"Ev0PV52K21","event_time":1355517523,"event":)" + event + "}";
}

std::string Message(const std::string& extra) {
  return Event(R"({"type":"message","channel":"D024BE91L","user":"U2147483697","ts":"1355517523.000005",)"
               R"("channel_type":"im")" + (extra.empty() ? "" : "," + extra) + "}");
}

ReceiveCase SignedCase(ReceiveCase c) {
  auto signed_headers = Signed(c.body);
  for (auto& [k, v] : signed_headers) c.headers.emplace(k, v);
  c.action = "receive";
  c.content_type = kJson;
  return c;
}

const Micros kTs = 1355517523 * kMicrosPerSecond + 5;

const std::string kUserToken = "xoxp-123456789012-123456789012-1234567890123-0123456789abcdef0123456789abcdef";
const char* kSharePath = "/api/files.sharedPublicURL";

// A message sharing two files, as the Events API posts it.
std::string FileShare(bool first_already_public = false) {
  return Message(R"("subtype":"file_share","text":"my pic","files":[{"id":"F024BERPE","created":1356032811,)"
                 R"("timestamp":1356032811,"name":"1.png","title":"1.png","mimetype":"image/png","filetype":"png",)"
                 R"("user":"U2147483697","mode":"hosted","is_external":false,"is_public":false,)"
                 R"("public_url_shared":)" + std::string(first_already_public ? "true" : "false") +
                 R"(,"url_private":"https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png",)"
                 R"("url_private_download":"https://files.slack.com/files-pri/T024BE7LD-F024BERPE/download/1.png",)"
                 R"("permalink":"https://coolkids.slack.com/files/U2147483697/F024BERPE/1.png",)"
                 R"("permalink_public":"https://slack-files.com/T024BE7LD-F024BERPE-8004f909b1"},)"
                 R"({"id":"F2","name":"doc","mimetype":"","public_url_shared":false,)"
                 R"("url_private":"https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf",)"
                 R"("permalink_public":"https://slack-files.com/T024BE7LD-F2-c66246aa01"}])");
}

// files.sharedPublicURL's answer: the file object, now public.
MockResponse Shared(const std::string& id, const std::string& name, const std::string& secret) {
  return {.body = R"({"ok":true,"file":{"id":")" + id + R"(","name":")" + name + R"(","mode":"hosted",)"
                  R"("url_private":"https://files.slack.com/files-pri/T024BE7LD-)" + id + "/" + name + R"(",)"
                  R"("permalink_public":"https://slack-files.com/T024BE7LD-)" + id + "-" + secret + R"(",)"
                  R"("is_public":false,"public_url_shared":true}})"};
}

// Gives the channel a user token and scripts files.sharedPublicURL.
std::function<void(Channel&, MockProvider&)> WithUserToken(std::vector<MockResponse> answers) {
  return [answers](Channel& c, MockProvider& p) {
    c.config["user_token"] = kUserToken;
    for (const auto& a : answers) p.On(kSharePath, a);
  };
}

TEST(SlackHandler, Basics) {
  SlackHandler h;
  EXPECT_EQ(h.Code(), "SL");
  EXPECT_EQ(h.Name(), "Slack");
  auto routes = h.Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].action, "receive");
  EXPECT_EQ(routes[1].method, "POST");
  EXPECT_EQ(routes[1].action, "interactive");
}

TEST(SlackHandler, Receive) {
  SlackHandler h;
  const std::string text_body = Message(R"("text":"Hello World")");
  RunReceiveCases(h, SlChannel(), {
      SignedCase({.label = "url_verification echoes the challenge",
                  .body = R"({"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})",
                  .response_body = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}),
      SignedCase({.label = "url_verification without challenge", .body = R"({"type":"url_verification"})",
                  .error = "field 'challenge' required"}),
      SignedCase({.label = "text message", .body = text_body,
                  .msgs = {{.urn = "slack:U2147483697", .text = "Hello World", .external_id = "1355517523.000005",
                            .received_on = kTs}}}),
      SignedCase({.label = "unicode", .body = Message(R"("text":"Muraho \u263a \ud83c\uddf7\ud83c\uddfc")"),
                  .msgs = {{.urn = "slack:U2147483697", .text = "Muraho ☺ 🇷🇼", .external_id = "1355517523.000005"}}}),
      SignedCase({.label = "a ts that is no time is dropped",
                  .body = Event(R"({"type":"message","channel":"D024BE91L","user":"U2147483697","ts":".5","text":"hi"})"),
                  .msgs = {{.urn = "slack:U2147483697", .text = "hi", .external_id = ".5", .no_received_on = true}}}),
      SignedCase({.label = "a ts past any clock is dropped",
                  .body = Event(R"({"type":"message","channel":"D024BE91L","user":"U2147483697","ts":"99999999999999999999.1","text":"hi"})"),
                  .msgs = {{.urn = "slack:U2147483697", .text = "hi", .external_id = "99999999999999999999.1", .no_received_on = true}}}),
      SignedCase({.label = "file share without a user token: private URLs, no call", .body = FileShare(),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf"}}},
                  .extra_logs = 0}),
      SignedCase({.label = "file share made public", .body = FileShare(),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png?pub_secret=8004f909b1",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf?pub_secret=c66246aa01"}}},
                  .setup = WithUserToken({Shared("F024BERPE", "1.png", "8004f909b1"), Shared("F2", "doc.pdf", "c66246aa01")}),
                  .extra_logs = 2}),
      SignedCase({.label = "public sharing not allowed: kept private, msg stored", .body = FileShare(),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf"}}},
                  .setup = WithUserToken({{.body = R"({"ok":false,"error":"not_allowed"})"},
                                          {.body = R"({"ok":false,"error":"not_allowed"})"}}),
                  .extra_logs = 2}),
      SignedCase({.label = "one share fails (500), the other is public", .body = FileShare(),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf?pub_secret=c66246aa01"}}},
                  .setup = WithUserToken({{.status = 500, .body = "oops", .content_type = "text/plain"},
                                          Shared("F2", "doc.pdf", "c66246aa01")}),
                  .extra_logs = 2}),
      SignedCase({.label = "answer without permalink_public: kept private", .body = FileShare(),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf?pub_secret=c66246aa01"}}},
                  .setup = WithUserToken({{.body = R"({"ok":true,"file":{"id":"F024BERPE"}})"},
                                          Shared("F2", "doc.pdf", "c66246aa01")}),
                  .extra_logs = 2}),
      SignedCase({.label = "file already public: no call for it", .body = FileShare(true),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T024BE7LD-F024BERPE/1.png?pub_secret=8004f909b1",
                                            "application/pdf:https://files.slack.com/files-pri/T024BE7LD-F2/doc.pdf?pub_secret=c66246aa01"}}},
                  .setup = WithUserToken({Shared("F2", "doc.pdf", "c66246aa01")}), .extra_logs = 1}),
      SignedCase({.label = "thread broadcast", .body = Message(R"("subtype":"thread_broadcast","text":"hi")"),
                  .msgs = {{.urn = "slack:U2147483697", .text = "hi", .external_id = "1355517523.000005"}}}),
      SignedCase({.label = "bot message ignored", .body = Message(R"("bot_id":"B123","text":"from a bot")"),
                  .ignored = "message from a bot"}),
      SignedCase({.label = "bot_message subtype ignored", .body = Message(R"("subtype":"bot_message","text":"x")"),
                  .ignored = "message from a bot"}),
      SignedCase({.label = "edit ignored", .body = Message(R"("subtype":"message_changed")"),
                  .ignored = "message subtype 'message_changed'"}),
      SignedCase({.label = "other event ignored",
                  .body = Event(R"({"type":"reaction_added","user":"U1","reaction":"thumbsup"})"),
                  .ignored = "unhandled event 'reaction_added'"}),
      SignedCase({.label = "app_rate_limited ignored",
                  .body = R"({"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820})",
                  .ignored = "unhandled type 'app_rate_limited'"}),
      SignedCase({.label = "missing type", .body = R"({"token":"x"})", .error = "field 'type' required"}),
      SignedCase({.label = "missing event", .body = R"({"type":"event_callback"})", .error = "field 'event' required"}),
      SignedCase({.label = "missing user",
                  .body = Event(R"({"type":"message","channel":"D1","text":"hi","ts":"1355517523.000005"})"),
                  .error = "field 'event.user' required"}),
      SignedCase({.label = "missing ts", .body = Event(R"({"type":"message","channel":"D1","user":"U1","text":"hi"})"),
                  .error = "field 'event.ts' required"}),
      SignedCase({.label = "malformed JSON", .body = R"({"type":"event_callback",)",
                  .error = "unable to parse request JSON"}),
      {.label = "no signature", .action = "receive", .body = text_body, .content_type = kJson,
       .error = "missing request signature", .unauthorized = true},
      {.label = "signature with the wrong secret", .action = "receive", .body = text_body, .content_type = kJson,
       .headers = Signed(text_body, Now(), "not-the-secret"), .error = "invalid request signature",
       .unauthorized = true},
      {.label = "body changed after signing", .action = "receive", .body = Message(R"("text":"Hello Mallory")"),
       .content_type = kJson, .headers = Signed(text_body), .error = "invalid request signature",
       .unauthorized = true},
      {.label = "stale timestamp", .action = "receive", .body = text_body, .content_type = kJson,
       .headers = Signed(text_body, Now(-6 * 60)), .error = "stale request timestamp", .unauthorized = true},
      {.label = "timestamp from the future", .action = "receive", .body = text_body, .content_type = kJson,
       .headers = Signed(text_body, Now(6 * 60)), .error = "stale request timestamp", .unauthorized = true},
      {.label = "non-numeric timestamp", .action = "receive", .body = text_body, .content_type = kJson,
       .headers = Signed(text_body, "abc"), .error = "invalid request timestamp", .unauthorized = true},
      {.label = "url_verification must be signed too", .action = "receive",
       .body = R"({"challenge":"abc","type":"url_verification"})", .content_type = kJson,
       .error = "missing request signature", .unauthorized = true},
  });
}

TEST(SlackHandler, ReceiveWithoutSigningSecret) {
  SlackHandler h;
  Channel channel = TestChannel("SL", "U0BOT", "", {{"bot_token", kBotToken}}, {"slack"});
  const std::string body = Message(R"("text":"hi")");
  RunReceiveCases(h, channel, {
      {.label = "unconfigured secret rejects", .action = "receive", .body = body, .content_type = kJson,
       .headers = Signed(body), .error = "no signing_secret set", .unauthorized = true},
  });
}

MockResponse Ok(const std::string& ts) {
  return {.body = R"({"ok":true,"channel":"D024BE91L","ts":")" + ts + R"(","message":{"text":"x"}})"};
}
MockResponse Fail(const std::string& error, int status = 200) {
  return {.status = status, .body = R"({"ok":false,"error":")" + error + R"("})"};
}

const char* kPath = "/api/chat.postMessage";

// A click on a button, as Slack posts interactions: form-encoded
// `payload`, signed like events.
ReceiveCase Interaction(ReceiveCase c, const std::string& payload) {
  c.body = FormEncode({{"payload", payload}});
  for (auto& [k, v] : Signed(c.body)) c.headers.emplace(k, v);
  c.action = "interactive";
  return c;
}

std::string BlockActions(const std::string& action_id, const std::string& value) {
  return R"({"type":"block_actions","user":{"id":"U2147483697","username":"nic","team_id":"T061EG9R6"},)"
         R"("api_app_id":"A0PNCHHK2","token":"x","container":{"type":"message","message_ts":"1548261231.000200",)"
         R"("channel_id":"D024BE91L","is_ephemeral":false},"trigger_id":"12466734323.1395872398","team":{"id":"T061EG9R6"},)"
         R"("channel":{"id":"D024BE91L","name":"directmessage"},"response_url":"https://hooks.slack.com/actions/T/1/x",)"
         R"("actions":[{"action_id":")" + action_id + R"(","block_id":"b1","text":{"type":"plain_text","text":"Yes"},)" +
         value + R"("type":"button","action_ts":"1548426417.840180"}]})";
}

TEST(SlackHandler, ReceiveQuickReplyClicks) {
  SlackHandler h;
  const Micros click = 1548426417 * kMicrosPerSecond + 840180;
  Channel channel = SlChannel();
  RunReceiveCases(h, channel, {
      Interaction({.label = "a reply button clicked is the user's msg",
                   .msgs = {{.urn = "slack:U2147483697", .text = "Yes", .external_id = "1548426417.840180",
                             .received_on = click}}},
                  BlockActions("quick_reply_0", R"("value":"Yes",)")),
      Interaction({.label = "a link button clicked is no msg", .ignored = "no quick reply clicked"},
                  BlockActions("quick_reply_url_1", R"("url":"https://example.com/d",)")),
      Interaction({.label = "another app's button is no msg", .ignored = "no quick reply clicked"},
                  BlockActions("approve_request", R"("value":"42",)")),
      Interaction({.label = "other interactions are ignored", .ignored = "unhandled interaction 'view_submission'"},
                  R"({"type":"view_submission","user":{"id":"U2147483697"},"view":{}})"),
      Interaction({.label = "no user", .error = "field 'user.id' required"},
                  R"({"type":"block_actions","actions":[]})"),
      Interaction({.label = "a payload that is no JSON", .error = "not a JSON object"}, "{oops"),
      {.label = "no payload", .action = "interactive", .body = "x=1", .headers = Signed("x=1"),
       .error = "field 'payload' required"},
      {.label = "unsigned interactions are refused", .action = "interactive",
       .body = FormEncode({{"payload", BlockActions("quick_reply_0", R"("value":"Yes",)")}}),
       .headers = Signed("something else"), .error = "invalid request signature", .unauthorized = true},
  });
}

TEST(SlackHandler, Send) {
  SlackHandler h;
  const std::string urn = "slack:U2147483697";
  const std::string long_text = std::string(3990, 'a') + " " + std::string(100, 'b');
  const std::map<std::string, std::string> auth = {{"authorization", "Bearer " + kBotToken},
                                                   {"content-type", "application/json; charset=utf-8"}};
  RunSendCases(h, SlChannel(), {
      {.label = "text", .urn = urn, .responses = {{kPath, Ok("1503435956.000247")}},
       .external_id = "1503435956.000247",
       .requests = {{.path = kPath, .headers = auth,
                     .body = R"({"channel":"U2147483697","text":"Simple Message"})"}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{kPath, Ok("1.2")}}, .external_id = "1.2",
       .requests = {{.path = kPath, .body_contains = {"Muraho"}}}},
      {.label = "long text split, first ts kept", .text = long_text, .urn = urn,
       .responses = {{kPath, Ok("1.1")}, {kPath, Ok("1.2")}}, .external_id = "1.1",
       .requests = {{.path = kPath, .body_contains = {std::string(3990, 'a') + "\""}},
                    {.path = kPath, .body = R"({"channel":"U2147483697","text":")" + std::string(100, 'b') + "\"}"}}},
      {.label = "files as links", .text = "look", .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg", "application/pdf:https://foo.bar/doc.pdf"},
       .responses = {{kPath, Ok("1.3")}}, .external_id = "1.3",
       .requests = {{.path = kPath,
                     .body = R"({"channel":"U2147483697","text":"look\nhttps://foo.bar/image.jpg\nhttps://foo.bar/doc.pdf"})"}}},
      {.label = "channel_not_found fails", .urn = urn, .responses = {{kPath, Fail("channel_not_found")}},
       .status = MsgStatus::kFailed, .error = "received error from slack: channel_not_found",
       .requests = {{.path = kPath}}},
      {.label = "not_in_channel fails", .urn = urn, .responses = {{kPath, Fail("not_in_channel")}},
       .status = MsgStatus::kFailed, .error = "received error from slack: not_in_channel", .requests = {{.path = kPath}}},
      {.label = "invalid_auth fails", .urn = urn, .responses = {{kPath, Fail("invalid_auth")}},
       .status = MsgStatus::kFailed, .error = "invalid_auth", .requests = {{.path = kPath}}},
      {.label = "token_revoked fails", .urn = urn, .responses = {{kPath, Fail("token_revoked")}},
       .status = MsgStatus::kFailed, .error = "token_revoked", .requests = {{.path = kPath}}},
      {.label = "service_unavailable is retried", .urn = urn, .responses = {{kPath, Fail("service_unavailable")}},
       .status = MsgStatus::kErrored, .error = "service_unavailable", .requests = {{.path = kPath}}},
      {.label = "an error Slack adds later is retried", .urn = urn, .responses = {{kPath, Fail("brand_new_error")}},
       .status = MsgStatus::kErrored, .error = "brand_new_error", .requests = {{.path = kPath}}},
      {.label = "HTTP 429 with Retry-After throttles", .urn = urn,
       .responses = {{kPath, {.status = 429, .body = R"({"ok":false,"error":"ratelimited"})",
                              .headers = {{"Retry-After", "30"}}}}},
       .status = MsgStatus::kErrored, .error = "ratelimited", .requests = {{.path = kPath}},
       .throttled_for_seconds = 30},
      {.label = "ratelimited in a 200 throttles", .urn = urn, .responses = {{kPath, Fail("ratelimited")}},
       .status = MsgStatus::kErrored, .error = "ratelimited", .requests = {{.path = kPath}},
       .throttled_for_seconds = 1},
      {.label = "server error", .urn = urn,
       .responses = {{kPath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kPath}}},
      {.label = "ok without ts: failed, it was posted", .urn = urn,
       .responses = {{kPath, {.body = R"({"ok":true,"channel":"D024BE91L"})"}}},
       .status = MsgStatus::kFailed, .error = "no 'ts' in response", .requests = {{.path = kPath}}},
      {.label = "unreadable 200: failed, it may have been posted", .urn = urn,
       .responses = {{kPath, {.body = "<html>ok</html>", .content_type = "text/html"}}},
       .status = MsgStatus::kFailed, .error = "no 'ok' in response", .requests = {{.path = kPath}}},
      {.label = "404 without a body: failed", .urn = urn,
       .responses = {{kPath, {.status = 404, .body = "Not Found", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 404", .requests = {{.path = kPath}}},
      {.label = "a failed second part fails the send", .text = long_text, .urn = urn,
       .responses = {{kPath, Ok("1.1")}, {kPath, Fail("msg_too_long")}}, .status = MsgStatus::kFailed,
       .error = "msg_too_long", .requests = {{.path = kPath}, {.path = kPath}}},
      {.label = "no bot token: no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no bot_token set for SL channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("bot_token"); }},
      {.label = "quick replies as buttons (locations left out)", .text = "Pick one", .urn = urn,
       .responses = {{kPath, Ok("3.1")}}, .external_id = "3.1",
       .requests = {{.path = kPath, .headers = auth,
                     .body = R"({"channel":"U2147483697","text":"Pick one","blocks":[)"
                             R"({"type":"section","text":{"type":"mrkdwn","text":"Pick one"}},)"
                             R"({"type":"actions","elements":[)"
                             R"({"type":"button","text":{"type":"plain_text","text":"Yes"},"value":"Yes","action_id":"quick_reply_0"},)"
                             R"({"type":"button","text":{"type":"plain_text","text":"Docs"},"url":"https://example.com/d","action_id":"quick_reply_url_2"}]}]})"}},
       .quick_replies = {"Yes", QuickReply::Location("Where are you?"), QuickReply::Url("Docs", "https://example.com/d")}},
      {.label = "with buttons a long text splits at a section's 3000, buttons on the last part", .text = long_text,
       .urn = urn, .responses = {{kPath, Ok("3.2")}, {kPath, Ok("3.3")}}, .external_id = "3.2",
       .requests = {{.path = kPath, .body = R"({"channel":"U2147483697","text":")" + std::string(3000, 'a') + "\"}"},
                    {.path = kPath, .body_contains = {R"("text":")" + std::string(990, 'a') + " " +
                                                          std::string(100, 'b') + "\"", R"("value":"No")"}}},
       .quick_replies = {"No"}},
      {.label = "only a location reply: no blocks", .text = "Where?", .urn = urn, .responses = {{kPath, Ok("3.4")}},
       .external_id = "3.4", .requests = {{.path = kPath, .body = R"({"channel":"U2147483697","text":"Where?"})"}},
       .quick_replies = {QuickReply::Location("Send location")}},
      {.label = "channel max_length splits on words", .text = "Muraho neza cyane", .urn = urn,
       .responses = {{kPath, Ok("2.1")}, {kPath, Ok("2.2")}}, .external_id = "2.1",
       .requests = {{.path = kPath, .body = R"({"channel":"U2147483697","text":"Muraho neza"})"},
                    {.path = kPath, .body = R"({"channel":"U2147483697","text":"cyane"})"}},
       .setup = [](Channel& c) { c.config["max_length"] = "12"; }},
  });
}

// What making a file public asks of Slack, and what a failure leaves for
// the operator.
TEST(SlackHandler, FileShareRequestAndFailureLog) {
  SlackHandler h;
  for (const Route& route : h.Routes()) EXPECT_TRUE(h.ReceiveMayCallOut(route));
  MockProvider provider;
  provider.On(kSharePath, Shared("F024BERPE", "1.png", "8004f909b1"));
  provider.On(kSharePath, {.body = R"({"ok":false,"error":"public_video_not_allowed"})"});
  Channel channel = SlChannel();
  channel.config["base_url"] = provider.url();
  channel.config["user_token"] = kUserToken;
  const std::string body = FileShare();
  std::map<std::string, std::string> headers = Signed(body);
  headers["content-type"] = kJson;
  auto request = WebhookRequest::Build("POST", "/c/sl/" + std::string(kTestChannelUUID) + "/receive", headers, body,
                                       kTestBaseUrl, "receive");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  WebhookResult r = h.Receive(h.Routes()[0], channel, request, ctx);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.msgs.size(), 1u);

  auto requests = provider.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, kSharePath);
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer " + kUserToken);  // the user's token, not the bot's
  EXPECT_EQ(requests[0].form["file"], "F024BERPE");
  EXPECT_EQ(requests[1].form["file"], "F2");

  ASSERT_EQ(r.extra_logs.size(), 2u);
  EXPECT_EQ(r.extra_logs[0].error, "");
  EXPECT_NE(r.extra_logs[1].error.find("file F2 kept private: received error from slack: public_video_not_allowed"),
            std::string::npos)
      << r.extra_logs[1].error;
  for (const auto& log : r.extra_logs) {
    EXPECT_EQ(log.request.find(kUserToken), std::string::npos);
    EXPECT_FALSE(log.msg_id.has_value());
  }
}

}  // namespace
