// DK — DMark Mobile: reply, delivery report and send tables.
#include "handlers/dmark.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kToken = "dk-4uth-t0ken";
const char* kMsgUuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";  // the harness's msg
// 2017-10-26T15:51:32.906335+03:00
const Micros kTstamp = 1509022292LL * kMicrosPerSecond + 906335;

Channel DkChannel(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> config = {{"auth_token", kToken}};
  for (auto& [k, v] : extra) config[k] = v;
  return TestChannel("DK", "2020", "UG", config);
}

ReceiveCase Reply(const std::string& label, const std::string& body) {
  return {.label = label, .action = "receive", .body = body};
}

TEST(DmarkHandler, Receive) {
  DmarkHandler h;
  const std::string valid = "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00&msisdn=256783011111";
  auto taken = [](ReceiveCase c, const std::string& text = "Msg", Micros at = kTstamp) {
    c.msgs = {{.urn = "tel:+256783011111", .text = text, .received_on = at}};
    return c;
  };
  RunReceiveCases(h, DkChannel(), {
      taken(Reply("valid", valid)),
      taken(Reply("unicode text", "text=hi+%E2%98%BA&short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00"
                                  "&msisdn=256783011111"),
            "hi ☺"),
      taken(Reply("no fraction, negative offset",
                  "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32-05:00&msisdn=256783011111"),
            "Msg", 1509051092LL * kMicrosPerSecond),
      taken(Reply("offset's '+' not escaped",
                  "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32.906335+03:00&msisdn=256783011111")),
      taken(Reply("national number", "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00"
                                     "&msisdn=0783011111")),
      taken({.label = "fields in the query", .action = "receive", .query = valid, .body = ""}),
      taken(Reply("names in another case",
                  "TEXT=Msg&Short_Code=2020&TStamp=2017-10-26T15:51:32.906335%2B03:00&MSISDN=256783011111")),
      taken(Reply("the last value of a name wins", "text=first&" + valid)),
      {.label = "missing text", .action = "receive",
       .body = "short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00&msisdn=256783011111",
       .error = "field 'text' required"},
      {.label = "empty text", .action = "receive",
       .body = "text=&short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00&msisdn=256783011111",
       .error = "field 'text' required"},
      {.label = "nothing", .action = "receive", .body = "",
       .error = "field 'msisdn' required; field 'text' required; field 'short_code' required; "
                "field 'tstamp' required"},
      {.label = "missing short_code", .action = "receive",
       .body = "text=Msg&tstamp=2017-10-26T15:51:32.906335%2B03:00&msisdn=256783011111",
       .error = "field 'short_code' required"},
      {.label = "tstamp without a time", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26&msisdn=256783011111",
       .error = "invalid tstamp: 2017-10-26"},
      {.label = "tstamp in UTC with Z", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32Z&msisdn=256783011111",
       .error = "invalid tstamp: 2017-10-26T15:51:32Z"},
      {.label = "tstamp without an offset", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32&msisdn=256783011111",
       .error = "invalid tstamp: 2017-10-26T15:51:32"},
      {.label = "tstamp with a space for T", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26+15:51:32%2B03:00&msisdn=256783011111",
       .error = "invalid tstamp"},
      {.label = "msisdn no number", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32%2B03:00&msisdn=%2B%2B",
       .error = "has no digits or letters"},
  });
}

TEST(DmarkHandler, Status) {
  DmarkHandler h;
  auto status = [](const std::string& code, MsgStatus want) {
    return ReceiveCase{.label = "status " + code, .action = "status",
                       .query = std::string("uuid=") + kMsgUuid + "&status=" + code, .body = "",
                       .statuses = {{.status = want, .msg_uuid = kMsgUuid}}};
  };
  RunReceiveCases(h, DkChannel(), {
      status("1", MsgStatus::kDelivered),
      status("2", MsgStatus::kErrored),
      status("4", MsgStatus::kSent),
      status("8", MsgStatus::kSent),
      status("16", MsgStatus::kErrored),
      {.label = "in the form body", .action = "status",
       .body = std::string("uuid=") + kMsgUuid + "&status=1",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUuid}}},
      {.label = "uuid in capitals", .action = "status", .query = "uuid=0191E180-7D60-7000-ADED-7D8B151CBD5B&status=4",
       .body = "", .statuses = {{.status = MsgStatus::kSent, .msg_uuid = kMsgUuid}}},
      {.label = "unknown status", .action = "status", .query = std::string("uuid=") + kMsgUuid + "&status=3",
       .body = "", .error = "unknown status '3', must be one of '1', '2', '4', '8' or '16'"},
      {.label = "status left as DMark's placeholder", .action = "status",
       .query = std::string("uuid=") + kMsgUuid + "&status=%25s", .body = "",
       .error = "unknown status '%s'"},
      {.label = "missing uuid", .action = "status", .query = "status=1", .body = "",
       .error = "field 'uuid' required"},
      {.label = "uuid not a uuid", .action = "status", .query = "uuid=NotUUID&status=1", .body = "",
       .error = "field 'uuid' uuid"},
      {.label = "missing status", .action = "status", .query = std::string("uuid=") + kMsgUuid,
       .body = "", .error = "field 'status' required"},
      {.label = "missing both", .action = "status", .query = "", .body = "",
       .error = "field 'uuid' required; field 'status' required"},
  });
}

TEST(DmarkHandler, Routes) {
  DmarkHandler h;
  EXPECT_EQ(h.Code(), "DK");
  EXPECT_EQ(h.Name(), "DMark");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

// DMark signs nothing: with a webhook_token set, a webhook must carry it.
TEST(DmarkHandler, WebhookToken) {
  DmarkHandler h;
  Channel channel = DkChannel({{"webhook_token", kWebhookToken}});
  RunReceiveCases(h, channel, WebhookTokenCases(
      {.label = "reply", .action = "receive",
       .body = "text=Msg&short_code=2020&tstamp=2017-10-26T15:51:32.906335%2B03:00&msisdn=256783011111",
       .msgs = {{.urn = "tel:+256783011111", .text = "Msg", .received_on = kTstamp}}}));
  RunReceiveCases(h, channel, WebhookTokenCases(
      {.label = "status", .action = "status", .query = std::string("uuid=") + kMsgUuid + "&status=1",
       .body = "", .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUuid}}}));
}

MockResponse SmsId(const std::string& id) {
  return {.body = R"({"status":"Success","sms_id":")" + id + R"("})"};
}

const std::string kDlrUrl = std::string("https://courier.test/c/dk/") + kTestChannelUUID + "/status?uuid=" + kMsgUuid +
                            "&status=%s";

ExpectedRequest Sms(const std::string& text, const std::string& dlr_url = kDlrUrl) {
  return {.path = "/sms/",
          .form = {{"sender", "2020"}, {"receiver", "256788383383"}, {"text", text}, {"dlr_url", dlr_url}},
          .headers = {{"authorization", std::string("Token ") + kToken},
                      {"accept", "application/json"},
                      {"content-type", "application/x-www-form-urlencoded"}},
          .body = FormEncode({{"sender", "2020"}, {"receiver", "256788383383"}, {"text", text}, {"dlr_url", dlr_url}})};
}

TEST(DmarkHandler, Send) {
  DmarkHandler h;
  const std::string a(450, 'a'), b(20, 'b');
  const std::string uganda = "tel:+256788383383";
  const char* kPath = "/sms/";
  RunSendCases(h, DkChannel(), {
      {.label = "plain", .urn = uganda, .responses = {{kPath, SmsId("6b1c15d3")}}, .external_id = "6b1c15d3",
       .requests = {Sms("Simple Message")}},
      {.label = "unicode", .text = "☺ and ü", .urn = uganda, .responses = {{kPath, SmsId("6b1c15d3")}},
       .external_id = "6b1c15d3", .requests = {Sms("☺ and ü")}},
      {.label = "sms_id as a number", .urn = uganda, .responses = {{kPath, {.body = R"({"sms_id":4711})"}}},
       .external_id = "4711", .requests = {Sms("Simple Message")}},
      {.label = "long text split at 453, the first sms_id kept", .text = a + " " + b, .urn = uganda,
       .responses = {{kPath, SmsId("p1")}, {kPath, SmsId("p2")}}, .external_id = "p1",
       .requests = {Sms(a), Sms(b)}},
      {.label = "attachments left out", .text = "My pic!", .urn = uganda,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{kPath, SmsId("6b1c15d3")}},
       .external_id = "6b1c15d3", .requests = {Sms("My pic!")}},
      {.label = "attachments only: nothing DMark carries", .text = "", .urn = uganda,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .status = MsgStatus::kFailed,
       .error = "msg has no text, and DMark carries no attachments", .requests = {}, .logs = 1},
      {.label = "nothing to send", .text = "", .urn = uganda, .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1},
      {.label = "answer without sms_id", .urn = uganda,
       .responses = {{kPath, {.body = R"({"status":"Success"})"}}}, .status = MsgStatus::kFailed,
       .error = "unable to get sms_id from response body", .requests = {Sms("Simple Message")}},
      {.label = "answer that is not JSON", .urn = uganda, .responses = {{kPath, {.body = "OK"}}},
       .status = MsgStatus::kFailed, .error = "unable to get sms_id", .requests = {Sms("Simple Message")}},
      {.label = "second part without sms_id", .text = a + " " + b, .urn = uganda,
       .responses = {{kPath, SmsId("p1")}, {kPath, {.body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "unable to get sms_id", .requests = {Sms(a), Sms(b)}},
      {.label = "400", .urn = uganda, .responses = {{kPath, {.status = 400, .body = R"({"detail":"bad"})"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {Sms("Simple Message")}},
      {.label = "401", .urn = uganda, .responses = {{kPath, {.status = 401, .body = ""}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {Sms("Simple Message")}},
      {.label = "500", .urn = uganda, .responses = {{kPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {Sms("Simple Message")}},
      {.label = "second part refused stops there", .text = a + " " + b, .urn = uganda,
       .responses = {{kPath, SmsId("p1")}, {kPath, {.status = 503, .body = ""}}}, .status = MsgStatus::kErrored,
       .error = "received non 200 status: 503", .requests = {Sms(a), Sms(b)}},
      {.label = "throttled", .urn = uganda,
       .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Sms("Simple Message")}, .throttled_for_seconds = 7},
  });

  RunSendCases(h, DkChannel({{"max_length", "12"}}), {
      {.label = "max_length 12", .text = "Hello there my friend", .urn = uganda,
       .responses = {{kPath, SmsId("p1")}, {kPath, SmsId("p2")}}, .external_id = "p1",
       .requests = {Sms("Hello there"), Sms("my friend")}},
  });

  RunSendCases(h, DkChannel({{"callback_domain", "dk.example.org"}}), {
      {.label = "callback_domain", .urn = uganda, .responses = {{kPath, SmsId("p1")}}, .external_id = "p1",
       .requests = {Sms("Simple Message", std::string("https://dk.example.org/c/dk/") + kTestChannelUUID +
                                              "/status?uuid=" + kMsgUuid + "&status=%s")}},
  });

  RunSendCases(h, DkChannel({{"webhook_token", kWebhookToken}}), {
      {.label = "the webhook_token goes in dlr_url", .urn = uganda, .responses = {{kPath, SmsId("p1")}},
       .external_id = "p1", .requests = {Sms("Simple Message", kDlrUrl + "&webhook_token=" + kWebhookToken)}},
  });

  RunSendCases(h, TestChannel("DK", "2020", "UG", {}), {
      {.label = "no auth_token", .urn = uganda, .status = MsgStatus::kErrored,
       .error = "no auth_token set for DK channel", .requests = {}, .logs = 1},
  });
}

// base_url replaces DMark's scheme and host; the path stays DMark's.
TEST(DmarkHandler, BaseUrl) {
  DmarkHandler h;
  RunSendCases(h, DkChannel(), {
      {.label = "base_url with a trailing slash", .urn = "tel:+256788383383",
       .responses = {{"/sms/", SmsId("p1")}}, .external_id = "p1", .requests = {Sms("Simple Message")},
       .setup = [](Channel& c) { c.config["base_url"] += "/"; }},
  });
}

}  // namespace
