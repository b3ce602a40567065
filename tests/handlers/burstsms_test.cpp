// BS — Burst SMS: reply, delivery report and send tables.
#include "handlers/burstsms.h"

#include <set>

#include "handler_harness.h"
#include "util/hmac.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kApiKey = "bs-api-key-1";
const char* kApiSecret = "bs-4p1-s3cret";
const char* kPath = "/send-sms.json";

Channel BsChannel() { return TestChannel("BS", "61491570156", "AU", {{"username", kApiKey}, {"password", kApiSecret}}); }

// A reply as Burst SMS calls it.
const std::string kReply =
    "response=Hello+world&mobile=61491570157&longcode=61491570156&datetime_entry=2024-01-02+03%3A04%3A05&"
    "response_id=1234&message_id=5678";

TEST(BurstSmsHandler, Receive) {
  BurstSmsHandler h;
  RunReceiveCases(h, BsChannel(), {
      {.label = "valid", .method = "GET", .action = "receive", .query = kReply,
       .msgs = {{.urn = "tel:+61491570157", .text = "Hello world", .no_received_on = true}}},
      {.label = "national number in the channel's country", .method = "GET", .action = "receive",
       .query = "response=hi&mobile=0491570157", .msgs = {{.urn = "tel:+61491570157", .text = "hi"}}},
      {.label = "unicode", .method = "GET", .action = "receive", .query = "response=G%27day+%E2%98%BA&mobile=61491570157",
       .msgs = {{.urn = "tel:+61491570157", .text = "G'day ☺"}}},
      {.label = "no response", .method = "GET", .action = "receive", .query = "mobile=61491570157",
       .msgs = {{.urn = "tel:+61491570157", .text = ""}}},
      {.label = "missing mobile", .method = "GET", .action = "receive", .query = "response=hi",
       .error = "missing required field 'mobile'"},
      {.label = "empty mobile", .method = "GET", .action = "receive", .query = "response=hi&mobile=",
       .error = "missing required field 'mobile'"},
      {.label = "mobile is no number", .method = "GET", .action = "receive", .query = "response=hi&mobile=%2B%2B",
       .error = "has no digits or letters"},
  });
}

TEST(BurstSmsHandler, Status) {
  BurstSmsHandler h;
  auto report = [](const std::string& status) {
    return "message_id=5678&mobile=61491570157&datetime=2024-01-02+03%3A04%3A05&status=" + status;
  };
  RunReceiveCases(h, BsChannel(), {
      {.label = "delivered", .method = "GET", .action = "status", .query = report("delivered"),
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = "5678"}}},
      {.label = "pending", .method = "GET", .action = "status", .query = report("pending"),
       .statuses = {{.status = MsgStatus::kSent, .external_id = "5678"}}},
      {.label = "soft-bounce", .method = "GET", .action = "status", .query = report("soft-bounce"),
       .statuses = {{.status = MsgStatus::kErrored, .external_id = "5678"}}},
      {.label = "hard-bounce", .method = "GET", .action = "status", .query = report("hard-bounce"),
       .statuses = {{.status = MsgStatus::kFailed, .external_id = "5678"}}},
      {.label = "unknown status", .method = "GET", .action = "status", .query = report("bounced"),
       .error = "unknown status value 'bounced'"},
      {.label = "missing status", .method = "GET", .action = "status", .query = "message_id=5678",
       .error = "missing required field 'status'"},
      {.label = "missing message_id", .method = "GET", .action = "status", .query = "status=delivered",
       .error = "missing required field 'message_id'"},
  });
}

TEST(BurstSmsHandler, Routes) {
  BurstSmsHandler h;
  EXPECT_EQ(h.Code(), "BS");
  EXPECT_EQ(h.Name(), "Burst SMS");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "GET status"}));
}

MockResponse Sent(int64_t id) {
  return {.status = 200,
          .body = "{\"message_id\":" + std::to_string(id) +
                  ",\"send_at\":\"2024-01-02 03:04:05\",\"recipients\":1,\"cost\":0.05,\"sms\":1,"
                  "\"delivery_stats\":{\"delivered\":0,\"pending\":0,\"bounced\":0,\"responses\":0,\"optouts\":0},"
                  "\"error\":{\"code\":\"SUCCESS\",\"description\":\"OK\"}}"};
}

ExpectedRequest Req(const std::string& message = "", const std::string& from = "61491570156") {
  ExpectedRequest r{.path = kPath,
                    .headers = {{"authorization", "Basic " + Base64Encode(std::string(kApiKey) + ":" + kApiSecret)},
                                {"content-type", "application/x-www-form-urlencoded"},
                                {"accept", "application/json"}}};
  if (!message.empty()) r.form = {{"to", "250788383383"}, {"from", from}, {"message", message}};
  return r;
}

TEST(BurstSmsHandler, Send) {
  BurstSmsHandler h;
  const std::string a(600, 'a'), b(20, 'b');
  RunSendCases(h, BsChannel(), {
      {.label = "plain", .responses = {{kPath, Sent(768388)}}, .external_id = "768388",
       .requests = {Req("Simple Message")}},
      {.label = "exact form", .responses = {{kPath, Sent(1)}}, .external_id = "1",
       .requests = {{.path = kPath, .body = "to=250788383383&from=61491570156&message=Simple+Message"}}},
      {.label = "unicode", .text = "G'day ☺", .responses = {{kPath, Sent(1)}}, .external_id = "1",
       .requests = {Req("G'day ☺")}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Sent(1)}, {kPath, Sent(2)}}, .external_id = "1", .requests = {Req(a), Req(b)}},
      {.label = "attachments as links", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Sent(1)}}, .external_id = "1", .requests = {Req("My pic!\nhttps://foo.bar/image.jpg")}},
      {.label = "message_id as a string", .responses = {{kPath, {.status = 200, .body = "{\"message_id\":\"42\"}"}}},
       .external_id = "42", .requests = {Req()}},
      {.label = "message_id 0", .responses = {{kPath, {.status = 200, .body = "{\"message_id\":0}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message_id from response body", .requests = {Req()}},
      {.label = "no message_id", .responses = {{kPath, {.status = 200, .body = "{\"error\":{\"code\":\"SUCCESS\"}}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message_id from response body", .requests = {Req()}},
      {.label = "200 that is not JSON", .responses = {{kPath, {.status = 200, .body = "queued"}}},
       .status = MsgStatus::kFailed, .error = "unable to parse response body", .requests = {Req()}},
      {.label = "second part refused", .text = a + " " + b,
       .responses = {{kPath, Sent(1)}, {kPath, {.status = 400, .body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 400", .requests = {Req(a), Req(b)}},
      {.label = "400 with Burst SMS's reason",
       .responses = {{kPath, {.status = 400, .body = "{\"error\":{\"code\":\"FIELD_INVALID\",\"description\":"
                                                     "\"Invalid number\"}}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400: FIELD_INVALID: Invalid number",
       .requests = {Req()}},
      {.label = "401", .responses = {{kPath, {.status = 401, .body = ""}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401", .requests = {Req()}},
      {.label = "500", .responses = {{kPath, {.status = 500, .body = "{}"}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "3"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 3},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  RunSendCases(h, TestChannel("BS", "61491570156", "AU", {{"username", kApiKey}, {"password", kApiSecret}, {"max_length", "12"}}), {
      {.label = "max_length 12", .text = "Hello there my friend",
       .responses = {{kPath, Sent(1)}, {kPath, Sent(2)}}, .external_id = "1",
       .requests = {Req("Hello there"), Req("my friend")}},
  });

  RunSendCases(h, TestChannel("BS", "61491570156", "AU", {{"password", kApiSecret}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for BS channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("BS", "61491570156", "AU", {{"username", kApiKey}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for BS channel",
       .requests = {}, .logs = 1},
  });
}

// Burst SMS signs nothing: with a webhook_token set, a webhook must carry it.
TEST(BurstSmsHandler, WebhookToken) {
  BurstSmsHandler h;
  Channel channel = BsChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "reply", .method = "GET", .action = "receive", .query = kReply,
                                     .msgs = {{.urn = "tel:+61491570157", .text = "Hello world"}}}));
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "report", .method = "GET", .action = "status",
                                     .query = "message_id=5678&status=delivered",
                                     .statuses = {{.status = MsgStatus::kDelivered, .external_id = "5678"}}}));
}

}  // namespace
