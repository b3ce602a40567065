// AT — Africa's Talking: receive, status, opt-out and send tables.
#include "handlers/africastalking.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kApiKey = "atkey-s3cret-123";

Channel AtChannel(std::map<std::string, std::string> config = {}) {
  std::map<std::string, std::string> base = {{"username", "foo"}, {"api_key", kApiKey}};
  for (auto& [k, v] : config) base[k] = v;
  return TestChannel("AT", "2020", "KE", std::move(base));
}

const std::string kMsgId = "ATXid_dda018a640edfcc5d2ce455de3e4a6e7";
const std::string kValid = "linkId=03090445075804249226&text=Msg&to=21512&id=" + kMsgId +
                           "&date=2017-05-03T06%3A04%3A45Z&from=%2B254791541111";

std::string Incoming(const std::string& drop, const std::string& extra = "") {
  std::map<std::string, std::string> fields = {{"id", kMsgId},
                                               {"text", "Msg"},
                                               {"to", "21512"},
                                               {"date", "2017-05-03T06%3A04%3A45Z"},
                                               {"from", "%2B254791541111"}};
  fields.erase(drop);
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out + extra;
}

const Micros kDate = 1493791485LL * kMicrosPerSecond;  // 2017-05-03T06:04:45Z

TEST(AfricasTalkingHandler, Receive) {
  AfricasTalkingHandler h;
  const ExpectedMsg valid = {.urn = "tel:+254791541111", .text = "Msg", .external_id = kMsgId, .received_on = kDate};
  RunReceiveCases(h, AtChannel(), {
      {.label = "valid", .action = "receive", .body = kValid, .msgs = {valid}},
      {.label = "callback route", .action = "callback", .body = kValid, .msgs = {valid}},
      {.label = "national sender in channel country", .action = "receive",
       .body = "text=hi&to=21512&id=1&date=2017-05-03T06%3A04%3A45Z&from=0791541111",
       .msgs = {{.urn = "tel:+254791541111", .text = "hi", .external_id = "1", .received_on = kDate}}},
      {.label = "unicode", .action = "receive",
       .body = "text=Habari%20%E2%98%BA%20%C3%A9&to=21512&id=2&date=2017-05-03T06%3A04%3A45Z&from=%2B254791541111",
       .msgs = {{.urn = "tel:+254791541111", .text = "Habari ☺ é", .external_id = "2", .received_on = kDate}}},
      {.label = "date with milliseconds", .action = "receive",
       .body = "text=hi&to=21512&id=3&date=2017-05-03T06%3A04%3A45.250Z&from=%2B254791541111",
       .msgs = {{.urn = "tel:+254791541111", .text = "hi", .external_id = "3",
                 .received_on = kDate + 250000}}},
      {.label = "date with a space and no zone", .action = "receive",
       .body = "text=hi&to=21512&id=4&date=2017-05-03+06%3A04%3A45&from=%2B254791541111",
       .msgs = {{.urn = "tel:+254791541111", .text = "hi", .external_id = "4", .received_on = kDate}}},
      {.label = "fields in the query", .action = "receive", .query = kValid, .body = "", .msgs = {valid}},
      {.label = "bad date", .action = "receive",
       .body = "text=hi&to=21512&id=5&date=2017-05-03T06%3A04&from=%2B254791541111",
       .error = "invalid date format: 2017-05-03T06:04"},
      {.label = "missing id", .action = "receive", .body = Incoming("id"), .error = "field 'id' required"},
      {.label = "missing text", .action = "receive", .body = Incoming("text"), .error = "field 'text' required"},
      {.label = "missing from", .action = "receive", .body = Incoming("from"), .error = "field 'from' required"},
      {.label = "missing to", .action = "receive", .body = Incoming("to"), .error = "field 'to' required"},
      {.label = "missing date", .action = "receive", .body = Incoming("date"), .error = "field 'date' required"},
      {.label = "all missing", .action = "receive", .body = "linkId=1",
       .error = "field 'id' required; field 'text' required; field 'from' required; field 'to' required; "
                "field 'date' required"},
      {.label = "malformed body", .action = "receive", .body = "%%%garbage", .error = "field 'id' required"},
      {.label = "JSON body is not read", .action = "receive", .body = "{\"id\":\"1\"}",
       .content_type = "application/json", .error = "field 'id' required"},
  });
}

TEST(AfricasTalkingHandler, Status) {
  AfricasTalkingHandler h;
  auto status = [](const std::string& label, const std::string& value, MsgStatus want) {
    return ReceiveCase{.label = label, .action = "status", .body = "id=ATXid_1&status=" + value,
                       .statuses = {{.status = want, .external_id = "ATXid_1"}}};
  };
  RunReceiveCases(h, AtChannel(), {
      status("Success", "Success", MsgStatus::kDelivered),
      status("Sent", "Sent", MsgStatus::kSent),
      status("Submitted", "Submitted", MsgStatus::kSent),
      status("Buffered", "Buffered", MsgStatus::kSent),
      status("Rejected", "Rejected", MsgStatus::kFailed),
      status("Failed", "Failed", MsgStatus::kFailed),
      status("Expired", "Expired", MsgStatus::kFailed),
      {.label = "delivery route", .action = "delivery",
       .body = "id=ATXid_2&status=Success&phoneNumber=%2B254711XXXYYY&networkCode=63902",
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = "ATXid_2"}}},
      {.label = "blacklisted contact is stopped", .action = "status",
       .body = "id=ATXid_3&status=Rejected&phoneNumber=%2B254791541111&failureReason=UserInBlackList",
       .statuses = {{.status = MsgStatus::kFailed, .external_id = "ATXid_3"}}, .stop_urns = {"tel:+254791541111"}},
      {.label = "other failure reason stops nobody", .action = "status",
       .body = "id=ATXid_4&status=Failed&phoneNumber=%2B254791541111&failureReason=InsufficientCredit",
       .statuses = {{.status = MsgStatus::kFailed, .external_id = "ATXid_4"}}},
      {.label = "unknown status is answered 200, ignored", .action = "status", .body = "id=ATXid_1&status=Borked",
       .ignored = "unknown status 'Borked', must be one of 'Success', 'Sent', 'Submitted', 'Buffered', 'Rejected', "
                "'Failed' or 'Expired'"},
      {.label = "status is case-sensitive", .action = "status", .body = "id=ATXid_1&status=success",
       .ignored = "unknown status 'success'"},
      {.label = "missing id", .action = "status", .body = "status=Success", .error = "field 'id' required"},
      {.label = "missing status", .action = "status", .body = "id=ATXid_1", .error = "field 'status' required"},
  });
}

TEST(AfricasTalkingHandler, OptOut) {
  AfricasTalkingHandler h;
  RunReceiveCases(h, AtChannel(), {
      {.label = "opt-out", .action = "optout", .body = "senderId=MyBrand&phoneNumber=%2B254791541111",
       .stop_urns = {"tel:+254791541111"}},
      {.label = "opt-out without number", .action = "optout", .body = "senderId=MyBrand",
       .error = "field 'phoneNumber' required"},
  });
}

TEST(AfricasTalkingHandler, Routes) {
  AfricasTalkingHandler h;
  EXPECT_EQ(h.Code(), "AT");
  EXPECT_EQ(h.Name(), "Africas Talking");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST callback", "POST status", "POST delivery",
                                           "POST optout"}));
}

std::string Recipient(int code, const std::string& status, const std::string& id) {
  return "{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total Cost: KES 0.8000\",\"Recipients\":[{\"statusCode\":" +
         std::to_string(code) + ",\"number\":\"+250788383383\",\"status\":\"" + status +
         "\",\"cost\":\"KES 0.8000\",\"messageId\":\"" + id + "\"}]}}";
}

MockResponse Answer(int code, const std::string& status, const std::string& id = "ATXid_1", int http = 201) {
  return {.status = http, .body = Recipient(code, status, id)};
}

const char* kPath = "/version1/messaging";

ExpectedRequest SendRequest(std::map<std::string, std::string> form) {
  return {.path = kPath,
          .form = std::move(form),
          .headers = {{"apikey", kApiKey},
                      {"accept", "application/json"},
                      {"content-type", "application/x-www-form-urlencoded"}}};
}

TEST(AfricasTalkingHandler, Send) {
  AfricasTalkingHandler h;
  RunSendCases(h, AtChannel(), {
      {.label = "plain", .responses = {{kPath, Answer(101, "Success", "ATXid_1")}}, .external_id = "ATXid_1",
       .requests = {SendRequest({{"username", "foo"}, {"to", "+250788383383"}, {"message", "Simple Message"},
                                 {"from", "2020"}})}},
      {.label = "unicode", .text = "Habari ☺", .responses = {{kPath, Answer(101, "Success", "ATXid_2")}},
       .external_id = "ATXid_2", .requests = {SendRequest({{"message", "Habari ☺"}})}},
      {.label = "queued (102) is accepted", .responses = {{kPath, Answer(102, "Queued", "ATXid_3")}},
       .external_id = "ATXid_3", .requests = {SendRequest({{"message", "Simple Message"}})}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Answer(101, "Success", "ATXid_4")}}, .external_id = "ATXid_4",
       .requests = {SendRequest({{"message", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "long text is split, first id kept",
       .text = std::string(1590, 'a') + " " + std::string(20, 'b'),
       .responses = {{kPath, Answer(101, "Success", "ATXid_5")}, {kPath, Answer(101, "Success", "ATXid_6")}},
       .external_id = "ATXid_5",
       .requests = {SendRequest({{"message", std::string(1590, 'a')}}),
                    SendRequest({{"message", std::string(20, 'b')}})}},
      {.label = "non-success status", .responses = {{kPath, Answer(405, "InsufficientBalance", "None")}},
       .status = MsgStatus::kErrored, .error = "received non-success status 'InsufficientBalance'",
       .requests = {SendRequest({})}},
      {.label = "blacklisted contact is stopped", .responses = {{kPath, Answer(406, "UserInBlacklist", "None")}},
       .status = MsgStatus::kFailed, .error = "received non-success status 'UserInBlacklist'", .stop_contact = true,
       .requests = {SendRequest({})}},
      {.label = "invalid number is permanent", .responses = {{kPath, Answer(403, "InvalidPhoneNumber", "None")}},
       .status = MsgStatus::kFailed, .error = "received non-success status 'InvalidPhoneNumber'",
       .requests = {SendRequest({})}},
      {.label = "no recipients",
       .responses = {{kPath, {.status = 201, .body = "{\"SMSMessageData\":{\"Message\":\"InvalidSenderId\","
                                                     "\"Recipients\":[]}}"}}},
       .status = MsgStatus::kFailed, .error = "no recipients in response: 'InvalidSenderId'",
       .requests = {SendRequest({})}},
      {.label = "unparseable 2xx body may have been taken: failed, not retried",
       .responses = {{kPath, {.status = 201, .body = "not json"}}},
       .status = MsgStatus::kFailed, .error = "unable to parse response body", .requests = {SendRequest({})}},
      {.label = "accepted without messageId", .responses = {{kPath, Answer(101, "Success", "None")}},
       .status = MsgStatus::kFailed, .error = "no messageId", .requests = {SendRequest({})}},
      {.label = "could not route is permanent", .responses = {{kPath, Answer(407, "CouldNotRoute", "None")}},
       .status = MsgStatus::kFailed, .error = "received non-success status 'CouldNotRoute'",
       .requests = {SendRequest({})}},
      {.label = "gateway error is retried", .responses = {{kPath, Answer(501, "GatewayError", "None")}},
       .status = MsgStatus::kErrored, .error = "received non-success status 'GatewayError'",
       .requests = {SendRequest({})}},
      {.label = "provider 401",
       .responses = {{kPath, {.status = 401, .body = "The supplied authentication is invalid",
                              .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {SendRequest({})}},
      {.label = "provider 500", .responses = {{kPath, {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {SendRequest({})}},
      {.label = "throttled",
       .responses = {{kPath, {.status = 429, .body = "Too many requests", .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {SendRequest({})}, .throttled_for_seconds = 12},
      {.label = "second part fails", .text = std::string(1590, 'a') + " " + std::string(20, 'b'),
       .responses = {{kPath, Answer(101, "Success", "ATXid_7")}, {kPath, {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500",
       .requests = {SendRequest({}), SendRequest({})}},
  });

  RunSendCases(h, AtChannel({{"max_length", "10"}}), {
      {.label = "channel max_length splits on words", .text = "hello world again",
       .responses = {{kPath, Answer(101, "Success", "ATXid_9")}, {kPath, Answer(101, "Success", "ATXid_10")},
                     {kPath, Answer(101, "Success", "ATXid_11")}},
       .external_id = "ATXid_9",
       .requests = {SendRequest({{"message", "hello"}}), SendRequest({{"message", "world"}}),
                    SendRequest({{"message", "again"}})}},
  });

  RunSendCases(h, AtChannel({{"is_shared", "true"}}), {
      {.label = "shared short code sends without from", .responses = {{kPath, Answer(101, "Success", "ATXid_8")}},
       .external_id = "ATXid_8", .requests = {SendRequest({{"username", "foo"}, {"message", "Simple Message"}})}},
  });

  RunSendCases(h, TestChannel("AT", "2020", "KE", {{"username", "foo"}}), {
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for AT channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("AT", "2020", "KE", {{"api_key", kApiKey}}), {
      {.label = "no username", .status = MsgStatus::kErrored, .error = "no username set for AT channel",
       .requests = {}, .logs = 1},
  });
}

// What the table cannot say: a shared channel sends no `from` at all, and
// the key is not in the log.
TEST(AfricasTalkingHandler, SharedHasNoFromAndKeyIsRedacted) {
  AfricasTalkingHandler h;
  MockProvider provider;
  provider.On(kPath, Answer(101, "Success"));
  Channel channel = AtChannel({{"is_shared", "true"}});
  channel.config["base_url"] = provider.url();
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = "tel:+250788383383";
  msg.text = "hi";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  SendResult r = h.Send(channel, msg, ctx);
  EXPECT_EQ(r.status, MsgStatus::kWired);
  auto requests = provider.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form.count("from"), 0u);
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].request.find(kApiKey), std::string::npos);
  EXPECT_NE(r.logs[0].request.find("********"), std::string::npos) << r.logs[0].request;
}

// AfricasTalking signs nothing: with a webhook_token set, a webhook must carry it.
TEST(AfricasTalkingHandler, WebhookToken) {
  AfricasTalkingHandler h;
  RunReceiveCases(h, AtChannel({{"webhook_token", kWebhookToken}}), WebhookTokenCases({.label = "valid", .action = "receive", .body = kValid, .msgs = {{.urn = "tel:+254791541111", .text = "Msg", .external_id = kMsgId, .received_on = kDate}}}));
}

}  // namespace
