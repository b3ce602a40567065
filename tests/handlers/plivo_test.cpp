// PL — Plivo: signature, receive, status and send tables.
#include "handlers/plivo.h"

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

const char* kAuthId = "MAXXXXXXXXXXXXXXXXXX";
const char* kAuthToken = "pltoken-s3cret";
const char* kBasicAuth = "Basic TUFYWFhYWFhYWFhYWFhYWFhYWFg6cGx0b2tlbi1zM2NyZXQ=";  // base64(id:token)
const char* kNonce = "05429567804466091622";
const char* kXml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";
const char* kPath = "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/";

Channel PlChannel(const std::string& country = "US", std::map<std::string, std::string> config = {
                                                          {"auth_id", kAuthId}, {"auth_token", kAuthToken}}) {
  return TestChannel("PL", "+16022620723", country, std::move(config));
}

// X-Plivo-Signature-V2 for the harness's URL of `action`.
std::string Signature(const std::string& action, const std::string& nonce = kNonce,
                      const std::string& token = kAuthToken) {
  return courier::HmacSha256Base64(
      token, std::string(kTestBaseUrl) + "/c/PL/" + kTestChannelUUID + "/" + action + "/" + nonce);
}

// A nonce of its own for each signed case: a V2 nonce seen again with
// another body is refused as a replay.
std::string NextNonce() {
  static int counter = 0;
  return "7304" + std::to_string(1000000 + ++counter);
}

ReceiveCase Signed(ReceiveCase c, const Params& params) {
  c.body = FormEncode(params);
  const std::string nonce = NextNonce();
  c.headers["x-plivo-signature-v2"] = Signature(c.action, nonce);
  c.headers["x-plivo-signature-v2-nonce"] = nonce;
  return c;
}

// X-Plivo-Signature-V3 as Plivo's server SDKs compute it, written out here
// for a POST of form params to the harness's URL of `action`: URL, "?",
// the params sorted as "kv", ".", the nonce.
std::string SignatureV3(const std::string& action, const Params& params, const std::string& nonce,
                        const std::string& token = kAuthToken) {
  Params sorted = params;
  std::sort(sorted.begin(), sorted.end());
  std::string text = std::string(kTestBaseUrl) + "/c/PL/" + kTestChannelUUID + "/" + action + "/?";
  for (const auto& [k, v] : sorted) text += k + v;
  return courier::HmacSha256Base64(token, text + "." + nonce);
}

ReceiveCase SignedV3(ReceiveCase c, const Params& params, const Params& signed_params) {
  c.body = FormEncode(params);
  const std::string nonce = NextNonce();
  c.headers["x-plivo-signature-v3"] = SignatureV3(c.action, signed_params, nonce);
  c.headers["x-plivo-signature-v3-nonce"] = nonce;
  return c;
}

Params Merge(Params p, const Params& extra, const std::vector<std::string>& drop = {}) {
  for (const auto& name : drop)
    p.erase(std::remove_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == name; }), p.end());
  for (const auto& field : extra) {
    // Not a structured binding: clang 14 (the Sanitize build's) cannot
    // capture one in a lambda.
    auto it = std::find_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == field.first; });
    if (it != p.end()) it->second = field.second;
    else p.push_back(field);
  }
  return p;
}

Params Inbound(const Params& extra = {}, const std::vector<std::string>& drop = {}) {
  return Merge({{"From", "14155551212"}, {"To", "16022620723"}, {"Type", "sms"}, {"Text", "Hello"},
                {"MessageUUID", "abc1234"}, {"Units", "1"}, {"TotalRate", "0.00000"}, {"TotalAmount", "0.00000"},
                {"MessageIntent", ""}, {"PowerpackUUID", ""}},
               extra, drop);
}

Params StatusParams(const std::string& status, const Params& extra = {}) {
  return Merge({{"Status", status}, {"MessageUUID", "12345"}, {"From", "16022620723"}, {"To", "250788383383"},
                {"Units", "1"}, {"ErrorCode", "000"}, {"PartInfo", "1 of 1"}},
               extra);
}

TEST(PlivoHandler, Routes) {
  PlivoHandler h;
  EXPECT_EQ(h.Code(), "PL");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET status", "POST status"}));
}

// A known answer computed outside courier (Python hmac) for Plivo's own
// example URL and nonce, checked through Receive.
TEST(PlivoHandler, SignatureKnownAnswer) {
  EXPECT_EQ(courier::HmacSha256Base64(kAuthToken, "https://foo.com/answer/05429567804466091622"),
            "1mRZtBcL16j+7Bv8pp5JpjGv/nIronLFBJMVawamu/s=");
  PlivoHandler h;
  Route route{"POST", "receive", RouteKind::kReceive};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  for (const auto& [signature, valid] : std::vector<std::pair<std::string, bool>>{
           {"1mRZtBcL16j+7Bv8pp5JpjGv/nIronLFBJMVawamu/s=", true},
           {"1mRZtBcL16j+7Bv8pp5JpjGv/nIronLFBJMVawamu/t=", false}}) {
    // The query string is not signed.
    auto request = WebhookRequest::Build(
        "POST", "/answer/?x=1",
        {{"content-type", "application/x-www-form-urlencoded"}, {"x-plivo-signature-v2", signature},
         {"x-plivo-signature-v2-nonce", kNonce}},
        FormEncode(Inbound({}, {"From"})), "https://foo.com", "receive");
    WebhookResult r = h.Receive(route, PlChannel(), request, ctx);
    EXPECT_EQ(r.unauthorized, !valid) << signature;
    EXPECT_EQ(r.error, valid ? "field 'from' required" : "invalid request signature");
  }
}

// Known answers computed outside courier (Python hmac, following Plivo's
// SDK construction) for Plivo's example host, checked through Receive: the
// query sorted as k=v before the body params, "." between them.
TEST(PlivoHandler, SignatureV3KnownAnswer) {
  PlivoHandler h;
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  const std::string nonce = "12345678901234567890";
  const Params params = {{"From", "14155551212"}, {"To", "16022620723"}, {"Text", "Hello"},
                         {"MessageUUID", "abc1234"}, {"Type", "sms"}};
  struct Case {
    std::string method, uri, body, signature;
    bool valid;
  };
  for (const auto& c : std::vector<Case>{
           {"POST", "/answer/?x=1&a=2", FormEncode(params), "uk2aIlOW63jEvhPh0lXkT5EFyz8SsW4O2DYx5e6rweU=", true},
           {"POST", "/answer/", FormEncode(params), "vS73NP10vnRuVWGV68E0h1XAQzuB4AVRb5xn+uQxuYw=", true},
           // several signatures, comma-separated: any may match
           {"POST", "/answer/", FormEncode(params), "bm90IG91cnM=, vS73NP10vnRuVWGV68E0h1XAQzuB4AVRb5xn+uQxuYw=", true},
           {"GET", "/answer/?To=16022620723&From=14155551212", "", "k2ylIGw5HSltwFhtlfZFggMytjHVRcbFLfGuURcxVMU=",
            true},
           // the same signature with another text, another query, another method
           {"POST", "/answer/", FormEncode(Merge(params, {{"Text", "Send me money"}})),
            "vS73NP10vnRuVWGV68E0h1XAQzuB4AVRb5xn+uQxuYw=", false},
           {"POST", "/answer/?x=2&a=2", FormEncode(params), "uk2aIlOW63jEvhPh0lXkT5EFyz8SsW4O2DYx5e6rweU=", false},
           {"GET", "/answer/?To=16022620723&From=14155551213", "", "k2ylIGw5HSltwFhtlfZFggMytjHVRcbFLfGuURcxVMU=",
            false},
       }) {
    auto request = WebhookRequest::Build(
        c.method, c.uri,
        {{"content-type", "application/x-www-form-urlencoded"}, {"x-plivo-signature-v3", c.signature},
         {"x-plivo-signature-v3-nonce", nonce}},
        c.body, "https://foo.com", "receive");
    WebhookResult r = h.Receive({c.method, "receive", RouteKind::kReceive}, PlChannel(), request, ctx);
    EXPECT_EQ(r.unauthorized, !c.valid) << c.method << " " << c.uri << " " << c.body;
    if (!c.valid) {
      EXPECT_EQ(r.error, "invalid request signature");
    }
  }
}

// The finding: one captured V2 signature pair, replayed with three other
// bodies, stored all three. V2 signs only the URL and the nonce, so its
// nonce may now bring only the request it first came with.
TEST(PlivoHandler, SignatureV2ReplayedWithOtherBodies) {
  PlivoHandler h;
  const std::string nonce = "31415926535897932384";
  const std::map<std::string, std::string> captured = {{"x-plivo-signature-v2", Signature("receive", nonce)},
                                                       {"x-plivo-signature-v2-nonce", nonce}};
  auto replay = [&](const std::string& label, const std::string& text, bool stored) {
    ReceiveCase c{.label = label, .action = "receive", .body = FormEncode(Inbound({{"Text", text}})),
                  .headers = captured};
    if (stored) c.msgs = {{.urn = "tel:+14155551212", .text = text, .external_id = "abc1234"}};
    else {
      c.error = "request signature replayed with another request";
      c.unauthorized = true;
    }
    return c;
  };
  RunReceiveCases(h, PlChannel(), {
      replay("as Plivo sent it", "Hello", true),
      replay("Plivo retrying it: the same request", "Hello", true),
      replay("replayed with another body", "Send 100 to +15550001", false),
      replay("and another", "STOP", false),
      replay("and a third", "Hello!", false),
  });
  // The nonce is the channel's: on another channel it is new.
  Channel other = PlChannel();
  other.uuid = "0f7f1e2a-3b4c-4d5e-8f60-718293a4b5c6";
  PlivoHandler fresh;
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  Route route{"POST", "receive", RouteKind::kReceive};
  auto request = [&](const std::string& uuid, const std::string& text) {
    std::map<std::string, std::string> headers = {
        {"content-type", "application/x-www-form-urlencoded"},
        {"x-plivo-signature-v2", courier::HmacSha256Base64(kAuthToken, std::string(kTestBaseUrl) + "/c/PL/" + uuid +
                                                                           "/receive/" + nonce)},
        {"x-plivo-signature-v2-nonce", nonce}};
    return WebhookRequest::Build("POST", "/c/PL/" + uuid + "/receive/", headers, FormEncode(Inbound({{"Text", text}})),
                                 kTestBaseUrl, "receive");
  };
  EXPECT_EQ(fresh.Receive(route, PlChannel(), request(kTestChannelUUID, "one"), ctx).error, "");
  EXPECT_EQ(fresh.Receive(route, other, request(other.uuid, "two"), ctx).error, "");
  EXPECT_TRUE(fresh.Receive(route, other, request(other.uuid, "three"), ctx).unauthorized);
}

TEST(PlivoHandler, SignatureV3) {
  PlivoHandler h;
  const ExpectedMsg hello = {.urn = "tel:+14155551212", .text = "Hello", .external_id = "abc1234"};
  const std::string nonce = "27182818284590452353";
  ReceiveCase both = Signed({.label = "a right V2 beside a forged V3 is still refused", .action = "receive",
                             .error = "invalid request signature", .unauthorized = true},
                            Inbound());
  both.headers["x-plivo-signature-v3"] = SignatureV3("receive", Inbound({{"Text", "Hi"}}), nonce);
  both.headers["x-plivo-signature-v3-nonce"] = nonce;
  ReceiveCase main_account = SignedV3({.label = "main account V3", .action = "receive", .msgs = {hello}}, Inbound(),
                                      Inbound());
  main_account.headers["x-plivo-signature-ma-v3"] = main_account.headers["x-plivo-signature-v3"];
  main_account.headers["x-plivo-signature-v3"] = "bm90IG91cnM=";
  RunReceiveCases(h, PlChannel(), {
      SignedV3({.label = "V3 over the params", .action = "receive", .msgs = {hello}, .response_body = kXml},
               Inbound(), Inbound()),
      SignedV3({.label = "V3 status", .action = "status",
                .statuses = {{.status = MsgStatus::kDelivered, .external_id = "12345"}}},
               StatusParams("delivered"), StatusParams("delivered")),
      SignedV3({.label = "V3 over other params", .action = "receive", .error = "invalid request signature",
                .unauthorized = true},
               Inbound({{"Text", "Send 100 to +15550001"}}), Inbound()),
      SignedV3({.label = "V3 without one of the params", .action = "receive", .error = "invalid request signature",
                .unauthorized = true},
               Inbound(), Inbound({}, {"Units"})),
      {.label = "V3 without nonce", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v3", SignatureV3("receive", Inbound(), nonce)}},
       .error = "missing request signature", .unauthorized = true},
      {.label = "V3 with another token", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v3", SignatureV3("receive", Inbound(), nonce, "other")},
                   {"x-plivo-signature-v3-nonce", nonce}},
       .error = "invalid request signature", .unauthorized = true},
      both,
      main_account,
  });
}

TEST(PlivoHandler, Receive) {
  PlivoHandler h;
  const ExpectedMsg hello = {.urn = "tel:+14155551212", .text = "Hello", .external_id = "abc1234"};
  RunReceiveCases(h, PlChannel(), {
      Signed({.label = "valid", .action = "receive", .msgs = {hello}, .response_body = kXml}, Inbound()),
      Signed({.label = "To with +", .action = "receive", .msgs = {hello}}, Inbound({{"To", "+16022620723"}})),
      Signed({.label = "unicode", .action = "receive",
              .msgs = {{.urn = "tel:+14155551212", .text = "Mwaramutse ☺", .external_id = "abc1234"}}},
             Inbound({{"Text", "Mwaramutse ☺"}})),
      Signed({.label = "MMS: Body and Media1..N", .action = "receive",
              .msgs = {{.urn = "tel:+14155551212", .text = "look", .external_id = "abc1234",
                        .attachments = {"image/jpeg:https://media.plivo.com/v1/Account/MA/Media/1/pic.jpg",
                                        "video/mp4:https://media.plivo.com/v1/Account/MA/Media/1/clip.mp4"}}}},
             Inbound({{"Type", "mms"}, {"Body", "look"}, {"MediaCount", "2"},
                      {"Media1", "https://media.plivo.com/v1/Account/MA/Media/1/pic.jpg"},
                      {"Media2", "https://media.plivo.com/v1/Account/MA/Media/1/clip.mp4"}},
                     {"Text"})),
      Signed({.label = "MMS: Media0, no text, no extension", .action = "receive",
              .msgs = {{.urn = "tel:+14155551212", .text = "", .external_id = "abc1234",
                        .attachments = {"https://media.plivo.com/v1/Account/MA/Media/abc"}}}},
             Inbound({{"Type", "mms"}, {"MediaCount", "1"}, {"Media0", "https://media.plivo.com/v1/Account/MA/Media/abc"}},
                     {"Text"})),
      Signed({.label = "opt-out keyword stops the contact", .action = "receive",
              .msgs = {{.urn = "tel:+14155551212", .text = "STOP", .external_id = "abc1234"}},
              .stop_urns = {"tel:+14155551212"}},
             Inbound({{"Text", "STOP"}, {"MessageIntent", "optout"}})),
      Signed({.label = "GET with query", .method = "GET", .action = "receive", .query = FormEncode(Inbound()),
              .content_type = "", .msgs = {hello}},
             {}),
      Signed({.label = "other number", .action = "receive", .error = "invalid to number [1234], expecting [16022620723]"},
             Inbound({{"To", "1234"}})),
      Signed({.label = "missing From", .action = "receive", .error = "field 'from' required"}, Inbound({}, {"From"})),
      Signed({.label = "missing To", .action = "receive", .error = "field 'to' required"}, Inbound({}, {"To"})),
      Signed({.label = "missing MessageUUID", .action = "receive", .error = "field 'messageuuid' required"},
             Inbound({}, {"MessageUUID"})),
      Signed({.label = "no text, no media", .action = "receive", .error = "field 'text' required"},
             Inbound({}, {"Text"})),
      {.label = "missing signature", .action = "receive", .body = FormEncode(Inbound()),
       .error = "missing request signature", .unauthorized = true},
      {.label = "missing nonce", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v2", Signature("receive")}}, .error = "missing request signature",
       .unauthorized = true},
      {.label = "signed with another token", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v2", Signature("receive", kNonce, "other")},
                   {"x-plivo-signature-v2-nonce", kNonce}},
       .error = "invalid request signature", .unauthorized = true},
      {.label = "another nonce", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v2", Signature("receive")}, {"x-plivo-signature-v2-nonce", "1"}},
       .error = "invalid request signature", .unauthorized = true},
      {.label = "signature over another URL", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v2", Signature("status")}, {"x-plivo-signature-v2-nonce", kNonce}},
       .error = "invalid request signature", .unauthorized = true},
      {.label = "main account signature", .action = "receive", .body = FormEncode(Inbound()),
       .headers = {{"x-plivo-signature-v2", "bm90IG91cnM="}, {"x-plivo-signature-ma-v2", Signature("receive")},
                   {"x-plivo-signature-v2-nonce", kNonce}},
       .msgs = {hello}},
  });

  RunReceiveCases(h, PlChannel("US", {{"auth_id", kAuthId}}), {
      Signed({.label = "no auth token", .action = "receive", .error = "invalid or missing auth token in config"},
             Inbound()),
  });
  RunReceiveCases(h, PlChannel("US", {{"PLIVO_AUTH_ID", kAuthId}, {"PLIVO_AUTH_TOKEN", kAuthToken}}), {
      Signed({.label = "legacy PLIVO_AUTH_TOKEN", .action = "receive", .msgs = {hello}}, Inbound()),
  });
}

TEST(PlivoHandler, Status) {
  PlivoHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<std::string, MsgStatus>> table = {
      {"queued", MsgStatus::kWired},        {"sent", MsgStatus::kSent},     {"delivered", MsgStatus::kDelivered},
      {"undelivered", MsgStatus::kFailed}, {"failed", MsgStatus::kFailed}, {"rejected", MsgStatus::kFailed},
      {"read", MsgStatus::kRead},
  };
  for (const auto& [word, status] : table)
    cases.push_back(Signed({.label = "status " + word, .action = "status",
                            .statuses = {{.status = status, .external_id = "12345"}}},
                           StatusParams(word)));
  cases.push_back(Signed({.label = "part of a long message: parent uuid", .action = "status",
                          .statuses = {{.status = MsgStatus::kDelivered, .external_id = "parent-1"}}},
                         StatusParams("delivered", {{"ParentMessageUUID", "parent-1"}, {"PartInfo", "2 of 2"}})));
  cases.push_back(Signed({.label = "200: opted out, stop", .action = "status",
                          .statuses = {{.status = MsgStatus::kFailed, .external_id = "12345"}},
                          .stop_urns = {"tel:+250788383383"}},
                         StatusParams("failed", {{"ErrorCode", "200"}})));
  cases.push_back(Signed({.label = "other error code does not stop", .action = "status",
                          .statuses = {{.status = MsgStatus::kFailed, .external_id = "12345"}}},
                         StatusParams("undelivered", {{"ErrorCode", "30"}})));
  cases.push_back(Signed({.label = "unknown status is answered 200, ignored", .action = "status",
                          .ignored = "unknown status 'blah', must be one of 'queued', 'sent', 'delivered'"},
                         StatusParams("blah")));
  cases.push_back(Signed({.label = "missing Status", .action = "status", .error = "field 'status' required"},
                         Params{{"MessageUUID", "12345"}}));
  cases.push_back(Signed({.label = "missing MessageUUID", .action = "status", .error = "field 'messageuuid' required"},
                         Params{{"Status", "sent"}}));
  cases.push_back({.label = "unsigned status", .action = "status", .body = FormEncode(StatusParams("sent")),
                   .error = "missing request signature", .unauthorized = true});
  RunReceiveCases(h, PlChannel(), cases);
}

std::string Callback() { return std::string(kTestBaseUrl) + "/c/pl/" + kTestChannelUUID + "/status"; }

MockResponse Queued(const std::string& uuid) {
  return {.status = 202,
          .body = R"({"api_id":"4e1f954c-baf3-11ec-bafe-0242ac110003","message":"message(s) queued",)"
                  R"("message_uuid":[")" + uuid + R"("]})"};
}

// The JSON Plivo should receive.
std::string Body(const std::string& text, const std::vector<std::string>& media = {}) {
  auto o = json::NewObject();
  o->set("src", "16022620723");
  o->set("dst", "250788383383");
  o->set("text", text);
  o->set("url", Callback());
  o->set("method", "POST");
  if (!media.empty()) {
    o->set("type", "mms");
    o->set("media_urls", json::StringArray(media));
  }
  return json::Stringify(o);
}

TEST(PlivoHandler, Send) {
  PlivoHandler h;
  const std::string long_a(1590, 'a'), long_b(20, 'b');
  RunSendCases(h, PlChannel("RW"), {
      {.label = "plain", .responses = {{kPath, Queued("db3ce55a-7f1d-11e1-8ea7-1231380bc196")}},
       .external_id = "db3ce55a-7f1d-11e1-8ea7-1231380bc196",
       .requests = {{.path = kPath,
                     .headers = {{"authorization", kBasicAuth}, {"content-type", "application/json"}},
                     .body = Body("Simple Message")}}},
      {.label = "unicode", .text = "Mwaramutse ☺", .responses = {{kPath, Queued("u1")}}, .external_id = "u1",
       .requests = {{.path = kPath, .body = Body("Mwaramutse ☺")}}},
      {.label = "attachment as link outside US/CA", .text = "My pic!",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{kPath, Queued("u2")}},
       .external_id = "u2", .requests = {{.path = kPath, .body = Body("My pic!\nhttps://foo.bar/image.jpg")}}},
      {.label = "long text split, first uuid kept", .text = long_a + " " + long_b,
       .responses = {{kPath, Queued("u3")}, {kPath, Queued("u4")}}, .external_id = "u3",
       .requests = {{.path = kPath, .body = Body(long_a)}, {.path = kPath, .body = Body(long_b)}}},
      {.label = "second part fails", .text = long_a + " " + long_b,
       .responses = {{kPath, Queued("u5")}, {kPath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500",
       .requests = {{.path = kPath}, {.path = kPath}}},
      {.label = "provider error", .responses = {{kPath, {.status = 400, .body = R"({"api_id":"x","error":"dst parameter not found"})"}}},
       .status = MsgStatus::kFailed, .error = "received error from plivo: dst parameter not found",
       .requests = {{.path = kPath}}},
      {.label = "unauthorized", .responses = {{kPath, {.status = 401, .body = "Could not verify your access level for that URL.", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = kPath}}},
      {.label = "429 throttled", .responses = {{kPath, {.status = 429, .body = R"({"api_id":"x","error":"too many requests"})", .headers = {{"Retry-After", "3"}}}}},
       .status = MsgStatus::kErrored, .error = "too many requests", .requests = {{.path = kPath}},
       .throttled_for_seconds = 3},
      {.label = "no message_uuid", .responses = {{kPath, {.status = 202, .body = R"({"message":"message(s) queued"})"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message_uuid from body", .requests = {{.path = kPath}}},
  });

  RunSendCases(h, PlChannel("US"), {
      {.label = "MMS in the US", .text = "Caption",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg", "video/mp4:https://foo.bar/clip.mp4"},
       .responses = {{kPath, Queued("m1")}}, .external_id = "m1",
       .requests = {{.path = kPath, .body = Body("Caption", {"https://foo.bar/image.jpg", "https://foo.bar/clip.mp4"})}}},
      {.label = "MMS, long text: media with the first part", .text = long_a + " " + long_b,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Queued("m2")}, {kPath, Queued("m3")}}, .external_id = "m2",
       .requests = {{.path = kPath, .body = Body(long_a, {"https://foo.bar/image.jpg"})},
                    {.path = kPath, .body = Body(long_b)}}},
  });

  RunSendCases(h, PlChannel("RW", {{"auth_id", kAuthId}, {"auth_token", kAuthToken}, {"max_length", "8"}}), {
      {.label = "channel max_length", .text = "Hi there Bob",
       .responses = {{kPath, Queued("x1")}, {kPath, Queued("x2")}}, .external_id = "x1",
       .requests = {{.path = kPath, .body = Body("Hi there")}, {.path = kPath, .body = Body("Bob")}}},
  });

  RunSendCases(h, PlChannel("RW", {{"PLIVO_AUTH_ID", kAuthId}, {"PLIVO_AUTH_TOKEN", kAuthToken}}), {
      {.label = "legacy config names", .responses = {{kPath, Queued("l1")}}, .external_id = "l1",
       .requests = {{.path = kPath, .headers = {{"authorization", kBasicAuth}}}}},
  });
  RunSendCases(h, PlChannel("RW", {{"auth_id", kAuthId}}), {
      {.label = "no auth_token: no request", .status = MsgStatus::kErrored,
       .error = "no auth_token or PLIVO_AUTH_TOKEN set for PL channel", .requests = {}, .logs = 1},
  });
}

}  // namespace
