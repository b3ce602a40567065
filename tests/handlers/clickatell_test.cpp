// CT — Clickatell: One API and SMS Platform callbacks, status codes, text
// decoding and send tables.
#include "handlers/clickatell.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kApiKey = "ctkey-s3cret";
constexpr Micros kTs = 1506607698000LL * 1000;  // 2017-09-28T14:08:18Z
const char* kId = "3a89680503414383af44dcd0e4e5f184";

Channel CtChannel(std::map<std::string, std::string> config = {{"api_key", kApiKey}}) {
  return TestChannel("CT", "+250788000000", "RW", std::move(config));
}

// An SMS Platform reply callback (JSON POST) with `text` in `charset`.
std::string PlatformReply(const std::string& text_json, const std::string& charset = "UTF-8") {
  return R"({"integrationName":"Test","messageId":")" + std::string(kId) +
         R"(","replyMessageId":"b72b5aa3c0d64bd8bc9d5cd3c2d2ca2e","fromNumber":"250788383383",)"
         R"("toNumber":"250788000000","timestamp":1506607698000,"text":)" + text_json + R"(,"charset":")" + charset +
         R"(","udh":"","network":"Unknown","keyword":""})";
}

// A One API callback around `event`.
std::string OneApi(const std::string& event) {
  return R"({"integrationId":"fa8090815f05d5ed015f0b5b56080cd2","integrationName":"My integration","event":)" +
         event + "}";
}

std::string MoText(const std::string& id, const std::string& from, const std::string& content) {
  return R"({"channel":"sms","messageId":")" + id + R"(","relatedMessageId":null,"relatedClientMessageId":null,)"
         R"("from":")" + from + R"(","to":"250788000000","timestamp":1506607698000,"content":)" + content +
         R"(,"charset":"UTF-8"})";
}

std::string StatusUpdate(const std::string& code) {
  return OneApi(R"({"messageStatusUpdate":[{"channel":"sms","messageId":")" + std::string(kId) +
                R"(","clientMessageId":null,"timestamp":1506607698000,"status":"X","statusCode":)" + code + "}]}");
}

TEST(ClickatellHandler, Routes) {
  ClickatellHandler h;
  EXPECT_EQ(h.Code(), "CT");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET status", "POST status"}));
}

TEST(ClickatellHandler, ReceivePlatform) {
  ClickatellHandler h;
  const ExpectedMsg hello = {.urn = "tel:+250788383383", .text = "Hello World", .external_id = kId, .received_on = kTs};
  const std::string form = "messageId=" + std::string(kId) + "&fromNumber=250788383383&toNumber=250788000000" +
                           "&timestamp=1506607698000&text=Hello+World&charset=UTF-8";
  RunReceiveCases(h, CtChannel(), {
      {.label = "valid JSON", .action = "receive", .body = PlatformReply("\"Hello World\""),
       .content_type = "application/json", .msgs = {hello}},
      {.label = "valid form POST", .action = "receive", .body = form, .msgs = {hello}},
      {.label = "valid GET", .method = "GET", .action = "receive", .query = form, .content_type = "", .msgs = {hello}},
      {.label = "unicode UTF-8", .action = "receive", .body = PlatformReply("\"Mwaramutse ☺\""),
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "Mwaramutse ☺", .external_id = kId}}},
      {.label = "UTF-16BE bytes in JSON", .action = "receive",
       .body = PlatformReply(R"("\u0000H\u0000i\u0000 &:")", "UTF-16BE"), .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "Hi ☺", .external_id = kId}}},
      {.label = "UTF-16BE raw bytes in a form", .action = "receive",
       .body = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=%00H%00i%D8%3D%DE%00&charset=UTF-16BE",
       .msgs = {{.urn = "tel:+250788383383", .text = "Hi😀", .external_id = kId}}},
      {.label = "UTF-16BE already decoded is kept", .action = "receive",
       .body = PlatformReply("\"Привет\"", "UTF-16BE"), .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "Привет", .external_id = kId}}},
      {.label = "ISO-8859-1 raw bytes", .action = "receive",
       .body = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=caf%E9&charset=ISO-8859-1",
       .msgs = {{.urn = "tel:+250788383383", .text = "café", .external_id = kId}}},
      {.label = "ISO-8859-1 already UTF-8", .action = "receive", .body = PlatformReply("\"café\"", "ISO-8859-1"),
       .content_type = "application/json", .msgs = {{.urn = "tel:+250788383383", .text = "café", .external_id = kId}}},
      {.label = "ISO-8859-1 URL-escaped in JSON", .action = "receive",
       .body = PlatformReply("\"%A3irvine+stinta%A5+caf%E9%21\"", "ISO-8859-1"), .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "£irvine stinta¥ café!", .external_id = kId}}},
      {.label = "ISO-8859-1 URL-escaped in a form", .action = "receive",
       .body = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=ol%25E9+%25BFqu%25E9%253F&charset=ISO-8859-1",
       .msgs = {{.urn = "tel:+250788383383", .text = "olé ¿qué?", .external_id = kId}}},
      {.label = "ISO-8859-1 URL-escaped by GET", .method = "GET", .action = "receive",
       .query = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=Gr%25FC%25DFe%2B1&charset=ISO-8859-1",
       .content_type = "", .msgs = {{.urn = "tel:+250788383383", .text = "Grüße 1", .external_id = kId}}},
      {.label = "ISO-8859-1: a '%' that escapes nothing is kept", .action = "receive",
       .body = PlatformReply("\"100%25+sure%2C+50%\"", "ISO-8859-1"), .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "100% sure, 50%", .external_id = kId}}},
      {.label = "no timestamp", .action = "receive",
       .body = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=hi",
       .msgs = {{.urn = "tel:+250788383383", .text = "hi", .external_id = kId}}},
      {.label = "bad timestamp", .action = "receive",
       .body = "messageId=" + std::string(kId) + "&fromNumber=250788383383&text=hi&timestamp=yesterday",
       .error = "invalid timestamp 'yesterday'"},
      {.label = "missing fromNumber", .action = "receive", .body = "messageId=1&text=hi",
       .error = "field 'fromNumber' required"},
      {.label = "missing messageId", .action = "receive", .body = "fromNumber=250788383383&text=hi",
       .error = "field 'messageId' required"},
      {.label = "missing text", .action = "receive", .body = "messageId=1&fromNumber=250788383383",
       .error = "field 'text' required"},
      {.label = "malformed JSON", .action = "receive", .body = "{\"messageId\":", .content_type = "application/json",
       .error = "unable to parse request JSON"},
  });
}

TEST(ClickatellHandler, ReceiveOneApi) {
  ClickatellHandler h;
  RunReceiveCases(h, CtChannel(), {
      {.label = "moText", .action = "receive",
       .body = OneApi(R"({"moText":[)" + MoText(kId, "250788383383", "\"Text Content of the reply message\"") + "]}"),
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "Text Content of the reply message", .external_id = kId,
                 .received_on = kTs}}},
      {.label = "two moText items", .action = "receive",
       .body = OneApi(R"({"moText":[)" + MoText("m1", "250788383383", "\"one\"") + "," +
                      MoText("m2", "+250788111111", "\"two ☺\"") + "]}"),
       .content_type = "application/json",
       .msgs = {{.urn = "tel:+250788383383", .text = "one", .external_id = "m1"},
                {.urn = "tel:+250788111111", .text = "two ☺", .external_id = "m2"}}},
      {.label = "moMedia ignored", .action = "receive",
       .body = OneApi(R"({"moMedia":[{"channel":"whatsapp","messageId":"x","from":"250788383383","content":"AAAA"}]})"),
       .content_type = "application/json", .ignored = "no moText"},
      {.label = "missing from", .action = "receive",
       .body = OneApi(R"({"moText":[{"messageId":"m1","content":"hi"}]})"), .content_type = "application/json",
       .error = "field 'from' required"},
      {.label = "missing content", .action = "receive",
       .body = OneApi(R"({"moText":[{"messageId":"m1","from":"250788383383"}]})"),
       .content_type = "application/json", .error = "field 'content' required"},
      {.label = "event not an object", .action = "receive", .body = OneApi("\"moText\""),
       .content_type = "application/json", .error = "field 'event' must be an object"},
  });
}

TEST(ClickatellHandler, StatusPlatform) {
  ClickatellHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<int, MsgStatus>> table = {
      {2, MsgStatus::kWired},   {3, MsgStatus::kSent},    {4, MsgStatus::kDelivered}, {5, MsgStatus::kFailed},
      {6, MsgStatus::kFailed},  {7, MsgStatus::kFailed},  {8, MsgStatus::kWired},     {9, MsgStatus::kFailed},
      {10, MsgStatus::kFailed}, {11, MsgStatus::kWired},  {12, MsgStatus::kFailed},   {13, MsgStatus::kFailed},
      {14, MsgStatus::kFailed},
  };
  for (const auto& [code, status] : table)
    cases.push_back({.label = "status " + std::to_string(code), .action = "status",
                     .body = R"({"integrationName":"Test","messageId":")" + std::string(kId) +
                             R"(","requestId":"r1","clientMessageId":"","to":"250788383383","from":"250788000000",)"
                             R"("statusCode":)" + std::to_string(code) +
                             R"(,"status":"X","statusDescription":"Y","timestamp":1506607698000})",
                     .content_type = "application/json", .statuses = {{.status = status, .external_id = kId}}});
  cases.push_back({.label = "GET with zero-padded code", .method = "GET", .action = "status",
                   .query = "messageId=" + std::string(kId) + "&statusCode=004", .content_type = "",
                   .statuses = {{.status = MsgStatus::kDelivered, .external_id = kId}}});
  cases.push_back({.label = "1 message unknown: ignored", .action = "status",
                   .body = "messageId=" + std::string(kId) + "&statusCode=1", .ignored = "status 1"});
  cases.push_back({.label = "code outside the table: ignored, not refused", .action = "status",
                   .body = R"({"integrationName":"Test","messageId":")" + std::string(kId) +
                           R"(","requestId":"r1","clientMessageId":"","to":"250788383383","from":"250788000000",)"
                           R"("statusCode":15,"status":"NEW_STATUS","statusDescription":"Something new","timestamp":1506607698000})",
                   .content_type = "application/json", .ignored = "ignoring unknown status '15', must be one of '1', '2', '3'"});
  cases.push_back({.label = "code not a number", .action = "status",
                   .body = "messageId=" + std::string(kId) + "&statusCode=ok",
                   .error = "field 'statusCode' must be an integer"});
  cases.push_back({.label = "missing messageId", .action = "status", .body = "statusCode=4",
                   .error = "field 'messageId' required"});
  cases.push_back({.label = "missing statusCode", .action = "status", .body = "messageId=1",
                   .error = "field 'statusCode' required"});
  RunReceiveCases(h, CtChannel(), cases);
}

TEST(ClickatellHandler, StatusOneApi) {
  ClickatellHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<int, MsgStatus>> table = {
      {2, MsgStatus::kWired},  {3, MsgStatus::kWired},  {4, MsgStatus::kSent},    {5, MsgStatus::kDelivered},
      {6, MsgStatus::kRead},   {20, MsgStatus::kFailed}, {23, MsgStatus::kFailed}, {25, MsgStatus::kFailed},
      {100, MsgStatus::kFailed},
  };
  for (const auto& [code, status] : table)
    cases.push_back({.label = "one api status " + std::to_string(code), .action = "status",
                     .body = StatusUpdate(std::to_string(code)), .content_type = "application/json",
                     .statuses = {{.status = status, .external_id = kId}}});
  cases.push_back({.label = "1 not found: ignored", .action = "status", .body = StatusUpdate("1"),
                   .content_type = "application/json", .ignored = "status unknown"});
  cases.push_back({.label = "code outside the table: ignored, not refused", .action = "status", .body = StatusUpdate("7"),
                   .content_type = "application/json", .ignored = "ignoring unknown status '7'"});
  cases.push_back({.label = "batch: the known code is still taken", .action = "status",
                   .body = OneApi(R"({"messageStatusUpdate":[{"channel":"sms","messageId":"m1","clientMessageId":null,)"
                                  R"("timestamp":1506607698000,"status":"NEW","statusCode":7},)"
                                  R"({"channel":"sms","messageId":"m2","clientMessageId":null,)"
                                  R"("timestamp":1506607698000,"status":"DELIVERED_TO_GATEWAY","statusCode":5}]})"),
                   .content_type = "application/json", .statuses = {{.status = MsgStatus::kDelivered, .external_id = "m2"}}});
  cases.push_back({.label = "missing messageId", .action = "status",
                   .body = OneApi(R"({"messageStatusUpdate":[{"statusCode":4}]})"), .content_type = "application/json",
                   .error = "field 'messageId' required"});
  cases.push_back({.label = "other event ignored", .action = "status", .body = OneApi(R"({"somethingNew":[]})"),
                   .content_type = "application/json", .ignored = "no messageStatusUpdate"});
  RunReceiveCases(h, CtChannel(), cases);
}

const char* kOnePath = "/v1/message";
const char* kPlatformPath = "/messages/http/send";

MockResponse OneAccepted(const std::string& id) {
  return {.status = 202, .body = R"({"messages":[{"apiMessageId":")" + id +
                                 R"(","accepted":true,"to":"250788383383","error":null}],"error":null})"};
}

MockResponse OneRejected(int status, int code, const std::string& description) {
  return {.status = status,
          .body = R"({"messages":[{"apiMessageId":null,"accepted":false,"to":"250788383383","error":{"code":)" +
                  std::to_string(code) + R"(,"description":")" + description +
                  R"(","documentation":"https://docs.clickatell.com"}}],"error":null})"};
}

std::string OneBody(const std::string& content) {
  auto message = json::NewObject();
  message->set("channel", "sms");
  message->set("to", "250788383383");
  message->set("content", content);
  message->set("from", "250788000000");
  auto messages = json::NewArray();
  messages->add(message);
  auto body = json::NewObject();
  body->set("messages", messages);
  return json::Stringify(body);
}

TEST(ClickatellHandler, SendOneApi) {
  ClickatellHandler h;
  const std::string long_a(630, 'a'), long_b(20, 'b');
  RunSendCases(h, CtChannel(), {
      {.label = "plain", .responses = {{kOnePath, OneAccepted("77fb29998253415fa5d66971d519d362")}},
       .external_id = "77fb29998253415fa5d66971d519d362",
       .requests = {{.path = kOnePath,
                     .headers = {{"authorization", kApiKey}, {"content-type", "application/json"}},
                     .body = OneBody("Simple Message")}}},
      {.label = "unicode", .text = "Mwaramutse ☺", .responses = {{kOnePath, OneAccepted("u1")}}, .external_id = "u1",
       .requests = {{.path = kOnePath, .body = OneBody("Mwaramutse ☺")}}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kOnePath, OneAccepted("u2")}}, .external_id = "u2",
       .requests = {{.path = kOnePath, .body = OneBody("My pic!\nhttps://foo.bar/image.jpg")}}},
      {.label = "long text split at 640", .text = long_a + " " + long_b,
       .responses = {{kOnePath, OneAccepted("u3")}, {kOnePath, OneAccepted("u4")}}, .external_id = "u3",
       .requests = {{.path = kOnePath, .body = OneBody(long_a)}, {.path = kOnePath, .body = OneBody(long_b)}}},
      {.label = "recipient opted out: failed and stopped",
       .responses = {{kOnePath, OneRejected(400, 26, "Recipient opted out")}}, .status = MsgStatus::kFailed,
       .error = "received error from clickatell: 26 Recipient opted out", .stop_contact = true,
       .requests = {{.path = kOnePath}}},
      {.label = "invalid recipient: permanent", .responses = {{kOnePath, OneRejected(400, 25, "Invalid recipient address")}},
       .status = MsgStatus::kFailed, .error = "25 Invalid recipient address", .requests = {{.path = kOnePath}}},
      {.label = "rate limit code: throttled", .responses = {{kOnePath, OneRejected(400, 43, "Rate limit")}},
       .status = MsgStatus::kErrored, .error = "43 Rate limit", .requests = {{.path = kOnePath}},
       .throttled_for_seconds = 1},
      {.label = "HTTP 429", .responses = {{kOnePath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 429", .requests = {{.path = kOnePath}},
       .throttled_for_seconds = 5},
      {.label = "insufficient balance (402): retry later", .responses = {{kOnePath, OneRejected(402, 20, "Insufficient account balance")}},
       .status = MsgStatus::kErrored, .error = "20 Insufficient account balance", .requests = {{.path = kOnePath}}},
      {.label = "internal error, please retry (503)",
       .responses = {{kOnePath, {.status = 503, .body = R"({"messages":[],"error":{"code":19,"description":"Internal error, please retry"}})"}}},
       .status = MsgStatus::kErrored, .error = "19 Internal error, please retry", .requests = {{.path = kOnePath}}},
      {.label = "invalid parameter (400): failed", .responses = {{kOnePath, OneRejected(400, 23, "Invalid or missing parameter: to")}},
       .status = MsgStatus::kFailed, .error = "23 Invalid or missing parameter: to", .requests = {{.path = kOnePath}}},
      {.label = "bad key (401), request-level error: failed",
       .responses = {{kOnePath, {.status = 401, .body = R"({"messages":[],"error":{"code":1,"description":"Invalid or missing integration API Key"}})"}}},
       .status = MsgStatus::kFailed, .error = "1 Invalid or missing integration API Key",
       .requests = {{.path = kOnePath}}},
      {.label = "202 not accepted, no error: failed, it may have been taken",
       .responses = {{kOnePath, {.status = 202, .body = R"({"messages":[{"accepted":false,"to":"250788383383"}]})"}}},
       .status = MsgStatus::kFailed, .error = "unable to get apiMessageId from body",
       .requests = {{.path = kOnePath}}},
      {.label = "202 accepted without an id: failed",
       .responses = {{kOnePath, {.status = 202, .body = R"({"messages":[{"apiMessageId":null,"accepted":true,"to":"250788383383","error":null}],"error":null})"}}},
       .status = MsgStatus::kFailed, .error = "unable to get apiMessageId from body",
       .requests = {{.path = kOnePath}}},
      {.label = "500", .responses = {{kOnePath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = kOnePath}}},
      {.label = "a failed second part fails the msg", .text = long_a + " " + long_b,
       .responses = {{kOnePath, OneAccepted("u5")}, {kOnePath, OneRejected(400, 24, "Maximum message content size exceeded")}},
       .status = MsgStatus::kFailed, .error = "24 Maximum message content size exceeded",
       .requests = {{.path = kOnePath, .body = OneBody(long_a)}, {.path = kOnePath, .body = OneBody(long_b)}}},
  });
  RunSendCases(h, CtChannel({{"api_key", kApiKey}, {"max_length", "12"}}), {
      {.label = "channel max_length splits on words", .text = "Simple Message for you",
       .responses = {{kOnePath, OneAccepted("s1")}, {kOnePath, OneAccepted("s2")}, {kOnePath, OneAccepted("s3")}},
       .external_id = "s1",
       .requests = {{.path = kOnePath, .body = OneBody("Simple")}, {.path = kOnePath, .body = OneBody("Message for")},
                    {.path = kOnePath, .body = OneBody("you")}}},
  });
  RunSendCases(h, CtChannel({}), {
      {.label = "no api_key: no request", .status = MsgStatus::kErrored, .error = "no api_key set for CT channel",
       .requests = {}, .logs = 1},
  });
}

TEST(ClickatellHandler, SendPlatform) {
  ClickatellHandler h;
  RunSendCases(h, CtChannel({{"api_key", kApiKey}, {"api", "platform"}}), {
      {.label = "GET /messages/http/send",
       .responses = {{kPlatformPath, {.status = 202, .body = R"({"messages":[{"apiMessageId":"p1","accepted":true,)"
                                                             R"("to":"250788383383","errorCode":null,"error":null,)"
                                                             R"("errorDescription":null}],"errorCode":null,"error":null,)"
                                                             R"("errorDescription":null})"}}},
       .external_id = "p1",
       .requests = {{.method = "GET", .path = kPlatformPath,
                     .params = {{"apiKey", kApiKey}, {"from", "250788000000"}, {"to", "250788383383"},
                                {"content", "Simple Message"}}}}},
      {.label = "message-level error",
       .responses = {{kPlatformPath, {.status = 400, .body = R"({"messages":[{"apiMessageId":"","accepted":false,)"
                                                             R"("to":"250788383383","errorCode":105,)"
                                                             R"("error":"Invalid destination address.",)"
                                                             R"("errorDescription":"Invalid destination"}]})"}}},
       .status = MsgStatus::kFailed, .error = "received error from clickatell: 105 Invalid destination address.",
       .requests = {{.method = "GET", .path = kPlatformPath}}},
      {.label = "202 without apiMessageId: failed",
       .responses = {{kPlatformPath, {.status = 202, .body = R"({"messages":[{"apiMessageId":"","accepted":true,)"
                                                             R"("to":"250788383383","errorCode":null,"error":null,)"
                                                             R"("errorDescription":null}],"errorCode":null,"error":null,)"
                                                             R"("errorDescription":null})"}}},
       .status = MsgStatus::kFailed, .error = "unable to get apiMessageId from body",
       .requests = {{.method = "GET", .path = kPlatformPath}}},
      {.label = "503: retried", .responses = {{kPlatformPath, {.status = 503, .body = "Service Unavailable"}}},
       .status = MsgStatus::kErrored, .requests = {{.method = "GET", .path = kPlatformPath}}},
      {.label = "429", .responses = {{kPlatformPath, {.status = 429, .body = "{}"}}}, .status = MsgStatus::kErrored,
       .requests = {{.method = "GET", .path = kPlatformPath}}, .throttled_for_seconds = 1},
  });
}

// Clickatell signs nothing: with a webhook_token set, a webhook must carry it.
TEST(ClickatellHandler, WebhookToken) {
  ClickatellHandler h;
  RunReceiveCases(h, CtChannel({{"api_key", kApiKey}, {"webhook_token", kWebhookToken}}), WebhookTokenCases({.label = "valid JSON", .action = "receive", .body = PlatformReply("\"Hello World\""), .content_type = "application/json", .msgs = {{.urn = "tel:+250788383383", .text = "Hello World", .external_id = kId, .received_on = kTs}}}));
}

}  // namespace
