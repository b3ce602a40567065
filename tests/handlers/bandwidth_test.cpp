// BW — Bandwidth: message-received and status callbacks (JSON arrays of
// events), the v2 messages API with basic auth, media fetched with it.
#include "handlers/bandwidth.h"

#include <set>

#include "handler_harness.h"
#include "handlers/common.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kUser = "bw-user";
const char* kPassword = "bw-pass-Secret";
const char* kMsgId = "14762070468292kw2fuqty55yp2b2";
constexpr Micros kTime = 1473877216LL * kMicrosPerSecond;  // 2016-09-14T18:20:16Z

std::map<std::string, std::string> FullConfig() {
  return {{"username", kUser}, {"password", kPassword}, {"account_id", "acc-1"},
          {"messaging_application_id", "app-1"}};
}

Channel BwChannel(std::map<std::string, std::string> config = FullConfig()) {
  return TestChannel("BW", "+12065551234", "US", std::move(config));
}

// One callback event; `message` is the message object's JSON.
std::string Event(const std::string& type, const std::string& message, const std::string& extra = "") {
  return R"({"type":")" + type + R"(","time":"2016-09-14T18:20:16Z","description":"Incoming message received",)"
         R"("to":"+12065551234",)" + extra + R"("message":)" + message + "}";
}

std::string Message(const std::string& fields) {
  return R"({"id":")" + std::string(kMsgId) + R"(","to":["+12065551234"],"owner":"+12065551234",)"
         R"("applicationId":"app-1","direction":"in","segmentCount":1,)" + fields + "}";
}

const std::string kReceived = Message(R"("time":"2016-09-14T18:20:16Z","from":"+12066180000","text":"Hey, check this out!")");

ReceiveCase Callback(const std::string& label, const std::string& action, const std::string& body) {
  return {.label = label, .action = action, .body = body, .content_type = "application/json"};
}

ReceiveCase Expect(ReceiveCase c, std::vector<ExpectedMsg> msgs) {
  c.msgs = std::move(msgs);
  return c;
}

ReceiveCase ExpectError(ReceiveCase c, const std::string& error) {
  c.error = error;
  return c;
}

TEST(BandwidthHandler, Routes) {
  BandwidthHandler h;
  EXPECT_EQ(h.Code(), "BW");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "POST status"}));
}

TEST(BandwidthHandler, Receive) {
  BandwidthHandler h;
  const ExpectedMsg hey = {.urn = "tel:+12066180000", .text = "Hey, check this out!", .external_id = kMsgId,
                           .received_on = kTime};
  RunReceiveCases(h, BwChannel(), {
      Expect(Callback("SMS", "receive", "[" + Event("message-received", kReceived) + "]"), {hey}),
      Expect(Callback("MMS", "receive",
                      "[" + Event("message-received",
                                  Message(R"("time":"2016-09-14T18:20:16Z","from":"+12066180000","text":"",)"
                                          R"("media":["https://messaging.bandwidth.com/api/v2/users/acc-1/media/m/0/a.png",)"
                                          R"("https://messaging.bandwidth.com/api/v2/users/acc-1/media/m/1/b.jpg"])")) + "]"),
             {{.urn = "tel:+12066180000", .external_id = kMsgId,
               .attachments = {"https://messaging.bandwidth.com/api/v2/users/acc-1/media/m/0/a.png",
                               "https://messaging.bandwidth.com/api/v2/users/acc-1/media/m/1/b.jpg"},
               .received_on = kTime}}),
      Expect(Callback("a national number in the channel's country", "receive",
                      "[" + Event("message-received", Message(R"("time":"2016-09-14T18:20:16Z","from":"2066180000","text":"hi")")) + "]"),
             {{.urn = "tel:+12066180000", .text = "hi", .external_id = kMsgId, .received_on = kTime}}),
      Expect(Callback("milliseconds in the time", "receive",
                      "[" + Event("message-received", Message(R"("time":"2016-09-14T18:20:16.125Z","from":"+12066180000","text":"hi")")) + "]"),
             {{.urn = "tel:+12066180000", .text = "hi", .external_id = kMsgId, .received_on = kTime + 125000}}),
      Expect(Callback("only the first event is read", "receive",
                      "[" + Event("message-received", kReceived) + "," +
                          Event("message-received", R"({"id":"second","time":"2016-09-14T18:20:16Z","from":"+12066180001","text":"two"})") + "]"),
             {hey}),
      ExpectError(Callback("time with an offset", "receive",
                           "[" + Event("message-received", Message(R"("time":"2016-09-14T18:20:16+00:00","from":"+12066180000","text":"hi")")) + "]"),
                  "invalid date format: 2016-09-14T18:20:16+00:00"),
      ExpectError(Callback("time as a date only", "receive",
                           "[" + Event("message-received", Message(R"("time":"2016-09-14","from":"+12066180000","text":"hi")")) + "]"),
                  "invalid date format: 2016-09-14"),
      ExpectError(Callback("no time", "receive",
                           "[" + Event("message-received", Message(R"("from":"+12066180000","text":"hi")")) + "]"),
                  "invalid date format: "),
      ExpectError(Callback("missing type", "receive", R"([{"message":)" + kReceived + "}]"), "field 'type' required"),
      ExpectError(Callback("missing message id", "receive",
                           "[" + Event("message-received", R"({"time":"2016-09-14T18:20:16Z","from":"+12066180000","text":"hi"})") + "]"),
                  "field 'id' required"),
      ExpectError(Callback("missing message", "receive", R"([{"time":"2016-09-14T18:20:16Z"}])"),
                  "field 'type' required; field 'id' required"),
      ExpectError(Callback("media not strings", "receive",
                           "[" + Event("message-received", Message(R"("time":"2016-09-14T18:20:16Z","from":"+12066180000","media":[1])")) + "]"),
                  "field 'media' must be an array of strings"),
      ExpectError(Callback("invalid JSON", "receive", R"([{"type":)"), "unable to parse request JSON"),
      ExpectError(Callback("an object, not an array", "receive", Event("message-received", kReceived)),
                  "unable to parse request JSON: expected an array of events"),
      ExpectError(Callback("an array of strings", "receive", R"(["message-received"])"),
                  "unable to parse request JSON: expected an array of events"),
      [] {
        ReceiveCase c = Callback("empty array", "receive", "[]");
        c.ignored = "no messages, ignored";
        return c;
      }(),
  });
}

TEST(BandwidthHandler, Status) {
  BandwidthHandler h;
  const std::string out = R"({"id":")" + std::string(kMsgId) +
                          R"(","time":"2016-09-14T18:20:16Z","to":["+12066180000"],"from":"+12065551234","text":"",)"
                          R"("applicationId":"app-1","owner":"+12065551234","direction":"out","segmentCount":1})";
  std::vector<ReceiveCase> cases;
  for (const auto& [type, status] : std::vector<std::pair<std::string, MsgStatus>>{
           {"message-sending", MsgStatus::kSent},
           {"message-delivered", MsgStatus::kDelivered},
           {"message-failed", MsgStatus::kFailed}}) {
    ReceiveCase c = Callback(type, "status", "[" + Event(type, out, R"("errorCode":4432,)") + "]");
    c.statuses = {{.status = status, .external_id = kMsgId}};
    cases.push_back(c);
  }
  cases.push_back(ExpectError(Callback("unknown type", "status", "[" + Event("message-received", out) + "]"),
                              "unknown status 'message-received', must be one of 'message-sending', "
                              "'message-delivered' or 'message-failed'"));
  cases.push_back(ExpectError(Callback("missing message id", "status", R"([{"type":"message-delivered","message":{}}])"),
                              "field 'id' required"));
  cases.push_back(ExpectError(Callback("missing type", "status", R"([{"message":)" + out + "}]"),
                              "field 'type' required"));
  cases.push_back(ExpectError(Callback("invalid JSON", "status", "nope"), "unable to parse request JSON"));
  ReceiveCase empty = Callback("empty array", "status", "[]");
  empty.ignored = "no messages, ignored";
  cases.push_back(empty);
  RunReceiveCases(h, BwChannel(), cases);
}

// Bandwidth signs nothing: with a webhook_token set (sent by Bandwidth as
// the callback's basic auth password), both routes demand it.
TEST(BandwidthHandler, WebhookToken) {
  BandwidthHandler h;
  auto config = FullConfig();
  config["webhook_token"] = kWebhookToken;
  ReceiveCase msg = Callback("SMS", "receive", "[" + Event("message-received", kReceived) + "]");
  msg.msgs = {{.urn = "tel:+12066180000", .text = "Hey, check this out!", .external_id = kMsgId, .received_on = kTime}};
  RunReceiveCases(h, BwChannel(config), WebhookTokenCases(msg));
  ReceiveCase status = Callback("delivered", "status",
                                "[" + Event("message-delivered", R"({"id":")" + std::string(kMsgId) + R"("})") + "]");
  status.statuses = {{.status = MsgStatus::kDelivered, .external_id = kMsgId}};
  RunReceiveCases(h, BwChannel(config), WebhookTokenCases(status));
}

const char* kPath = "/api/v2/users/acc-1/messages";

MockResponse Accepted(const std::string& id) {
  return {.status = 202, .body = R"({"id":")" + id + R"(","owner":"+12065551234","applicationId":"app-1",)"
                                 R"("time":"2016-09-14T18:20:16.000Z","segmentCount":1,"direction":"out",)"
                                 R"("to":["+250788383383"],"from":"+12065551234","text":"Simple Message"})"};
}

std::string Body(const std::string& text, const std::string& media = "", const std::string& app = "app-1") {
  return R"({"applicationId":")" + app + R"(","to":["+250788383383"],"from":"+12065551234","text":")" + text + "\"" +
         (media.empty() ? "" : R"(,"media":)" + media) + "}";
}

TEST(BandwidthHandler, Send) {
  BandwidthHandler h;
  const std::string long_a(2040, 'a'), long_b(20, 'b');
  const std::map<std::string, std::string> headers = {
      {"authorization", "Basic " + Base64Encode(std::string(kUser) + ":" + kPassword)},
      {"content-type", "application/json"},
      {"accept", "application/json"}};
  const std::string two_media = R"(["https://foo.bar/a.jpg","https://foo.bar/b.png"])";
  RunSendCases(h, BwChannel(), {
      {.label = "plain", .responses = {{kPath, Accepted("1589228074636lm4k2je7j7jklbn2")}},
       .external_id = "1589228074636lm4k2je7j7jklbn2",
       .requests = {{.path = kPath, .headers = headers, .body = Body("Simple Message")}}},
      {.label = "unicode", .text = "Mwaramutse ☺", .responses = {{kPath, Accepted("u1")}}, .external_id = "u1",
       .requests = {{.path = kPath, .body = Body("Mwaramutse ☺")}}},
      {.label = "text and attachments", .text = "My pics",
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "image/png:https://foo.bar/b.png"},
       .responses = {{kPath, Accepted("m1")}}, .external_id = "m1",
       .requests = {{.path = kPath, .body = Body("My pics", two_media)}}},
      {.label = "attachments only: one request, empty text", .text = "",
       .attachments = {"image/jpeg:https://foo.bar/a.jpg"}, .responses = {{kPath, Accepted("m2")}},
       .external_id = "m2", .requests = {{.path = kPath, .body = Body("", R"(["https://foo.bar/a.jpg"])")}}},
      {.label = "long text split at 2048, media on the first part", .text = long_a + " " + long_b,
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "image/png:https://foo.bar/b.png"},
       .responses = {{kPath, Accepted("p1")}, {kPath, Accepted("p2")}}, .external_id = "p1",
       .requests = {{.path = kPath, .body = Body(long_a, two_media)}, {.path = kPath, .body = Body(long_b)}}},
      {.label = "2xx without an id: still wired", .responses = {{kPath, {.status = 202, .body = R"({"owner":"x"})"}}},
       .requests = {{.path = kPath}}},
      {.label = "2xx not JSON: failed, it may have been taken",
       .responses = {{kPath, {.status = 202, .body = "Accepted", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "unable to parse response body", .requests = {{.path = kPath}}},
      {.label = "400: failed with Bandwidth's type and description",
       .responses = {{kPath, {.status = 400, .body = R"({"type":"request-validation","description":"Your request could not be accepted",)"
                                                      R"("fieldErrors":[{"fieldName":"to","description":"'+2507' must be E164"}]})"}}},
       .status = MsgStatus::kFailed,
       .error = "received non 200 status: 400: request-validation: Your request could not be accepted",
       .requests = {{.path = kPath}}},
      {.label = "401 not JSON: failed", .responses = {{kPath, {.status = 401, .body = "Unauthorized", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = kPath}}},
      {.label = "500: retried", .responses = {{kPath, {.status = 500, .body = R"({"type":"internal","description":"oops"})"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500: internal: oops", .requests = {{.path = kPath}}},
      {.label = "503 not JSON: retried", .responses = {{kPath, {.status = 503, .body = "down", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kPath}}},
      {.label = "429: throttled",
       .responses = {{kPath, {.status = 429, .body = R"({"type":"too-many-requests","description":"slow down"})",
                              .headers = {{"Retry-After", "9"}}}}},
       .status = MsgStatus::kErrored, .error = "too-many-requests", .requests = {{.path = kPath}},
       .throttled_for_seconds = 9},
      {.label = "a refused second part fails the msg", .text = long_a + " " + long_b,
       .responses = {{kPath, Accepted("p3")}, {kPath, {.status = 400, .body = R"({"type":"request-validation","description":"bad"})"}}},
       .status = MsgStatus::kFailed, .error = "request-validation: bad",
       .requests = {{.path = kPath, .body = Body(long_a)}, {.path = kPath, .body = Body(long_b)}}},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text or attachments",
       .requests = {}, .logs = 1},
  });
  auto legacy = FullConfig();
  legacy.erase("messaging_application_id");
  legacy["application_id"] = "old-app";
  legacy["max_length"] = "12";
  RunSendCases(h, BwChannel(legacy), {
      {.label = "application_id stands in; max_length splits", .text = "Simple Message for you",
       .responses = {{kPath, Accepted("s1")}, {kPath, Accepted("s2")}, {kPath, Accepted("s3")}}, .external_id = "s1",
       .requests = {{.path = kPath, .body = Body("Simple", "", "old-app")},
                    {.path = kPath, .body = Body("Message for", "", "old-app")},
                    {.path = kPath, .body = Body("you", "", "old-app")}}},
  });
  for (const char* key : {"username", "password", "account_id", "messaging_application_id"}) {
    auto config = FullConfig();
    config.erase(key);
    RunSendCases(h, BwChannel(config), {
        {.label = std::string("no ") + key + ": no request", .status = MsgStatus::kErrored,
         .error = std::string("no ") + key, .requests = {}, .logs = 1},
    });
  }
}

// Bandwidth's media need the API credentials, which go to its own hosts
// (or the channel's base_url) only.
TEST(BandwidthHandler, MediaRequest) {
  BandwidthHandler h;
  const HttpRequestSpec own = h.MediaRequest(BwChannel(), "https://messaging.bandwidth.com/api/v2/users/acc-1/media/m/0/a.png");
  EXPECT_EQ(own.method, "GET");
  EXPECT_EQ(own.basic_user, kUser);
  EXPECT_EQ(own.basic_password, kPassword);
  const HttpRequestSpec elsewhere = h.MediaRequest(BwChannel(), "https://example.com/a.png");
  EXPECT_EQ(elsewhere.url, "https://example.com/a.png");
  EXPECT_TRUE(elsewhere.basic_user.empty());
  EXPECT_TRUE(elsewhere.basic_password.empty());
  auto config = FullConfig();
  config["base_url"] = "http://127.0.0.1:9000";
  const HttpRequestSpec proxied = h.MediaRequest(BwChannel(config), "http://127.0.0.1:9000/api/v2/users/acc-1/media/m");
  EXPECT_EQ(proxied.basic_password, kPassword);
  auto without = FullConfig();
  without.erase("password");
  EXPECT_TRUE(h.MediaRequest(BwChannel(without), "https://messaging.bandwidth.com/media/a").basic_user.empty());
}

}  // namespace
