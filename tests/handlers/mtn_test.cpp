// MTN — MTN Developer Portal: incoming msgs and delivery reports, the send
// table, and the client-credentials access token: fetched once per
// channel, dropped on a 401, never logged.
#include "handlers/mtn.h"

#include <set>

#include "access_token_cases.h"
#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kConsumerKey = "mtnkey-s3cret";
const char* kConsumerSecret = "mtnsecret-s3cret";
const std::string kToken = "mtn-Ms9bVh2kGq8vYx3ZtW";
const char* kTokenPath = "/v1/oauth/access_token";
const char* kSendPath = "/v2/messages/sms/outbound";
const char* kMsgUuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";  // the harness's msg uuid

Channel MtnChannel() {
  return TestChannel("MTN", "+250788383383", "RW", {{"api_key", kConsumerKey}, {"auth_token", kConsumerSecret}});
}

MockResponse TokenOk(const std::string& token = kToken, const std::string& expires_in = "\"3599\"") {
  return {.body = R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" + expires_in + "}"};
}
MockResponse SendOk(const std::string& id) {
  return {.status = 201, .body = R"({"transactionId":")" + id + R"(","clientCorrelator":"x","deliveryInfo":[]})"};
}

ExpectedRequest TokenRequest() {
  return {.path = kTokenPath,
          .form = {{"client_id", kConsumerKey}, {"client_secret", kConsumerSecret}},
          .params = {{"grant_type", "client_credentials"}},
          .headers = {{"content-type", "application/x-www-form-urlencoded"}, {"accept", "application/json"}}};
}

ExpectedRequest SendRequest(const std::string& message, const std::string& extra = "") {
  return {.path = kSendPath,
          .headers = {{"authorization", "Bearer " + kToken},
                      {"content-type", "application/json"},
                      {"accept", "application/json"}},
          .body = R"({"senderAddress":"250788383383","receiverAddress":["250788123123"],"message":")" + message +
                  R"(","clientCorrelator":")" + kMsgUuid + "\"" + extra + "}"};
}

ReceiveCase Json(ReceiveCase c) {
  c.action = "receive";
  c.content_type = "application/json";
  return c;
}

std::string Report(const std::string& status) {
  return R"({"transactionId":"rrt-58503","clientCorrelator":"x","deliveryStatus":")" + status + "\"}";
}

TEST(MtnHandler, Routes) {
  MtnHandler h;
  EXPECT_EQ(h.Code(), "MTN");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive"}));
}

TEST(MtnHandler, ReceiveMsg) {
  MtnHandler h;
  RunReceiveCases(h, MtnChannel(), {
      Json({.label = "msg", .body = R"({"senderAddress":"+250788123123","receiverAddress":"2020","message":"Hello there","created":1678794364000})",
            .msgs = {{.urn = "tel:+250788123123", .text = "Hello there", .received_on = 1678794364000LL * 1000}}}),
      Json({.label = "keys in another case", .body = R"({"SENDERADDRESS":"250788123123","Message":"Hello there"})",
            .msgs = {{.urn = "tel:+250788123123", .text = "Hello there"}}}),
      Json({.label = "unicode", .body = R"({"senderAddress":"0788123123","message":"Muraho ☺"})",
            .msgs = {{.urn = "tel:+250788123123", .text = "Muraho ☺"}}}),
      Json({.label = "no sender", .body = R"({"message":"Hello there"})", .error = "field 'senderAddress' required"}),
      Json({.label = "sender without digits", .body = R"({"senderAddress":"+--","message":"Hello"})",
            .error = "has no digits or letters"}),
      Json({.label = "created not a time", .body = R"({"senderAddress":"250788123123","message":"Hi","created":"yesterday"})",
            .error = "field 'created' must be a time in unix milliseconds"}),
      Json({.label = "malformed JSON", .body = R"({"senderAddress":)", .error = "unable to parse request JSON"}),
  });
}

TEST(MtnHandler, DeliveryReports) {
  MtnHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<std::string, MsgStatus>> table = {
      {"DELIVRD", MsgStatus::kDelivered},      {"DeliveredToTerminal", MsgStatus::kDelivered},
      {"DeliveryUncertain", MsgStatus::kSent}, {"DeliveredToNetwork", MsgStatus::kSent},
      {"EXPIRED", MsgStatus::kFailed},         {"DeliveryImpossible", MsgStatus::kErrored},
  };
  for (const auto& [word, status] : table)
    cases.push_back(Json({.label = word, .body = Report(word),
                          .statuses = {{.status = status, .external_id = "rrt-58503"}}}));
  for (const char* word : {"MessageWaiting", "DeliveryNotificationNotSupported"})
    cases.push_back(Json({.label = word, .body = Report(word), .ignored = "no status changed, ignored"}));
  cases.push_back(Json({.label = "empty message is a report", .body = R"({"message":"","transactionId":"t1","deliveryStatus":"DELIVRD"})",
                        .statuses = {{.status = MsgStatus::kDelivered, .external_id = "t1"}}}));
  cases.push_back(Json({.label = "keys in another case", .body = R"({"TransactionID":"t2","DELIVERYSTATUS":"EXPIRED"})",
                        .statuses = {{.status = MsgStatus::kFailed, .external_id = "t2"}}}));
  cases.push_back(Json({.label = "no transactionId", .body = R"({"deliveryStatus":"DELIVRD"})",
                        .ignored = "missing transactionId, ignored"}));
  cases.push_back(Json({.label = "unknown status", .body = Report("Delivered"),
                        .error = "unknown status 'Delivered', must be one of 'DELIVRD'"}));
  RunReceiveCases(h, MtnChannel(), cases);
}

TEST(MtnHandler, ReceiveWithWebhookToken) {
  MtnHandler h;
  Channel channel = MtnChannel();
  channel.config["webhook_token"] = kWebhookToken;
  RunReceiveCases(h, channel, WebhookTokenCases(Json({.label = "report", .body = Report("DELIVRD"),
      .statuses = {{.status = MsgStatus::kDelivered, .external_id = "rrt-58503"}}})));
}

TEST(MtnHandler, Send) {
  MtnHandler h;
  const std::string long_text(400, 'a');
  RunSendCases(h, MtnChannel(), {
      {.label = "plain send", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("OzYDlvf3SQVc")}}, .external_id = "OzYDlvf3SQVc",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "unicode", .text = "☺", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("1")}}, .external_id = "1",
       .requests = {TokenRequest(), SendRequest("☺")}},
      {.label = "long text is not split", .text = long_text, .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("2")}}, .external_id = "2",
       .requests = {TokenRequest(), SendRequest(long_text)}},
      {.label = "attachment", .text = "My pic!", .urn = "tel:+250788123123",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("3")}}, .external_id = "3",
       .requests = {TokenRequest(), SendRequest("My pic!\\nhttps://foo.bar/image.jpg")}},
      {.label = "cp_address", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("4")}}, .external_id = "4",
       .requests = {TokenRequest(), SendRequest("Simple Message", R"(,"cpAddress":"FOO")")},
       .setup = [](Channel& c) { c.config["cp_address"] = "FOO"; }},
      {.label = "api_host when base_url is unset", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("5")}}, .external_id = "5",
       .requests = {TokenRequest(), SendRequest("Simple Message")},
       .setup = [](Channel& c) {
         c.config["api_host"] = c.config["base_url"] + "/";
         c.config.erase("base_url");
       }},
      {.label = "base_url wins over api_host", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("6")}}, .external_id = "6",
       .requests = {TokenRequest(), SendRequest("Simple Message")},
       .setup = [](Channel& c) { c.config["api_host"] = "http://127.0.0.1:1"; }},
      {.label = "expires_in as a number", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk(kToken, "3599")}, {kSendPath, SendOk("7")}}, .external_id = "7",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "no transactionId: W without an id", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 201, .body = "{}"}}},
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "send 500: E", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 500}}},
       .status = MsgStatus::kErrored, .error = "500", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "send 429: throttled", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 429, .headers = {{"Retry-After", "20"}}}}},
       .status = MsgStatus::kErrored, .requests = {TokenRequest(), SendRequest("Simple Message")},
       .throttled_for_seconds = 20},
      {.label = "send 400: F", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, {.status = 400, .body = R"({"statusCode":"4000","statusMessage":"Invalid receiverAddress"})"}}},
       .status = MsgStatus::kFailed, .error = "400", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "401 for a token just fetched: F, not fetched again", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 401}}},
       .status = MsgStatus::kFailed, .error = "401", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "credentials refused: F, nothing sent", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, {.status = 401, .body = R"({"error":"invalid_client","error_description":"ClientId is Invalid"})"}}},
       .status = MsgStatus::kFailed,
       .error = "access token request refused (HTTP 401): invalid_client (ClientId is Invalid)",
       .requests = {TokenRequest()}},
      {.label = "no access_token: F, nothing sent", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, {.body = R"({"token_type":"Bearer"})"}}}, .status = MsgStatus::kFailed,
       .error = "no access_token in MTN's token answer", .requests = {TokenRequest()}},
      {.label = "token endpoint down: E, nothing sent", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, {.status = 502, .body = "bad gateway", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "access token request refused (HTTP 502)", .requests = {TokenRequest()}},
      {.label = "token endpoint throttles: re-queued", .urn = "tel:+250788123123",
       .responses = {{kTokenPath, {.status = 429, .headers = {{"Retry-After", "9"}}}}},
       .status = MsgStatus::kErrored, .error = "HTTP 429", .requests = {TokenRequest()}, .throttled_for_seconds = 9},
      {.label = "no api_key", .status = MsgStatus::kErrored, .error = "no api_key set for MTN channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("api_key"); }},
      {.label = "no auth_token", .status = MsgStatus::kErrored, .error = "no auth_token set for MTN channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("auth_token"); }},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "no text or attachments",
       .logs = 1},
  });
}

// --- the access token ------------------------------------------------------------

TEST(MtnHandler, AccessToken) {
  RunAccessTokenCases({
      .make_handler = [] { return std::make_unique<MtnHandler>(); },
      .channel = MtnChannel(),
      .credential_key = "auth_token",
      .urn = "tel:+250788123123",
      .token_path = kTokenPath,
      .send_path = kSendPath,
      .token_ok = TokenOk,
      .send_ok = SendOk,
      .expires_in_600 = "\"600\"",  // Apigee writes seconds as a string
      .expires_in_none = "\"0\"",
      .fallback_lifetime = 3600,
      .token_refused = {.status = 401, .body = R"({"error":"invalid_client"})"},
      .token_refused_status = MsgStatus::kFailed,
      .token_refused_error = "access token request refused (HTTP 401): invalid_client",
  });
}

}  // namespace
