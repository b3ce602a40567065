// IB — Infobip: receive, delivery report and send tables.
#include "handlers/infobip.h"

#include <set>

#include "core/clock.h"

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kPassword = "pass-s3cret";
const char* kAuth = "Basic dXNlcjE6cGFzcy1zM2NyZXQ=";  // user1:pass-s3cret

Channel IbChannel() {
  return TestChannel("IB", "2020", "NG", {{"username", "user1"}, {"password", kPassword}});
}

std::string Mo(const std::string& fields) {
  return "{\"results\":[{" + fields + "}],\"messageCount\":1,\"pendingMessageCount\":0}";
}
const std::string kValidFields =
    "\"messageId\":\"817790313235066447\",\"from\":\"2347030767144\",\"to\":\"2020\",\"text\":\"QUIZ Correct answer "
    "is Paris\",\"cleanText\":\"Correct answer is Paris\",\"keyword\":\"QUIZ\",\"receivedAt\":"
    "\"2016-10-06T09:28:39.220+0000\",\"smsCount\":1,\"price\":{\"pricePerMessage\":0,\"currency\":\"EUR\"}";
const Micros kDate = 1475746119LL * kMicrosPerSecond + 220000;  // 2016-10-06T09:28:39.220Z

TEST(InfobipHandler, Receive) {
  InfobipHandler h;
  RunReceiveCases(h, IbChannel(), {
      {.label = "valid", .action = "receive", .body = Mo(kValidFields), .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "QUIZ Correct answer is Paris",
                 .external_id = "817790313235066447", .received_on = kDate}}},
      {.label = "no receivedAt", .action = "receive",
       .body = Mo("\"messageId\":\"1\",\"from\":\"2347030767144\",\"text\":\"hi\""), .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "hi", .external_id = "1"}}},
      {.label = "offset date", .action = "receive",
       .body = Mo("\"messageId\":\"1\",\"from\":\"2347030767144\",\"text\":\"hi\",\"receivedAt\":"
                  "\"2016-10-06T10:28:39.220+0100\""),
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "hi", .external_id = "1", .received_on = kDate}}},
      {.label = "unicode", .action = "receive",
       .body = Mo("\"messageId\":\"2\",\"from\":\"+2347030767144\",\"text\":\"Bawo ni ☺ é\""),
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "Bawo ni ☺ é", .external_id = "2"}}},
      {.label = "empty text", .action = "receive",
       .body = Mo("\"messageId\":\"3\",\"from\":\"2347030767144\",\"text\":\"\""), .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "", .external_id = "3"}}},
      {.label = "two results", .action = "receive",
       .body = "{\"results\":[{\"messageId\":\"4\",\"from\":\"2347030767144\",\"text\":\"a\"},"
               "{\"messageId\":\"5\",\"from\":\"2347030767145\",\"text\":\"b\"}],\"messageCount\":2}",
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "a", .external_id = "4"},
                {.urn = "tel:+2347030767145", .text = "b", .external_id = "5"}}},
      // Theme 7: MMS inbound (MO_MMS_2): text segments joined, media
      // segments as attachments, in the provider's order.
      {.label = "MMS: two text segments and an image", .action = "receive",
       .body = "{\"results\":[{\"from\":\"2347030767144\",\"to\":\"2020\",\"receivedAt\":"
               "\"2016-10-06T09:28:39.220+0000\",\"messageId\":\"817790313235066448\",\"callbackData\":"
               "\"Some custom data\",\"userAgent\":\"iPhone_12_Pro_Max_A2342\",\"message\":["
               "{\"contentType\":\"text/plain\",\"value\":\"Look at this\"},"
               "{\"contentType\":\"image/jpeg\",\"url\":\"https://examplelink.com/123456\"},"
               "{\"contentType\":\"text/plain\",\"value\":\"and this ☺\"}],"
               "\"price\":{\"pricePerMessage\":0,\"currency\":\"EUR\"}}],\"messageCount\":1,"
               "\"pendingMessageCount\":0}",
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "Look at this\nand this ☺", .external_id = "817790313235066448",
                 .attachments = {"image/jpeg:https://examplelink.com/123456"}, .received_on = kDate}}},
      {.label = "MMS: media only, no content type", .action = "receive",
       .body = "{\"results\":[{\"from\":\"2347030767144\",\"to\":\"2020\",\"messageId\":\"9\",\"message\":["
               "{\"url\":\"https://examplelink.com/clip.mp4\"}]}],\"messageCount\":1}",
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "", .external_id = "9",
                 .attachments = {"video/mp4:https://examplelink.com/clip.mp4"}}}},
      {.label = "SMS and MMS in one batch", .action = "receive",
       .body = "{\"results\":[{\"messageId\":\"4\",\"from\":\"2347030767144\",\"text\":\"a\"},"
               "{\"messageId\":\"5\",\"from\":\"2347030767145\",\"message\":[{\"contentType\":\"text/plain\","
               "\"value\":\"b\"}]}],\"messageCount\":2}",
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+2347030767144", .text = "a", .external_id = "4"},
                {.urn = "tel:+2347030767145", .text = "b", .external_id = "5"}}},
      {.label = "MMS without from", .action = "receive",
       .body = "{\"results\":[{\"messageId\":\"9\",\"message\":[]}],\"messageCount\":1}",
       .content_type = "application/json", .error = "field 'from' required"},
      {.label = "no messages", .action = "receive", .body = "{\"results\":[],\"messageCount\":0,\"pendingMessageCount\":0}",
       .content_type = "application/json", .ignored = "no messages"},
      {.label = "bad date", .action = "receive",
       .body = Mo("\"messageId\":\"1\",\"from\":\"2347030767144\",\"text\":\"hi\",\"receivedAt\":\"yesterday\""),
       .content_type = "application/json", .error = "invalid date format: yesterday"},
      {.label = "missing messageId", .action = "receive", .body = Mo("\"from\":\"2347030767144\",\"text\":\"hi\""),
       .content_type = "application/json", .error = "field 'messageId' required"},
      {.label = "missing from", .action = "receive", .body = Mo("\"messageId\":\"1\",\"text\":\"hi\""),
       .content_type = "application/json", .error = "field 'from' required"},
      {.label = "missing text", .action = "receive", .body = Mo("\"messageId\":\"1\",\"from\":\"2347030767144\""),
       .content_type = "application/json", .error = "field 'text' required"},
      {.label = "missing results", .action = "receive", .body = "{\"messageCount\":1}",
       .content_type = "application/json", .error = "field 'results' required"},
      {.label = "malformed body", .action = "receive", .body = "not json", .content_type = "application/json",
       .error = "unable to parse request JSON"},
  });
}

std::string Dlr(const std::string& id, const std::string& group) {
  return "{\"results\":[{\"bulkId\":\"\",\"messageId\":\"" + id +
         "\",\"to\":\"2347030767144\",\"sentAt\":\"2016-08-09T17:03:15.520+0000\",\"doneAt\":"
         "\"2016-08-09T17:03:16.103+0000\",\"smsCount\":1,\"status\":{\"groupId\":3,\"groupName\":\"" +
         group + "\",\"id\":5,\"name\":\"DELIVERED_TO_HANDSET\"}}]}";
}

TEST(InfobipHandler, Status) {
  InfobipHandler h;
  auto status = [](const std::string& group, MsgStatus want) {
    return ReceiveCase{.label = group, .action = "delivered", .body = Dlr("12345", group),
                       .content_type = "application/json", .statuses = {{.status = want, .msg_id = 12345}}};
  };
  RunReceiveCases(h, IbChannel(), {
      status("PENDING", MsgStatus::kSent),
      status("EXPIRED", MsgStatus::kSent),
      status("DELIVERED", MsgStatus::kDelivered),
      status("REJECTED", MsgStatus::kFailed),
      status("UNDELIVERABLE", MsgStatus::kFailed),
      {.label = "several reports", .action = "delivered",
       .body = "{\"results\":[{\"messageId\":\"1\",\"status\":{\"groupName\":\"DELIVERED\"}},"
               "{\"messageId\":\"2\",\"status\":{\"groupName\":\"REJECTED\"}}]}",
       .content_type = "application/json",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 1}, {.status = MsgStatus::kFailed, .msg_id = 2}}},
      // Theme 4: a report we cannot use is answered 200 with an info entry;
      // the others of the batch are still written.
      {.label = "unknown status ignored", .action = "delivered", .body = Dlr("12345", "BORKED"),
       .content_type = "application/json", .ignored = "unknown status 'BORKED', ignored"},
      {.label = "not our id ignored", .action = "delivered", .body = Dlr("abc-123", "DELIVERED"),
       .content_type = "application/json", .ignored = "messageId 'abc-123' is not one of ours"},
      {.label = "batch: the unknown one skipped, the others written", .action = "delivered",
       .body = "{\"results\":[{\"messageId\":\"1\",\"status\":{\"groupName\":\"DELIVERED\"}},"
               "{\"messageId\":\"2\",\"status\":{\"groupName\":\"BORKED\"}},"
               "{\"messageId\":\"8e1a2c3d-part2\",\"status\":{\"groupName\":\"DELIVERED\"}},"
               "{\"messageId\":\"3\",\"status\":{\"groupName\":\"REJECTED\"}}]}",
       .content_type = "application/json",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 1}, {.status = MsgStatus::kFailed, .msg_id = 3}}},
      {.label = "SMS v3 report", .action = "delivered",
       .body = "{\"results\":[{\"bulkId\":\"BULK-ID-123-xyz\",\"price\":{\"pricePerMessage\":0.01,\"currency\":"
               "\"EUR\"},\"status\":{\"id\":5,\"groupId\":3,\"groupName\":\"DELIVERED\",\"name\":"
               "\"DELIVERED_TO_HANDSET\",\"description\":\"Message delivered to handset\"},\"error\":{\"id\":0,"
               "\"name\":\"NO_ERROR\",\"description\":\"No Error\",\"groupId\":0,\"groupName\":\"OK\","
               "\"permanent\":false},\"messageId\":\"12345\",\"doneAt\":\"2019-11-09T16:00:00.000+0000\","
               "\"messageCount\":1,\"sentAt\":\"2019-11-09T16:00:00.000+0000\",\"to\":\"41793026727\","
               "\"sender\":\"2020\"}]}",
       .content_type = "application/json", .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12345}}},
      {.label = "MMS v2 report", .action = "delivered",
       .body = "{\"results\":[{\"bulkId\":\"3746923784\",\"price\":{\"pricePerMessage\":1,\"currency\":\"EUR\"},"
               "\"status\":{\"groupId\":2,\"groupName\":\"UNDELIVERABLE\",\"id\":9,\"name\":"
               "\"UNDELIVERABLE_NOT_DELIVERED\",\"description\":\"Message sent not delivered\"},\"messageId\":"
               "\"12345\",\"sender\":\"2020\",\"sentAt\":\"2026-07-07T06:32:15.101+0000\",\"doneAt\":"
               "\"2026-07-07T06:32:15.101+0000\",\"messageCount\":3}]}",
       .content_type = "application/json", .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12345}}},
      {.label = "missing messageId", .action = "delivered",
       .body = "{\"results\":[{\"status\":{\"groupName\":\"DELIVERED\"}}]}", .content_type = "application/json",
       .error = "field 'messageId' required"},
      {.label = "missing status", .action = "delivered", .body = "{\"results\":[{\"messageId\":\"1\"}]}",
       .content_type = "application/json", .error = "field 'status.groupName' required"},
      {.label = "missing results", .action = "delivered", .body = "{}", .content_type = "application/json",
       .error = "field 'results' required"},
      {.label = "malformed body", .action = "delivered", .body = "{{", .content_type = "application/json",
       .error = "unable to parse request JSON"},
  });
}

TEST(InfobipHandler, Routes) {
  InfobipHandler h;
  EXPECT_EQ(h.Code(), "IB");
  EXPECT_EQ(h.Name(), "Infobip");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST delivered"}));
}

const char* kSmsPath = "/sms/3/messages";
const char* kMmsPath = "/mms/2/messages";
const char* kApiKey = "3a6c1b2d4e5f-8f4b3d9a-e931-478d";
const char* kNotify = "https://courier.test/c/ib/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/delivered";

// Infobip's answer to a send (SMS v3 and MMS v2 alike).
MockResponse Answer(int group, const std::string& name, const std::string& id = "10") {
  return {.status = 200,
          .body = "{\"bulkId\":\"2034072219640523072\",\"messages\":[{\"messageId\":\"" + id +
                  "\",\"status\":{\"groupId\":" + std::to_string(group) + ",\"groupName\":\"G\",\"id\":26,\"name\":\"" +
                  name + "\",\"description\":\"Message sent to next instance\"},\"destination\":\"250788383383\","
                  "\"details\":{\"messageCount\":1}}]}",
          .content_type = "application/json"};
}

// SMS v3: the first part carries our id and asks for reports; the others
// ask for none.
std::string Body(const std::string& text, bool first = true) {
  if (!first)
    return "{\"messages\":[{\"sender\":\"2020\",\"destinations\":[{\"to\":\"250788383383\"}],\"content\":{\"text\":\"" +
           text + "\"},\"webhooks\":{\"delivery\":{\"notify\":false}}}]}";
  return "{\"messages\":[{\"sender\":\"2020\",\"destinations\":[{\"to\":\"250788383383\",\"messageId\":\"10\"}],"
         "\"content\":{\"text\":\"" + text + "\"},\"webhooks\":{\"delivery\":{\"url\":\"" + kNotify +
         "\",\"intermediateReport\":true},\"contentType\":\"application/json\"}}]}";
}

// MMS v2 with these segments.
std::string MmsBody(const std::string& segments) {
  return "{\"messages\":[{\"sender\":\"2020\",\"destinations\":[{\"to\":\"250788383383\",\"messageId\":\"10\"}],"
         "\"content\":{\"messageSegments\":[" + segments + "]},\"webhooks\":{\"delivery\":{\"url\":\"" + kNotify +
         "\",\"intermediateReport\":true},\"contentType\":\"application/json\"}}]}";
}
std::string TextSegment(const std::string& text) { return "{\"type\":\"TEXT\",\"text\":\"" + text + "\"}"; }
std::string LinkSegment(const std::string& type, const std::string& url) {
  return "{\"type\":\"LINK\",\"contentType\":\"" + type + "\",\"contentUrl\":\"" + url + "\"}";
}

ExpectedRequest Req(const std::string& body = "", const std::string& path = kSmsPath) {
  ExpectedRequest r{.path = path, .headers = {{"authorization", kAuth}, {"content-type", "application/json"}}};
  r.body = body;
  return r;
}

TEST(InfobipHandler, Send) {
  InfobipHandler h;
  const std::string a(1590, 'a'), b(20, 'b');
  RunSendCases(h, IbChannel(), {
      {.label = "plain", .responses = {{kSmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(Body("Simple Message"))}},
      {.label = "unicode", .text = "Bawo ni ☺", .responses = {{kSmsPath, Answer(1, "PENDING_ENROUTE")}},
       .external_id = "10", .requests = {Req(Body("Bawo ni ☺"))}},
      {.label = "delivered group accepted", .responses = {{kSmsPath, Answer(3, "DELIVERED_TO_OPERATOR")}},
       .external_id = "10", .requests = {Req()}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kSmsPath, Answer(1, "PENDING_ENROUTE", "10")}, {kSmsPath, Answer(1, "PENDING_ENROUTE", "x2")}},
       .external_id = "10", .requests = {Req(Body(a)), Req(Body(b, false))}},
      // Theme 7: attachments go as one MMS: the text, then a LINK each.
      {.label = "attachments as MMS", .text = "My pic!",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg", "https://foo.bar/clip.mp4"},
       .responses = {{kMmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(MmsBody(TextSegment("My pic!") + "," + LinkSegment("image/jpeg", "https://foo.bar/image.jpg") +
                                "," + LinkSegment("video/mp4", "https://foo.bar/clip.mp4")),
                        kMmsPath)}},
      {.label = "MMS without text", .text = "", .attachments = {"image/png:https://foo.bar/a.png"},
       .responses = {{kMmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(MmsBody(LinkSegment("image/png", "https://foo.bar/a.png")), kMmsPath)}},
      {.label = "MMS of an unknown type", .text = "", .attachments = {"https://foo.bar/file"},
       .responses = {{kMmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(MmsBody(LinkSegment("application/octet-stream", "https://foo.bar/file")), kMmsPath)}},
      {.label = "MMS rejected", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMmsPath, Answer(5, "REJECTED_DESTINATION")}}, .status = MsgStatus::kFailed,
       .error = "received error status: 'REJECTED_DESTINATION'", .requests = {Req("", kMmsPath)}},
      // Theme 3: the REJECTED and UNDELIVERABLE groups fail at once.
      {.label = "rejected is permanent", .responses = {{kSmsPath, Answer(5, "REJECTED_NETWORK")}},
       .status = MsgStatus::kFailed, .error = "received error status: 'REJECTED_NETWORK'", .requests = {Req()}},
      {.label = "undeliverable is permanent", .responses = {{kSmsPath, Answer(2, "UNDELIVERABLE_REJECTED_OPERATOR")}},
       .status = MsgStatus::kFailed, .error = "'UNDELIVERABLE_REJECTED_OPERATOR'", .requests = {Req()}},
      {.label = "do-not-disturb stops contact", .responses = {{kSmsPath, Answer(5, "REJECTED_DND")}},
       .status = MsgStatus::kFailed, .error = "REJECTED_DND", .stop_contact = true, .requests = {Req()}},
      {.label = "other group retryable", .responses = {{kSmsPath, Answer(4, "EXPIRED_EXPIRED")}},
       .status = MsgStatus::kErrored, .error = "received error status: 'EXPIRED_EXPIRED'", .requests = {Req()}},
      {.label = "accepted without messageId",
       .responses = {{kSmsPath, {.status = 200, .body = "{\"messages\":[{\"status\":{\"groupId\":1,\"name\":"
                                                        "\"PENDING_ACCEPTED\"}}]}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get messageId", .requests = {Req()}},
      {.label = "unparseable 2xx", .responses = {{kSmsPath, {.status = 200, .body = "nope"}}},
       .status = MsgStatus::kFailed, .error = "unable to parse response body", .requests = {Req()}},
      {.label = "400 with Infobip's ApiError",
       .responses = {{kSmsPath, {.status = 400, .body = "{\"errorCode\":\"E400\",\"description\":\"Request cannot be "
                                                        "processed.\",\"action\":\"Check the syntax\",\"violations\":"
                                                        "[{\"property\":\"messages[0].destinations[0].to\",\"violation\":"
                                                        "\"must not be blank\"}],\"resources\":[]}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400: Request cannot be processed.",
       .requests = {Req()}},
      {.label = "provider 401",
       .responses = {{kSmsPath, {.status = 401, .body = "{\"requestError\":{\"serviceException\":{\"messageId\":"
                                                        "\"UNAUTHORIZED\",\"text\":\"Invalid login details\"}}}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401: Invalid login details",
       .requests = {Req()}},
      {.label = "provider 500", .responses = {{kSmsPath, {.status = 500, .body = "{\"errorCode\":\"E500\","
                                                                                  "\"description\":\"Something went wrong.\"}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500: Something went wrong.",
       .requests = {Req()}},
      {.label = "throttled", .responses = {{kSmsPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 7},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  // Theme 2: the channel's max_length.
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"username", "user1"}, {"password", kPassword}, {"max_length", "12"}}), {
      {.label = "max_length 12", .text = "Hello there my friend",
       .responses = {{kSmsPath, Answer(1, "PENDING_ACCEPTED", "10")}, {kSmsPath, Answer(1, "PENDING_ACCEPTED", "x")}},
       .external_id = "10", .requests = {Req(Body("Hello there")), Req(Body("my friend", false))}},
      {.label = "max_length splits the MMS text into segments", .text = "Hello there my friend",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(MmsBody(TextSegment("Hello there") + "," + TextSegment("my friend") + "," +
                                LinkSegment("image/jpeg", "https://foo.bar/image.jpg")),
                        kMmsPath)}},
  });

  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"username", "user1"}, {"password", kPassword}, {"mms", "false"}}), {
      {.label = "mms=false: attachments as links in the SMS", .text = "My pic!",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kSmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {Req(Body("My pic!\\nhttps://foo.bar/image.jpg"))}},
  });

  // Theme 7: an API key is sent as "App <key>" and wins over a username
  // and password.
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"api_key", kApiKey}, {"username", "user1"}, {"password", kPassword}}), {
      {.label = "api_key", .responses = {{kSmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {{.path = kSmsPath, .headers = {{"authorization", std::string("App ") + kApiKey}},
                     .body = Body("Simple Message")}}},
  });
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"api_key", kApiKey}}), {
      {.label = "api_key alone", .responses = {{kSmsPath, Answer(1, "PENDING_ACCEPTED")}}, .external_id = "10",
       .requests = {{.path = kSmsPath, .headers = {{"authorization", std::string("App ") + kApiKey}}}}},
  });
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"username", "user1"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password or api_key set for IB channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"password", kPassword}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username or api_key set for IB channel",
       .requests = {}, .logs = 1},
  });
}

// The account's base URL as Infobip's portal shows it, without a scheme.
TEST(InfobipHandler, BaseUrlWithoutScheme) {
  InfobipHandler h;
  MockProvider provider;
  provider.On(kSmsPath, Answer(1, "PENDING_ACCEPTED"));
  Channel channel = TestChannel("IB", "2020", "NG", {{"api_key", kApiKey}});
  const std::string url = provider.url();
  ASSERT_EQ(url.rfind("http://", 0), 0u);
  // No scheme means https, which the plain-HTTP mock cannot answer: the
  // request must fail at the transport, to that host and port.
  channel.config["base_url"] = url.substr(7) + "/";
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = "tel:+250788383383";
  msg.text = "hi";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  SendResult r = h.Send(channel, msg, ctx);
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].url, "https://" + url.substr(7) + kSmsPath);
  EXPECT_EQ(r.status, MsgStatus::kErrored);
}

// The reason kept with a failed report.
TEST(InfobipHandler, FailedReportReason) {
  InfobipHandler h;
  const Route route{"POST", "delivered", RouteKind::kStatus};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  const std::string body =
      "{\"results\":[{\"messageId\":\"12345\",\"status\":{\"groupId\":5,\"groupName\":\"REJECTED\",\"id\":12,"
      "\"name\":\"REJECTED_NOT_ENOUGH_CREDITS\",\"description\":\"Not enough credits\"}}]}";
  auto request = WebhookRequest::Build("POST", std::string("/c/ib/") + kTestChannelUUID + "/delivered/",
                                       {{"content-type", "application/json"}}, body, kTestBaseUrl, "delivered");
  WebhookResult r = h.Receive(route, IbChannel(), request, ctx);
  ASSERT_EQ(r.statuses.size(), 1u);
  EXPECT_EQ(r.statuses[0].status, MsgStatus::kFailed);
  EXPECT_EQ(r.statuses[0].error_reason, "REJECTED_NOT_ENOUGH_CREDITS: Not enough credits");
}

// Infobip signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(InfobipHandler, WebhookToken) {
  InfobipHandler h;
  RunReceiveCases(h, WithToken(IbChannel()), WebhookTokenCases({.label = "valid", .action = "receive", .body = Mo(kValidFields), .content_type = "application/json", .msgs = {{.urn = "tel:+2347030767144", .text = "QUIZ Correct answer is Paris", .external_id = "817790313235066447", .received_on = kDate}}}));
}

}  // namespace
