// SC — SMS Central: receive and send tables.
#include "handlers/smscentral.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

Channel ScChannel(std::map<std::string, std::string> config = {{"username", "scuser"}, {"password", "scpass-s3cret"}}) {
  return TestChannel("SC", "2020", "NP", std::move(config));
}

TEST(SmsCentralHandler, Routes) {
  SmsCentralHandler h;
  EXPECT_EQ(h.Code(), "SC");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive"}));
}

TEST(SmsCentralHandler, Receive) {
  SmsCentralHandler h;
  RunReceiveCases(h, ScChannel(), {
      {.label = "valid form", .action = "receive", .body = "mobile=9841234567&message=Join",
       .msgs = {{.urn = "tel:+9779841234567", .text = "Join"}}},
      {.label = "international number", .action = "receive", .body = "mobile=%2B9779841234567&message=Join",
       .msgs = {{.urn = "tel:+9779841234567", .text = "Join"}}},
      {.label = "fields in the query", .action = "receive", .query = "mobile=9841234567&message=Join",
       .msgs = {{.urn = "tel:+9779841234567", .text = "Join"}}},
      {.label = "unicode", .action = "receive", .body = FormEncode({{"mobile", "9841234567"}, {"message", "नमस्ते ☺"}}),
       .msgs = {{.urn = "tel:+9779841234567", .text = "नमस्ते ☺"}}},
      {.label = "missing mobile", .action = "receive", .body = "message=Join", .error = "field 'mobile' required"},
      {.label = "missing message", .action = "receive", .body = "mobile=9841234567",
       .error = "field 'message' required"},
      {.label = "missing both", .action = "receive", .body = "",
       .error = "field 'mobile' required; field 'message' required"},
  });
}

const char* kPath = "/bp/ApiSms.php";

TEST(SmsCentralHandler, Send) {
  SmsCentralHandler h;
  const std::string long_a(1590, 'a'), long_b(20, 'b');
  RunSendCases(h, ScChannel(), {
      {.label = "plain", .urn = "tel:+9779841234567",
       .requests = {{.path = kPath, .headers = {{"content-type", "application/x-www-form-urlencoded"}},
                     .body = FormEncode({{"user", "scuser"}, {"pass", "scpass-s3cret"}, {"mobile", "9779841234567"},
                                         {"content", "Simple Message"}})}}},
      {.label = "unicode", .text = "नमस्ते ☺", .urn = "tel:+9779841234567",
       .requests = {{.path = kPath, .form = {{"content", "नमस्ते ☺"}}}}},
      {.label = "attachment as link", .text = "My pic!", .urn = "tel:+9779841234567",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .requests = {{.path = kPath, .form = {{"content", "My pic!\nhttps://foo.bar/image.jpg"}}}}},
      {.label = "long text split", .text = long_a + " " + long_b, .urn = "tel:+9779841234567",
       .requests = {{.path = kPath, .form = {{"content", long_a}}}, {.path = kPath, .form = {{"content", long_b}}}}},
      {.label = "provider error", .urn = "tel:+9779841234567",
       .responses = {{kPath, {.status = 500, .body = "error", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = kPath}}},
      {.label = "second part fails", .text = long_a + " " + long_b, .urn = "tel:+9779841234567",
       .responses = {{kPath, {.body = "ok"}}, {kPath, {.status = 503, .body = "busy"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 503",
       .requests = {{.path = kPath}, {.path = kPath}}},
      {.label = "throttled", .urn = "tel:+9779841234567",
       .responses = {{kPath, {.status = 429, .body = "slow down", .headers = {{"Retry-After", "4"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kPath}}, .throttled_for_seconds = 4},
  });
  RunSendCases(h, ScChannel({{"username", "scuser"}, {"password", "scpass-s3cret"}, {"max_length", "5"}}), {
      {.label = "channel max_length", .text = "Namaste world", .urn = "tel:+9779841234567",
       .requests = {{.path = kPath, .form = {{"content", "Namas"}}}, {.path = kPath, .form = {{"content", "te"}}},
                    {.path = kPath, .form = {{"content", "world"}}}}},
      {.label = "a 401 is permanent", .urn = "tel:+9779841234567",
       .responses = {{kPath, {.status = 401, .body = "bad credentials", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = kPath}}},
  });
  RunSendCases(h, ScChannel({{"username", "scuser"}}), {
      {.label = "no password: no request", .status = MsgStatus::kErrored,
       .error = "no password set for SC channel", .requests = {}, .logs = 1},
  });
}

// SmsCentral signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(SmsCentralHandler, WebhookToken) {
  SmsCentralHandler h;
  RunReceiveCases(h, WithToken(ScChannel()), WebhookTokenCases({.label = "valid form", .action = "receive", .body = "mobile=9841234567&message=Join", .msgs = {{.urn = "tel:+9779841234567", .text = "Join"}}}));
}

}  // namespace
