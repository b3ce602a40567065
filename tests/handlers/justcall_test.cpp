// JCL — JustCall: reply, delivery report and send tables.
#include "handlers/justcall.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kApiKey = "jc-4P1-k3y";
const char* kSecret = "jc-s3cr3t-v4lue";
const char* kPath = "/v1/texts/new";

Channel JclChannel() { return TestChannel("JCL", "+12065551212", "US", {{"api_key", kApiKey}, {"secret", kSecret}}); }

// A webhook as JustCall posts it, with `fields` in data.
std::string Hook(const std::string& fields) { return "{\"data\":{" + fields + "}}"; }

const std::string kReply =
    Hook("\"type\":\"sms\",\"direction\":\"I\",\"justcall_number\":\"+12065551212\",\"contact_number\":"
         "\"+12065551111\",\"contact_name\":\"Ana\",\"content\":\"Hello world\",\"messageid\":26370021,"
         "\"datetime\":\"2022-06-10 11:30:42\",\"delivery_status\":\"received\",\"mms\":[]");
const Micros kDatetime = 1654860642LL * kMicrosPerSecond;  // 2022-06-10T11:30:42Z

std::string Report(const std::string& status) {
  return Hook("\"type\":\"sms\",\"direction\":\"O\",\"contact_number\":\"+12065551111\",\"content\":\"hi\","
              "\"messageid\":26370022,\"datetime\":\"2022-06-10 11:31:00\",\"delivery_status\":\"" +
              status + "\"");
}

TEST(JustCallHandler, Receive) {
  JustCallHandler h;
  const std::string json = "application/json";
  RunReceiveCases(h, JclChannel(), {
      {.label = "valid", .action = "receive", .body = kReply, .content_type = json,
       .msgs = {{.urn = "tel:+12065551111", .text = "Hello world", .external_id = "26370021",
                 .received_on = kDatetime}}},
      {.label = "national number in the channel's country", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"(206) 555-1111\",\"content\":\"hi\","
                    "\"messageid\":1"),
       .content_type = json, .msgs = {{.urn = "tel:+12065551111", .text = "hi", .external_id = "1"}}},
      {.label = "keys in another case", .action = "receive",
       .body = "{\"Data\":{\"Type\":\"sms\",\"Direction\":\"I\",\"Contact_Number\":\"+12065551111\",\"Content\":\"hi\","
               "\"MessageId\":7,\"DateTime\":\"2022-06-10 11:30:42\"}}",
       .content_type = json,
       .msgs = {{.urn = "tel:+12065551111", .text = "hi", .external_id = "7", .received_on = kDatetime}}},
      {.label = "unicode", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"Hola ☺\","
                    "\"messageid\":2"),
       .content_type = json, .msgs = {{.urn = "tel:+12065551111", .text = "Hola ☺", .external_id = "2"}}},
      {.label = "empty content", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"\","
                    "\"messageid\":3"),
       .content_type = json, .msgs = {{.urn = "tel:+12065551111", .text = "", .external_id = "3"}}},
      {.label = "no datetime, no messageid", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"hi\","
                    "\"datetime\":\"\""),
       .content_type = json, .msgs = {{.urn = "tel:+12065551111", .text = "hi", .no_received_on = true}}},
      {.label = "MMS: the first medium only", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"look\","
                    "\"messageid\":4,\"mms\":[{\"media_url\":\"https://files.justcall.io/a/pic.jpg\"},"
                    "{\"media_url\":\"https://files.justcall.io/a/clip.mp4\"}]"),
       .content_type = json,
       .msgs = {{.urn = "tel:+12065551111", .text = "look", .external_id = "4",
                 .attachments = {"image/jpeg:https://files.justcall.io/a/pic.jpg"}}}},
      {.label = "MMS of an unknown type", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"\","
                    "\"messageid\":5,\"mms\":[{\"media_url\":\"https://files.justcall.io/a/blob\"}]"),
       .content_type = json,
       .msgs = {{.urn = "tel:+12065551111", .text = "", .external_id = "5",
                 .attachments = {"https://files.justcall.io/a/blob"}}}},
      {.label = "an outgoing text", .action = "receive", .body = Report("sent"), .content_type = json,
       .ignored = "Ignoring request, no message"},
      {.label = "a call", .action = "receive",
       .body = Hook("\"type\":\"call\",\"direction\":\"I\",\"contact_number\":\"+12065551111\""),
       .content_type = json, .ignored = "Ignoring request, no message"},
      {.label = "no data", .action = "receive", .body = "{}", .content_type = json,
       .ignored = "Ignoring request, no message"},
      {.label = "bad datetime", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"+12065551111\",\"content\":\"hi\","
                    "\"datetime\":\"2022-06-10T11:30:42Z\""),
       .content_type = json,
       .error = "invalid datetime '2022-06-10T11:30:42Z', must be YYYY-MM-DD hh:mm:ss (UTC)"},
      {.label = "no contact_number", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"content\":\"hi\""), .content_type = json,
       .error = "field 'contact_number' required"},
      {.label = "contact_number is no number", .action = "receive",
       .body = Hook("\"type\":\"sms\",\"direction\":\"I\",\"contact_number\":\"++\",\"content\":\"hi\""),
       .content_type = json, .error = "has no digits or letters"},
      {.label = "not JSON", .action = "receive", .body = "type=sms", .content_type = json,
       .error = "unable to parse request JSON"},
  });
}

TEST(JustCallHandler, Status) {
  JustCallHandler h;
  const std::string json = "application/json";
  RunReceiveCases(h, JclChannel(), {
      {.label = "delivered", .action = "status", .body = Report("delivered"), .content_type = json,
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = "26370022"}}},
      {.label = "sent", .action = "status", .body = Report("sent"), .content_type = json,
       .statuses = {{.status = MsgStatus::kSent, .external_id = "26370022"}}},
      {.label = "undelivered", .action = "status", .body = Report("undelivered"), .content_type = json,
       .statuses = {{.status = MsgStatus::kErrored, .external_id = "26370022"}}},
      {.label = "failed", .action = "status", .body = Report("failed"), .content_type = json,
       .statuses = {{.status = MsgStatus::kFailed, .external_id = "26370022"}}},
      {.label = "messageid as a string", .action = "status",
       .body = Hook("\"type\":\"sms\",\"direction\":\"O\",\"messageid\":\"99\",\"delivery_status\":\"delivered\""),
       .content_type = json, .statuses = {{.status = MsgStatus::kDelivered, .external_id = "99"}}},
      {.label = "unknown status", .action = "status", .body = Report("queued"), .content_type = json,
       .error = "unknown status 'queued', must be one of sent, delivered, undelivered, failed"},
      {.label = "no messageid", .action = "status",
       .body = Hook("\"type\":\"sms\",\"direction\":\"O\",\"delivery_status\":\"delivered\""), .content_type = json,
       .error = "field 'messageid' required"},
      {.label = "an incoming text", .action = "status", .body = kReply, .content_type = json,
       .ignored = "Ignoring request, no message"},
      {.label = "not JSON", .action = "status", .body = "{", .content_type = json,
       .error = "unable to parse request JSON"},
  });
}

TEST(JustCallHandler, Routes) {
  JustCallHandler h;
  EXPECT_EQ(h.Code(), "JCL");
  EXPECT_EQ(h.Name(), "JustCall");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

MockResponse Sent(const std::string& id) {
  return {.status = 200,
          .body = "{\"status\":\"success\",\"message\":\"Text sent\",\"id\":" + id +
                  ",\"data\":{\"from\":\"+12065551212\",\"to\":\"+250788383383\"}}"};
}

std::string Body(const std::string& text, const std::string& media = "") {
  return "{\"from\":\"+12065551212\",\"to\":\"+250788383383\",\"body\":\"" + text + "\"" +
         (media.empty() ? "" : ",\"media_url\":\"" + media + "\"") + "}";
}

ExpectedRequest Req(const std::string& body = "") {
  return {.path = kPath,
          .headers = {{"authorization", std::string(kApiKey) + ":" + kSecret},
                      {"content-type", "application/json"},
                      {"accept", "application/json"}},
          .body = body};
}

TEST(JustCallHandler, Send) {
  JustCallHandler h;
  const std::string long_text(2000, 'a');
  std::vector<std::string> six;
  std::string six_urls, six_lines;
  for (int i = 1; i <= 6; ++i) {
    const std::string url = "https://foo.bar/" + std::to_string(i) + ".jpg";
    six.push_back("image/jpeg:" + url);
    six_lines += "\\n" + url;
  }
  RunSendCases(h, JclChannel(), {
      {.label = "plain", .responses = {{kPath, Sent("5563")}}, .external_id = "5563",
       .requests = {Req(Body("Simple Message"))}},
      {.label = "unicode", .text = "Hola ☺", .responses = {{kPath, Sent("1")}}, .external_id = "1",
       .requests = {Req(Body("Hola ☺"))}},
      {.label = "long text not split", .text = long_text, .responses = {{kPath, Sent("1")}}, .external_id = "1",
       .requests = {Req(Body(long_text))}},
      {.label = "attachments as media", .text = "My pics",
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "video/mp4:https://foo.bar/b.mp4"},
       .responses = {{kPath, Sent("1")}}, .external_id = "1",
       .requests = {Req(Body("My pics", "https://foo.bar/a.jpg,https://foo.bar/b.mp4"))}},
      {.label = "attachment only", .text = "", .attachments = {"image/jpeg:https://foo.bar/a.jpg"},
       .responses = {{kPath, Sent("1")}}, .external_id = "1", .requests = {Req(Body("", "https://foo.bar/a.jpg"))}},
      {.label = "more than 5 attachments go as links", .text = "Many", .attachments = six,
       .responses = {{kPath, Sent("1")}}, .external_id = "1", .requests = {Req(Body("Many" + six_lines))}},
      {.label = "id as a string", .responses = {{kPath, {.status = 200, .body = "{\"status\":\"success\",\"id\":\"77\"}"}}},
       .external_id = "77", .requests = {Req()}},
      {.label = "success without id: W without an id",
       .responses = {{kPath, {.status = 200, .body = "{\"status\":\"success\"}"}}}, .requests = {Req()}},
      {.label = "refused in a 200",
       .responses = {{kPath, {.status = 200, .body = "{\"status\":\"error\",\"message\":\"Number not SMS capable\"}"}}},
       .status = MsgStatus::kFailed, .error = "received status 'error': Number not SMS capable", .requests = {Req()}},
      {.label = "200 without status", .responses = {{kPath, {.status = 200, .body = "{\"id\":1}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get status from response body", .requests = {Req()}},
      {.label = "200 that is not JSON", .responses = {{kPath, {.status = 200, .body = "ok"}}},
       .status = MsgStatus::kFailed, .error = "unable to get status from response body", .requests = {Req()}},
      {.label = "401 with JustCall's reason",
       .responses = {{kPath, {.status = 401, .body = "{\"status\":\"error\",\"message\":\"Invalid credentials\"}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401: Invalid credentials",
       .requests = {Req()}},
      {.label = "500", .responses = {{kPath, {.status = 500, .body = ""}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "9"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 9},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  RunSendCases(h, TestChannel("JCL", "+12065551212", "US", {{"secret", kSecret}}), {
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for JCL channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("JCL", "+12065551212", "US", {{"api_key", kApiKey}}), {
      {.label = "no secret", .status = MsgStatus::kErrored, .error = "no secret set for JCL channel",
       .requests = {}, .logs = 1},
  });
}

// JustCall signs nothing: with a webhook_token set, a webhook must carry it.
TEST(JustCallHandler, WebhookToken) {
  JustCallHandler h;
  Channel channel = JclChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "reply", .action = "receive", .body = kReply,
                                     .content_type = "application/json",
                                     .msgs = {{.urn = "tel:+12065551111", .text = "Hello world",
                                               .external_id = "26370021", .received_on = kDatetime}}}));
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "report", .action = "status", .body = Report("delivered"),
                                     .content_type = "application/json",
                                     .statuses = {{.status = MsgStatus::kDelivered, .external_id = "26370022"}}}));
}

}  // namespace
