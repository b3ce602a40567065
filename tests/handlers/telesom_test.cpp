// TS — Telesom: receive tables, the send form and its MD5 key (at a fixed
// clock), and how answers are judged.
#include "handlers/telesom.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kUsername = "ts-user";
const char* kPassword = "pass-s3cret";
const char* kSecret = "priv-k3y";
const char* kSendPath = "/sendsms";
// A Telesom (Somaliland) mobile number and its local form.
const char* kContact = "tel:+252634474444";
const char* kLocalContact = "0634474444";
const char* kChannelNumber = "252634000000";

Channel TsChannel(std::map<std::string, std::string> config = {{"username", kUsername},
                                                                {"password", kPassword},
                                                                {"secret", kSecret}}) {
  return TestChannel("TS", "+252634000000", "SO", std::move(config));
}

std::map<std::string, std::string> ConfigWith(const std::string& key, const std::string& value) {
  std::map<std::string, std::string> config = {{"username", kUsername}, {"password", kPassword}, {"secret", kSecret}};
  config[key] = value;
  return config;
}

std::map<std::string, std::string> ConfigWithout(const std::string& key) {
  std::map<std::string, std::string> config = {{"username", kUsername}, {"password", kPassword}, {"secret", kSecret}};
  config.erase(key);
  return config;
}

TEST(TelesomHandler, Routes) {
  TelesomHandler h;
  EXPECT_EQ(h.Code(), "TS");
  EXPECT_EQ(h.Name(), "Telesom");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive"}));
}

TEST(TelesomHandler, Receive) {
  TelesomHandler h;
  const ExpectedMsg hello = {.urn = kContact, .text = "Hello World"};
  RunReceiveCases(h, TsChannel(), {
      {.label = "form POST", .action = "receive", .body = "mobile=252634474444&msg=Hello+World", .msgs = {hello}},
      {.label = "GET", .method = "GET", .action = "receive", .query = "mobile=252634474444&msg=Hello%20World",
       .content_type = "", .msgs = {hello}},
      {.label = "fields of a POST in the query", .action = "receive", .query = "mobile=252634474444&msg=Hello+World",
       .msgs = {hello}},
      {.label = "a local number is read in the channel's country", .action = "receive",
       .body = "mobile=0634474444&msg=Hello+World", .msgs = {hello}},
      {.label = "an international number with +", .action = "receive",
       .body = "mobile=%2B250788383383&msg=Hello+World",
       .msgs = {{.urn = "tel:+250788383383", .text = "Hello World"}}},
      {.label = "names match in any case", .action = "receive", .body = "Mobile=252634474444&MSG=Hello+World",
       .msgs = {hello}},
      {.label = "the last value of a name wins", .action = "receive",
       .body = "mobile=252634999999&msg=first&mobile=252634474444&msg=Hello+World", .msgs = {hello}},
      {.label = "unicode", .action = "receive", .body = "mobile=252634474444&msg=Salaan+%E2%98%BA",
       .msgs = {{.urn = kContact, .text = "Salaan ☺"}}},
      {.label = "missing mobile", .action = "receive", .body = "msg=Hello", .error = "field 'mobile' required"},
      {.label = "missing msg", .action = "receive", .body = "mobile=252634474444", .error = "field 'msg' required"},
      {.label = "empty msg", .action = "receive", .body = "mobile=252634474444&msg=", .error = "field 'msg' required"},
      {.label = "neither", .method = "GET", .action = "receive", .content_type = "",
       .error = "field 'mobile' required; field 'msg' required"},
      {.label = "a mobile with no digits", .action = "receive", .body = "mobile=%2B%2B&msg=Hello",
       .error = "invalid path for scheme 'tel'"},
  });
}

TEST(TelesomHandler, WebhookToken) {
  TelesomHandler h;
  RunReceiveCases(h, TsChannel(ConfigWith("webhook_token", kWebhookToken)),
                  WebhookTokenCases({.label = "form POST", .action = "receive",
                                     .body = "mobile=252634474444&msg=Hello+World",
                                     .msgs = {{.urn = kContact, .text = "Hello World"}}}));
}

MockResponse Success() { return {.status = 200, .body = "<return>Success</return>", .content_type = "text/xml"}; }

ExpectedRequest Posted(const std::string& text, const std::string& to = kLocalContact) {
  return {.path = kSendPath,
          .form = {{"to", to}, {"from", kChannelNumber}, {"msg", text}},
          .headers = {{"content-type", "application/x-www-form-urlencoded"}}};
}

TEST(TelesomHandler, Send) {
  TelesomHandler h;
  const std::string long_a(150, 'a'), long_b(20, 'b');
  RunSendCases(h, TsChannel(), {
      {.label = "plain", .urn = kContact, .responses = {{kSendPath, Success()}},
       .requests = {Posted("Simple Message")}},
      {.label = "unicode", .text = "Salaan ☺", .urn = kContact, .responses = {{kSendPath, Success()}},
       .requests = {Posted("Salaan ☺")}},
      {.label = "attachment as a link", .text = "My pic!", .urn = kContact,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{kSendPath, Success()}},
       .requests = {Posted("My pic!\nhttps://foo.bar/image.jpg")}},
      // The newline before the link is TextAndAttachments', as for every SMS type.
      {.label = "attachment alone", .text = "", .urn = kContact,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{kSendPath, Success()}},
       .requests = {Posted("\nhttps://foo.bar/image.jpg")}},
      {.label = "long text split at 160", .text = long_a + " " + long_b, .urn = kContact,
       .responses = {{kSendPath, Success()}, {kSendPath, Success()}},
       .requests = {Posted(long_a), Posted(long_b)}},
      {.label = "a number of another country, local to it", .urn = "tel:+250788383383",
       .responses = {{kSendPath, Success()}}, .requests = {Posted("Simple Message", "0788383383")}},
      {.label = "a 2xx without Success: failed", .urn = kContact,
       .responses = {{kSendPath, {.status = 200, .body = "<return>Invalid key</return>", .content_type = "text/xml"}}},
       .status = MsgStatus::kFailed, .error = "response body doesn't contain 'Success'",
       .requests = {Posted("Simple Message")}},
      {.label = "a refused second part fails the msg", .text = long_a + " " + long_b, .urn = kContact,
       .responses = {{kSendPath, Success()},
                     {kSendPath, {.status = 200, .body = "Failed", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "doesn't contain 'Success'",
       .requests = {Posted(long_a), Posted(long_b)}},
      {.label = "500: retried", .urn = kContact, .responses = {{kSendPath, {.status = 500, .body = "Success"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {Posted("Simple Message")}},
      {.label = "400: failed", .urn = kContact, .responses = {{kSendPath, {.status = 400, .body = "bad request"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400", .requests = {Posted("Simple Message")}},
      {.label = "429: throttled for Retry-After", .urn = kContact,
       .responses = {{kSendPath, {.status = 429, .body = "slow down", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Posted("Simple Message")}, .throttled_for_seconds = 7},
      {.label = "nothing to send", .text = "", .urn = kContact, .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1},
  });
  RunSendCases(h, TsChannel(ConfigWith("max_length", "12")), {
      {.label = "channel max_length", .text = "Simple Message for you", .urn = kContact,
       .responses = {{kSendPath, Success()}, {kSendPath, Success()}, {kSendPath, Success()}},
       .requests = {Posted("Simple"), Posted("Message for"), Posted("you")}},
  });
  RunSendCases(h, TsChannel(ConfigWith("send_url", "{{mock}}/api/send?lang=so")), {
      {.label = "send_url is used as is", .urn = kContact, .responses = {{"/api/send", Success()}},
       .requests = {{.path = "/api/send", .form = {{"msg", "Simple Message"}}, .params = {{"lang", "so"}}}}},
  });
  for (const char* key : {"username", "password", "secret"}) {
    RunSendCases(h, TsChannel(ConfigWithout(key)), {
        {.label = std::string("no ") + key + ": no request", .urn = kContact, .status = MsgStatus::kErrored,
         .error = std::string("no ") + key + " set for TS channel", .requests = {}, .logs = 1},
    });
  }
}

// The key at a fixed clock: the MD5 of the credentials, the fields as sent
// and the UTC day, upper-case hex (expected values made with md5sum).
class TelesomKey : public ::testing::Test {
 protected:
  std::vector<RecordedRequest> SendAt(Micros now, const std::string& text) {
    Channel channel = TsChannel();
    channel.config["base_url"] = provider_.url();
    provider_.SetDefault(Success());
    Msg msg;
    msg.id = 10;
    msg.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";
    msg.channel_uuid = channel.uuid;
    msg.direction = Direction::kOut;
    msg.urn = kContact;
    msg.text = text;
    auto http = NewLoopbackHttpClient();
    ManualClock clock(now);
    HandlerContext ctx{*http, clock, kTestBaseUrl};
    const SendResult r = h_.Send(channel, msg, ctx);
    EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
    for (const auto& log : r.logs) {
      EXPECT_EQ(log.request.find(kPassword), std::string::npos) << "password in a log";
      EXPECT_EQ(log.request.find(kSecret), std::string::npos) << "secret in a log";
    }
    auto requests = provider_.requests();
    provider_.Clear();
    return requests;
  }

  MockProvider provider_;
  TelesomHandler h_;
};

// 2024-03-05T23:59:59Z, and two seconds later the next UTC day.
constexpr Micros kLastSecondOfDay = 1709683199LL * kMicrosPerSecond;
constexpr Micros kNextDay = 1709683201LL * kMicrosPerSecond;

TEST_F(TelesomKey, IsTheMd5OfCredentialsFieldsAndUtcDay) {
  auto requests = SendAt(kLastSecondOfDay, "Simple Message");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form["key"], "BEE4B98FFB27D83F849B2C11A4AA8E20");
  // The credentials go into the key and nowhere else.
  EXPECT_EQ(requests[0].form.size(), 4u) << requests[0].body;
  EXPECT_EQ(requests[0].body.find(kPassword), std::string::npos);
  EXPECT_EQ(requests[0].body.find(kSecret), std::string::npos);
  EXPECT_EQ(requests[0].body.find(kUsername), std::string::npos);
}

TEST_F(TelesomKey, ChangesWithTheUtcDay) {
  auto requests = SendAt(kNextDay, "Simple Message");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form["key"], "BE09393A168B6B93119CAAF79BEE58F4");
}

TEST_F(TelesomKey, CoversTheTextAsSentInUtf8) {
  auto requests = SendAt(kLastSecondOfDay, "Salaan ☺");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form["msg"], "Salaan ☺");
  EXPECT_EQ(requests[0].form["key"], "D9A419FE67392F4173AA77E0354109A9");
}

TEST_F(TelesomKey, EachPartHasItsOwnKey) {
  const std::string long_a(150, 'a'), long_b(20, 'b');
  auto requests = SendAt(kLastSecondOfDay, long_a + " " + long_b);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].form["key"], "81981D74573B8948B60506701F302DC0");
  EXPECT_EQ(requests[1].form["key"], "E9F5264DD6692CECDEA4D3D1476726E8");
}

}  // namespace
