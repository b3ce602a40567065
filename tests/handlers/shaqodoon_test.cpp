// SQ — Shaqodoon: receive, status and send tables.
#include "handlers/shaqodoon.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

Channel SqChannel(std::map<std::string, std::string> config = {
                      {"send_url", "{{mock}}/api/sendsms"}, {"username", "squser"}, {"password", "sqpass-s3cret"}}) {
  return TestChannel("SQ", "+2020", "SO", std::move(config));
}

ReceiveCase Get(ReceiveCase c) {
  c.method = "GET";
  c.content_type = "";
  return c;
}

TEST(ShaqodoonHandler, Receive) {
  ShaqodoonHandler h;
  RunReceiveCases(h, SqChannel(), {
      {.label = "form post", .action = "receive", .body = "from=%2B252612345678&text=Join",
       .msgs = {{.urn = "tel:+252612345678", .text = "Join"}}},
      Get({.label = "query get", .action = "receive", .query = "from=%2B252612345678&text=Join",
           .msgs = {{.urn = "tel:+252612345678", .text = "Join"}}}),
      {.label = "number without plus", .action = "receive", .body = "from=252612345678&text=Join",
       .msgs = {{.urn = "tel:+252612345678", .text = "Join"}}},
      {.label = "unicode", .action = "receive", .body = "from=%2B252612345678&text=Salaan%20%E2%98%BA",
       .msgs = {{.urn = "tel:+252612345678", .text = "Salaan ☺"}}},
      {.label = "date", .action = "receive", .body = "from=%2B252612345678&text=hi&date=2017-06-23T12:30:00.500Z",
       .msgs = {{.urn = "tel:+252612345678", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00.5Z")}}},
      {.label = "time alias", .action = "receive", .body = "from=%2B252612345678&text=hi&time=2017-06-23T12:30:00Z",
       .msgs = {{.urn = "tel:+252612345678", .text = "hi", .received_on = ParseRfc3339("2017-06-23T12:30:00Z")}}},
      {.label = "bad date", .action = "receive", .body = "from=%2B252612345678&text=hi&date=yesterday",
       .error = "invalid date format, must be RFC 3339"},
      {.label = "missing from", .action = "receive", .body = "text=hi", .error = "must have one of 'sender' or 'from' set"},
      {.label = "missing text", .action = "receive", .body = "from=%2B252612345678", .error = "field 'text' required"},
      {.label = "malformed body", .action = "receive", .body = "%zz&&", .error = "must have one of 'sender' or 'from' set"},
  });
}

TEST(ShaqodoonHandler, Status) {
  ShaqodoonHandler h;
  RunReceiveCases(h, SqChannel(), {
      {.label = "sent", .action = "sent", .body = "id=12345", .statuses = {{.status = MsgStatus::kSent, .msg_id = 12345}}},
      {.label = "delivered", .action = "delivered", .body = "id=12345",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12345}}},
      Get({.label = "failed by GET", .action = "failed", .query = "id=12",
           .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12}}}),
      {.label = "missing id", .action = "delivered", .body = "", .error = "field 'id' required"},
      {.label = "non-numeric id", .action = "sent", .body = "id=abc", .error = "field 'id' must be an integer"},
  });
}

TEST(ShaqodoonHandler, Routes) {
  ShaqodoonHandler h;
  EXPECT_EQ(h.Code(), "SQ");
  EXPECT_EQ(h.Name(), "Shaqodoon");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET sent", "POST sent", "GET delivered",
                                           "POST delivered", "GET failed", "POST failed"}));
}

ExpectedRequest SendRequest(std::map<std::string, std::string> params) {
  return {.method = "GET", .path = "/api/sendsms", .params = std::move(params)};
}

TEST(ShaqodoonHandler, Send) {
  ShaqodoonHandler h;
  RunSendCases(h, SqChannel(), {
      {.label = "plain", .urn = "tel:+252612345678",
       .requests = {SendRequest({{"from", "2020"}, {"msg", "Simple Message"}, {"to", "252612345678"},
                                 {"username", "squser"}, {"password", "sqpass-s3cret"}})}},
      {.label = "unicode", .text = "Salaan ☺", .requests = {SendRequest({{"msg", "Salaan ☺"}})}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .requests = {SendRequest({{"msg", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "long text is split", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .requests = {SendRequest({{"msg", std::string(150, 'a')}}), SendRequest({{"msg", std::string(20, 'b')}})}},
      {.label = "provider error", .responses = {{"/api/sendsms", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {SendRequest({})}},
      {.label = "second part fails", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .responses = {{"/api/sendsms", {.body = "ok"}}, {"/api/sendsms", {.status = 400, .body = "bad"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400",
       .requests = {SendRequest({}), SendRequest({})}},
      {.label = "throttled",
       .responses = {{"/api/sendsms", {.status = 429, .body = "slow down", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {SendRequest({})}, .throttled_for_seconds = 5},
  });

  RunSendCases(h, SqChannel({{"send_url", "{{mock}}/api/sendsms"}, {"username", "squser"},
                             {"password", "sqpass-s3cret"}, {"max_length", "6"}}), {
      {.label = "channel max_length", .text = "Salaan adiga",
       .requests = {SendRequest({{"msg", "Salaan"}}), SendRequest({{"msg", "adiga"}})}},
  });

  RunSendCases(h, SqChannel({{"send_url", "{{mock}}/api/sendsms?service=bulk"}, {"username", "squser"},
                             {"password", "sqpass-s3cret"}}), {
      {.label = "send_url with query", .requests = {SendRequest({{"service", "bulk"}, {"msg", "Simple Message"}})}},
  });

  RunSendCases(h, SqChannel({{"username", "squser"}, {"password", "sqpass-s3cret"}}), {
      {.label = "no send_url", .status = MsgStatus::kErrored, .error = "no send_url set for SQ channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, SqChannel({{"send_url", "{{mock}}/api/sendsms"}, {"password", "sqpass-s3cret"}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for SQ channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, SqChannel({{"send_url", "{{mock}}/api/sendsms"}, {"username", "squser"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for SQ channel",
       .requests = {}, .logs = 1},
  });
}

// Shaqodoon signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(ShaqodoonHandler, WebhookToken) {
  ShaqodoonHandler h;
  RunReceiveCases(h, WithToken(SqChannel()), WebhookTokenCases({.label = "form post", .action = "receive", .body = "from=%2B252612345678&text=Join", .msgs = {{.urn = "tel:+252612345678", .text = "Join"}}}));
}

}  // namespace
