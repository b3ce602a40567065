// YO — Yo! Uganda: receive and send tables, host fail-over.
#include "handlers/yo.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

Channel YoChannel(std::map<std::string, std::string> config = {{"username", "yo-acct"},
                                                               {"password", "yopass-s3cret"}}) {
  return TestChannel("YO", "+2020", "UG", std::move(config));
}

ReceiveCase Get(ReceiveCase c) {
  c.method = "GET";
  c.content_type = "";
  c.action = "receive";
  return c;
}

TEST(YoHandler, Receive) {
  YoHandler h;
  RunReceiveCases(h, YoChannel(), {
      Get({.label = "valid (Yo! sample fields)", .query = "account=1234&dest=2020&message=Join&sender=%2B256788383383",
           .msgs = {{.urn = "tel:+256788383383", .text = "Join"}}}),
      Get({.label = "from and text", .query = "from=%2B256788383383&text=Join",
           .msgs = {{.urn = "tel:+256788383383", .text = "Join"}}}),
      Get({.label = "sender wins over from", .query = "from=%2B256788383384&sender=%2B256788383383&message=hi",
           .msgs = {{.urn = "tel:+256788383383", .text = "hi"}}}),
      Get({.label = "national sender in channel country", .query = "sender=0788383383&message=hi",
           .msgs = {{.urn = "tel:+256788383383", .text = "hi"}}}),
      Get({.label = "unicode", .query = "sender=%2B256788383383&message=Oli%20otya%20%E2%98%BA",
           .msgs = {{.urn = "tel:+256788383383", .text = "Oli otya ☺"}}}),
      Get({.label = "date", .query = "sender=%2B256788383383&message=hi&date=2017-06-23T12:30:00Z",
           .msgs = {{.urn = "tel:+256788383383", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}}),
      Get({.label = "time alias", .query = "sender=%2B256788383383&message=hi&time=2017-06-23T12:30:00.25Z",
           .msgs = {{.urn = "tel:+256788383383", .text = "hi",
                     .received_on = ParseRfc3339("2017-06-23T12:30:00.25Z")}}}),
      Get({.label = "bad date", .query = "sender=%2B256788383383&message=hi&date=yesterday",
           .error = "invalid date format, must be RFC 3339"}),
      Get({.label = "missing sender", .query = "message=hi", .error = "must have one of 'sender' or 'from' set"}),
      Get({.label = "missing message", .query = "sender=%2B256788383383", .error = "field 'message' required"}),
      Get({.label = "malformed query", .query = "%zz=&&", .error = "must have one of 'sender' or 'from' set"}),
  });
}

TEST(YoHandler, Routes) {
  YoHandler h;
  EXPECT_EQ(h.Code(), "YO");
  EXPECT_EQ(h.Name(), "YO!");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive"}));
}

const char* kOk = "ybs_autocreate_status=OK";

MockResponse Answer(const std::string& body, int status = 200) {
  return {.status = status, .body = body, .content_type = "text/plain"};
}

ExpectedRequest SendRequest(std::map<std::string, std::string> params) {
  return {.method = "GET", .path = "/sendsms", .params = std::move(params)};
}

TEST(YoHandler, Send) {
  YoHandler h;
  RunSendCases(h, YoChannel(), {
      {.label = "plain", .urn = "tel:+256788383383", .responses = {{"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"origin", "2020"}, {"sms_content", "Simple Message"},
                                 {"destinations", "256788383383"}, {"ybsacctno", "yo-acct"},
                                 {"password", "yopass-s3cret"}})}},
      {.label = "201 is fine", .responses = {{"/sendsms", Answer(kOk, 201)}}, .requests = {SendRequest({})}},
      {.label = "unicode", .text = "Oli otya ☺", .responses = {{"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"sms_content", "Oli otya ☺"}})}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"sms_content", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "long text is split", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .responses = {{"/sendsms", Answer(kOk)}, {"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"sms_content", std::string(150, 'a')}}),
                    SendRequest({{"sms_content", std::string(20, 'b')}})}},
      {.label = "error answer",
       .responses = {{"/sendsms", Answer("ybs_autocreate_status=ERROR&ybs_autocreate_message=YBS+AutoCreate+"
                                         "Subsystem%3A+Access+denied+due+to+wrong+authorization+code")}},
       .status = MsgStatus::kErrored,
       .error = "received error from Yo!: YBS AutoCreate Subsystem: Access denied due to wrong authorization code",
       .requests = {SendRequest({})}},
      {.label = "200 without status may have been taken", .responses = {{"/sendsms", Answer("")}},
       .status = MsgStatus::kFailed, .error = "no ybs_autocreate_status", .requests = {SendRequest({})}},
      {.label = "blacklisted contact is stopped",
       .responses = {{"/sendsms", Answer("ybs_autocreate_status=ERROR&ybs_autocreate_message=256788383383%3ABLACKLISTED")}},
       .status = MsgStatus::kFailed, .error = "BLACKLISTED", .stop_contact = true, .requests = {SendRequest({})}},
      {.label = "provider 400", .responses = {{"/sendsms", Answer("bad", 400)}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 400", .requests = {SendRequest({})}},
      {.label = "only host down", .responses = {{"/sendsms", Answer("oops", 503)}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 503", .requests = {SendRequest({})}},
      {.label = "throttled",
       .responses = {{"/sendsms", {.status = 429, .body = "slow", .headers = {{"Retry-After", "9"}}}}},
       .status = MsgStatus::kErrored, .requests = {SendRequest({})}, .throttled_for_seconds = 9},
  });

  RunSendCases(h, YoChannel(), {
      {.label = "unreachable host: the next one is tried", .responses = {{"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"sms_content", "Simple Message"}})}, .logs = 2,
       .setup = [](Channel& c) { c.config["base_url"] = "http://127.0.0.1:1, " + c.config["base_url"] + "/"; }},
      {.label = "host answering 500: the next one is tried",
       .responses = {{"/sendsms", Answer("oops", 500)}, {"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({}), SendRequest({})},
       .setup = [](Channel& c) { c.config["base_url"] += "," + c.config["base_url"]; }},
      {.label = "a refusal is not retried on the next host",
       .responses = {{"/sendsms", Answer("ybs_autocreate_status=ERROR&ybs_autocreate_message=Insufficient+credit")}},
       .status = MsgStatus::kErrored, .error = "Insufficient credit", .requests = {SendRequest({})},
       .setup = [](Channel& c) { c.config["base_url"] += "," + c.config["base_url"]; }},
      {.label = "all hosts down", .responses = {{"/sendsms", Answer("oops", 500)}, {"/sendsms", Answer("oops", 502)}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 502",
       .requests = {SendRequest({}), SendRequest({})},
       .setup = [](Channel& c) { c.config["base_url"] += "," + c.config["base_url"]; }},
  });

  RunSendCases(h, YoChannel({{"username", "yo-acct"}, {"password", "yopass-s3cret"}, {"max_length", "8"}}), {
      {.label = "channel max_length", .text = "Oli otya nnyo",
       .responses = {{"/sendsms", Answer(kOk)}, {"/sendsms", Answer(kOk)}},
       .requests = {SendRequest({{"sms_content", "Oli otya"}}), SendRequest({{"sms_content", "nnyo"}})}},
      {.label = "a 400 is not retried on the next host", .responses = {{"/sendsms", Answer("bad", 400)}},
       .status = MsgStatus::kFailed, .requests = {SendRequest({})},
       .setup = [](Channel& c) { c.config["base_url"] += "," + c.config["base_url"]; }},
  });

  RunSendCases(h, YoChannel({{"username", "yo-acct"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for YO channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, YoChannel({{"password", "yopass-s3cret"}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for YO channel",
       .requests = {}, .logs = 1},
  });
}

// Yo signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(YoHandler, WebhookToken) {
  YoHandler h;
  RunReceiveCases(h, WithToken(YoChannel()), WebhookTokenCases(Get({.label = "valid (Yo! sample fields)", .query = "account=1234&dest=2020&message=Join&sender=%2B256788383383", .msgs = {{.urn = "tel:+256788383383", .text = "Join"}}})));
}

}  // namespace
