// BM — Blackmyna: receive, status and send tables.
#include "handlers/blackmyna.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kBasicAuth = "Basic Ym11c2VyOmJtcGFzcy1zM2NyZXQ=";  // base64("bmuser:bmpass-s3cret")
const char* kPath = "/2/smsmessaging/outbound";

Channel BmChannel(std::map<std::string, std::string> config = {
                      {"username", "bmuser"}, {"password", "bmpass-s3cret"}, {"api_key", "bmkey-123"}}) {
  return TestChannel("BM", "2020", "NP", std::move(config));
}

ReceiveCase Get(ReceiveCase c) {
  c.method = "GET";
  c.content_type = "";
  return c;
}

TEST(BlackmynaHandler, Receive) {
  BlackmynaHandler h;
  RunReceiveCases(h, BmChannel(), {
      Get({.label = "valid", .action = "receive", .query = "to=3344&text=Join&from=%2B9779814641111&smsc=NTNepal5002",
           .msgs = {{.urn = "tel:+9779814641111", .text = "Join"}}}),
      Get({.label = "national sender in channel country", .action = "receive",
           .query = "to=3344&text=Join&from=9814641111",
           .msgs = {{.urn = "tel:+9779814641111", .text = "Join"}}}),
      Get({.label = "unicode", .action = "receive",
           .query = "to=3344&text=%E0%A4%A8%E0%A4%AE%E0%A4%B8%E0%A5%8D%E0%A4%A4%E0%A5%87&from=%2B9779814641111",
           .msgs = {{.urn = "tel:+9779814641111", .text = "नमस्ते"}}}),
      Get({.label = "missing to", .action = "receive", .query = "text=Join&from=%2B9779814641111",
           .error = "field 'to' required"}),
      Get({.label = "missing text", .action = "receive", .query = "to=3344&from=%2B9779814641111",
           .error = "field 'text' required"}),
      Get({.label = "missing from", .action = "receive", .query = "to=3344&text=Join",
           .error = "field 'from' required"}),
      Get({.label = "nothing", .action = "receive", .query = "",
           .error = "field 'to' required; field 'text' required; field 'from' required"}),
      Get({.label = "malformed query", .action = "receive", .query = "%%%&&==",
           .error = "field 'to' required"}),
  });
}

TEST(BlackmynaHandler, Status) {
  BlackmynaHandler h;
  auto status = [](const std::string& value, MsgStatus want) {
    return Get({.label = "status " + value, .action = "status", .query = "id=bmarslsd&status=" + value,
                .statuses = {{.status = want, .external_id = "bmarslsd"}}});
  };
  RunReceiveCases(h, BmChannel(), {
      status("1", MsgStatus::kDelivered),
      status("2", MsgStatus::kFailed),
      status("8", MsgStatus::kSent),
      status("16", MsgStatus::kFailed),
      Get({.label = "unknown status is answered 200, ignored", .action = "status", .query = "id=bmarslsd&status=4",
           .ignored = "unknown status '4', must be one of 1, 2, 8 or 16"}),
      Get({.label = "status 0 is unknown, not missing", .action = "status", .query = "id=bmarslsd&status=0",
           .ignored = "unknown status '0', must be one of 1, 2, 8 or 16"}),
      Get({.label = "non-numeric status", .action = "status", .query = "id=bmarslsd&status=delivered",
           .error = "field 'status' must be an integer"}),
      Get({.label = "missing id", .action = "status", .query = "status=1", .error = "field 'id' required"}),
      Get({.label = "missing status", .action = "status", .query = "id=bmarslsd",
           .error = "field 'status' required"}),
  });
}

TEST(BlackmynaHandler, Routes) {
  BlackmynaHandler h;
  EXPECT_EQ(h.Code(), "BM");
  EXPECT_EQ(h.Name(), "Blackmyna");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "GET status"}));
}

MockResponse Ids(const std::string& id) {
  return {.body = "[{\"id\":\"" + id + "\",\"recipient\":\"+9779814641111\",\"status\":\"submitted\"}]"};
}

ExpectedRequest SendRequest(std::map<std::string, std::string> form) {
  return {.path = kPath, .form = std::move(form), .headers = {{"authorization", kBasicAuth}}};
}

TEST(BlackmynaHandler, Send) {
  BlackmynaHandler h;
  RunSendCases(h, BmChannel(), {
      {.label = "plain", .urn = "tel:+9779814641111", .responses = {{kPath, Ids("1002")}}, .external_id = "1002",
       .requests = {SendRequest({{"address", "+9779814641111"}, {"senderaddress", "2020"},
                                 {"message", "Simple Message"}})}},
      {.label = "unicode", .text = "नमस्ते", .responses = {{kPath, Ids("1003")}}, .external_id = "1003",
       .requests = {SendRequest({{"message", "नमस्ते"}})}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Ids("1004")}}, .external_id = "1004",
       .requests = {SendRequest({{"message", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "numeric id", .responses = {{kPath, {.body = "[{\"id\":1005}]"}}}, .external_id = "1005",
       .requests = {SendRequest({})}},
      {.label = "long text is split, first id kept", .text = std::string(150, 'a') + " " + std::string(20, 'b'),
       .responses = {{kPath, Ids("1006")}, {kPath, Ids("1007")}}, .external_id = "1006",
       .requests = {SendRequest({{"message", std::string(150, 'a')}}),
                    SendRequest({{"message", std::string(20, 'b')}})}},
      {.label = "no id in body", .responses = {{kPath, {.body = "[{\"status\":\"submitted\"}]"}}},
       .status = MsgStatus::kFailed, .error = "no external id returned in body", .requests = {SendRequest({})}},
      {.label = "object body", .responses = {{kPath, {.body = "{\"id\":\"1008\"}"}}},
       .status = MsgStatus::kFailed, .error = "no external id returned in body", .requests = {SendRequest({})}},
      {.label = "unparseable body", .responses = {{kPath, {.body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "no external id returned in body", .requests = {SendRequest({})}},
      {.label = "provider 401", .responses = {{kPath, {.status = 401, .body = "{\"error\":\"bad credentials\"}"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {SendRequest({})}},
      {.label = "provider 503 is retried", .responses = {{kPath, {.status = 503, .body = "down"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 503", .requests = {SendRequest({})}},
      {.label = "throttled", .responses = {{kPath, {.status = 429, .body = "[]", .headers = {{"Retry-After", "3"}}}}},
       .status = MsgStatus::kErrored, .requests = {SendRequest({})}, .throttled_for_seconds = 3},
  });

  RunSendCases(h, BmChannel({{"username", "bmuser"}, {"password", "bmpass-s3cret"}, {"api_key", "bmkey-123"}, {"max_length", "12"}}), {
      {.label = "channel max_length", .text = "one two three four",
       .responses = {{kPath, Ids("2001")}, {kPath, Ids("2002")}}, .external_id = "2001",
       .requests = {SendRequest({{"message", "one two"}}), SendRequest({{"message", "three four"}})}},
  });

  RunSendCases(h, BmChannel({{"username", "bmuser"}, {"password", "bmpass-s3cret"}}), {
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for BM channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, BmChannel({{"username", "bmuser"}, {"api_key", "bmkey-123"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for BM channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, BmChannel({{"password", "bmpass-s3cret"}, {"api_key", "bmkey-123"}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for BM channel",
       .requests = {}, .logs = 1},
  });
}

// Blackmyna signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(BlackmynaHandler, WebhookToken) {
  BlackmynaHandler h;
  RunReceiveCases(h, WithToken(BmChannel()), WebhookTokenCases(Get({.label = "valid", .action = "receive", .query = "to=3344&text=Join&from=%2B9779814641111&smsc=NTNepal5002", .msgs = {{.urn = "tel:+9779814641111", .text = "Join"}}})));
}

}  // namespace
