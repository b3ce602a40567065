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
          {"x-slack-signature", "v0=" + handlers::HmacSha256Hex(secret, "v0:" + timestamp + ":" + body)}};
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

TEST(SlackHandler, Basics) {
  SlackHandler h;
  EXPECT_EQ(h.Code(), "SL");
  EXPECT_EQ(h.Name(), "Slack");
  auto routes = h.Routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].action, "receive");
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
      SignedCase({.label = "file share", .body = Message(
                      R"("subtype":"file_share","text":"my pic","files":[{"id":"F1","name":"pic.png","mimetype":"image/png",)"
                      R"("url_private":"https://files.slack.com/files-pri/T1-F1/pic.png"},)"
                      R"({"id":"F2","name":"doc","url_private":"https://files.slack.com/files-pri/T1-F2/doc.pdf"}])"),
                  .msgs = {{.urn = "slack:U2147483697", .text = "my pic", .external_id = "1355517523.000005",
                            .attachments = {"image/png:https://files.slack.com/files-pri/T1-F1/pic.png",
                                            "application/pdf:https://files.slack.com/files-pri/T1-F2/doc.pdf"}}}}),
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
      {.label = "invalid_auth errors", .urn = urn, .responses = {{kPath, Fail("invalid_auth")}},
       .status = MsgStatus::kErrored, .error = "invalid_auth", .requests = {{.path = kPath}}},
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
      {.label = "ok without ts", .urn = urn, .responses = {{kPath, {.body = R"({"ok":true})"}}},
       .status = MsgStatus::kErrored, .error = "no 'ts' in response", .requests = {{.path = kPath}}},
      {.label = "a failed second part fails the send", .text = long_text, .urn = urn,
       .responses = {{kPath, Ok("1.1")}, {kPath, Fail("msg_too_long")}}, .status = MsgStatus::kFailed,
       .error = "msg_too_long", .requests = {{.path = kPath}, {.path = kPath}}},
      {.label = "no bot token: no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no bot_token set for SL channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("bot_token"); }},
  });
}

}  // namespace
