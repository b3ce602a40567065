// MTN — MTN Developer Portal: incoming msgs and delivery reports, the send
// table, and the client-credentials access token: fetched once per
// channel, dropped on a 401, never logged.
#include "handlers/mtn.h"

#include <set>

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

constexpr Micros kNow = 1'700'000'000LL * kMicrosPerSecond;

class MtnTokenTest : public ::testing::Test {
 protected:
  MtnTokenTest() : clock_(kNow), http_(NewLoopbackHttpClient()), ctx_{*http_, clock_, kTestBaseUrl} {
    channel_ = MtnChannel();
    channel_.config["base_url"] = provider_.url();
  }

  Msg Outgoing(int64_t id) {
    Msg m;
    m.id = id;
    m.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5" + std::to_string(id % 10);
    m.channel_uuid = channel_.uuid;
    m.direction = Direction::kOut;
    m.urn = "tel:+250788123123";
    m.text = "hi " + std::to_string(id);
    return m;
  }

  size_t TokenRequests() const {
    size_t n = 0;
    for (const auto& r : provider_.requests()) n += r.path == kTokenPath;
    return n;
  }

  static void ExpectNotLogged(const SendResult& r, const std::string& token) {
    for (const auto& log : r.logs) {
      EXPECT_EQ(log.url.find(token), std::string::npos) << log.url;
      EXPECT_EQ(log.request.find(token), std::string::npos) << log.request;
      EXPECT_EQ(log.response.find(token), std::string::npos) << log.response;
      EXPECT_EQ(log.error.find(token), std::string::npos) << log.error;
    }
  }

  MockProvider provider_;
  ManualClock clock_;
  std::unique_ptr<HttpClient> http_;
  HandlerContext ctx_;
  Channel channel_;
  MtnHandler handler_;
};

TEST_F(MtnTokenTest, OneTokenServesTwoSendsAndIsNeverLogged) {
  provider_.On(kTokenPath, TokenOk("mtn-first"));
  provider_.SetDefault(SendOk("1"));

  SendResult first = handler_.Send(channel_, Outgoing(1), ctx_);
  ASSERT_EQ(first.status, MsgStatus::kWired) << first.error;
  ASSERT_EQ(first.logs.size(), 2u);
  EXPECT_EQ(first.logs[0].description, "Access Token Requested");
  EXPECT_NE(first.logs[0].response.find("\"access_token\":\"********\""), std::string::npos) << first.logs[0].response;
  ExpectNotLogged(first, "mtn-first");

  SendResult second = handler_.Send(channel_, Outgoing(2), ctx_);
  ASSERT_EQ(second.status, MsgStatus::kWired) << second.error;
  EXPECT_EQ(second.logs.size(), 1u);  // no token request
  ExpectNotLogged(second, "mtn-first");
  EXPECT_EQ(TokenRequests(), 1u);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer mtn-first");
}

TEST_F(MtnTokenTest, ATokenLivesForItsExpiresInOrAnHour) {
  provider_.On(kTokenPath, TokenOk("mtn-first", "\"0\""));  // 0: an hour
  provider_.On(kTokenPath, TokenOk("mtn-second", "\"600\""));
  provider_.On(kTokenPath, TokenOk("mtn-third", "\"600\""));
  provider_.SetDefault(SendOk("1"));
  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);
  clock_.Advance(3539 * kMicrosPerSecond);
  ASSERT_EQ(handler_.Send(channel_, Outgoing(2), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(TokenRequests(), 1u);
  clock_.Advance(1 * kMicrosPerSecond);
  ASSERT_EQ(handler_.Send(channel_, Outgoing(3), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(TokenRequests(), 2u);
  clock_.Advance(540 * kMicrosPerSecond);
  ASSERT_EQ(handler_.Send(channel_, Outgoing(4), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(TokenRequests(), 3u);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer mtn-third");
}

TEST_F(MtnTokenTest, A401DropsTheCachedTokenAndTheSendGoesOnceMoreWithANewOne) {
  provider_.On(kTokenPath, TokenOk("mtn-revoked"));
  provider_.On(kTokenPath, TokenOk("mtn-renewed"));
  provider_.On(kSendPath, SendOk("1"));
  provider_.On(kSendPath, {.status = 401, .body = R"({"statusCode":"401","statusMessage":"Access Token expired"})"});
  provider_.On(kSendPath, SendOk("2"));
  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);

  SendResult r = handler_.Send(channel_, Outgoing(2), ctx_);
  EXPECT_EQ(r.status, MsgStatus::kWired) << r.error;
  EXPECT_EQ(r.external_id, "2");
  auto requests = provider_.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[2].headers["authorization"], "Bearer mtn-revoked");
  EXPECT_EQ(requests[3].path, kTokenPath);
  EXPECT_EQ(requests[4].path, kSendPath);
  EXPECT_EQ(requests[4].headers["authorization"], "Bearer mtn-renewed");
  EXPECT_EQ(requests[4].body, requests[2].body);
  ASSERT_EQ(r.logs.size(), 3u);  // refused send, token, send
  EXPECT_NE(r.logs[0].error.find("retrying with a new one"), std::string::npos);
  ExpectNotLogged(r, "mtn-revoked");
  ExpectNotLogged(r, "mtn-renewed");
}

TEST_F(MtnTokenTest, A401ForTheNewTokenTooFailsTheMsgWithoutAThirdTry) {
  provider_.On(kTokenPath, TokenOk("mtn-revoked"));
  provider_.On(kTokenPath, TokenOk("mtn-renewed"));
  provider_.On(kSendPath, SendOk("1"));
  provider_.On(kSendPath, {.status = 401});
  provider_.On(kSendPath, {.status = 401});
  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);
  SendResult r = handler_.Send(channel_, Outgoing(2), ctx_);
  EXPECT_EQ(r.status, MsgStatus::kFailed);
  EXPECT_EQ(provider_.requests().size(), 5u);
  EXPECT_EQ(TokenRequests(), 2u);
}

TEST_F(MtnTokenTest, AFailedTokenRequestCachesNothingAndSendsNothing) {
  provider_.On(kTokenPath, {.status = 401, .body = R"({"error":"invalid_client"})"});
  provider_.On(kTokenPath, TokenOk());
  provider_.SetDefault(SendOk("1"));
  SendResult failed = handler_.Send(channel_, Outgoing(1), ctx_);
  EXPECT_EQ(failed.status, MsgStatus::kFailed);
  EXPECT_NE(failed.error.find("access token request refused (HTTP 401): invalid_client"), std::string::npos)
      << failed.error;
  ASSERT_EQ(provider_.requests().size(), 1u);
  ASSERT_EQ(failed.logs.size(), 1u);
  EXPECT_EQ(failed.logs[0].description, "Access Token Requested");

  SendResult sent = handler_.Send(channel_, Outgoing(2), ctx_);
  EXPECT_EQ(sent.status, MsgStatus::kWired) << sent.error;
  EXPECT_EQ(TokenRequests(), 2u);
  ExpectNotLogged(sent, kToken);
}

}  // namespace
