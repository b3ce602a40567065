// TQ — ThinQ / Commio: reply, delivery receipt and send tables.
#include "handlers/thinq.h"

#include <set>

#include "handler_harness.h"
#include "util/hmac.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kToken = "tq-4p1-t0ken-s3cret";
const char* kSmsPath = "/account/1234/product/origination/sms/send";
const char* kMmsPath = "/account/1234/product/origination/mms/send";

std::map<std::string, std::string> Config() {
  return {{"account_id", "1234"}, {"api_token_user", "tq-user"}, {"api_token", kToken}};
}
Channel TqChannel() { return TestChannel("TQ", "+12065551212", "US", Config()); }

TEST(ThinqHandler, Receive) {
  ThinqHandler h;
  RunReceiveCases(h, TqChannel(), {
      {.label = "sms", .action = "receive", .body = "message=hello+world&from=12067791234&to=12065551212&type=sms",
       .msgs = {{.urn = "tel:+12067791234", .text = "hello world"}}},
      {.label = "sms from a national number", .action = "receive",
       .body = "message=hi+%E2%98%BA&from=2067791234&to=2065551212&type=sms",
       .msgs = {{.urn = "tel:+12067791234", .text = "hi ☺"}}},
      {.label = "sms without a message", .action = "receive", .body = "from=12067791234&to=12065551212&type=sms",
       .msgs = {{.urn = "tel:+12067791234", .text = ""}}},
      {.label = "mms with a URL", .action = "receive",
       .body = "message=https%3A%2F%2Fmedia.thinq.com%2Fabc%2Fpic.jpg&from=12067791234&to=12065551212&type=mms",
       .msgs = {{.urn = "tel:+12067791234", .text = "", .attachments = {"image/jpeg:https://media.thinq.com/abc/pic.jpg"}}}},
      {.label = "mms with a URL of no known type", .action = "receive",
       .body = "message=http%3A%2F%2Fmedia.thinq.com%2Fabc&from=12067791234&to=12065551212&type=mms",
       .msgs = {{.urn = "tel:+12067791234", .text = "", .attachments = {"http://media.thinq.com/abc"}}}},
      {.label = "mms with the media inline", .action = "receive",
       .body = "message=iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg%3D%3D"
               "&from=12067791234&to=12065551212&type=mms",
       .msgs = {{.urn = "tel:+12067791234", .text = ""}}},
      {.label = "fields in the query", .action = "receive", .query = "message=q&from=12067791234&to=12065551212&type=sms",
       .body = "", .msgs = {{.urn = "tel:+12067791234", .text = "q"}}},
      {.label = "missing from", .action = "receive", .body = "message=hi&to=12065551212&type=sms",
       .error = "field 'from' required"},
      {.label = "missing to", .action = "receive", .body = "message=hi&from=12067791234&type=sms",
       .error = "field 'to' required"},
      {.label = "missing type", .action = "receive", .body = "message=hi&from=12067791234&to=12065551212",
       .error = "field 'type' required"},
      {.label = "missing all three", .action = "receive", .body = "message=hi",
       .error = "field 'from' required; field 'to' required; field 'type' required"},
      {.label = "unknown type", .action = "receive", .body = "message=hi&from=12067791234&to=12065551212&type=fax",
       .error = "unknown message type: fax"},
      {.label = "from is no number", .action = "receive", .body = "message=hi&from=%2B%2B&to=12065551212&type=sms",
       .error = "has no digits or letters"},
  });
}

TEST(ThinqHandler, Status) {
  ThinqHandler h;
  auto status = [](const std::string& word, MsgStatus want) {
    return ReceiveCase{.label = word, .action = "status",
                       .body = "guid=1234-5678&status=" + word + "&account_id=1234&source_did=2065551212",
                       .statuses = {{.status = want, .external_id = "1234-5678"}}};
  };
  RunReceiveCases(h, TqChannel(), {
      status("DELIVRD", MsgStatus::kDelivered),
      status("EXPIRED", MsgStatus::kErrored),
      status("DELETED", MsgStatus::kFailed),
      status("UNDELIV", MsgStatus::kFailed),
      status("UNKNOWN", MsgStatus::kFailed),
      status("REJECTD", MsgStatus::kFailed),
      {.label = "unknown status", .action = "status", .body = "guid=1234-5678&status=ENROUTE",
       .error = "unknown status: 'ENROUTE'"},
      {.label = "missing guid", .action = "status", .body = "status=DELIVRD", .error = "field 'guid' required"},
      {.label = "missing status", .action = "status", .body = "guid=1234-5678", .error = "field 'status' required"},
  });
}

TEST(ThinqHandler, Routes) {
  ThinqHandler h;
  EXPECT_EQ(h.Code(), "TQ");
  EXPECT_EQ(h.Name(), "ThinQ");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

MockResponse Guid(const std::string& guid) { return {.status = 200, .body = "{\"guid\":\"" + guid + "\"}"}; }

const std::string kAuth = "Basic " + Base64Encode(std::string("tq-user:") + kToken);

ExpectedRequest Sms(const std::string& text = "", const std::string& from = "2065551212") {
  ExpectedRequest r{.path = kSmsPath,
                    .headers = {{"authorization", kAuth},
                                {"accept", "application/json"},
                                {"content-type", "application/json"}}};
  if (!text.empty())
    r.body = "{\"from_did\":\"" + from + "\",\"to_did\":\"2067791234\",\"message\":\"" + text + "\"}";
  return r;
}

std::string FormPart(const std::string& name, const std::string& value) {
  return "--courier-form-boundary\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
         "\r\n";
}

ExpectedRequest Mms(const std::string& url) {
  return {.path = kMmsPath,
          .headers = {{"authorization", kAuth},
                      {"accept", "application/json"},
                      {"content-type", "multipart/form-data; boundary=courier-form-boundary"}},
          .body = FormPart("from_did", "2065551212") + FormPart("to_did", "2067791234") + FormPart("media_url", url) +
                  "--courier-form-boundary--\r\n"};
}

TEST(ThinqHandler, Send) {
  ThinqHandler h;
  const std::string a(1590, 'a'), b(20, 'b');
  const std::string us = "tel:+12067791234";
  RunSendCases(h, TqChannel(), {
      {.label = "plain", .urn = us, .responses = {{kSmsPath, Guid("1002")}}, .external_id = "1002",
       .requests = {Sms("Simple Message")}},
      {.label = "unicode", .text = "hi ☺", .urn = us, .responses = {{kSmsPath, Guid("1002")}}, .external_id = "1002",
       .requests = {Sms("hi ☺")}},
      {.label = "long text split, first guid kept", .text = a + " " + b, .urn = us,
       .responses = {{kSmsPath, Guid("g1")}, {kSmsPath, Guid("g2")}}, .external_id = "g1",
       .requests = {Sms(a), Sms(b)}},
      {.label = "attachment, then the text", .text = "My pic!", .urn = us,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMmsPath, Guid("m1")}, {kSmsPath, Guid("s1")}}, .external_id = "m1",
       .requests = {Mms("https://foo.bar/image.jpg"), Sms("My pic!")}},
      {.label = "two attachments, no text", .text = "", .urn = us,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg", "https://foo.bar/clip.mp4"},
       .responses = {{kMmsPath, Guid("m1")}, {kMmsPath, Guid("m2")}}, .external_id = "m1",
       .requests = {Mms("https://foo.bar/image.jpg"), Mms("https://foo.bar/clip.mp4")}},
      {.label = "answer without guid", .urn = us, .responses = {{kSmsPath, {.status = 200, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get guid from response body", .requests = {Sms()}},
      {.label = "answer that is not JSON", .urn = us, .responses = {{kSmsPath, {.status = 200, .body = "queued"}}},
       .status = MsgStatus::kFailed, .error = "unable to get guid", .requests = {Sms()}},
      {.label = "mms without guid stops before the text", .urn = us, .attachments = {"image/jpeg:https://foo.bar/a.jpg"},
       .responses = {{kMmsPath, {.status = 200, .body = "{\"message\":\"ok\"}"}}}, .status = MsgStatus::kFailed,
       .error = "unable to get guid", .requests = {Mms("https://foo.bar/a.jpg")}},
      {.label = "text refused after the attachment went", .text = "My pic!", .urn = us,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMmsPath, Guid("m1")}, {kSmsPath, {.status = 400, .body = "{\"code\":400,\"message\":\"Invalid "
                                                                                  "to_did\"}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400: Invalid to_did",
       .requests = {Mms("https://foo.bar/image.jpg"), Sms("My pic!")}},
      {.label = "401", .urn = us, .responses = {{kSmsPath, {.status = 401, .body = ""}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401", .requests = {Sms()}},
      {.label = "500", .urn = us, .responses = {{kSmsPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {Sms()}},
      {.label = "throttled", .urn = us,
       .responses = {{kSmsPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "3"}}}}},
       .status = MsgStatus::kErrored, .requests = {Sms()}, .throttled_for_seconds = 3},
      // The reference dropped the first digit of any number: +250... would
      // have gone to 50788383383.
      {.label = "contact outside +1", .urn = "tel:+250788383383", .status = MsgStatus::kFailed,
       .error = "'+250788383383' is not a US number", .requests = {}, .logs = 1},
      {.label = "nothing to send", .text = "", .urn = us, .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  auto config = Config();
  config["max_length"] = "12";
  RunSendCases(h, TestChannel("TQ", "2065551212", "US", config), {
      {.label = "max_length 12, address without the country code", .text = "Hello there my friend", .urn = us,
       .responses = {{kSmsPath, Guid("g1")}, {kSmsPath, Guid("g2")}}, .external_id = "g1",
       .requests = {Sms("Hello there"), Sms("my friend")}},
  });

  RunSendCases(h, TestChannel("TQ", "+442071838750", "US", Config()), {
      {.label = "channel address outside +1", .urn = us, .status = MsgStatus::kErrored,
       .error = "channel address '+442071838750' is not a US number", .requests = {}, .logs = 1},
  });

  for (const char* key : {"account_id", "api_token_user", "api_token"}) {
    auto without = Config();
    without.erase(key);
    RunSendCases(h, TestChannel("TQ", "+12065551212", "US", without), {
        {.label = std::string("no ") + key, .urn = us, .status = MsgStatus::kErrored,
         .error = std::string("no ") + key + " set for TQ channel", .requests = {}, .logs = 1},
    });
  }
}

// ThinQ signs nothing: with a webhook_token set, a webhook must carry it.
TEST(ThinqHandler, WebhookToken) {
  ThinqHandler h;
  Channel channel = TqChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel, WebhookTokenCases({.label = "sms", .action = "receive",
                                                 .body = "message=hello&from=12067791234&to=12065551212&type=sms",
                                                 .msgs = {{.urn = "tel:+12067791234", .text = "hello"}}}));
  RunReceiveCases(h, channel, WebhookTokenCases({.label = "status", .action = "status",
                                                 .body = "guid=1234-5678&status=DELIVRD",
                                                 .statuses = {{.status = MsgStatus::kDelivered,
                                                               .external_id = "1234-5678"}}}));
}

}  // namespace
