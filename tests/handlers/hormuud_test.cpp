// HM — Hormuud: receive by query or form, the send table, and the
// password-grant access token: fetched once per channel, dropped on a 401,
// never logged.
#include "handlers/hormuud.h"

#include <set>

#include "access_token_cases.h"
#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kUsername = "hmuser";
const char* kPassword = "hmpass-s3cret";
const std::string kToken = "hm-AAEkZmVkZS1hY2Nlc3MtdG9rZW4";
const char* kTokenPath = "/token";
const char* kSendPath = "/api/SendSMS";

Channel HmChannel() {
  return TestChannel("HM", "2020", "SO", {{"username", kUsername}, {"password", kPassword}});
}

MockResponse TokenOk(const std::string& token = kToken, const std::string& expires_in = "86399") {
  return {.body = R"({"access_token":")" + token + R"(","token_type":"bearer","expires_in":)" + expires_in + "}"};
}
MockResponse SendOk(const std::string& id) {
  return {.body = R"({"ResponseCode":"200","ResponseMessage":"SUCCESS!.","Data":{"Description":"Message Sent",)"
                  R"("MessageID":")" + id + R"("}})"};
}

ExpectedRequest TokenRequest() {
  return {.path = kTokenPath,
          .form = {{"Username", kUsername}, {"Password", kPassword}, {"grant_type", "password"}},
          .headers = {{"content-type", "application/x-www-form-urlencoded"}, {"accept", "application/json"}}};
}

ExpectedRequest SendRequest(const std::string& message, const std::string& token = kToken) {
  return {.path = kSendPath,
          .headers = {{"authorization", "Bearer " + token},
                      {"content-type", "application/json"},
                      {"accept", "application/json"}},
          .body = R"({"mobile":"252699999999","message":")" + message +
                  R"(","senderid":"2020","mType":-1,"eType":-1,"UDH":""})"};
}

TEST(HormuudHandler, Routes) {
  HormuudHandler h;
  EXPECT_EQ(h.Code(), "HM");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive"}));
}

TEST(HormuudHandler, Receive) {
  HormuudHandler h;
  const ExpectedMsg join = {.urn = "tel:+252699999999", .text = "Join"};
  RunReceiveCases(h, HmChannel(), {
      {.label = "form body", .action = "receive",
       .body = "Sender=%2B252699999999&MessageText=Join&TimeSent=1580395652&ShortCode=2020", .msgs = {join}},
      {.label = "query string", .action = "receive",
       .query = "Sender=%2B252699999999&MessageText=Join&TimeSent=1580395652&ShortCode=2020", .content_type = "",
       .msgs = {join}},
      {.label = "number without plus", .action = "receive", .body = "Sender=252699999999&MessageText=Join&ShortCode=2020",
       .msgs = {join}},
      {.label = "names in another case", .action = "receive",
       .body = "sender=%2B252699999999&messagetext=Join&SHORTCODE=2020&timesent=1", .msgs = {join}},
      {.label = "the last value of a name wins", .action = "receive",
       .query = "MessageText=Join", .body = "Sender=%2B252699999999&MessageText=Leave&ShortCode=2020",
       .msgs = {join}},
      {.label = "unicode", .action = "receive",
       .body = "Sender=%2B252699999999&MessageText=Salaan+%E2%98%BA&ShortCode=2020",
       .msgs = {{.urn = "tel:+252699999999", .text = "Salaan ☺"}}},
      {.label = "empty text is a msg", .action = "receive", .body = "Sender=%2B252699999999&ShortCode=2020",
       .msgs = {{.urn = "tel:+252699999999", .text = ""}}},
      {.label = "missing sender", .action = "receive", .body = "MessageText=Join&ShortCode=2020",
       .error = "field 'sender' required"},
      {.label = "missing short code", .action = "receive", .body = "Sender=%2B252699999999&MessageText=Join",
       .error = "field 'shortcode' required"},
      {.label = "both missing", .action = "receive", .body = "MessageText=Join",
       .error = "field 'sender' required; field 'shortcode' required"},
      {.label = "time not an integer", .action = "receive",
       .body = "Sender=%2B252699999999&MessageText=Join&ShortCode=2020&TimeSent=yesterday",
       .error = "field 'timesent' must be an integer"},
      {.label = "sender without digits or letters", .action = "receive", .body = "Sender=%2B%28%29&MessageText=Join&ShortCode=2020",
       .error = "has no digits or letters"},
  });
}

TEST(HormuudHandler, ReceiveWithWebhookToken) {
  HormuudHandler h;
  Channel channel = HmChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel, WebhookTokenCases({.label = "form body", .action = "receive",
                                                 .body = "Sender=%2B252699999999&MessageText=Join&ShortCode=2020",
                                                 .msgs = {{.urn = "tel:+252699999999", .text = "Join"}}}));
}

TEST(HormuudHandler, Send) {
  HormuudHandler h;
  const std::string long_text =
      "This is a longer message than 160 characters and will cause us to split it into two separate parts, "
      "isn't that right but it is even longer than before I say, I need to keep adding more things to make it work";
  RunSendCases(h, HmChannel(), {
      {.label = "plain send", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("ID-1234")}}, .external_id = "ID-1234",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "unicode", .text = "☺", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("ID-2")}}, .external_id = "ID-2",
       .requests = {TokenRequest(), SendRequest("☺")}},
      {.label = "long text: one token, two parts, the first id", .text = long_text, .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("ID-3a")}, {kSendPath, SendOk("ID-3b")}},
       .external_id = "ID-3a",
       .requests = {TokenRequest(),
                    SendRequest("This is a longer message than 160 characters and will cause us to split it into two "
                                "separate parts, isn't that right but it is even longer than before I say, I"),
                    SendRequest("need to keep adding more things to make it work")}},
      {.label = "max_length", .text = "Hello World", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("1")}, {kSendPath, SendOk("2")}}, .external_id = "1",
       .requests = {TokenRequest(), SendRequest("Hello"), SendRequest("World")},
       .setup = [](Channel& c) { c.config["max_length"] = "6"; }},
      {.label = "attachment", .text = "My pic!", .urn = "tel:+252699999999",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("ID-4")}}, .external_id = "ID-4",
       .requests = {TokenRequest(), SendRequest("My pic!\\nhttps://foo.bar/image.jpg")}},
      {.label = "MessageID null: no external id", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("null")}},
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "no Data: no external id", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.body = R"({"ResponseCode":"200"})"}}},
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "send 500: E", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "500", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "send 429: throttled", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 429, .headers = {{"Retry-After", "30"}}}}},
       .status = MsgStatus::kErrored, .requests = {TokenRequest(), SendRequest("Simple Message")},
       .throttled_for_seconds = 30},
      {.label = "send 400: F", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, {.status = 400, .body = R"({"ResponseCode":"201","ResponseMessage":"Invalid Mobile"})"}}},
       .status = MsgStatus::kFailed, .error = "400", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "401 for a token just fetched: F, not fetched again", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 401, .body = R"({"Message":"Unauthorized"})"}}},
       .status = MsgStatus::kFailed, .error = "401", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "token refused: F, nothing sent", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, {.status = 400,
                                   .body = R"({"error":"invalid_grant","error_description":"The user name or password is incorrect."})"}}},
       .status = MsgStatus::kFailed,
       .error = "access token request refused (HTTP 400): invalid_grant (The user name or password is incorrect.)",
       .requests = {TokenRequest()}},
      {.label = "token endpoint down: E, nothing sent", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, {.status = 503, .body = "unavailable", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "access token request refused (HTTP 503)", .requests = {TokenRequest()}},
      {.label = "token endpoint throttles: re-queued", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, {.status = 429, .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .error = "HTTP 429", .requests = {TokenRequest()}, .throttled_for_seconds = 12},
      {.label = "no access_token: E, nothing sent", .urn = "tel:+252699999999",
       .responses = {{kTokenPath, {.body = R"({"token_type":"bearer"})"}}}, .status = MsgStatus::kErrored,
       .error = "no access_token in Hormuud's token answer", .requests = {TokenRequest()}},
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for HM channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("username"); }},
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for HM channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("password"); }},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "no text or attachments",
       .logs = 1},
  });
}

// --- the access token ------------------------------------------------------------

TEST(HormuudHandler, AccessToken) {
  RunAccessTokenCases({
      .make_handler = [] { return std::make_unique<HormuudHandler>(); },
      .channel = HmChannel(),
      .credential_key = "password",
      .urn = "tel:+252699999999",
      .token_path = kTokenPath,
      .send_path = kSendPath,
      .token_ok = TokenOk,
      .send_ok = SendOk,
      .expires_in_600 = "600",
      .expires_in_none = "0",
      .fallback_lifetime = 3600,
      .token_refused = {.status = 500, .body = "{}"},
      .token_refused_status = MsgStatus::kErrored,
      .token_refused_error = "access token request refused (HTTP 500)",
  });
}

}  // namespace
