// MB — Mblox / Sinch XMS: reply, delivery report and send tables.
#include "handlers/mblox.h"

#include <set>

#include "core/clock.h"

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kToken = "xms-t0ken-s3cret";
const char* kPath = "/xms/v1/plan-1/batches";

Channel MbChannel() { return TestChannel("MB", "2020", "RW", {{"username", "plan-1"}, {"password", kToken}}); }

// A reply as Sinch posts it, with `fields` after the type.
std::string Reply(const std::string& fields) { return "{\"type\":\"mo_text\"," + fields + "}"; }
const std::string kReplyFields =
    "\"id\":\"OGHDrsKPJEGEH7Bs\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"Hello world\","
    "\"received_at\":\"2016-10-06T09:28:39.220Z\",\"operator_id\":\"63902\"";
const Micros kReceivedAt = 1475746119LL * kMicrosPerSecond + 220000;  // 2016-10-06T09:28:39.220Z

ReceiveCase ReplyCase(const std::string& label, const std::string& body) {
  return {.label = label, .action = "receive", .body = body, .content_type = "application/json"};
}
ReceiveCase ReplyError(const std::string& label, const std::string& body, const std::string& error) {
  ReceiveCase c = ReplyCase(label, body);
  c.error = error;
  return c;
}
const char* kMissingReplyField = "missing one of 'id', 'from', 'to', 'body' or 'received_at' in request body";

TEST(MbloxHandler, Reply) {
  MbloxHandler h;
  ReceiveCase valid = ReplyCase("valid", Reply(kReplyFields));
  valid.msgs = {{.urn = "tel:+250788383383", .text = "Hello world", .external_id = "OGHDrsKPJEGEH7Bs",
                 .received_on = kReceivedAt}};
  ReceiveCase with_plus = ReplyCase("from with + and unicode",
                                    Reply("\"id\":\"x1\",\"from\":\"+250788383383\",\"to\":\"2020\",\"body\":\"Muraho ☺\","
                                          "\"received_at\":\"2016-10-06T09:28:39.220Z\""));
  with_plus.msgs = {{.urn = "tel:+250788383383", .text = "Muraho ☺", .external_id = "x1", .received_on = kReceivedAt}};
  RunReceiveCases(h, MbChannel(), {
      valid,
      with_plus,
      ReplyError("missing id", Reply("\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"hi\",\"received_at\":"
                                     "\"2016-10-06T09:28:39.220Z\""), kMissingReplyField),
      ReplyError("missing from", Reply("\"id\":\"1\",\"to\":\"2020\",\"body\":\"hi\",\"received_at\":"
                                       "\"2016-10-06T09:28:39.220Z\""), kMissingReplyField),
      ReplyError("missing to", Reply("\"id\":\"1\",\"from\":\"250788383383\",\"body\":\"hi\",\"received_at\":"
                                     "\"2016-10-06T09:28:39.220Z\""), kMissingReplyField),
      ReplyError("empty body", Reply("\"id\":\"1\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"\","
                                     "\"received_at\":\"2016-10-06T09:28:39.220Z\""), kMissingReplyField),
      ReplyError("missing received_at", Reply("\"id\":\"1\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"hi\""),
                 kMissingReplyField),
      ReplyError("received_at without milliseconds",
                 Reply("\"id\":\"1\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"hi\",\"received_at\":"
                       "\"2016-10-06T09:28:39Z\""),
                 "invalid received_at '2016-10-06T09:28:39Z'"),
      ReplyError("received_at with an offset",
                 Reply("\"id\":\"1\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"hi\",\"received_at\":"
                       "\"2016-10-06T11:28:39.220+02:00\""),
                 "invalid received_at"),
      ReplyError("received_at out of range",
                 Reply("\"id\":\"1\",\"from\":\"250788383383\",\"to\":\"2020\",\"body\":\"hi\",\"received_at\":"
                       "\"2016-13-45T09:28:39.220Z\""),
                 "invalid received_at"),
      ReplyError("from is no number", Reply("\"id\":\"1\",\"from\":\"--\",\"to\":\"2020\",\"body\":\"hi\","
                                            "\"received_at\":\"2016-10-06T09:28:39.220Z\""),
                 "has no digits or letters"),
      ReplyError("missing type", "{\"id\":\"1\",\"body\":\"hi\"}", "field 'type' required"),
      ReplyError("unknown type", "{\"type\":\"mo_binary\",\"id\":\"1\"}", "not handled, unknown type: mo_binary"),
      ReplyError("malformed body", "not json", "unable to parse request JSON"),
  });
}

std::string Report(const std::string& status, const std::string& batch_id = "12345") {
  return "{\"type\":\"recipient_delivery_report_sms\",\"batch_id\":\"" + batch_id +
         "\",\"recipient\":\"250788383383\",\"code\":401,\"status\":\"" + status +
         "\",\"at\":\"2016-10-06T09:28:40.000Z\"}";
}

TEST(MbloxHandler, Report) {
  MbloxHandler h;
  auto status = [](const std::string& word, MsgStatus want) {
    return ReceiveCase{.label = word, .action = "receive", .body = Report(word), .content_type = "application/json",
                       .statuses = {{.status = want, .external_id = "12345"}}};
  };
  RunReceiveCases(h, MbChannel(), {
      status("Delivered", MsgStatus::kDelivered),
      status("Dispatched", MsgStatus::kSent),
      status("Aborted", MsgStatus::kFailed),
      status("Rejected", MsgStatus::kFailed),
      status("Failed", MsgStatus::kFailed),
      status("Expired", MsgStatus::kFailed),
      // Documented by Sinch, refused by the reference.
      status("Cancelled", MsgStatus::kFailed),
      status("Deleted", MsgStatus::kFailed),
      status("Unknown", MsgStatus::kSent),
      {.label = "Queued", .action = "receive", .body = Report("Queued"), .content_type = "application/json",
       .ignored = "status 'Queued' says nothing new"},
      {.label = "unknown status", .action = "receive", .body = Report("Borked"), .content_type = "application/json",
       .error = "unknown status 'Borked', must be one of 'Delivered', 'Dispatched', 'Aborted', 'Rejected', 'Failed', "
                "'Expired'"},
      {.label = "status in another case", .action = "receive", .body = Report("delivered"),
       .content_type = "application/json", .error = "unknown status 'delivered'"},
      {.label = "missing batch_id", .action = "receive", .body = Report("Delivered", ""),
       .content_type = "application/json", .error = "missing one of 'batch_id' or 'status' in request body"},
      {.label = "missing status", .action = "receive",
       .body = "{\"type\":\"recipient_delivery_report_sms\",\"batch_id\":\"12345\"}", .content_type = "application/json",
       .error = "missing one of 'batch_id' or 'status' in request body"},
  });
}

// The reason kept with a failed report: Sinch's status and error code.
TEST(MbloxHandler, FailedReportReason) {
  MbloxHandler h;
  const Route route{"POST", "receive", RouteKind::kReceive};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto request = WebhookRequest::Build("POST", std::string("/c/mb/") + kTestChannelUUID + "/receive",
                                       {{"content-type", "application/json"}}, Report("Rejected"), kTestBaseUrl,
                                       "receive");
  WebhookResult r = h.Receive(route, MbChannel(), request, ctx);
  ASSERT_EQ(r.statuses.size(), 1u);
  EXPECT_EQ(r.statuses[0].status, MsgStatus::kFailed);
  EXPECT_EQ(r.statuses[0].error_reason, "sinch status Rejected (code 401)");
}

TEST(MbloxHandler, Routes) {
  MbloxHandler h;
  EXPECT_EQ(h.Code(), "MB");
  EXPECT_EQ(h.Name(), "Mblox");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive"}));
}

MockResponse Batch(const std::string& id) {
  return {.status = 201,
          .body = "{\"id\":\"" + id + "\",\"to\":[\"250788383383\"],\"from\":\"2020\",\"canceled\":false,\"body\":"
                  "\"Simple Message\",\"type\":\"mt_text\",\"created_at\":\"2016-10-06T09:28:39.220Z\"}"};
}

std::string Body(const std::string& text) {
  return "{\"from\":\"2020\",\"to\":[\"250788383383\"],\"body\":\"" + text + "\",\"delivery_report\":\"per_recipient\"}";
}

ExpectedRequest Req(const std::string& body = "") {
  return {.path = kPath,
          .headers = {{"authorization", std::string("Bearer ") + kToken},
                      {"content-type", "application/json"},
                      {"accept", "application/json"}},
          .body = body};
}

TEST(MbloxHandler, Send) {
  MbloxHandler h;
  const std::string a(450, 'a'), b(20, 'b');
  RunSendCases(h, MbChannel(), {
      {.label = "plain", .responses = {{kPath, Batch("OGHDrsKPJEGEH7Bs")}}, .external_id = "OGHDrsKPJEGEH7Bs",
       .requests = {Req(Body("Simple Message"))}},
      {.label = "unicode", .text = "Muraho ☺", .responses = {{kPath, Batch("b1")}}, .external_id = "b1",
       .requests = {Req(Body("Muraho ☺"))}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Batch("b1")}, {kPath, Batch("b2")}}, .external_id = "b1",
       .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "attachments as links", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Batch("b1")}}, .external_id = "b1",
       .requests = {Req(Body("My pic!\\nhttps://foo.bar/image.jpg"))}},
      {.label = "attachment only", .text = "", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Batch("b1")}}, .external_id = "b1", .requests = {Req(Body("\\nhttps://foo.bar/image.jpg"))}},
      // Logged, not judged: Sinch took the batch.
      {.label = "accepted without id", .responses = {{kPath, {.status = 201, .body = "{\"to\":[]}"}}},
       .requests = {Req()}},
      {.label = "accepted with a body that is not JSON", .responses = {{kPath, {.status = 201, .body = "ok"}}},
       .requests = {Req()}},
      {.label = "400 with Sinch's reason",
       .responses = {{kPath, {.status = 400, .body = "{\"code\":\"syntax_invalid_json\",\"text\":\"The JSON body is "
                                                     "invalid\"}"}}},
       .status = MsgStatus::kFailed,
       .error = "received non 200 status: 400: syntax_invalid_json: The JSON body is invalid", .requests = {Req()}},
      {.label = "401", .responses = {{kPath, {.status = 401, .body = ""}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401", .requests = {Req()}},
      {.label = "second part refused", .text = a + " " + b,
       .responses = {{kPath, Batch("b1")}, {kPath, {.status = 403, .body = "{\"code\":\"missing_service_plan\"}"}}},
       .status = MsgStatus::kFailed, .error = "403: missing_service_plan", .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "500", .responses = {{kPath, {.status = 500, .body = "{}"}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 12},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  RunSendCases(h, TestChannel("MB", "+2020", "RW", {{"username", "plan-1"}, {"password", kToken}, {"max_length", "12"}}), {
      {.label = "max_length 12, sender without +", .text = "Hello there my friend",
       .responses = {{kPath, Batch("b1")}, {kPath, Batch("b2")}}, .external_id = "b1",
       .requests = {Req(Body("Hello there")), Req(Body("my friend"))}},
  });

  RunSendCases(h, TestChannel("MB", "2020", "RW", {{"password", kToken}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for MB channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("MB", "2020", "RW", {{"username", "plan-1"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for MB channel",
       .requests = {}, .logs = 1},
  });
}

// A 2xx without the batch id keeps the msg W and says so in its log.
TEST(MbloxHandler, AcceptedWithoutIdIsLogged) {
  MbloxHandler h;
  MockProvider provider;
  provider.On(kPath, {.status = 201, .body = "{}"});
  Channel channel = MbChannel();
  channel.config["base_url"] = provider.url();
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = "tel:+250788383383";
  msg.text = "hi";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  SendResult r = h.Send(channel, msg, ctx);
  EXPECT_EQ(r.status, MsgStatus::kWired);
  EXPECT_EQ(r.external_id, "");
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].error, "unable to get id from response body");
}

// Sinch signs nothing: with a webhook_token set, a webhook must carry it.
TEST(MbloxHandler, WebhookToken) {
  MbloxHandler h;
  Channel channel = MbChannel();
  channel.config["webhook_token"] = kWebhookToken;
  ReceiveCase taken = ReplyCase("valid", Reply(kReplyFields));
  taken.msgs = {{.urn = "tel:+250788383383", .text = "Hello world", .external_id = "OGHDrsKPJEGEH7Bs",
                 .received_on = kReceivedAt}};
  RunReceiveCases(h, channel, WebhookTokenCases(taken));
}

}  // namespace
