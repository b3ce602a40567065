// CS — ClickSend: reply and send tables.
#include "handlers/clicksend.h"

#include <set>

#include "handler_harness.h"
#include "util/hmac.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kApiKey = "ck-4P1-k3y-s3cret";
const char* kPath = "/v3/sms/send";

Channel CsChannel() { return TestChannel("CS", "2020", "AU", {{"username", "user1"}, {"password", kApiKey}}); }

// A reply as an inbound rule posts it.
const std::string kReply =
    "timestamp=1451200000&from=%2B61411111111&body=Hello+world&original_body=&original_message_id=&"
    "to=%2B61422222222&keyword=&message_id=BF7AD270-0DE2-418B-B606-71D527D9C1AE&custom_string=&user_id=1";

TEST(ClickSendHandler, Receive) {
  ClickSendHandler h;
  RunReceiveCases(h, CsChannel(), {
      {.label = "valid", .action = "receive", .body = kReply,
       .msgs = {{.urn = "tel:+61411111111", .text = "Hello world"}}},
      {.label = "national number in the channel's country", .action = "receive", .body = "from=0411111111&body=hi",
       .msgs = {{.urn = "tel:+61411111111", .text = "hi"}}},
      {.label = "unicode", .action = "receive", .body = "from=%2B61411111111&body=G%27day+%E2%98%BA",
       .msgs = {{.urn = "tel:+61411111111", .text = "G'day ☺"}}},
      {.label = "empty body", .action = "receive", .body = "from=%2B61411111111&body=",
       .msgs = {{.urn = "tel:+61411111111", .text = ""}}},
      {.label = "no body", .action = "receive", .body = "from=%2B61411111111",
       .msgs = {{.urn = "tel:+61411111111", .text = ""}}},
      {.label = "fields in the query", .action = "receive", .query = "from=%2B61411111111&body=by+query", .body = "",
       .msgs = {{.urn = "tel:+61411111111", .text = "by query"}}},
      {.label = "missing from", .action = "receive", .body = "body=hi", .error = "missing required field 'from'"},
      {.label = "empty from", .action = "receive", .body = "from=&body=hi", .error = "missing required field 'from'"},
      {.label = "from is no number", .action = "receive", .body = "from=%2B%2B&body=hi",
       .error = "has no digits or letters"},
  });
}

TEST(ClickSendHandler, Routes) {
  ClickSendHandler h;
  EXPECT_EQ(h.Code(), "CS");
  EXPECT_EQ(h.Name(), "ClickSend");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive"}));
}

// ClickSend's answer to a send, the message with `status` and `id`.
MockResponse Answer(const std::string& status, const std::string& id) {
  return {.status = 200,
          .body = "{\"http_code\":200,\"response_code\":\"SUCCESS\",\"response_msg\":\"Messages queued for delivery.\","
                  "\"data\":{\"total_price\":0.28,\"total_count\":1,\"queued_count\":1,\"messages\":[{\"direction\":"
                  "\"out\",\"date\":1436871253,\"to\":\"+250788383383\",\"body\":\"Simple Message\",\"from\":\"2020\","
                  "\"schedule\":\"\",\"message_id\":\"" + id + "\",\"message_parts\":1,\"message_price\":\"0.0700\","
                  "\"custom_string\":\"\",\"user_id\":1,\"subaccount_id\":1,\"country\":\"RW\",\"carrier\":\"MTN\","
                  "\"status\":\"" + status + "\"}],\"_currency\":{\"currency_name_short\":\"AUD\"}}}"};
}
MockResponse Sent(const std::string& id) { return Answer("SUCCESS", id); }

std::string Body(const std::string& text, const std::string& from = "2020") {
  return "{\"messages\":[{\"to\":\"+250788383383\",\"from\":\"" + from + "\",\"body\":\"" + text +
         "\",\"source\":\"courier\"}]}";
}

ExpectedRequest Req(const std::string& body = "") {
  return {.path = kPath,
          .headers = {{"authorization", "Basic " + Base64Encode(std::string("user1:") + kApiKey)},
                      {"content-type", "application/json"},
                      {"accept", "application/json"}},
          .body = body};
}

TEST(ClickSendHandler, Send) {
  ClickSendHandler h;
  const std::string a(1215, 'a'), b(20, 'b');
  RunSendCases(h, CsChannel(), {
      {.label = "plain", .responses = {{kPath, Sent("BF7AD270-0DE2-418B-B606-71D527D9C1AE")}},
       .external_id = "BF7AD270-0DE2-418B-B606-71D527D9C1AE", .requests = {Req(Body("Simple Message"))}},
      {.label = "unicode", .text = "G'day ☺", .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("G'day ☺"))}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Sent("m1")}, {kPath, Sent("m2")}}, .external_id = "m1",
       .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "attachments as links", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Sent("m1")}}, .external_id = "m1",
       .requests = {Req(Body("My pic!\\nhttps://foo.bar/image.jpg"))}},
      {.label = "message refused in a 200", .responses = {{kPath, Answer("INVALID_RECIPIENT", "m1")}},
       .status = MsgStatus::kFailed, .error = "received message status 'INVALID_RECIPIENT'", .requests = {Req()}},
      {.label = "no message status", .responses = {{kPath, {.status = 200, .body = "{\"data\":{\"messages\":[]}}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message status from response body", .requests = {Req()}},
      {.label = "200 that is not JSON", .responses = {{kPath, {.status = 200, .body = "ok"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message status", .requests = {Req()}},
      {.label = "success without message_id", .responses = {{kPath, Answer("SUCCESS", "")}},
       .status = MsgStatus::kFailed, .error = "unable to get message_id from response body", .requests = {Req()}},
      {.label = "second part refused", .text = a + " " + b,
       .responses = {{kPath, Sent("m1")}, {kPath, Answer("INSUFFICIENT_CREDIT", "")}},
       .status = MsgStatus::kFailed, .error = "'INSUFFICIENT_CREDIT'", .requests = {Req(Body(a)), Req(Body(b))}},
      {.label = "401 with ClickSend's reason",
       .responses = {{kPath, {.status = 401, .body = "{\"http_code\":401,\"response_code\":\"UNAUTHORIZED\","
                                                     "\"response_msg\":\"Invalid username or API key.\",\"data\":null}"}}},
       .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401: UNAUTHORIZED: Invalid username or API key.", .requests = {Req()}},
      {.label = "400 without a body", .responses = {{kPath, {.status = 400, .body = ""}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {Req()}},
      {.label = "500", .responses = {{kPath, {.status = 500, .body = "{}"}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 500", .requests = {Req()}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req()}, .throttled_for_seconds = 5},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text",
       .requests = {}, .logs = 1},
  });

  RunSendCases(h, TestChannel("CS", "+61422222222", "AU", {{"username", "user1"}, {"password", kApiKey}, {"max_length", "12"}}), {
      {.label = "max_length 12, sender as given", .text = "Hello there my friend",
       .responses = {{kPath, Sent("m1")}, {kPath, Sent("m2")}}, .external_id = "m1",
       .requests = {Req(Body("Hello there", "+61422222222")), Req(Body("my friend", "+61422222222"))}},
  });

  RunSendCases(h, TestChannel("CS", "2020", "AU", {{"password", kApiKey}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for CS channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("CS", "2020", "AU", {{"username", "user1"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for CS channel",
       .requests = {}, .logs = 1},
  });
}

// ClickSend signs nothing: with a webhook_token set, a webhook must carry it.
TEST(ClickSendHandler, WebhookToken) {
  ClickSendHandler h;
  Channel channel = CsChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel, WebhookTokenCases({.label = "valid", .action = "receive", .body = kReply,
                                                 .msgs = {{.urn = "tel:+61411111111", .text = "Hello world"}}}));
}

}  // namespace
