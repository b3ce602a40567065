// JS — Jasmin: receive, delivery receipt and send tables.
#include "handlers/jasmin.h"

#include <set>

#include "handler_harness.h"

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
      st("UNKNOWN", "id=ext1&message_status=UNKNOWN", MsgStatus::kSent),
      st("EXPIRED", "id=ext1&message_status=EXPIRED", MsgStatus::kFailed),
      st("DELETED", "id=ext1&message_status=DELETED", MsgStatus::kFailed),
      st("UNDELIV", "id=ext1&message_status=UNDELIV", MsgStatus::kFailed),
      st("REJECTD", "id=ext1&message_status=REJECTD", MsgStatus::kFailed),
      {.label = "unknown message_status", .action = "status", .body = "id=ext1&message_status=BORKED",
       .error = "unknown status 'BORKED'"},
      {.label = "neither", .action = "status", .body = "id=ext1&dlvrd=0&err=0",
       .error = "must have either dlvrd or err set to 1"},
      {.label = "missing id", .action = "status", .body = "dlvrd=1", .error = "field 'id' required"},
  });
}

TEST(JasminHandler, Gsm7RoundTrip) {
  const std::string text = "@£$ é {[~]} € ^|\\ Ünï";
  // ï is not GSM7 and drops out
  EXPECT_EQ(JasminHandler::DecodeGsm7(JasminHandler::EncodeGsm7(text)), "@£$ é {[~]} € ^|\\ Ün");
  EXPECT_EQ(JasminHandler::EncodeGsm7("€"), std::string("\x1B\x65"));
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
       .requests = {Req({{"username", "foo"}, {"password", kPassword}, {"from", "2020"}, {"to", "+250788383383"},
                         {"dlr", "yes"}, {"dlr-url", kDlrUrl}, {"dlr-level", "2"}, {"dlr-method", "POST"},
                         {"coding", "0"}, {"content", "Simple Message"}})}},
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
      {.label = "no id in answer", .responses = {{kPath, {.status = 200, .body = "Queued"}}},
       .status = MsgStatus::kErrored, .error = "unable to read external id from response: Queued",
       .requests = {Req({})}},
      {.label = "provider error",
       .responses = {{kPath, {.status = 403, .body = "Error \"Authentication failure for username:foo\""}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 403: Error \"Authentication failure",
       .requests = {Req({})}},
      {.label = "throughput exceeded is throttling",
       .responses = {{kPath, {.status = 403, .body = "Error \"User throughput exceeded\""}}},
       .status = MsgStatus::kErrored, .requests = {Req({})}, .throttled_for_seconds = 1},
      {.label = "429", .responses = {{kPath, {.status = 429, .body = "", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req({})}, .throttled_for_seconds = 5},
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

}  // namespace
