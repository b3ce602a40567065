// MK — Macrokiosk: reply, delivery report and send tables.
#include "handlers/macrokiosk.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kPassword = "mk-pa55-s3cret";
const char* kPath = "/bulksms/send";

std::map<std::string, std::string> MkConfig() {
  return {{"username", "user1"},
          {"password", kPassword},
          {"macrokiosk_sender_id", "macro"},
          {"macrokiosk_service_id", "service-id"}};
}
Channel MkChannel() { return TestChannel("MK", "1212", "MY", MkConfig()); }

// 2016-03-30 19:33:06 in Kuala Lumpur is 11:33:06 UTC.
const Micros kTime = 1459337586LL * kMicrosPerSecond;
const std::string kShortCodeReply =
    "shortcode=1212&from=%2B60124361111&text=Hello+world&msgId=abc1234&time=2016-03-3019:33:06";
const std::string kLongCodeReply =
    "longcode=1212&msisdn=%2B60124361111&text=Hello+world&msgId=abc1234&time=2016-03-3019:33:06";

TEST(MacrokioskHandler, Receive) {
  MacrokioskHandler h;
  const ExpectedMsg hello{.urn = "tel:+60124361111", .text = "Hello world", .external_id = "abc1234",
                          .received_on = kTime};
  RunReceiveCases(h, MkChannel(), {
      {.label = "GET to a short code", .method = "GET", .action = "receive", .query = kShortCodeReply,
       .msgs = {hello}, .response_body = "-1"},
      {.label = "POST to a short code", .action = "receive", .body = kShortCodeReply, .msgs = {hello},
       .response_body = "-1"},
      {.label = "POST to a long code", .action = "receive", .body = kLongCodeReply, .msgs = {hello},
       .response_body = "-1"},
      {.label = "GET to a long code", .method = "GET", .action = "receive", .query = kLongCodeReply,
       .msgs = {hello}, .response_body = "-1"},
      {.label = "fields in the query of a POST", .action = "receive", .query = kShortCodeReply, .body = "",
       .msgs = {hello}, .response_body = "-1"},
      {.label = "names in any case", .action = "receive",
       .body = "ShortCode=1212&FROM=%2B60124361111&Text=hi&MSGID=x1&TIME=2016-03-3019:33:06",
       .msgs = {{.urn = "tel:+60124361111", .text = "hi", .external_id = "x1", .received_on = kTime}}},
      {.label = "the last of a repeated field", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=first&text=last&msgid=x1",
       .msgs = {{.urn = "tel:+60124361111", .text = "last", .external_id = "x1"}}},
      {.label = "national number in the channel's country", .action = "receive",
       .body = "shortcode=1212&from=0124361111&text=hi&msgid=x1",
       .msgs = {{.urn = "tel:+60124361111", .text = "hi", .external_id = "x1"}}},
      {.label = "a fraction of a second", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=hi&msgid=x1&time=2016-03-3019:33:06.5",
       .msgs = {{.urn = "tel:+60124361111", .text = "hi", .external_id = "x1", .received_on = kTime + 500000}}},
      {.label = "no time: taken at arrival", .action = "receive", .body = "shortcode=1212&from=%2B60124361111&text=hi",
       .msgs = {{.urn = "tel:+60124361111", .text = "hi", .no_received_on = true}}, .response_body = "-1"},
      {.label = "unicode", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=Selamat+%E2%98%BA&msgid=x2",
       .msgs = {{.urn = "tel:+60124361111", .text = "Selamat ☺", .external_id = "x2"}}},
      {.label = "empty text", .action = "receive", .body = "shortcode=1212&from=%2B60124361111&text=&msgid=x3",
       .msgs = {{.urn = "tel:+60124361111", .text = "", .external_id = "x3"}}},
      {.label = "short code without from", .action = "receive", .body = "shortcode=1212&msisdn=%2B60124361111&text=hi",
       .error = "missing shortcode, longcode, from or msisdn parameters"},
      {.label = "long code without msisdn", .action = "receive", .body = "longcode=1212&from=%2B60124361111&text=hi",
       .error = "missing shortcode, longcode, from or msisdn parameters"},
      {.label = "no number of ours", .action = "receive", .body = "from=%2B60124361111&text=hi",
       .error = "missing shortcode, longcode, from or msisdn parameters"},
      {.label = "nothing", .method = "GET", .action = "receive",
       .error = "missing shortcode, longcode, from or msisdn parameters"},
      {.label = "another number of ours", .action = "receive", .body = "shortcode=1515&from=%2B60124361111&text=hi",
       .error = "invalid to number [1515], expecting [1212]"},
      {.label = "bad time", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=hi&time=2016-03-30+19:33:06",
       .error = "invalid time '2016-03-30 19:33:06', must be YYYY-MM-DDhh:mm:ss"},
      {.label = "time with an offset", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=hi&time=2016-03-3019:33:06Z", .error = "invalid time"},
      {.label = "impossible date", .action = "receive",
       .body = "shortcode=1212&from=%2B60124361111&text=hi&time=2016-02-3019:33:06", .error = "invalid time"},
      {.label = "from is no number", .action = "receive", .body = "shortcode=1212&from=%2B%2B&text=hi",
       .error = "has no digits or letters"},
  });

  // MacroKiosk's number without the '+' of an address in E.164.
  RunReceiveCases(h, TestChannel("MK", "+60123456789", "MY", MkConfig()), {
      {.label = "long code against an E.164 address", .action = "receive",
       .body = "longcode=60123456789&msisdn=60124361111&text=hi&msgid=x1",
       .msgs = {{.urn = "tel:+60124361111", .text = "hi", .external_id = "x1"}}, .response_body = "-1"},
      {.label = "another long code", .action = "receive", .body = "longcode=60123456780&msisdn=60124361111&text=hi",
       .error = "invalid to number [60123456780], expecting [+60123456789]"},
  });
}

TEST(MacrokioskHandler, Status) {
  MacrokioskHandler h;
  auto report = [](const std::string& status) { return "msgId=12345&status=" + status; };
  RunReceiveCases(h, MkChannel(), {
      {.label = "accepted", .method = "GET", .action = "status", .query = report("ACCEPTED"),
       .statuses = {{.status = MsgStatus::kSent, .external_id = "12345"}}},
      {.label = "delivered", .method = "GET", .action = "status", .query = report("DELIVERED"),
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = "12345"}}},
      {.label = "undelivered", .action = "status", .body = report("UNDELIVERED"),
       .statuses = {{.status = MsgStatus::kFailed, .external_id = "12345"}}},
      {.label = "processing", .action = "status", .body = report("PROCESSING"),
       .statuses = {{.status = MsgStatus::kWired, .external_id = "12345"}}},
      {.label = "msgid in lower case", .action = "status", .body = "msgid=777&status=DELIVERED",
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = "777"}}},
      {.label = "unknown status", .action = "status", .body = report("EXPIRED"),
       .ignored = "ignoring unknown status 'EXPIRED'"},
      {.label = "status in another case", .action = "status", .body = report("delivered"),
       .ignored = "ignoring unknown status 'delivered'"},
      {.label = "missing msgid", .action = "status", .body = "status=DELIVERED", .error = "field 'msgid' required"},
      {.label = "missing status", .method = "GET", .action = "status", .query = "msgId=12345",
       .error = "field 'status' required"},
      {.label = "missing both", .action = "status", .body = "",
       .error = "field 'msgid' required; field 'status' required"},
  });
}

TEST(MacrokioskHandler, Routes) {
  MacrokioskHandler h;
  EXPECT_EQ(h.Code(), "MK");
  EXPECT_EQ(h.Name(), "Macrokiosk");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET status", "POST status"}));
}

MockResponse Sent(const std::string& id) {
  return {.status = 200, .body = "{\"MsgID\":\"" + id + "\",\"Status\":\"200\"}"};
}

std::string Body(const std::string& text, const std::string& type = "0") {
  return std::string("{\"user\":\"user1\",\"pass\":\"") + kPassword + "\",\"to\":\"250788383383\",\"text\":\"" + text +
         "\",\"from\":\"macro\",\"servid\":\"service-id\",\"type\":\"" + type + "\"}";
}

ExpectedRequest Req(const std::string& body = "") {
  return {.path = kPath, .headers = {{"content-type", "application/json"}, {"accept", "application/json"}},
          .body = body};
}

TEST(MacrokioskHandler, Send) {
  MacrokioskHandler h;
  const std::string a(1590, 'a'), b(20, 'b');
  RunSendCases(h, MkChannel(), {
      {.label = "plain", .responses = {{kPath, Sent("abc123")}}, .external_id = "abc123",
       .requests = {Req(Body("Simple Message"))}},
      {.label = "GSM7 accents kept", .text = "Café à là", .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("Café à là"))}},
      {.label = "look-alikes replaced, then GSM7",
       .text = "\u201CHi\u201D it\u2019s \u2013 ok\u00A0now\tgo: ação Ítem",
       .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("\\\"Hi\\\" it's - ok now go: acao Item"))}},
      {.label = "unicode", .text = "Selamat ☺", .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("Selamat ☺", "5"))}},
      {.label = "unicode keeps the replacements", .text = "\u2018Salam\u2019 ☺", .responses = {{kPath, Sent("m1")}},
       .external_id = "m1", .requests = {Req(Body("'Salam' ☺", "5"))}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Sent("m1")}, {kPath, Sent("m2")}}, .external_id = "m1",
       .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "attachments as links", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("My pic!\\nhttps://foo.bar/image.jpg"))}},
      // The newline before the link is TextAndAttachments', as for every SMS type.
      {.label = "attachment only", .text = "", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("\\nhttps://foo.bar/image.jpg"))}},
      {.label = "MsgID in another case", .responses = {{kPath, {.status = 200, .body = "{\"msgid\":\"lc1\"}"}}},
       .external_id = "lc1", .requests = {Req()}},
      {.label = "numeric MsgID", .responses = {{kPath, {.status = 200, .body = "{\"MsgID\":98765}"}}},
       .external_id = "98765", .requests = {Req()}},
      {.label = "2xx without MsgID: W without an id",
       .responses = {{kPath, {.status = 200, .body = "{\"Status\":\"200\"}"}}}, .requests = {Req()}},
      {.label = "2xx that is not JSON: W without an id", .responses = {{kPath, {.status = 200, .body = "ok"}}},
       .requests = {Req()}},
      {.label = "second part refused", .text = a + " " + b,
       .responses = {{kPath, Sent("m1")}, {kPath, {.status = 400, .body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 400", .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "401", .responses = {{kPath, {.status = 401, .body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401", .requests = {Req()}},
      {.label = "500", .responses = {{kPath, {.status = 500, .body = "{}"}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 5},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  auto with = [](std::map<std::string, std::string> config) { return TestChannel("MK", "1212", "MY", config); };
  auto config = MkConfig();
  config["max_length"] = "12";
  RunSendCases(h, with(config), {
      {.label = "max_length 12", .text = "Hello there my friend",
       .responses = {{kPath, Sent("m1")}, {kPath, Sent("m2")}}, .external_id = "m1",
       .requests = {Req(Body("Hello there")), Req(Body("my friend"))}},
  });

  for (const std::string key : {"username", "password", "macrokiosk_sender_id", "macrokiosk_service_id"}) {
    auto without = MkConfig();
    without.erase(key);
    RunSendCases(h, with(without), {
        {.label = "no " + key, .status = MsgStatus::kErrored, .error = "no " + key + " set for MK channel",
         .requests = {}, .logs = 1},
    });
  }
}

// MacroKiosk signs nothing: with a webhook_token set, a webhook must carry it.
TEST(MacrokioskHandler, WebhookToken) {
  MacrokioskHandler h;
  Channel channel = MkChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "reply", .method = "GET", .action = "receive", .query = kShortCodeReply,
                                     .msgs = {{.urn = "tel:+60124361111", .text = "Hello world",
                                               .external_id = "abc1234", .received_on = kTime}},
                                     .response_body = "-1"}));
  RunReceiveCases(h, channel,
                  WebhookTokenCases({.label = "report", .action = "status", .body = "msgId=12345&status=DELIVERED",
                                     .statuses = {{.status = MsgStatus::kDelivered, .external_id = "12345"}}}));
}

}  // namespace
