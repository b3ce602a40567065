// FB — Facebook Messenger, legacy per-page channel: verification (with
// the page subscription it makes), the optional app_secret signature,
// messaging events, and send through the Graph API (text, split text,
// media, quick replies, errors, throttling) tables.
#include "handlers/facebook_legacy.h"

#include "handler_harness.h"
#include "handlers/common.h"
#include "loopback_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kToken = "EAAGlegacypagetoken9f8e7d";
const std::string kSecret = "fb-verify-4c1d2e";
const std::string kAppSecret = "fb-app-secret-77aa01";
const char* kJson = "application/json";
const std::string kPage = "12345";
const std::string kUrn = "facebook:5678";
const Micros kDate = 1459991487970LL * 1000;
const std::string kSubscribePath = "/v3.3/me/subscribed_apps";
const std::string kSendPath = "/v3.3/me/messages";

Channel FbChannel(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> config = {{"auth_token", kToken}, {"secret", kSecret}};
  for (auto& [k, v] : extra) config[k] = v;
  return TestChannel("FB", kPage, "", config, {"facebook"});
}

std::string Page(const std::string& events, const std::string& entry_id = kPage) {
  return R"({"object":"page","entry":[{"id":")" + entry_id + R"(","time":1459991487970,"messaging":[)" + events +
         "]}]}";
}

std::string Event(const std::string& fields, const std::string& sender = "5678", const std::string& recipient = kPage) {
  return R"({"sender":{"id":")" + sender + R"("},"recipient":{"id":")" + recipient +
         R"("},"timestamp":1459991487970,)" + fields + "}";
}

std::string Fb(const std::string& fields) { return Page(Event(fields)); }

ReceiveCase Post(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  return c;
}

std::function<void(Channel&, MockProvider&)> Subscribed(MockResponse answer = {.body = R"({"success":true})"}) {
  return [answer](Channel&, MockProvider& p) { p.On(kSubscribePath, answer); };
}

const std::string kVerifyQuery = "hub.mode=subscribe&hub.verify_token=" + kSecret + "&hub.challenge=1158201444";

TEST(FacebookLegacyHandler, Basics) {
  FacebookLegacyHandler h;
  EXPECT_EQ(h.Code(), "FB");
  EXPECT_EQ(h.Type().schemes, std::vector<std::string>{"facebook"});
  EXPECT_EQ(RouteList(h), (std::vector<std::string>{"GET receive", "POST receive"}));
  // Only the verification subscribes the page (a Graph request): events
  // stay on courier-recv's event loop.
  for (const Route& route : h.Routes()) EXPECT_EQ(h.ReceiveMayCallOut(route), route.method == "GET") << route.method;
  EXPECT_EQ(h.Type().Key("auth_token")->need, ConfigNeed::kToSend);
  EXPECT_EQ(h.Type().Key("secret")->need, ConfigNeed::kToReceive);
  EXPECT_EQ(h.Type().WebhookVerificationKeys(), std::vector<std::string>{"app_secret"});
}

TEST(FacebookLegacyHandler, Verify) {
  FacebookLegacyHandler h;
  RunReceiveCases(h, FbChannel(), {
      {.label = "challenge echoed, page subscribed", .method = "GET", .action = "receive", .query = kVerifyQuery,
       .response_body = "1158201444", .setup = Subscribed(), .extra_logs = 1},
      {.label = "a failed subscription still answers the challenge", .method = "GET", .action = "receive",
       .query = kVerifyQuery, .response_body = "1158201444",
       .setup = Subscribed({.status = 400, .body = R"({"error":{"message":"(#200) Permissions error","code":200}})"}),
       .extra_logs = 1},
      {.label = "mode not subscribe", .method = "GET", .action = "receive",
       .query = "hub.mode=unsubscribe&hub.verify_token=" + kSecret + "&hub.challenge=1", .error = "unknown request"},
      {.label = "no mode", .method = "GET", .action = "receive", .query = "hub.verify_token=" + kSecret,
       .error = "unknown request"},
      {.label = "wrong token", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", .error = "token does not match secret",
       .unauthorized = true},
      {.label = "no token", .method = "GET", .action = "receive", .query = "hub.mode=subscribe&hub.challenge=1",
       .error = "token does not match secret", .unauthorized = true},
      {.label = "no challenge", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=" + kSecret, .error = "field 'hub.challenge' required"},
  });
  RunReceiveCases(h, FbChannel({{"auth_token", ""}}), {
      {.label = "no auth token", .method = "GET", .action = "receive", .query = kVerifyQuery,
       .error = "missing auth token for FB channel"},
  });
  RunReceiveCases(h, FbChannel({{"secret", ""}}), {
      {.label = "no secret: nothing to match", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=&hub.challenge=1", .error = "no secret set for FB channel"},
  });
}

// The subscription the verification makes: the request Meta documents,
// and its outcome in the channel log only.
TEST(FacebookLegacyHandler, VerifySubscribesThePage) {
  FacebookLegacyHandler h;
  const Route route{"GET", "receive", RouteKind::kReceive};
  auto verify = [&](MockResponse answer) {
    MockProvider provider;
    provider.On(kSubscribePath, answer);
    Channel channel = FbChannel({{"base_url", provider.url()}});
    auto http = NewLoopbackHttpClient();
    HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
    auto request = WebhookRequest::Build("GET", "/c/fb/" + channel.uuid + "/receive?" + kVerifyQuery, {}, "",
                                         kTestBaseUrl, "receive");
    WebhookResult result = h.Receive(route, channel, request, ctx);
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(result.response_body.value_or(""), "1158201444");
    EXPECT_EQ(result.response_content_type, "text/plain");
    const auto requests = provider.requests();
    EXPECT_EQ(requests.size(), 1u);
    if (!requests.empty()) {
      EXPECT_EQ(requests[0].method, "POST");
      EXPECT_EQ(requests[0].path, kSubscribePath);
      EXPECT_EQ(requests[0].form.at("access_token"), kToken);
      EXPECT_EQ(requests[0].form.at("subscribed_fields"),
                "messages,message_deliveries,messaging_optins,messaging_postbacks,messaging_referrals");
    }
    EXPECT_EQ(result.extra_logs.size(), 1u);
    return result.extra_logs.empty() ? ChannelLog{} : result.extra_logs[0];
  };

  ChannelLog ok = verify({.body = R"({"success":true})"});
  EXPECT_EQ(ok.error, "");
  EXPECT_EQ(ok.request.find(kToken), std::string::npos) << "token in log: " << ok.request;

  EXPECT_NE(verify({.status = 400, .body = R"({"error":{"message":"(#200) Permissions error","code":200}})"}).error,
            "");
  EXPECT_NE(verify({.body = R"({"success":false})"}).error.find("no 'success'"), std::string::npos);
}

TEST(FacebookLegacyHandler, Receive) {
  FacebookLegacyHandler h;
  RunReceiveCases(h, FbChannel(), {
      Post({.label = "text", .body = Fb(R"("message":{"mid":"external_id","text":"Hello World"})"),
            .msgs = {{.urn = kUrn, .text = "Hello World", .external_id = "external_id", .received_on = kDate}}}),
      Post({.label = "unicode", .body = Fb(R"("message":{"mid":"m2","text":"Muraho \u263a"})"),
            .msgs = {{.urn = kUrn, .text = "Muraho ☺", .external_id = "m2"}}}),
      Post({.label = "numeric ids", .body = Page(R"({"sender":{"id":5678},"recipient":{"id":12345},"timestamp":1,)"
                                                 R"("message":{"mid":"m3","text":"hi"}})"),
            .msgs = {{.urn = kUrn, .text = "hi", .external_id = "m3"}}}),
      Post({.label = "the same mid twice: taken once",
            .body = Page(Event(R"("message":{"mid":"m4","text":"hi"})") + "," + Event(R"("message":{"mid":"m4","text":"hi"})")),
            .msgs = {{.urn = kUrn, .text = "hi", .external_id = "m4"}}}),
      Post({.label = "every event of an entry",
            .body = Page(Event(R"("message":{"mid":"m5","text":"a"})") + "," +
                         Event(R"("delivery":{"mids":["mid.x"],"watermark":1})")),
            .msgs = {{.urn = kUrn, .text = "a", .external_id = "m5"}},
            .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.x"}}}),
      Post({.label = "two entries",
            .body = R"({"object":"page","entry":[{"id":"12345","messaging":[)" + Event(R"("message":{"mid":"m6","text":"a"})") +
                    R"(]},{"id":"12345","messaging":[)" + Event(R"("message":{"mid":"m7","text":"b"})", "999") + "]}]}",
            .msgs = {{.urn = kUrn, .text = "a", .external_id = "m6"}, {.urn = "facebook:999", .text = "b", .external_id = "m7"}}}),
      Post({.label = "image attachment",
            .body = Fb(R"("message":{"mid":"m8","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/t1/123_n.png?oh=x"}}]})"),
            .msgs = {{.urn = kUrn, .text = "", .external_id = "m8",
                      .attachments = {"image/png:https://scontent.xx.fbcdn.net/v/t1/123_n.png?oh=x"}}}}),
      Post({.label = "text, video, file and location",
            .body = Fb(R"("message":{"mid":"m9","text":"look","attachments":[{"type":"video","payload":{"url":"https://cdn.fb/v.mp4"}},)"
                       R"({"type":"file","payload":{"url":"https://cdn.fb/doc.pdf"}},)"
                       R"({"type":"location","payload":{"coordinates":{"lat":1.2,"long":-3.4}}}]})"),
            .msgs = {{.urn = kUrn, .text = "look", .external_id = "m9",
                      .attachments = {"video/mp4:https://cdn.fb/v.mp4", "application/pdf:https://cdn.fb/doc.pdf",
                                      "geo:1.2,-3.4"}}}}),
      Post({.label = "a shared link (fallback) and a URL that is not http are no media",
            .body = Fb(R"("message":{"mid":"m10","text":"see","attachments":[{"type":"fallback","payload":{"url":"https://x.y"}},)"
                       R"({"type":"image","payload":{"url":"ftp://x.y/a.png"}}]})"),
            .msgs = {{.urn = kUrn, .text = "see", .external_id = "m10"}}}),
      Post({.label = "nothing usable: skipped",
            .body = Fb(R"("message":{"mid":"m11","attachments":[{"type":"fallback","payload":{"url":"https://x.y"}}]})"),
            .ignored = "ignoring message without text or attachments"}),
      Post({.label = "Like sticker: a thumbs up with its image",
            .body = Fb(R"("message":{"mid":"m12","sticker_id":369239263222822,"attachments":[{"type":"image",)"
                       R"("payload":{"url":"https://scontent.xx.fbcdn.net/v/t39/851557_369239266556155_n.png","sticker_id":369239263222822}}]})"),
            .msgs = {{.urn = kUrn, .text = "👍", .external_id = "m12",
                      .attachments = {"image/png:https://scontent.xx.fbcdn.net/v/t39/851557_369239266556155_n.png"}}}}),
      Post({.label = "large Like sticker named only in the payload",
            .body = Fb(R"("message":{"mid":"m13","attachments":[{"type":"image",)"
                       R"("payload":{"url":"https://cdn.fb/like.png","sticker_id":369239383222810}}]})"),
            .msgs = {{.urn = kUrn, .text = "👍", .external_id = "m13", .attachments = {"image/png:https://cdn.fb/like.png"}}}}),
      Post({.label = "Like sticker without an image",
            .body = Fb(R"("message":{"mid":"m14","sticker_id":369239343222814})"),
            .msgs = {{.urn = kUrn, .text = "👍", .external_id = "m14"}}}),
      Post({.label = "another sticker: its image",
            .body = Fb(R"("message":{"mid":"m15","sticker_id":1,"attachments":[{"type":"image",)"
                       R"("payload":{"url":"https://cdn.fb/cat.png","sticker_id":1}}]})"),
            .msgs = {{.urn = kUrn, .text = "", .external_id = "m15", .attachments = {"image/png:https://cdn.fb/cat.png"}}}}),
      Post({.label = "echo of our own msg", .body = Page(Event(R"("message":{"mid":"m16","text":"from us","is_echo":true})", kPage, "5678")),
            .ignored = "ignoring echo"}),
      Post({.label = "event for another page", .body = Page(Event(R"("message":{"mid":"m17","text":"x"})", "5678", "99999")),
            .ignored = "ignoring event for page '99999'"}),
      Post({.label = "postback: a new conversation",
            .body = Fb(R"("postback":{"title":"Get Started","payload":"get_started"})"),
            .events = {{.type = ChannelEventType::kNewConversation, .urn = kUrn,
                        .extra = {{"title", "Get Started"}, {"payload", "get_started"}}, .occurred_on = kDate}}}),
      Post({.label = "postback of a button: a new conversation too",
            .body = Fb(R"("postback":{"title":"Yes","payload":"YES"})"),
            .events = {{.type = ChannelEventType::kNewConversation, .urn = kUrn,
                        .extra = {{"title", "Yes"}, {"payload", "YES"}}}}}),
      Post({.label = "postback with a referral ref: a referral",
            .body = Fb(R"("postback":{"title":"Get Started","payload":"get_started",)"
                       R"("referral":{"ref":"summer","source":"SHORTLINK","type":"OPEN_THREAD"}})"),
            .events = {{.type = ChannelEventType::kReferral, .urn = kUrn,
                        .extra = {{"title", "Get Started"}, {"payload", "get_started"}, {"ref", "summer"},
                                  {"source", "SHORTLINK"}, {"type", "OPEN_THREAD"}}}}}),
      Post({.label = "postback with a referral without ref: a new conversation",
            .body = Fb(R"("postback":{"payload":"get_started","referral":{"source":"ADS","type":"OPEN_THREAD"}})"),
            .events = {{.type = ChannelEventType::kNewConversation, .urn = kUrn, .extra = {{"payload", "get_started"}}}}}),
      Post({.label = "referral",
            .body = Fb(R"("referral":{"ref":"my_ref","source":"SHORTLINK","type":"OPEN_THREAD"})"),
            .events = {{.type = ChannelEventType::kReferral, .urn = kUrn,
                        .extra = {{"ref", "my_ref"}, {"source", "SHORTLINK"}, {"type", "OPEN_THREAD"}},
                        .occurred_on = kDate}}}),
      Post({.label = "referral from an ad",
            .body = Fb(R"("referral":{"source":"ADS","type":"OPEN_THREAD","ad_id":6045246247433,)"
                       R"("ads_context_data":{"ad_title":"Clinic days"}})"),
            .events = {{.type = ChannelEventType::kReferral, .urn = kUrn,
                        .extra = {{"source", "ADS"}, {"type", "OPEN_THREAD"}, {"ad_id", "6045246247433"},
                                  {"ad_title", "Clinic days"}}}}}),
      Post({.label = "opt-in: a referral", .body = Fb(R"("optin":{"ref":"optin_ref"})"),
            .events = {{.type = ChannelEventType::kReferral, .urn = kUrn, .extra = {{"ref", "optin_ref"}}, .occurred_on = kDate}}}),
      Post({.label = "opt-in without a sender",
            .body = Page(R"({"recipient":{"id":"12345"},"timestamp":1,"optin":{"ref":"r","user_ref":"u1"}})"),
            .ignored = "ignoring opt-in without a sender"}),
      Post({.label = "delivery", .body = Fb(R"("delivery":{"mids":["mid.1458668856218:ed81099e15d3f4f233"],"watermark":1458668856253})"),
            .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.1458668856218:ed81099e15d3f4f233"}}}),
      Post({.label = "delivery of two", .body = Fb(R"("delivery":{"mids":["mid.a","mid.b"]})"),
            .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.a"},
                         {.status = MsgStatus::kDelivered, .external_id = "mid.b"}}}),
      Post({.label = "delivery without mids", .body = Fb(R"("delivery":{"watermark":1})"),
            .ignored = "ignoring delivery without message ids"}),
      Post({.label = "read receipt", .body = Fb(R"("read":{"watermark":1458668856253})"),
            .ignored = "ignoring unknown entry type"}),
      Post({.label = "entry without messaging", .body = R"({"object":"page","entry":[{"id":"12345","standby":[]}]})",
            .ignored = "ignoring entry without messaging events"}),
      Post({.label = "not a page", .body = R"({"object":"instagram","entry":[]})", .ignored = "ignoring non-page request"}),
      Post({.label = "no object", .body = R"({"entry":[]})", .ignored = "ignoring non-page request"}),
      Post({.label = "no entries", .body = R"({"object":"page","entry":[]})", .ignored = "ignoring request, no entries"}),
      Post({.label = "entry missing", .body = R"({"object":"page"})", .ignored = "ignoring request, no entries"}),
      Post({.label = "non-numeric sender", .body = Page(Event(R"("message":{"mid":"m","text":"x"})", "abc")),
            .error = "invalid facebook id"}),
      Post({.label = "missing sender",
            .body = Page(R"({"recipient":{"id":"12345"},"timestamp":1,"message":{"mid":"m","text":"x"}})"),
            .error = "invalid facebook id"}),
      Post({.label = "postback without sender",
            .body = Page(R"({"recipient":{"id":"12345"},"timestamp":1,"postback":{"payload":"x"}})"),
            .error = "invalid facebook id"}),
      Post({.label = "missing mid", .body = Fb(R"("message":{"text":"x"})"), .error = "field 'message.mid' required"}),
      Post({.label = "malformed JSON", .body = "{", .error = "unable to parse request JSON"}),
  });
}

// Without app_secret the reference's behaviour: no signature looked at.
// With it, Meta's X-Hub-Signature-256 over the raw body.
TEST(FacebookLegacyHandler, AppSecretSignature) {
  FacebookLegacyHandler h;
  const std::string body = Fb(R"("message":{"mid":"m1","text":"hi"})");
  const std::string good = "sha256=" + HmacSha256Hex(kAppSecret, body);
  const ExpectedMsg msg{.urn = kUrn, .text = "hi", .external_id = "m1"};
  RunReceiveCases(h, FbChannel(), {
      Post({.label = "no app_secret: unsigned taken", .body = body, .msgs = {msg}}),
      Post({.label = "no app_secret: a bad signature is not looked at", .body = body,
            .headers = {{"x-hub-signature-256", "sha256=00"}}, .msgs = {msg}}),
  });
  RunReceiveCases(h, FbChannel({{"app_secret", kAppSecret}}), {
      Post({.label = "signed", .body = body, .headers = {{"x-hub-signature-256", good}}, .msgs = {msg}}),
      Post({.label = "unsigned", .body = body, .error = "missing request signature", .unauthorized = true}),
      Post({.label = "wrong signature", .body = body, .headers = {{"x-hub-signature-256", "sha256=00ff"}},
            .error = "invalid request signature", .unauthorized = true}),
      Post({.label = "signature of another body", .body = Fb(R"("message":{"mid":"m1","text":"HI"})"),
            .headers = {{"x-hub-signature-256", good}}, .error = "invalid request signature", .unauthorized = true}),
  });
}

// ---- send ----

MockResponse FbOk(const std::string& id) {
  return {.body = R"({"recipient_id":"5678","message_id":")" + id + R"("})"};
}

MockResponse GraphError(int status, int code, const std::string& message, const std::string& extra = "") {
  return {.status = status,
          .body = R"({"error":{"message":")" + message + R"(","type":"OAuthException","code":)" + std::to_string(code) +
                  extra + R"(,"fbtrace_id":"AbCd"}})"};
}

std::string TextBody(const std::string& text) {
  return R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"text":")" + text + R"("}})";
}

ExpectedRequest Sent(std::string body = "") {
  return {.path = kSendPath,
          .params = {{"access_token", kToken}},
          .headers = {{"content-type", "application/json"}, {"accept", "application/json"}},
          .body = std::move(body)};
}

TEST(FacebookLegacyHandler, Send) {
  FacebookLegacyHandler h;
  const std::string long_text = std::string(630, 'a') + " " + std::string(100, 'b');
  RunSendCases(h, FbChannel(), {
      {.label = "text", .urn = kUrn, .responses = {{kSendPath, FbOk("mid.133")}}, .external_id = "mid.133",
       .requests = {Sent(TextBody("Simple Message"))}},
      {.label = "unicode", .text = "Muraho ☺", .urn = kUrn, .responses = {{kSendPath, FbOk("mid.1")}},
       .external_id = "mid.1", .requests = {Sent(TextBody("Muraho ☺"))}},
      {.label = "long text split at 640", .text = long_text, .urn = kUrn,
       .responses = {{kSendPath, FbOk("mid.1")}, {kSendPath, FbOk("mid.2")}}, .external_id = "mid.1",
       .requests = {Sent(TextBody(std::string(630, 'a'))), Sent(TextBody(std::string(100, 'b')))}},
      {.label = "max_length splits shorter", .text = "Hello wide world", .urn = kUrn,
       .responses = {{kSendPath, FbOk("mid.20")}, {kSendPath, FbOk("mid.21")}}, .external_id = "mid.20",
       .requests = {Sent(TextBody("Hello wide")), Sent(TextBody("world"))},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "image first, then the text", .text = "My pic!", .urn = kUrn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kSendPath, FbOk("mid.140")}, {kSendPath, FbOk("mid.141")}}, .external_id = "mid.140",
       .requests = {Sent(R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"attachment":)"
                         R"({"type":"image","payload":{"url":"https://foo.bar/image.jpg","is_reusable":true}}}})"),
                    Sent(TextBody("My pic!"))}},
      {.label = "a document goes as a file, audio and video as themselves", .text = "", .urn = kUrn,
       .attachments = {"application/pdf:https://foo.bar/d.pdf", "audio/mpeg:https://foo.bar/a.mp3",
                       "video/mp4:https://foo.bar/v.mp4"},
       .responses = {{kSendPath, FbOk("mid.1")}, {kSendPath, FbOk("mid.2")}, {kSendPath, FbOk("mid.3")}},
       .external_id = "mid.1",
       .requests = {{.path = kSendPath, .body_contains = {R"("type":"file","payload":{"url":"https://foo.bar/d.pdf")"}},
                    {.path = kSendPath, .body_contains = {R"("type":"audio","payload":{"url":"https://foo.bar/a.mp3")"}},
                    {.path = kSendPath, .body_contains = {R"("type":"video","payload":{"url":"https://foo.bar/v.mp4")"}}}},
      {.label = "quick replies on the last request", .text = "Pick one", .urn = kUrn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kSendPath, FbOk("mid.150")}, {kSendPath, FbOk("mid.151")}}, .external_id = "mid.150",
       .requests = {Sent(R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"attachment":)"
                         R"({"type":"image","payload":{"url":"https://foo.bar/image.jpg","is_reusable":true}}}})"),
                    Sent(R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"text":"Pick one",)"
                         R"("quick_replies":[{"content_type":"text","title":"Red","payload":"Red"},)"
                         R"({"content_type":"text","title":"Blue","payload":"Blue"}]}})")},
       .quick_replies = {"Red", "Blue"}},
      {.label = "the second part refused: F, the first's log kept", .text = long_text, .urn = kUrn,
       .responses = {{kSendPath, FbOk("mid.1")}, {kSendPath, GraphError(400, 100, "(#100) Invalid parameter")}},
       .status = MsgStatus::kFailed, .error = "Invalid parameter (code 100)",
       .requests = {Sent(), Sent()}},
      {.label = "person not available (551): F and stopped", .urn = kUrn,
       .responses = {{kSendPath, GraphError(400, 551, "This person isn't available right now.", R"(,"error_subcode":1545041)")}},
       .status = MsgStatus::kFailed, .error = "received error from facebook: This person isn't available right now. (code 551, subcode 1545041)",
       .stop_contact = true, .requests = {Sent()}},
      {.label = "temporary failure (1200) in a 400: E", .urn = kUrn,
       .responses = {{kSendPath, GraphError(400, 1200, "Temporary send message failure. Please try again later")}},
       .status = MsgStatus::kErrored, .error = "Temporary send message failure", .requests = {Sent()}},
      {.label = "too many send requests (4): throttled", .urn = kUrn,
       .responses = {{kSendPath, GraphError(400, 4, "(#4) Too many send requests")}},
       .status = MsgStatus::kErrored, .requests = {Sent()}, .throttled_for_seconds = 60},
      {.label = "429: throttled for Retry-After", .urn = kUrn,
       .responses = {{kSendPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Sent()}, .throttled_for_seconds = 7},
      {.label = "500 without error object: E", .urn = kUrn,
       .responses = {{kSendPath, {.status = 500, .body = "boom"}}}, .status = MsgStatus::kErrored, .requests = {Sent()}},
      {.label = "403 without error object: F", .urn = kUrn,
       .responses = {{kSendPath, {.status = 403, .body = "denied"}}}, .status = MsgStatus::kFailed, .requests = {Sent()}},
      {.label = "an error object in a 200: F", .urn = kUrn,
       .responses = {{kSendPath, GraphError(200, 100, "(#100) No matching user found", R"(,"error_subcode":2018001)")}},
       .status = MsgStatus::kFailed, .error = "No matching user found (code 100, subcode 2018001)", .requests = {Sent()}},
      {.label = "200 without message_id: F", .urn = kUrn, .responses = {{kSendPath, {.body = R"({"recipient_id":"5678"})"}}},
       .status = MsgStatus::kFailed, .error = "no 'message_id' in response", .requests = {Sent()}},
      {.label = "200 not JSON: F", .urn = kUrn, .responses = {{kSendPath, {.body = "ok", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "no 'message_id' in response", .requests = {Sent()}},
      {.label = "no answer at all: E", .urn = kUrn, .status = MsgStatus::kErrored, .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config["base_url"] = "http://127.0.0.1:1"; }},
      {.label = "nothing to send: F without a request", .text = "", .urn = kUrn, .status = MsgStatus::kFailed,
       .error = "no text or attachments", .requests = {}, .logs = 1},
      {.label = "no auth token: E without a request", .urn = kUrn, .status = MsgStatus::kErrored,
       .error = "no auth_token set for FB channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("auth_token"); }},
  });
}

}  // namespace
