// VP — Viber: signature, receive (every message type and event),
// statuses by message token, stops, and send (text, split, pictures,
// links, Viber's status codes, throttling).
#include "handlers/viber.h"

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kToken = "44b5f8a1c2d3e4f5-viber-token";
const char* kJson = "application/json";

Channel VpChannel() {
  Channel c = TestChannel("VP", "pa_acct", "", {{"auth_token", kToken}}, {"viber"});
  c.name = "Courier Test";
  return c;
}

ReceiveCase Signed(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  if (!c.headers.count("x-viber-content-signature"))
    c.headers["x-viber-content-signature"] = courier::HmacSha256Hex(kToken, c.body);
  return c;
}

std::string MessageEvent(const std::string& message) {
  return R"({"event":"message","timestamp":1481142112807,"message_token":4987381189870374000,)"
         R"("sender":{"id":"xy5/5y6O81+/kbWHpLhBoA==","name":"Alice","avatar":"https://a.b/c.jpg"},"message":)" +
         message + "}";
}

const std::string kUrn = "viber:xy5/5y6O81+/kbWHpLhBoA==";
const std::string kMsgId = "4987381189870374000";

TEST(ViberHandler, Basics) {
  ViberHandler h;
  EXPECT_EQ(h.Code(), "VP");
  EXPECT_EQ(h.Name(), "Viber");
  ASSERT_EQ(h.Routes().size(), 1u);
  EXPECT_EQ(h.Routes()[0].method, "POST");
  EXPECT_EQ(h.Routes()[0].action, "receive");
}

TEST(ViberHandler, Receive) {
  ViberHandler h;
  const std::string text = MessageEvent(R"({"type":"text","text":"incoming msg"})");
  RunReceiveCases(h, VpChannel(), {
      Signed({.label = "text", .body = text,
              .msgs = {{.urn = kUrn, .text = "incoming msg", .external_id = kMsgId, .contact_name = "Alice",
                        .received_on = Micros{1481142112807} * 1000}}}),
      Signed({.label = "unicode", .body = MessageEvent(R"({"type":"text","text":"Muraho \u263a"})"),
              .msgs = {{.urn = kUrn, .text = "Muraho ☺", .external_id = kMsgId, .contact_name = "Alice"}}}),
      Signed({.label = "no sender name",
              .body = R"({"event":"message","message_token":1,"sender":{"id":"abc"},"message":{"type":"text","text":"hi"}})",
              .msgs = {{.urn = "viber:abc", .text = "hi", .external_id = "1"}}}),
      Signed({.label = "picture with description",
              .body = MessageEvent(R"({"type":"picture","text":"look","media":"https://dl-media.viber.com/a.jpg"})"),
              .msgs = {{.urn = kUrn, .text = "look", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"image/jpeg:https://dl-media.viber.com/a.jpg"}}}}),
      Signed({.label = "picture without extension",
              .body = MessageEvent(R"({"type":"picture","media":"https://dl-media.viber.com/x"})"),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"image/jpeg:https://dl-media.viber.com/x"}}}}),
      Signed({.label = "video",
              .body = MessageEvent(R"({"type":"video","media":"https://dl-media.viber.com/v.mp4","size":1000})"),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"video/mp4:https://dl-media.viber.com/v.mp4"}}}}),
      Signed({.label = "file by file name",
              .body = MessageEvent(R"({"type":"file","media":"https://dl-media.viber.com/f","file_name":"r.pdf","size":10})"),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"application/pdf:https://dl-media.viber.com/f"}}}}),
      Signed({.label = "sticker",
              .body = MessageEvent(R"({"type":"sticker","sticker_id":46105,"media":"https://viber.com/s/46105.png"})"),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"image/png:https://viber.com/s/46105.png"}}}}),
      Signed({.label = "contact",
              .body = MessageEvent(R"({"type":"contact","contact":{"name":"Alex","phone_number":"+12345678"}})"),
              .msgs = {{.urn = kUrn, .text = "Alex: +12345678", .external_id = kMsgId, .contact_name = "Alice"}}}),
      Signed({.label = "url", .body = MessageEvent(R"({"type":"url","media":"https://foo.bar"})"),
              .msgs = {{.urn = kUrn, .text = "https://foo.bar", .external_id = kMsgId, .contact_name = "Alice"}}}),
      Signed({.label = "location", .body = MessageEvent(R"({"type":"location","location":{"lat":1.2,"lon":-1.3}})"),
              .msgs = {{.urn = kUrn, .text = "1.2,-1.3", .external_id = kMsgId, .contact_name = "Alice",
                        .attachments = {"geo:1.2,-1.3"}}}}),
      Signed({.label = "rich media ignored", .body = MessageEvent(R"({"type":"rich_media"})"),
              .ignored = "ignoring message of type 'rich_media'"}),
      Signed({.label = "no sender id", .body = R"({"event":"message","message_token":1,"message":{"type":"text","text":"x"}})",
              .error = "field 'sender.id' required"}),
      Signed({.label = "no message token", .body = R"({"event":"message","sender":{"id":"a"},"message":{"type":"text","text":"x"}})",
              .error = "field 'message_token' required"}),
      Signed({.label = "no message type", .body = MessageEvent(R"({"text":"x"})"), .error = "field 'message.type' required"}),
      Signed({.label = "text without text", .body = MessageEvent(R"({"type":"text"})"), .error = "field 'message.text' required"}),
      Signed({.label = "picture without media", .body = MessageEvent(R"({"type":"picture"})"),
              .error = "field 'message.media' required"}),
      Signed({.label = "no event", .body = R"({"timestamp":1})", .error = "field 'event' required"}),
      Signed({.label = "unknown event is answered 200, ignored", .body = R"({"event":"bogus"})",
              .ignored = "unknown event 'bogus'"}),
      Signed({.label = "malformed JSON", .body = "{nope", .error = "unable to parse request JSON"}),
      Signed({.label = "webhook check acknowledged",
              .body = R"({"event":"webhook","timestamp":4987034606158369000,"message_token":1481059480858})",
              .ignored = "webhook valid"}),
      Signed({.label = "subscribed: a new conversation",
              .body = R"({"event":"subscribed","timestamp":1457764197627,"user":{"id":"abc","name":"Bob",)"
                      R"("avatar":"https://a.b/c.jpg","country":"RW","language":"rw","api_version":1},"message_token":2})",
              .events = {{.type = ChannelEventType::kNewConversation, .urn = "viber:abc", .contact_name = "Bob",
                          .occurred_on = Micros{1457764197627} * 1000}}}),
      Signed({.label = "subscribed without a user", .body = R"({"event":"subscribed","timestamp":1})",
              .error = "field 'user.id' required"}),
      Signed({.label = "conversation started without a welcome message",
              .body = R"({"event":"conversation_started","type":"open","user":{"id":"abc"},"subscribed":false})",
              .ignored = "ignoring event 'conversation_started'"}),
      Signed({.label = "client status ignored", .body = R"({"event":"client_status","user_id":"abc"})",
              .ignored = "ignoring event 'client_status'"}),
      Signed({.label = "unsubscribed: stop",
              .body = R"({"event":"unsubscribed","timestamp":1457764197627,"user_id":"01234567890A=","message_token":1})",
              .stop_urns = {"viber:01234567890A="}}),
      Signed({.label = "unsubscribed without user", .body = R"({"event":"unsubscribed"})", .error = "field 'user_id' required"}),
  });
}

// A channel with a welcome message answers conversation_started with it
// (Viber shows the answer's message) and records that it was shown.
TEST(ViberHandler, WelcomeMessage) {
  ViberHandler h;
  Channel channel = VpChannel();
  channel.config["welcome_message"] = "Murakaza neza \"friend\"";
  RunReceiveCases(h, channel, {
      Signed({.label = "conversation started",
              .body = R"({"event":"conversation_started","timestamp":1457764197627,"message_token":3,"type":"open",)"
                      R"("context":"poster-7","user":{"id":"abc","name":"Bob"},"subscribed":false})",
              .events = {{.type = ChannelEventType::kWelcomeMessage, .urn = "viber:abc", .contact_name = "Bob",
                          .extra = {{"context", "poster-7"}}, .occurred_on = Micros{1457764197627} * 1000}},
              .response_body = R"({"sender":{"name":"Courier Test"},"type":"text","text":"Murakaza neza \"friend\""})"}),
      Signed({.label = "conversation started without a user", .body = R"({"event":"conversation_started"})",
              .error = "field 'user.id' required"}),
  });
}

TEST(ViberHandler, Statuses) {
  ViberHandler h;
  RunReceiveCases(h, VpChannel(), {
      Signed({.label = "delivered",
              .body = R"({"event":"delivered","timestamp":1457764197627,"message_token":4912661846655238145,"user_id":"u"})",
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "4912661846655238145"}}}),
      Signed({.label = "seen", .body = R"({"event":"seen","timestamp":1,"message_token":4912661846655238145,"user_id":"u"})",
              .statuses = {{.status = MsgStatus::kRead, .external_id = "4912661846655238145"}}}),
      Signed({.label = "failed",
              .body = R"({"event":"failed","timestamp":1,"message_token":4912661846655238145,"user_id":"u","desc":"failure"})",
              .statuses = {{.status = MsgStatus::kFailed, .external_id = "4912661846655238145"}}}),
      Signed({.label = "status without token", .body = R"({"event":"delivered","user_id":"u"})",
              .error = "field 'message_token' required"}),
  });
}

TEST(ViberHandler, Signature) {
  ViberHandler h;
  const std::string body = MessageEvent(R"({"type":"text","text":"incoming msg"})");
  RunReceiveCases(h, VpChannel(), {
      Signed({.label = "bad signature", .body = body, .headers = {{"x-viber-content-signature", "abc123"}},
              .error = "invalid request signature", .unauthorized = true}),
      Signed({.label = "signature of another body", .body = body,
              .headers = {{"x-viber-content-signature", courier::HmacSha256Hex(kToken, body + " ")}},
              .error = "invalid request signature", .unauthorized = true}),
      Signed({.label = "upper-case hex accepted", .body = body,
              .headers = {{"x-viber-content-signature", [&] {
                 std::string s = courier::HmacSha256Hex(kToken, body);
                 for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                 return s;
               }()}},
              .msgs = {{.urn = kUrn, .text = "incoming msg", .external_id = kMsgId, .contact_name = "Alice"}}}),
      {.label = "no signature", .action = "receive", .body = body, .content_type = kJson,
       .error = "missing request signature", .unauthorized = true},
      Signed({.label = "no token configured", .body = body, .error = "invalid or missing auth token",
              .setup = [](Channel& c, MockProvider&) { c.config.erase("auth_token"); }}),
  });
}

MockResponse Ok(const std::string& token) {
  return {.body = R"({"status":0,"status_message":"ok","message_token":)" + token + R"(,"chat_hostname":"SN-CHAT-05_"})"};
}

MockResponse ViberError(int status, const std::string& message) {
  return {.body = R"({"status":)" + std::to_string(status) + R"(,"status_message":")" + message + R"("})"};
}

std::string TextBody(const std::string& text) {
  return R"({"receiver":"xy5/5y6O81+/kbWHpLhBoA==","sender":{"name":"Courier Test"},"tracking_data":"10","type":"text","text":")" +
         text + R"("})";
}

TEST(ViberHandler, Send) {
  ViberHandler h;
  const std::string path = "/pa/send_message";
  const std::map<std::string, std::string> headers = {{"content-type", "application/json"}, {"x-viber-auth-token", kToken}};
  const std::string long_text = std::string(6990, 'a') + " " + std::string(100, 'b');
  RunSendCases(h, VpChannel(), {
      {.label = "text", .urn = kUrn, .responses = {{path, Ok("4912661846655238145")}},
       .external_id = "4912661846655238145",
       .requests = {{.path = path, .headers = headers, .body = TextBody("Simple Message")}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = kUrn, .responses = {{path, Ok("5")}}, .external_id = "5",
       .requests = {{.path = path, .body = TextBody("Muraho ☺")}}},
      {.label = "sender_name config, truncated at 28", .urn = kUrn, .responses = {{path, Ok("6")}}, .external_id = "6",
       .requests = {{.path = path, .body_contains = {R"("sender":{"name":"abcdefghijklmnopqrstuvwxyz01"})"}}},
       .setup = [](Channel& c) { c.config["sender_name"] = "abcdefghijklmnopqrstuvwxyz0123"; }},
      {.label = "long text split at 7000, first token kept", .text = long_text, .urn = kUrn,
       .responses = {{path, Ok("1")}, {path, Ok("2")}}, .external_id = "1",
       .requests = {{.path = path, .body = TextBody(std::string(6990, 'a'))},
                    {.path = path, .body = TextBody(std::string(100, 'b'))}}},
      // Quick replies: a keyboard on the last message, a button a row, each
      // typed (reply, location picker, open URL).
      {.label = "quick replies", .text = "Coming?", .urn = kUrn, .responses = {{path, Ok("8")}}, .external_id = "8",
       .requests = {{.path = path,
                     .body = R"({"receiver":"xy5/5y6O81+/kbWHpLhBoA==","sender":{"name":"Courier Test"},"tracking_data":"10",)"
                             R"("type":"text","text":"Coming?","keyboard":{"Type":"keyboard","DefaultHeight":false,"Buttons":[)"
                             R"({"ActionType":"reply","ActionBody":"Yes","Text":"Yes","TextSize":"regular"},)"
                             R"({"ActionType":"location-picker","ActionBody":"Here","Text":"Here","TextSize":"regular"},)"
                             R"({"ActionType":"open-url","ActionBody":"https://m.example/?a=1","Text":"Map","TextSize":"regular"}]}})"}},
       .quick_replies = {"Yes", QuickReply::Location("Here"), QuickReply::Url("Map", "https://m.example/?a=1")}},
      {.label = "image with the text as description", .text = "My pic!", .urn = kUrn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{path, Ok("7")}}, .external_id = "7",
       .requests = {{.path = path,
                     .body = R"({"receiver":"xy5/5y6O81+/kbWHpLhBoA==","sender":{"name":"Courier Test"},"tracking_data":"10",)"
                             R"("type":"picture","media":"https://foo.bar/image.jpg","text":"My pic!"})"}}},
      {.label = "two images, then the text", .text = "two", .urn = kUrn,
       .attachments = {"image/jpeg:https://foo.bar/1.jpg", "image/png:https://foo.bar/2.png"},
       .responses = {{path, Ok("8")}, {path, Ok("9")}, {path, Ok("10")}}, .external_id = "8",
       .requests = {{.path = path, .body_contains = {R"("media":"https://foo.bar/1.jpg","text":"")"}},
                    {.path = path, .body_contains = {R"("media":"https://foo.bar/2.png","text":"")"}},
                    {.path = path, .body = TextBody("two")}}},
      {.label = "video goes as a link", .text = "watch", .urn = kUrn, .attachments = {"video/mp4:https://foo.bar/v.mp4"},
       .responses = {{path, Ok("11")}}, .external_id = "11",
       .requests = {{.path = path, .body = TextBody("watch\\nhttps://foo.bar/v.mp4")}}},
      {.label = "not subscribed (6): failed and stopped", .urn = kUrn,
       .responses = {{path, ViberError(6, "notSubscribed")}}, .status = MsgStatus::kFailed,
       .error = "received error from viber: notSubscribed (status 6)", .stop_contact = true, .requests = {{.path = path}}},
      {.label = "not registered (5): failed", .urn = kUrn, .responses = {{path, ViberError(5, "receiverNotRegistered")}},
       .status = MsgStatus::kFailed, .requests = {{.path = path}}},
      {.label = "too many requests (12): throttled", .urn = kUrn,
       .responses = {{path, ViberError(12, "tooManyRequests")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "bad token (2): errored", .urn = kUrn, .responses = {{path, ViberError(2, "invalidAuthToken")}},
       .status = MsgStatus::kErrored, .error = "invalidAuthToken", .requests = {{.path = path}}},
      {.label = "HTTP 429 with Retry-After", .urn = kUrn,
       .responses = {{path, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 5},
      {.label = "server error", .urn = kUrn, .responses = {{path, {.status = 500, .body = "x"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = path}}},
      {.label = "accepted without message_token", .urn = kUrn,
       .responses = {{path, {.body = R"({"status":0,"status_message":"ok"})"}}}, .status = MsgStatus::kFailed,
       .error = "no 'message_token'", .requests = {{.path = path}}},
      {.label = "HTTP 400 is permanent", .urn = kUrn, .responses = {{path, {.status = 400, .body = "bad"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {{.path = path}}},
      {.label = "channel max_length", .text = "hello there friend", .urn = kUrn,
       .responses = {{path, Ok("1")}, {path, Ok("2")}}, .external_id = "1",
       .requests = {{.path = path, .body_contains = {R"("text":"hello there")"}},
                    {.path = path, .body_contains = {R"("text":"friend")"}}},
       .setup = [](Channel& c) { c.config["max_length"] = "11"; }},
      {.label = "answer without status", .urn = kUrn, .responses = {{path, {.body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "no 'status' in response", .requests = {{.path = path}}},
      {.label = "no token: errored, no request", .urn = kUrn, .status = MsgStatus::kErrored,
       .error = "no auth_token set", .logs = 1, .setup = [](Channel& c) { c.config.erase("auth_token"); }},
  });
}

}  // namespace
