// LN — LINE: signature, receive (text, media, location, follow, unfollow,
// ignored events, errors) and push sends (text, split, images, links,
// batches of 5, retry key, errors, throttling).
#include "handlers/line.h"

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kSecret = "line-channel-secret-9a8b7c";
const std::string kToken = "line-access-token-1q2w3e4r";
const char* kJson = "application/json";
const std::string kUser = "U4af4980629e7b3c3f9b1f2b7ad5d6b45";
const std::string kUrn = "line:" + kUser;

Channel LnChannel() {
  return TestChannel("LN", "1234567890", "", {{"secret", kSecret}, {"auth_token", kToken}}, {"line"});
}

ReceiveCase Signed(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  if (!c.headers.count("x-line-signature")) c.headers["x-line-signature"] = courier::HmacSha256Base64(kSecret, c.body);
  return c;
}

std::string Events(const std::string& events) {
  return R"({"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[)" + events + "]}";
}

std::string MessageEvent(const std::string& message, const std::string& source = "") {
  return R"({"type":"message","mode":"active","timestamp":1459991487970,"webhookEventId":"01FZ","replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",)"
         R"("source":)" + (source.empty() ? R"({"type":"user","userId":")" + kUser + R"("})" : source) +
         R"(,"message":)" + message + "}";
}

TEST(LineHandler, Basics) {
  LineHandler h;
  EXPECT_EQ(h.Code(), "LN");
  EXPECT_EQ(h.Name(), "Line");
  ASSERT_EQ(h.Routes().size(), 1u);
  EXPECT_EQ(h.Routes()[0].method, "POST");
  EXPECT_EQ(h.Routes()[0].action, "receive");
}

TEST(LineHandler, Receive) {
  LineHandler h;
  const std::string content = "https://api-data.line.me/v2/bot/message/";
  RunReceiveCases(h, LnChannel(), {
      Signed({.label = "text", .body = Events(MessageEvent(R"({"id":"100001","type":"text","text":"Hello, world"})")),
              .msgs = {{.urn = kUrn, .text = "Hello, world", .external_id = "100001",
                        .received_on = Micros{1459991487970} * 1000}}}),
      Signed({.label = "unicode", .body = Events(MessageEvent(R"({"id":"100002","type":"text","text":"Muraho \u263a"})")),
              .msgs = {{.urn = kUrn, .text = "Muraho ☺", .external_id = "100002"}}}),
      Signed({.label = "two events",
              .body = Events(MessageEvent(R"({"id":"1","type":"text","text":"one"})") + "," +
                             MessageEvent(R"({"id":"2","type":"text","text":"two"})")),
              .msgs = {{.urn = kUrn, .text = "one", .external_id = "1"}, {.urn = kUrn, .text = "two", .external_id = "2"}}}),
      Signed({.label = "group message: the sender's user id",
              .body = Events(MessageEvent(R"({"id":"3","type":"text","text":"hi"})",
                                          R"({"type":"group","groupId":"Ca56f","userId":")" + kUser + R"("})")),
              .msgs = {{.urn = kUrn, .text = "hi", .external_id = "3"}}}),
      Signed({.label = "image hosted by LINE",
              .body = Events(MessageEvent(R"({"id":"354718705033693859","type":"image","contentProvider":{"type":"line"}})")),
              .msgs = {{.urn = kUrn, .text = "", .external_id = "354718705033693859",
                        .attachments = {"image/jpeg:" + content + "354718705033693859/content"}}}}),
      Signed({.label = "external image",
              .body = Events(MessageEvent(R"({"id":"5","type":"image","contentProvider":{"type":"external","originalContentUrl":"https://example.com/a.png"}})")),
              .msgs = {{.urn = kUrn, .text = "", .external_id = "5", .attachments = {"image/png:https://example.com/a.png"}}}}),
      Signed({.label = "video", .body = Events(MessageEvent(R"({"id":"6","type":"video","duration":60000,"contentProvider":{"type":"line"}})")),
              .msgs = {{.urn = kUrn, .text = "", .external_id = "6", .attachments = {"video/mp4:" + content + "6/content"}}}}),
      Signed({.label = "audio", .body = Events(MessageEvent(R"({"id":"7","type":"audio","duration":6000,"contentProvider":{"type":"line"}})")),
              .msgs = {{.urn = kUrn, .text = "", .external_id = "7", .attachments = {"audio/mp4:" + content + "7/content"}}}}),
      Signed({.label = "file by its name", .body = Events(MessageEvent(R"({"id":"8","type":"file","fileName":"report.pdf","fileSize":2138})")),
              .msgs = {{.urn = kUrn, .text = "", .external_id = "8", .attachments = {"application/pdf:" + content + "8/content"}}}}),
      Signed({.label = "location",
              .body = Events(MessageEvent(R"({"id":"9","type":"location","title":"my location","address":"Tokyo","latitude":35.65910807942215,"longitude":139.70372892916203})")),
              .msgs = {{.urn = kUrn, .text = "my location, Tokyo", .external_id = "9",
                        .attachments = {"geo:35.6591080794221,139.703728929162"}}}}),
      Signed({.label = "sticker ignored", .body = Events(MessageEvent(R"({"id":"10","type":"sticker","packageId":"1","stickerId":"1"})")),
              .ignored = "ignoring message of type 'sticker'"}),
      Signed({.label = "unfollow: stop",
              .body = Events(R"({"type":"unfollow","mode":"active","timestamp":1462629479859,"source":{"type":"user","userId":")" + kUser + R"("}})"),
              .stop_urns = {kUrn}}),
      Signed({.label = "follow: a new conversation",
              .body = Events(R"({"type":"follow","timestamp":1462629479859,"source":{"type":"user","userId":")" + kUser +
                             R"("},"replyToken":"r","follow":{"isUnblocked":false}})"),
              .events = {{.type = ChannelEventType::kNewConversation, .urn = "line:" + kUser,
                          .occurred_on = Micros{1462629479859} * 1000}}}),
      Signed({.label = "follow after a block",
              .body = Events(R"({"type":"follow","timestamp":1,"source":{"type":"user","userId":")" + kUser +
                             R"("},"follow":{"isUnblocked":true}})"),
              .events = {{.type = ChannelEventType::kNewConversation, .urn = "line:" + kUser,
                          .extra = {{"unblocked", "true"}}}}}),
      Signed({.label = "postback ignored",
              .body = Events(R"({"type":"postback","timestamp":1,"source":{"type":"user","userId":")" + kUser + R"("}})"),
              .ignored = "ignoring event 'postback'"}),
      Signed({.label = "verification: no events", .body = Events(""), .ignored = "no events"}),
      Signed({.label = "no events field", .body = R"({"destination":"U1"})", .error = "field 'events' required"}),
      Signed({.label = "no user id", .body = Events(MessageEvent(R"({"id":"1","type":"text","text":"x"})", R"({"type":"room","roomId":"R1"})")),
              .error = "field 'source.userId' required"}),
      Signed({.label = "no message id", .body = Events(MessageEvent(R"({"type":"text","text":"x"})")),
              .error = "field 'message.id' required"}),
      Signed({.label = "no message type", .body = Events(MessageEvent(R"({"id":"1","text":"x"})")),
              .error = "field 'message.type' required"}),
      Signed({.label = "text without text", .body = Events(MessageEvent(R"({"id":"1","type":"text"})")),
              .error = "field 'message.text' required"}),
      Signed({.label = "malformed JSON", .body = "{nope", .error = "unable to parse request JSON"}),
  });
}

TEST(LineHandler, Signature) {
  LineHandler h;
  const std::string body = Events(MessageEvent(R"({"id":"1","type":"text","text":"x"})"));
  RunReceiveCases(h, LnChannel(), {
      Signed({.label = "bad signature", .body = body, .headers = {{"x-line-signature", "bm9wZQ=="}},
              .error = "invalid request signature", .unauthorized = true}),
      Signed({.label = "signed with another secret", .body = body,
              .headers = {{"x-line-signature", courier::HmacSha256Base64("other", body)}},
              .error = "invalid request signature", .unauthorized = true}),
      {.label = "no signature", .action = "receive", .body = body, .content_type = kJson,
       .error = "missing request signature", .unauthorized = true},
      Signed({.label = "no secret configured", .body = body, .error = "invalid or missing secret",
              .setup = [](Channel& c, MockProvider&) { c.config.erase("secret"); }}),
  });
}

MockResponse Ok(const std::string& id) {
  return {.body = R"({"sentMessages":[{"id":")" + id + R"(","quoteToken":"IStG5h1Tz7b"}]})"};
}

std::string Push(const std::string& messages) { return R"({"to":")" + kUser + R"(","messages":[)" + messages + "]}"; }
std::string Text(const std::string& text) { return R"({"type":"text","text":")" + text + R"("})"; }

TEST(LineHandler, Send) {
  LineHandler h;
  const std::string path = "/v2/bot/message/push";
  const std::map<std::string, std::string> headers = {{"content-type", "application/json"},
                                                      {"authorization", "Bearer " + kToken},
                                                      {"x-line-retry-key", "0191e180-7d60-7000-aded-7d8b151cbd5b"}};
  const std::string long_text = std::string(4990, 'a') + " " + std::string(100, 'b');
  RunSendCases(h, LnChannel(), {
      {.label = "text", .urn = kUrn, .responses = {{path, Ok("461230966842064897")}},
       .external_id = "461230966842064897",
       .requests = {{.path = path, .headers = headers, .body = Push(Text("Simple Message"))}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = kUrn, .responses = {{path, Ok("2")}}, .external_id = "2",
       .requests = {{.path = path, .body = Push(Text("Muraho ☺"))}}},
      // Quick replies under the last message: words, a location picker;
      // a link cannot be a quick reply, so it joins the text.
      {.label = "quick replies", .text = "Coming?", .urn = kUrn, .responses = {{path, Ok("9")}}, .external_id = "9",
       .requests = {{.path = path,
                     .body = Push(R"({"type":"text","text":"Coming?\nMap: https://m.example",)"
                                  R"("quickReply":{"items":[{"type":"action","action":{"type":"message","label":"Yes","text":"Yes"}},)"
                                  R"({"type":"action","action":{"type":"message","label":"A label over twenty ",)"
                                  R"("text":"A label over twenty characters"}},)"
                                  R"({"type":"action","action":{"type":"location","label":"Here"}}]}})")}},
       .quick_replies = {"Yes", "A label over twenty characters", QuickReply::Location("Here"),
                         QuickReply::Url("Map", "https://m.example")}},
      {.label = "long text split at 5000, one request", .text = long_text, .urn = kUrn, .responses = {{path, Ok("3")}},
       .external_id = "3",
       .requests = {{.path = path, .body = Push(Text(std::string(4990, 'a')) + "," + Text(std::string(100, 'b')))}}},
      {.label = "image and text", .text = "My pic!", .urn = kUrn, .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{path, Ok("4")}}, .external_id = "4",
       .requests = {{.path = path,
                     .body = Push(R"({"type":"image","originalContentUrl":"https://foo.bar/image.jpg","previewImageUrl":"https://foo.bar/image.jpg"},)" +
                                  Text("My pic!"))}}},
      {.label = "video as a link", .text = "watch", .urn = kUrn, .attachments = {"video/mp4:https://foo.bar/v.mp4"},
       .responses = {{path, Ok("5")}}, .external_id = "5",
       .requests = {{.path = path, .body = Push(Text("watch\\nhttps://foo.bar/v.mp4"))}}},
      {.label = "six messages: two requests, retry keys differ", .text = "six", .urn = kUrn,
       .attachments = {"image/png:https://a.b/1.png", "image/png:https://a.b/2.png", "image/png:https://a.b/3.png",
                       "image/png:https://a.b/4.png", "image/png:https://a.b/5.png"},
       .responses = {{path, Ok("6")}, {path, Ok("7")}}, .external_id = "6",
       .requests = {{.path = path, .headers = {{"x-line-retry-key", "0191e180-7d60-7000-aded-7d8b151cbd5b"}},
                     .body_contains = {"https://a.b/5.png"}},
                    {.path = path, .headers = {{"x-line-retry-key", "0191e180-7d60-7000-aded-7d8b151c0001"}},
                     .body = Push(Text("six"))}}},
      {.label = "retry key already accepted (409): sent", .urn = kUrn,
       .responses = {{path, {.status = 409, .body = R"({"message":"The retry key is already accepted","sentMessages":[{"id":"8"}]})"}}},
       .external_id = "8", .requests = {{.path = path}}},
      {.label = "invalid recipient (400): failed", .urn = kUrn,
       .responses = {{path, {.status = 400, .body = R"x({"message":"The request body has 1 error(s)","details":[{"message":"Invalid user ID","property":"to"}]})x"}}},
       .status = MsgStatus::kFailed, .error = "The request body has 1 error(s); to: Invalid user ID (status 400)",
       .requests = {{.path = path}}},
      {.label = "rate limited (429): throttled", .urn = kUrn,
       .responses = {{path, {.status = 429, .body = R"({"message":"Too Many Requests"})"}}}, .status = MsgStatus::kErrored,
       .error = "Too Many Requests", .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "429 with Retry-After", .urn = kUrn,
       .responses = {{path, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 7},
      {.label = "bad token (401): failed", .urn = kUrn,
       .responses = {{path, {.status = 401, .body = R"({"message":"Authentication failed. Confirm that the access token in the authorization header is valid."})"}}},
       .status = MsgStatus::kFailed, .error = "Authentication failed", .requests = {{.path = path}}},
      {.label = "not allowed (403): failed", .urn = kUrn,
       .responses = {{path, {.status = 403, .body = R"({"message":"Access to this API is not available for your account"})"}}},
       .status = MsgStatus::kFailed, .error = "Access to this API is not available", .requests = {{.path = path}}},
      {.label = "server error", .urn = kUrn, .responses = {{path, {.status = 500, .body = "x"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = path}}},
      {.label = "503 with LINE's error body: retried", .urn = kUrn,
       .responses = {{path, {.status = 503, .body = R"({"message":"Service Unavailable"})"}}},
       .status = MsgStatus::kErrored, .error = "Service Unavailable (status 503)", .requests = {{.path = path}}},
      {.label = "no sentMessages: the request id", .urn = kUrn,
       .responses = {{path, {.body = "{}", .headers = {{"x-line-request-id", "fb2a8ae4-b7a8-4f6b-9ec1-6a4c6dbd0e2a"}}}}},
       .external_id = "fb2a8ae4-b7a8-4f6b-9ec1-6a4c6dbd0e2a", .requests = {{.path = path}}},
      {.label = "no id at all: still sent (LINE has no receipts to match)", .urn = kUrn,
       .responses = {{path, {.body = "{}"}}}, .external_id = "", .requests = {{.path = path}}},
      {.label = "a failed second request fails the msg", .text = "six", .urn = kUrn,
       .attachments = {"image/png:https://a.b/1.png", "image/png:https://a.b/2.png", "image/png:https://a.b/3.png",
                       "image/png:https://a.b/4.png", "image/png:https://a.b/5.png"},
       .responses = {{path, Ok("9")}, {path, {.status = 400, .body = R"x({"message":"The request body has 1 error(s)","details":[{"message":"Length must be between 0 and 5000","property":"messages[0].text"}]})x"}}},
       .status = MsgStatus::kFailed, .error = "messages[0].text: Length must be between 0 and 5000",
       .requests = {{.path = path}, {.path = path}}},
      {.label = "no token: errored, no request", .urn = kUrn, .status = MsgStatus::kErrored, .error = "no auth_token set",
       .logs = 1, .setup = [](Channel& c) { c.config.erase("auth_token"); }},
  });
  Channel short_parts = LnChannel();
  short_parts.config["max_length"] = "6";
  RunSendCases(h, short_parts, {
      {.label = "channel max_length: words, five parts per request, first request's id", .text = "one two three four five six seven",
       .urn = kUrn, .responses = {{path, Ok("10")}, {path, Ok("11")}}, .external_id = "10",
       .requests = {{.path = path, .body = Push(Text("one") + "," + Text("two") + "," + Text("three") + "," +
                                                Text("four") + "," + Text("five"))},
                    {.path = path, .headers = {{"x-line-retry-key", "0191e180-7d60-7000-aded-7d8b151c0001"}},
                     .body = Push(Text("six") + "," + Text("seven"))}}},
  });
}

}  // namespace
