// ZVW / ZVS — Zenvia v2 (WhatsApp and SMS): receive, status and send tables.
#include "handlers/zenvia.h"

#include <set>

#include "core/clock.h"

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kToken = "zv-t0ken-s3cret";
const char* kJson = "application/json";

Channel ZvwChannel() { return TestChannel("ZVW", "2020", "BR", {{"api_key", kToken}}, {"whatsapp"}); }
Channel ZvsChannel() { return TestChannel("ZVS", "2020", "BR", {{"api_key", kToken}}); }

std::string Event(const std::string& message, const std::string& type = "MESSAGE") {
  return "{\"id\":\"ev1\",\"timestamp\":\"2017-05-03T06:04:45Z\",\"type\":\"" + type +
         "\",\"subscriptionId\":\"sub1\",\"channel\":\"whatsapp\",\"direction\":\"IN\",\"message\":" + message + "}";
}
std::string Message(const std::string& contents, const std::string& extra = "") {
  return "{\"id\":\"msg1\",\"from\":\"5511999999999\",\"to\":\"2020\",\"direction\":\"IN\",\"channel\":\"whatsapp\","
         "\"visitor\":{\"name\":\"Bob Silva\",\"firstName\":\"Bob\",\"lastName\":\"Silva\"},\"contents\":[" +
         contents + "]" + extra + "}";
}
const std::string kText = "{\"type\":\"text\",\"text\":\"Olá ☺\"}";
const Micros kDate = 1493791485LL * kMicrosPerSecond;

std::vector<ReceiveCase> CommonReceive(const std::string& urn) {
  return {
      {.label = "valid", .action = "receive", .body = Event(Message(kText)), .content_type = kJson,
       .msgs = {{.urn = urn, .text = "Olá ☺", .external_id = "msg1", .contact_name = "Bob Silva",
                 .received_on = kDate}}},
      {.label = "file with caption", .action = "receive",
       .body = Event(Message("{\"type\":\"file\",\"fileUrl\":\"https://z.com/a.jpg\",\"fileMimeType\":\"image/jpeg\","
                             "\"fileCaption\":\"look\"}")),
       .content_type = kJson,
       .msgs = {{.urn = urn, .text = "look", .external_id = "msg1", .contact_name = "Bob Silva",
                 .attachments = {"image/jpeg:https://z.com/a.jpg"}}}},
      {.label = "text and file without type", .action = "receive",
       .body = Event(Message(kText + ",{\"type\":\"file\",\"fileUrl\":\"https://z.com/b.pdf\"}")), .content_type = kJson,
       .msgs = {{.urn = urn, .text = "Olá ☺", .external_id = "msg1", .contact_name = "Bob Silva",
                 .attachments = {"application/pdf:https://z.com/b.pdf"}}}},
      {.label = "location", .action = "receive",
       .body = Event(Message("{\"type\":\"location\",\"latitude\":-23.5,\"longitude\":-46.6}")), .content_type = kJson,
       .msgs = {{.urn = urn, .text = "", .external_id = "msg1", .contact_name = "Bob Silva",
                 .attachments = {"geo:-23.5,-46.6"}}}},
      {.label = "no visitor", .action = "receive",
       .body = Event("{\"id\":\"msg2\",\"from\":\"5511999999999\",\"contents\":[" + kText + "]}"), .content_type = kJson,
       .msgs = {{.urn = urn, .text = "Olá ☺", .external_id = "msg2"}}},
      {.label = "outgoing echo ignored", .action = "receive",
       .body = Event("{\"id\":\"m\",\"from\":\"2020\",\"direction\":\"OUT\",\"contents\":[]}"), .content_type = kJson,
       .ignored = "outgoing"},
      {.label = "status event on receive ignored", .action = "receive",
       .body = "{\"type\":\"MESSAGE_STATUS\",\"messageId\":\"m\"}", .content_type = kJson,
       .ignored = "MESSAGE_STATUS"},
      {.label = "bad timestamp", .action = "receive",
       .body = "{\"type\":\"MESSAGE\",\"timestamp\":\"yesterday\",\"message\":" + Message(kText) + "}",
       .content_type = kJson, .error = "invalid timestamp: yesterday"},
      {.label = "missing message", .action = "receive", .body = "{\"type\":\"MESSAGE\"}", .content_type = kJson,
       .error = "field 'message' required"},
      {.label = "missing id and from", .action = "receive",
       .body = Event("{\"contents\":[" + kText + "]}"), .content_type = kJson,
       .error = "field 'message.id' required; field 'message.from' required"},
      {.label = "missing contents", .action = "receive",
       .body = Event("{\"id\":\"m\",\"from\":\"5511999999999\"}"), .content_type = kJson,
       .error = "field 'message.contents' required"},
      {.label = "missing type", .action = "receive", .body = "{\"message\":{}}", .content_type = kJson,
       .error = "field 'type' required"},
      {.label = "malformed body", .action = "receive", .body = "{nope", .content_type = kJson,
       .error = "unable to parse request JSON"},
  };
}

TEST(ZenviaHandler, ReceiveWhatsApp) {
  ZenviaHandler h(ZenviaHandler::Kind::kWhatsApp);
  RunReceiveCases(h, ZvwChannel(), CommonReceive("whatsapp:5511999999999"));
}

TEST(ZenviaHandler, ReceiveSms) {
  ZenviaHandler h(ZenviaHandler::Kind::kSms);
  RunReceiveCases(h, ZvsChannel(), CommonReceive("tel:+5511999999999"));
}

std::string StatusEvent(const std::string& code) {
  return "{\"id\":\"ev2\",\"timestamp\":\"2021-03-12T12:15:31Z\",\"type\":\"MESSAGE_STATUS\",\"channel\":\"sms\","
         "\"messageId\":\"hs765939216\",\"messageStatus\":{\"timestamp\":\"2021-03-12T12:15:31Z\",\"code\":\"" + code +
         "\",\"description\":\"d\"}}";
}

TEST(ZenviaHandler, Status) {
  auto st = [](const std::string& code, MsgStatus want) {
    return ReceiveCase{.label = code, .action = "status", .body = StatusEvent(code), .content_type = kJson,
                       .statuses = {{.status = want, .external_id = "hs765939216"}}};
  };
  std::vector<ReceiveCase> cases = {
      st("SENT", MsgStatus::kSent),
      st("DELIVERED", MsgStatus::kDelivered),
      st("READ", MsgStatus::kRead),
      st("NOT_DELIVERED", MsgStatus::kFailed),
      st("REJECTED", MsgStatus::kFailed),
      st("CLICKED", MsgStatus::kRead),
      // Theme 4: an unknown code is recorded as E, not refused.
      st("BORKED", MsgStatus::kErrored),
      {.label = "DELETED ignored", .action = "status", .body = StatusEvent("DELETED"), .content_type = kJson,
       .ignored = "status 'DELETED' ignored"},
      {.label = "VERIFIED ignored", .action = "status", .body = StatusEvent("VERIFIED"), .content_type = kJson,
       .ignored = "status 'VERIFIED' ignored"},
      {.label = "message event on status ignored", .action = "status", .body = Event(Message(kText)),
       .content_type = kJson, .ignored = "MESSAGE"},
      {.label = "missing fields", .action = "status", .body = "{\"type\":\"MESSAGE_STATUS\"}", .content_type = kJson,
       .error = "field 'messageId' required; field 'messageStatus.code' required"},
      {.label = "malformed body", .action = "status", .body = "[]", .content_type = kJson,
       .error = "unable to parse request JSON"},
  };
  RunReceiveCases(ZenviaHandler(ZenviaHandler::Kind::kWhatsApp), ZvwChannel(), cases);
  RunReceiveCases(ZenviaHandler(ZenviaHandler::Kind::kSms), ZvsChannel(), cases);
}

// What the table does not check: the reason kept with F and E statuses.
TEST(ZenviaHandler, StatusReasons) {
  ZenviaHandler h(ZenviaHandler::Kind::kSms);
  const Channel channel = ZvsChannel();
  const Route route{"POST", "status", RouteKind::kStatus};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto post = [&](const std::string& body) {
    auto request = WebhookRequest::Build("POST", std::string("/c/zvs/") + kTestChannelUUID + "/status/",
                                         {{"content-type", kJson}}, body, kTestBaseUrl, "status");
    WebhookResult r = h.Receive(route, channel, request, ctx);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.statuses.size(), 1u);
    return r.statuses.empty() ? StatusUpdate{} : r.statuses[0];
  };
  auto with_causes = [](const std::string& code) {
    return "{\"id\":\"ev3\",\"timestamp\":\"2021-03-12T12:15:31Z\",\"type\":\"MESSAGE_STATUS\",\"channel\":\"sms\","
           "\"messageId\":\"hs765939216\",\"contentIndex\":0,\"messageStatus\":{\"timestamp\":\"2021-03-12T12:15:31Z\","
           "\"code\":\"" + code + "\",\"description\":\"Not delivered\",\"causes\":[{\"channelErrorCode\":\"001\","
           "\"reason\":\"Message not delivered\",\"details\":\"Number not found\"}]}}";
  };
  StatusUpdate u = post(with_causes("NOT_DELIVERED"));
  EXPECT_EQ(u.status, MsgStatus::kFailed);
  EXPECT_EQ(u.error_reason, "NOT_DELIVERED: Message not delivered (Number not found)");
  u = post(with_causes("EXPLODED"));
  EXPECT_EQ(u.status, MsgStatus::kErrored);
  EXPECT_EQ(u.error_reason, "unknown status 'EXPLODED' from zenvia: Message not delivered (Number not found)");
  // No next attempt: the provider may have delivered it after all.
  EXPECT_FALSE(u.next_attempt_on.has_value());
  u = post(StatusEvent("DELIVERED"));
  EXPECT_EQ(u.status, MsgStatus::kDelivered);
  EXPECT_EQ(u.error_reason, "");
}

TEST(ZenviaHandler, Routes) {
  ZenviaHandler w(ZenviaHandler::Kind::kWhatsApp), s(ZenviaHandler::Kind::kSms);
  EXPECT_EQ(w.Code(), "ZVW");
  EXPECT_EQ(w.Name(), "Zenvia WhatsApp");
  EXPECT_EQ(s.Code(), "ZVS");
  EXPECT_EQ(s.Name(), "Zenvia SMS");
  std::set<std::string> routes;
  for (const auto& r : w.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

MockResponse Ok(const std::string& id) {
  return {.status = 200, .body = "{\"id\":\"" + id + "\",\"from\":\"2020\",\"to\":\"250788383383\"}",
          .content_type = kJson};
}

ExpectedRequest Req(const std::string& path, const std::string& body = "") {
  ExpectedRequest r{.path = path, .headers = {{"x-api-token", kToken}, {"content-type", kJson}}};
  r.body = body;
  return r;
}

std::string Text(const std::string& t) { return "{\"type\":\"text\",\"text\":\"" + t + "\"}"; }
std::string Body(const std::string& contents) {
  return "{\"from\":\"2020\",\"to\":\"250788383383\",\"contents\":[" + contents + "]}";
}

std::vector<SendCase> CommonSend(const std::string& path) {
  return {
      {.label = "unicode", .text = "Olá ☺", .responses = {{path, Ok("id2")}}, .external_id = "id2",
       .requests = {Req(path, Body(Text("Olá ☺")))}},
      {.label = "provider validation error is permanent",
       .responses = {{path, {.status = 400, .body = "{\"code\":\"VALIDATION_ERROR\",\"message\":\"Validation error\"}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400: VALIDATION_ERROR Validation error",
       .requests = {Req(path)}},
      {.label = "unauthorized is permanent",
       .responses = {{path, {.status = 401, .body = "{\"code\":\"UNAUTHORIZED\",\"message\":\"bad token\"}"}}},
       .status = MsgStatus::kFailed, .error = "UNAUTHORIZED bad token", .requests = {Req(path)}},
      {.label = "provider 500", .responses = {{path, {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {Req(path)}},
      {.label = "no id in answer", .responses = {{path, {.status = 200, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get id from response body", .requests = {Req(path)}},
      {.label = "provider 503", .responses = {{path, {.status = 503, .body = "{\"code\":\"UNAVAILABLE\"}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 503: UNAVAILABLE", .requests = {Req(path)}},
      {.label = "throttled", .responses = {{path, {.status = 429, .body = "{}", .headers = {{"Retry-After", "9"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req(path)}, .throttled_for_seconds = 9},
  };
}

TEST(ZenviaHandler, SendWhatsApp) {
  ZenviaHandler h(ZenviaHandler::Kind::kWhatsApp);
  const std::string path = "/v2/channels/whatsapp/messages";
  const std::string a(4090, 'a'), b(20, 'b');
  auto cases = CommonSend(path);
  cases.push_back({.label = "plain", .urn = "whatsapp:250788383383", .responses = {{path, Ok("id1")}},
                   .external_id = "id1", .requests = {Req(path, Body(Text("Simple Message")))}});
  cases.push_back({.label = "attachment as file", .text = "My pic!", .urn = "whatsapp:250788383383",
                   .attachments = {"image/jpeg:https://foo.bar/image.jpg", "https://foo.bar/doc.pdf"},
                   .responses = {{path, Ok("id3")}}, .external_id = "id3",
                   .requests = {Req(path, Body(Text("My pic!") +
                                               ",{\"type\":\"file\",\"fileUrl\":\"https://foo.bar/image.jpg\","
                                               "\"fileMimeType\":\"image/jpeg\"},{\"type\":\"file\",\"fileUrl\":"
                                               "\"https://foo.bar/doc.pdf\",\"fileMimeType\":\"application/pdf\"}"))}});
  cases.push_back({.label = "attachment only", .text = "", .urn = "whatsapp:250788383383",
                   .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{path, Ok("id4")}},
                   .external_id = "id4",
                   .requests = {Req(path, Body("{\"type\":\"file\",\"fileUrl\":\"https://foo.bar/image.jpg\","
                                               "\"fileMimeType\":\"image/jpeg\"}"))}});
  cases.push_back({.label = "long text split into contents", .text = a + " " + b, .urn = "whatsapp:250788383383",
                   .responses = {{path, Ok("id5")}}, .external_id = "id5",
                   .requests = {Req(path, Body(Text(a) + "," + Text(b)))}});
  // A template: one content with Zenvia's template id and named fields.
  cases.push_back({.label = "template", .urn = "whatsapp:250788383383", .responses = {{path, Ok("id8")}},
                   .external_id = "id8",
                   .requests = {Req(path, Body(R"({"type":"template","templateId":"6e8ad9b3-1e8a-4c1a-9f0f-7a0b8c1d2e3f",)"
                                               R"("fields":{"name":"Jane","date":"12 May"}})"))},
                   .templating = MsgTemplate{.name = "reminder", .external_id = "6e8ad9b3-1e8a-4c1a-9f0f-7a0b8c1d2e3f",
                                             .components = {{.type = "body",
                                                             .params = {{"text", "Jane", "name"},
                                                                        {"text", "12 May", "date"}}}}}});
  cases.push_back({.label = "template value without a name: failed unsent", .urn = "whatsapp:250788383383",
                   .status = MsgStatus::kFailed, .error = "Zenvia template fields need names", .requests = {},
                   .logs = 1,
                   .templating = MsgTemplate{.name = "reminder", .external_id = "6e8a",
                                             .components = {{.type = "body", .params = {{"text", "Jane", ""}}}}}});
  cases.push_back({.label = "template without its id: failed unsent", .urn = "whatsapp:250788383383",
                   .status = MsgStatus::kFailed, .error = "Zenvia needs its template id", .requests = {}, .logs = 1,
                   .templating = MsgTemplate{.name = "reminder"}});
  RunSendCases(h, ZvwChannel(), cases);
  RunSendCases(h, TestChannel("ZVW", "2020", "BR", {{"api_key", kToken}, {"max_length", "12"}}, {"whatsapp"}), {
      {.label = "max_length 12, contents then the file", .text = "Hello there my friend", .urn = "whatsapp:250788383383",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{path, Ok("id7")}},
       .external_id = "id7",
       .requests = {Req(path, Body(Text("Hello there") + "," + Text("my friend") +
                                   ",{\"type\":\"file\",\"fileUrl\":\"https://foo.bar/image.jpg\","
                                   "\"fileMimeType\":\"image/jpeg\"}"))}},
  });
  RunSendCases(h, TestChannel("ZVW", "2020", "BR", {}, {"whatsapp"}), {
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for ZVW channel",
       .requests = {}, .logs = 1},
  });
}

TEST(ZenviaHandler, SendSms) {
  ZenviaHandler h(ZenviaHandler::Kind::kSms);
  const std::string path = "/v2/channels/sms/messages";
  const std::string a(1140, 'a'), b(20, 'b');
  auto cases = CommonSend(path);
  cases.push_back({.label = "plain", .responses = {{path, Ok("id1")}}, .external_id = "id1",
                   .requests = {Req(path, Body(Text("Simple Message")))}});
  cases.push_back({.label = "attachment as link", .text = "My pic!",
                   .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{path, Ok("id3")}},
                   .external_id = "id3",
                   .requests = {Req(path, Body(Text("My pic!\\nhttps://foo.bar/image.jpg")))}});
  cases.push_back({.label = "long text split into contents", .text = a + " " + b, .responses = {{path, Ok("id5")}},
                   .external_id = "id5", .requests = {Req(path, Body(Text(a) + "," + Text(b)))}});
  RunSendCases(h, ZvsChannel(), cases);
  // Theme 2: the channel's max_length, several contents in one request.
  RunSendCases(h, TestChannel("ZVS", "2020", "BR", {{"api_key", kToken}, {"max_length", "12"}}), {
      {.label = "max_length 12", .text = "Hello there my friend", .responses = {{path, Ok("id6")}},
       .external_id = "id6", .requests = {Req(path, Body(Text("Hello there") + "," + Text("my friend")))}},
  });
  RunSendCases(h, TestChannel("ZVS", "2020", "BR", {}), {
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for ZVS channel",
       .requests = {}, .logs = 1},
  });
}

// Zenvia signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(ZenviaHandler, WebhookToken) {
  ZenviaHandler h(ZenviaHandler::Kind::kSms);
  RunReceiveCases(h, WithToken(ZvsChannel()), WebhookTokenCases(CommonReceive("tel:+5511999999999").front()));
}

}  // namespace
