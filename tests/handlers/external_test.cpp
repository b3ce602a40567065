// EX — External: receive, status, stop and send tables.
#include "handlers/external.h"

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

Channel ExChannel(std::map<std::string, std::string> config = {}) {
  return TestChannel("EX", "+2020", "US", std::move(config));
}

TEST(ExternalHandler, Receive) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel(), {
      {.label = "form post", .action = "receive", .body = "from=%2B2349067554729&text=Join",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      {.label = "query get", .method = "GET", .action = "receive", .query = "sender=%2B2349067554729&text=Join",
       .content_type = "", .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}},
      {.label = "sender wins over from", .action = "receive",
       .body = "from=%2B2349067554729&sender=%2B2349067554730&text=hi",
       .msgs = {{.urn = "tel:+2349067554730", .text = "hi"}}},
      {.label = "national number in channel country", .action = "receive", .body = "from=2012345678&text=hi",
       .msgs = {{.urn = "tel:+12012345678", .text = "hi"}}},
      {.label = "unicode and control characters", .action = "receive",
       .body = "from=%2B2349067554729&text=Mwaramutse%20%E2%9C%93%01",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Mwaramutse ✓"}}},
      {.label = "date", .action = "receive", .body = "from=%2B2349067554729&text=hi&date=2017-06-23T12:30:00.500Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00.5Z")}}},
      {.label = "time alias", .action = "receive", .body = "from=%2B2349067554729&text=hi&time=2017-06-23T12:30:00Z",
       .msgs = {{.urn = "tel:+2349067554729", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "bad date", .action = "receive", .body = "from=%2B2349067554729&text=hi&date=yesterday",
       .error = "invalid date format, must be RFC 3339"},
      {.label = "no sender", .action = "receive", .body = "text=hi", .error = "must have one of 'sender' or 'from' set"},
      {.label = "no text", .action = "receive", .body = "from=%2B2349067554729", .error = "field 'text' required"},
  });
}

TEST(ExternalHandler, ReceiveOnTelegramScheme) {
  ExternalHandler h;
  RunReceiveCases(h, TestChannel("EX", "bot", "", {}, {"telegram"}), {
      {.label = "scheme from channel", .action = "receive", .body = "from=12345&text=hi",
       .msgs = {{.urn = "telegram:12345", .text = "hi"}}},
      {.label = "invalid path for scheme", .action = "receive", .body = "from=abc&text=hi", .error = "telegram"},
  });
}

TEST(ExternalHandler, StatusAndStop) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel(), {
      {.label = "delivered", .action = "delivered", .body = "id=12345",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12345}}},
      {.label = "sent by GET", .method = "GET", .action = "sent", .query = "id=12", .content_type = "",
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12}}},
      {.label = "failed", .action = "failed", .body = "id=12", .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12}}},
      {.label = "missing id", .action = "delivered", .body = "", .error = "field 'id' required"},
      {.label = "non-numeric id", .action = "delivered", .body = "id=abc", .error = "field 'id' must be an integer"},
      {.label = "stopped", .action = "stopped", .body = "from=%2B2349067554729",
       .stop_urns = {"tel:+2349067554729"}},
      {.label = "stopped without sender", .action = "stopped", .body = "", .error = "must have one of"},
  });
}

TEST(ExternalHandler, Send) {
  ExternalHandler h;
  Channel form = ExChannel({{"send_url", "{{mock}}/send?to={{to}}"}, {"password", "s3cr3tpw"}});
  RunSendCases(h, form, {
      {.label = "default form body",
       .requests = {{.path = "/send", .form = {{"id", "10"}, {"text", "Simple Message"}, {"to", "+250788383383"},
                                               {"to_no_plus", "250788383383"}, {"from", "+2020"},
                                               {"from_no_plus", "2020"}, {"channel", kTestChannelUUID}},
                     .params = {{"to", "+250788383383"}}}}},
      {.label = "unicode and attachment as link", .text = "☺",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .requests = {{.path = "/send", .form = {{"text", "☺\nhttps://foo.bar/image.jpg"}}}}},
      {.label = "provider error", .responses = {{"/send", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = "/send"}}},
      {.label = "a 400 is permanent", .responses = {{"/send", {.status = 400, .body = "invalid number"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {{.path = "/send"}}},
      {.label = "throttled", .responses = {{"/send", {.status = 429, .body = "slow down", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = "/send"}}, .throttled_for_seconds = 7},
      {.label = "long text is split at whitespace", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .requests = {{.path = "/send", .form = {{"text", std::string(150, 'a')}}},
                    {.path = "/send", .form = {{"text", std::string(20, 'b')}}}}},
  });

  Channel json = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "application/json"},
                            {"send_body", "{\"to\":{{to}},\"text\":{{text}}}"}, {"send_method", "PUT"}});
  RunSendCases(h, json, {
      {.label = "json body, quoted", .text = "say \"hi\"",
       .requests = {{.method = "PUT", .path = "/json", .headers = {{"content-type", "application/json"}},
                     .body = "{\"to\":\"+250788383383\",\"text\":\"say \\\"hi\\\"\"}"}}},
      // A variable's name in the msg's text is sent as written.
      {.label = "text that names a variable", .text = "call {{to}}",
       .requests = {{.method = "PUT", .path = "/json", .body = "{\"to\":\"+250788383383\",\"text\":\"call {{to}}\"}"}}},
  });

  // {{quick_replies}}: the text replies in the target's syntax, on the
  // last part only (a location or url reply is no text).
  Channel json_replies = ExChannel({{"send_url", "{{mock}}/json"}, {"content_type", "application/json"},
                                    {"send_body", R"({"text":{{text}},"replies":{{quick_replies}}})"},
                                    {"max_length", "10"}});
  RunSendCases(h, json_replies, {
      {.label = "json quick replies", .text = "Coming?",
       .requests = {{.path = "/json", .body = R"({"text":"Coming?","replies":["Yes","No \"way\""]})"}},
       .quick_replies = {"Yes", "No \"way\"", QuickReply::Location("Here")}},
      {.label = "json quick replies on the last part; none before", .text = "first part second",
       .requests = {{.path = "/json", .body = R"({"text":"first part","replies":[]})"},
                    {.path = "/json", .body = R"({"text":"second","replies":["Yes"]})"}},
       .quick_replies = {"Yes"}},
      {.label = "json without quick replies", .requests = {{.path = "/json", .body = R"({"text":"Simple","replies":[]})"},
                                                           {.path = "/json", .body = R"({"text":"Message","replies":[]})"}}},
  });
  Channel xml_replies = ExChannel({{"send_url", "{{mock}}/xml"}, {"content_type", "text/xml"},
                                   {"send_body", "<msg><text>{{text}}</text><replies>{{quick_replies}}</replies></msg>"}});
  RunSendCases(h, xml_replies, {
      {.label = "xml quick replies", .text = "Pick",
       .requests = {{.path = "/xml", .body = "<msg><text>Pick</text><replies><item>A &amp; B</item><item>C</item></replies></msg>"}},
       .quick_replies = {"A & B", "C"}},
  });
  Channel url_replies = ExChannel({{"send_url", "{{mock}}/send?text={{text}}{{quick_replies}}"}, {"send_method", "GET"}});
  RunSendCases(h, url_replies, {
      {.label = "quick replies in the URL", .text = "Pick",
       .requests = {{.method = "GET", .path = "/send", .params = {{"text", "Pick"}, {"quick_reply", "A & B"}}}},
       .quick_replies = {"A & B", QuickReply::Url("Site", "https://x.example")}},
  });

  Channel xml = ExChannel({{"send_url", "{{mock}}/xml"}, {"content_type", "text/xml; charset=utf-8"},
                           {"send_body", "<msg><text>{{text}}</text></msg>"}});
  RunSendCases(h, xml, {
      {.label = "xml body, escaped", .text = "a < b & c",
       .requests = {{.path = "/xml", .body = "<msg><text>a &lt; b &amp; c</text></msg>"}}},
  });

  Channel get = ExChannel({{"send_url", "{{mock}}/get?text={{text}}&to={{to_no_plus}}"}, {"send_method", "GET"},
                           {"mt_response_check", "SENT"}});
  RunSendCases(h, get, {
      {.label = "GET with query and response check",
       .responses = {{"/get", {.body = "SENT ok"}}},
       .requests = {{.method = "GET", .path = "/get", .params = {{"text", "Simple Message"}, {"to", "250788383383"}}}}},
      {.label = "response check fails on a 2xx: may be taken, so failed", .responses = {{"/get", {.body = "nope"}}},
       .status = MsgStatus::kFailed,
       .error = "response did not contain 'SENT'", .requests = {{.method = "GET", .path = "/get"}}},
  });

  RunSendCases(h, ExChannel(), {
      {.label = "no send_url", .status = MsgStatus::kErrored, .error = "no send_url", .requests = {}, .logs = 1},
  });
}

// External signs nothing: with a webhook_token set, a webhook must carry it.
TEST(ExternalHandler, WebhookToken) {
  ExternalHandler h;
  RunReceiveCases(h, ExChannel({{"webhook_token", kWebhookToken}}), WebhookTokenCases({.label = "form post", .action = "receive", .body = "from=%2B2349067554729&text=Join", .msgs = {{.urn = "tel:+2349067554729", .text = "Join"}}}));
}

}  // namespace
