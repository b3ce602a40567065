// IB — Infobip: receive, delivery report and send tables.
#include "handlers/infobip.h"

#include <set>

#include "handler_harness.h"

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
      {.label = "unknown status", .action = "delivered", .body = Dlr("12345", "BORKED"),
       .content_type = "application/json",
       .error = "unknown status 'BORKED', must be one of 'PENDING', 'EXPIRED', 'DELIVERED', 'REJECTED' or "
                "'UNDELIVERABLE'"},
      {.label = "not our id", .action = "delivered", .body = Dlr("abc-123", "DELIVERED"),
       .content_type = "application/json", .error = "invalid messageId 'abc-123'"},
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

const char* kPath = "/sms/2/text/advanced";

MockResponse Answer(int group, const std::string& name, const std::string& id = "10") {
  return {.status = 200,
          .body = "{\"bulkId\":\"1\",\"messages\":[{\"to\":\"250788383383\",\"status\":{\"groupId\":" +
                  std::to_string(group) + ",\"groupName\":\"G\",\"id\":26,\"name\":\"" + name +
                  "\",\"description\":\"d\"},\"messageId\":\"" + id + "\"}]}",
          .content_type = "application/json"};
}

std::string Body(const std::string& text, bool first = true) {
  if (!first)
    return "{\"messages\":[{\"from\":\"2020\",\"destinations\":[{\"to\":\"+250788383383\"}],\"text\":\"" + text +
           "\"}]}";
  return "{\"messages\":[{\"from\":\"2020\",\"destinations\":[{\"to\":\"+250788383383\",\"messageId\":\"10\"}],"
         "\"text\":\"" + text + "\",\"notifyContentType\":\"application/json\",\"intermediateReport\":true,"
         "\"notifyUrl\":\"https://courier.test/c/ib/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/delivered\"}]}";
}

ExpectedRequest Req(const std::string& body = "") {
  ExpectedRequest r{.path = kPath, .headers = {{"authorization", kAuth}, {"content-type", "application/json"}}};
  r.body = body;
  return r;
}

TEST(InfobipHandler, Send) {
  InfobipHandler h;
  const std::string a(1590, 'a'), b(20, 'b');
  RunSendCases(h, IbChannel(), {
      {.label = "plain", .responses = {{kPath, Answer(1, "PENDING_ENROUTE")}}, .external_id = "10",
       .requests = {Req(Body("Simple Message"))}},
      {.label = "unicode", .text = "Bawo ni ☺", .responses = {{kPath, Answer(1, "PENDING_ENROUTE")}},
       .external_id = "10", .requests = {Req(Body("Bawo ni ☺"))}},
      {.label = "delivered group accepted", .responses = {{kPath, Answer(3, "DELIVERED_TO_OPERATOR")}},
       .external_id = "10", .requests = {Req()}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Answer(1, "PENDING_ENROUTE")}}, .external_id = "10",
       .requests = {Req(Body("My pic!\\nhttps://foo.bar/image.jpg"))}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Answer(1, "PENDING_ENROUTE", "10")}, {kPath, Answer(1, "PENDING_ENROUTE", "x2")}},
       .external_id = "10", .requests = {Req(Body(a)), Req(Body(b, false))}},
      {.label = "rejected is permanent", .responses = {{kPath, Answer(5, "REJECTED_NETWORK")}},
       .status = MsgStatus::kFailed, .error = "received error status: 'REJECTED_NETWORK'", .requests = {Req()}},
      {.label = "do-not-disturb stops contact", .responses = {{kPath, Answer(5, "REJECTED_DND")}},
       .status = MsgStatus::kFailed, .error = "REJECTED_DND", .stop_contact = true, .requests = {Req()}},
      {.label = "other group retryable", .responses = {{kPath, Answer(4, "EXPIRED_EXPIRED")}},
       .status = MsgStatus::kErrored, .error = "received error status: 'EXPIRED_EXPIRED'", .requests = {Req()}},
      {.label = "unparseable", .responses = {{kPath, {.status = 200, .body = "nope"}}}, .status = MsgStatus::kErrored,
       .error = "unable to parse response body", .requests = {Req()}},
      {.label = "provider 401",
       .responses = {{kPath, {.status = 401, .body = "{\"requestError\":{\"serviceException\":{\"messageId\":"
                                                     "\"UNAUTHORIZED\",\"text\":\"Invalid login details\"}}}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 401: Invalid login details",
       .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 7},
  });
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"username", "user1"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for IB channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("IB", "2020", "NG", {{"password", kPassword}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for IB channel",
       .requests = {}, .logs = 1},
  });
}

}  // namespace
