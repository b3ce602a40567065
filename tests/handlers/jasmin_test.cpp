// JS — Jasmin: receive, delivery receipt and send tables.
#include "handlers/jasmin.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kPassword = "js-s3cret";

Channel JsChannel() {
  return TestChannel("JS", "2020", "US",
                     {{"username", "foo"}, {"password", kPassword}, {"send_url", "{{mock}}/send"}});
}

std::string Mo(const std::string& drop, const std::string& content = "hello", const std::string& coding = "0") {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"content", content}, {"coding", coding}, {"from", "%2B2349067554729"}, {"to", "2020"}, {"id", "external1"}};
  std::string out = "priority=1&origin-connector=smpp1";
  for (const auto& [k, v] : fields)
    if (k != drop) out += "&" + k + "=" + v;
  return out;
}

TEST(JasminHandler, Receive) {
  JasminHandler h;
  const ExpectedMsg valid = {.urn = "tel:+2349067554729", .text = "hello", .external_id = "external1"};
  RunReceiveCases(h, JsChannel(), {
      {.label = "valid", .action = "receive", .body = Mo(""), .msgs = {valid}, .response_body = "ACK/Jasmin"},
      {.label = "GSM7 decoded", .action = "receive", .body = Mo("", "caf%05%20%1B%65%205%00x"),
       .msgs = {{.urn = "tel:+2349067554729", .text = "café € 5@x", .external_id = "external1"}},
       .response_body = "ACK/Jasmin"},
      {.label = "UCS2 from binary", .action = "receive",
       .body = Mo("", "ignored", "8") + "&binary=00480069263A",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Hi☺", .external_id = "external1"}},
       .response_body = "ACK/Jasmin"},
      {.label = "other coding as is", .action = "receive", .body = Mo("", "%E2%98%BA", "3"),
       .msgs = {{.urn = "tel:+2349067554729", .text = "☺", .external_id = "external1"}},
       .response_body = "ACK/Jasmin"},
      {.label = "empty content", .action = "receive", .body = Mo("", ""),
       .msgs = {{.urn = "tel:+2349067554729", .text = "", .external_id = "external1"}},
       .response_body = "ACK/Jasmin"},
      {.label = "missing content", .action = "receive", .body = Mo("content"), .error = "field 'content' required"},
      {.label = "missing coding", .action = "receive", .body = Mo("coding"), .error = "field 'coding' required"},
      {.label = "missing from", .action = "receive", .body = Mo("from"), .error = "field 'from' required"},
      {.label = "missing to", .action = "receive", .body = Mo("to"), .error = "field 'to' required"},
      {.label = "missing id", .action = "receive", .body = Mo("id"), .error = "field 'id' required"},
      {.label = "malformed body", .action = "receive", .body = "%%%", .error = "field 'content' required"},
  });
}

TEST(JasminHandler, Status) {
  JasminHandler h;
  auto st = [](const std::string& label, const std::string& body, MsgStatus want) {
    return ReceiveCase{.label = label, .action = "status", .body = body,
                       .statuses = {{.status = want, .external_id = "ext1"}}, .response_body = "ACK/Jasmin"};
  };
  RunReceiveCases(h, JsChannel(), {
      st("dlvrd=1", "id=ext1&dlvrd=1", MsgStatus::kDelivered),
      st("err=1", "id=ext1&err=1", MsgStatus::kFailed),
      st("DELIVRD", "id=ext1&message_status=DELIVRD&level=2&dlvrd=001&err=000", MsgStatus::kDelivered),
      st("ESME_ROK", "id=ext1&message_status=ESME_ROK&level=1", MsgStatus::kSent),
      st("ESME_RINVDSTADR", "id=ext1&message_status=ESME_RINVDSTADR&level=1", MsgStatus::kFailed),
      st("ACCEPTD", "id=ext1&message_status=ACCEPTD", MsgStatus::kSent),
      st("ENROUTE", "id=ext1&message_status=ENROUTE", MsgStatus::kSent),
      st("UNKNOWN says nothing new: W", "id=ext1&message_status=UNKNOWN", MsgStatus::kWired),
      st("EXPIRED", "id=ext1&message_status=EXPIRED", MsgStatus::kFailed),
      st("DELETED", "id=ext1&message_status=DELETED", MsgStatus::kFailed),
      st("UNDELIV", "id=ext1&message_status=UNDELIV", MsgStatus::kFailed),
      st("REJECTD", "id=ext1&message_status=REJECTD", MsgStatus::kFailed),
      {.label = "unknown message_status: ignored", .action = "status",
       .body = "id=ext1&id_smsc=2567&message_status=BORKED&level=2&subdate=1311022338&donedate=1311022338"
               "&sub=001&dlvrd=000&err=000&text=Hello+foo+bar",
       .ignored = "ignoring unknown status 'BORKED'"},
      {.label = "neither", .action = "status", .body = "id=ext1&dlvrd=0&err=0",
       .error = "must have either dlvrd or err set to 1"},
      {.label = "missing id", .action = "status", .body = "dlvrd=1", .error = "field 'id' required"},
  });
}

// An ignored receipt is still acknowledged, or Jasmin sends it again.
TEST(JasminHandler, IgnoredReceiptIsAcked) {
  JasminHandler h;
  const Route route = {"POST", "status", RouteKind::kStatus};
  auto request = WebhookRequest::Build("POST", "/c/js/" + std::string(kTestChannelUUID) + "/status",
                                       {{"content-type", "application/x-www-form-urlencoded"}},
                                       "id=ext1&message_status=BORKED&level=1", kTestBaseUrl, "status");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  WebhookResult r = h.Receive(route, JsChannel(), request, ctx);
  EXPECT_EQ(r.error, "");
  EXPECT_NE(r.ignored.find("unknown status 'BORKED'"), std::string::npos) << r.ignored;
  EXPECT_TRUE(r.statuses.empty());
  ASSERT_TRUE(r.response_body.has_value());
  EXPECT_EQ(*r.response_body, "ACK/Jasmin");
}

TEST(JasminHandler, Routes) {
  JasminHandler h;
  EXPECT_EQ(h.Code(), "JS");
  EXPECT_EQ(h.Name(), "Jasmin");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

const char* kPath = "/send";
const std::string kDlrUrl = "https://courier.test/c/js/8eb23e93-5ecb-45ba-b726-3b064e0c56ab/status";

MockResponse Ok(const std::string& id) {
  return {.status = 200, .body = "Success \"" + id + "\"", .content_type = "text/plain"};
}

ExpectedRequest Req(std::map<std::string, std::string> params) {
  return {.method = "GET", .path = kPath, .params = std::move(params)};
}

TEST(JasminHandler, Send) {
  JasminHandler h;
  const std::string a(1590, 'a'), b(20, 'b');
  RunSendCases(h, JsChannel(), {
      {.label = "plain", .responses = {{kPath, Ok("07033084-5cfd-4812-90a4-e4d24ffb6e3d")}},
       .external_id = "07033084-5cfd-4812-90a4-e4d24ffb6e3d",
       .requests = {Req({{"username", "foo"}, {"password", kPassword}, {"from", "2020"}, {"to", "250788383383"},
                         {"dlr", "yes"}, {"dlr-url", kDlrUrl}, {"dlr-level", "2"}, {"dlr-method", "POST"},
                         {"coding", "0"}, {"content", "Simple Message"}})}},
      {.label = "to as SMPP digits, without '+'", .urn = "tel:+2349067554729", .responses = {{kPath, Ok("id1")}},
       .external_id = "id1", .requests = {Req({{"to", "2349067554729"}})}},
      {.label = "GSM7 encoded", .text = "café € “quoted”", .responses = {{kPath, Ok("id2")}}, .external_id = "id2",
       .requests = {Req({{"coding", "0"}, {"content", "caf\x05 \x1B\x65 \"quoted\""}})}},
      {.label = "unicode as UCS2", .text = "Hi☺", .responses = {{kPath, Ok("id3")}}, .external_id = "id3",
       .requests = {Req({{"coding", "8"}, {"hex-content", "00480069263A"}})}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Ok("id4")}}, .external_id = "id4",
       .requests = {Req({{"content", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "long text split, first id kept", .text = a + " " + b,
       .responses = {{kPath, Ok("id5")}, {kPath, Ok("id6")}}, .external_id = "id5",
       .requests = {Req({{"content", a}}), Req({{"content", b}})}},
      {.label = "200 without an id: failed, Jasmin may have queued it",
       .responses = {{kPath, {.status = 200, .body = "Queued", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "unable to read external id from response: Queued",
       .requests = {Req({})}},
      {.label = "bad credentials (403): failed",
       .responses = {{kPath, {.status = 403, .body = "Error \"Authentication failure for username:foo\""}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 403: Error \"Authentication failure",
       .requests = {Req({})}},
      {.label = "invalid argument (400): failed",
       .responses = {{kPath, {.status = 400, .body = "Error \"Argument to has an invalid value: 25078.\""}}},
       .status = MsgStatus::kFailed, .error = "Argument to has an invalid value", .requests = {Req({})}},
      {.label = "no route (412): failed",
       .responses = {{kPath, {.status = 412, .body = "Error \"No route found\""}}},
       .status = MsgStatus::kFailed, .error = "No route found", .requests = {Req({})}},
      {.label = "SMPP side failed (500): retried",
       .responses = {{kPath, {.status = 500, .body = "Error \"Cannot send submit_sm, check SMPPClientManagerPB log file for details\""}}},
       .status = MsgStatus::kErrored, .error = "Cannot send submit_sm", .requests = {Req({})}},
      {.label = "throughput exceeded (403) is throttling",
       .responses = {{kPath, {.status = 403, .body = "Error \"User throughput exceeded\""}}},
       .status = MsgStatus::kErrored, .requests = {Req({})}, .throttled_for_seconds = 1},
      {.label = "balance not charged (403): retried",
       .responses = {{kPath, {.status = 403, .body = "Error \"Cannot charge submit_sm, check RouterPB log file for details\""}}},
       .status = MsgStatus::kErrored, .error = "Cannot charge submit_sm", .requests = {Req({})}},
      {.label = "429", .responses = {{kPath, {.status = 429, .body = "", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req({})}, .throttled_for_seconds = 5},
      {.label = "a failed second part fails the msg", .text = a + " " + b,
       .responses = {{kPath, Ok("id7")}, {kPath, {.status = 400, .body = "Error \"Mandatory argument content is not found.\""}}},
       .status = MsgStatus::kFailed, .error = "Mandatory argument content",
       .requests = {Req({{"content", a}}), Req({{"content", b}})}},
  });
  RunSendCases(h, TestChannel("JS", "2020", "US", {{"username", "foo"}, {"password", kPassword},
                                                  {"send_url", "{{mock}}/send"}, {"max_length", "10"}}), {
      {.label = "channel max_length splits on words", .text = "Hello there dear world",
       .responses = {{kPath, Ok("m1")}, {kPath, Ok("m2")}, {kPath, Ok("m3")}}, .external_id = "m1",
       .requests = {Req({{"content", "Hello"}}), Req({{"content", "there dear"}}), Req({{"content", "world"}})}},
  });
  RunSendCases(h, TestChannel("JS", "2020", "US", {{"username", "foo"}, {"password", kPassword}}), {
      {.label = "no send_url", .status = MsgStatus::kErrored, .error = "no send_url set for JS channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("JS", "2020", "US", {{"username", "foo"}, {"send_url", "http://x/send"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for JS channel",
       .requests = {}, .logs = 1},
  });
}

// Jasmin signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(JasminHandler, WebhookToken) {
  JasminHandler h;
  RunReceiveCases(h, WithToken(JsChannel()), WebhookTokenCases({.label = "valid", .action = "receive", .body = Mo(""), .msgs = {{.urn = "tel:+2349067554729", .text = "hello", .external_id = "external1"}}, .response_body = "ACK/Jasmin"}));
}

// The dlr-url courier gives Jasmin carries the token, so its reports pass.
TEST(JasminHandler, WebhookTokenInDlrUrl) {
  JasminHandler h;
  RunSendCases(h, WithToken(JsChannel()), {
      {.label = "dlr-url with the token", .responses = {{kPath, Ok("id1")}}, .external_id = "id1",
       .requests = {Req({{"dlr-url", kDlrUrl + "?webhook_token=" + kWebhookToken}})}},
  });
}

}  // namespace
