// WC — WeChat official accounts: the signed URL check and XML pushes
// (msgs, media, locations, the subscribe event, hostile XML), the send
// table judged by WeChat's errcode, and the access token bought with the
// app secret in the query string: cached, refused by errcode, never
// logged, nor the app secret.
#include "handlers/wechat.h"

#include <fstream>
#include <set>

#include "access_token_cases.h"
#include "handler_harness.h"
#include "temp_dir.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kSecret = "secret-token";
const char* kAppId = "wx-app-id";
const char* kAppSecret = "app-s3cret-value";
const std::string kToken = "wc-ACCESS_TOKEN-1a2b3c4d5e";
const char* kTokenPath = "/cgi-bin/token";
const char* kSendPath = "/cgi-bin/message/custom/send";
const char* kMediaUrl = "https://api.weixin.qq.com/cgi-bin/media/get?media_id=";
// sha1 of "1518430722" + "nonce1" + "secret-token", the three sorted.
const char* kSignedQuery = "signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430722&nonce=nonce1";

Channel WcChannel() {
  return TestChannel("WC", "gh_wechat", "",
                     {{"secret", kSecret}, {"wechat_app_id", kAppId}, {"wechat_app_secret", kAppSecret}}, {"wechat"});
}

std::string Push(const std::string& fields) { return "<xml><ToUserName><![CDATA[gh_wechat]]></ToUserName>" + fields + "</xml>"; }

std::string TextPush(const std::string& content = "Simple Message") {
  return Push("<FromUserName><![CDATA[1234]]></FromUserName><CreateTime>1518774424</CreateTime>"
              "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + content + "]]></Content>"
              "<MsgId>123456</MsgId>");
}

std::string MediaPush(const std::string& type, const std::string& media_fields) {
  return Push("<FromUserName><![CDATA[1234]]></FromUserName><CreateTime>1518774424</CreateTime>"
              "<MsgType><![CDATA[" + type + "]]></MsgType>" + media_fields + "<MsgId>123456</MsgId>");
}

std::string EventPush(const std::string& event) {
  return Push("<FromUserName><![CDATA[1234]]></FromUserName><CreateTime>1518774424</CreateTime>"
              "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[" + event + "]]></Event>");
}

ReceiveCase PushCase(std::string label, std::string body) {
  return {.label = std::move(label), .action = "receive", .query = kSignedQuery, .body = std::move(body),
          .content_type = "text/xml"};
}

constexpr Micros kCreated = 1518774424LL * kMicrosPerSecond;

ExpectedMsg TextMsg(const std::string& text) {
  return {.urn = "wechat:1234", .text = text, .external_id = "123456", .received_on = kCreated};
}

MockResponse TokenOk(const std::string& token = kToken, const std::string& expires_in = "7200") {
  return {.body = R"({"access_token":")" + token + R"(","expires_in":)" + expires_in + "}"};
}
MockResponse SendOk(const std::string& = "") { return {.body = R"({"errcode":0,"errmsg":"ok"})"}; }
MockResponse WeChatError(int code, const std::string& message) {
  return {.body = R"({"errcode":)" + std::to_string(code) + R"(,"errmsg":")" + message + R"("})"};
}

ExpectedRequest TokenRequest() {
  return {.method = "GET",
          .path = kTokenPath,
          .params = {{"appid", kAppId}, {"grant_type", "client_credential"}, {"secret", kAppSecret}},
          .headers = {{"accept", "application/json"}}};
}

ExpectedRequest SendRequest(const std::string& content, const std::string& token = kToken) {
  return {.path = kSendPath,
          .params = {{"access_token", token}},
          .headers = {{"content-type", "application/json"}, {"accept", "application/json"}},
          .body = R"({"msgtype":"text","touser":"12345","text":{"content":")" + content + R"("}})"};
}

WebhookResult ReceiveDirect(const WeChatHandler& h, const Channel& channel, const std::string& method,
                            const std::string& query, const std::string& body) {
  Route route{method, "receive", RouteKind::kReceive};
  auto request = WebhookRequest::Build(method, "/c/wc/" + channel.uuid + "/receive?" + query,
                                       {{"content-type", "text/xml"}}, body, kTestBaseUrl, "receive");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  return h.Receive(route, channel, request, ctx);
}

TEST(WeChatHandler, Routes) {
  WeChatHandler h;
  EXPECT_EQ(h.Code(), "WC");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  // The channel's root, WeChat's one URL, and "receive" for accounts set
  // up before courier served the root.
  EXPECT_EQ(routes, (std::set<std::string>{"GET ", "POST ", "GET receive", "POST receive"}));
  EXPECT_EQ(RouteSummary(h), (std::vector<std::string>{"GET|POST /c/wc/{uuid}", "GET|POST receive"}));
}

TEST(WeChatHandler, VerifyUrl) {
  WeChatHandler h;
  const std::string signed_query = std::string(kSignedQuery) + "&echostr=SU1Z7Y";
  RunReceiveCases(h, WcChannel(), {
      {.label = "signed: the echostr", .method = "GET", .action = "receive", .query = signed_query,
       .content_type = "", .response_body = "SU1Z7Y"},
      {.label = "signature in upper case", .method = "GET", .action = "receive",
       .query = "signature=7BD614A8267C401F8CB599A1680744A07F6463F9&timestamp=1518430722&nonce=nonce1&echostr=SU1Z7Y",
       .content_type = "", .response_body = "SU1Z7Y"},
      {.label = "wrong signature", .method = "GET", .action = "receive",
       .query = "signature=0000000000000000000000000000000000000000&timestamp=1518430722&nonce=nonce1&echostr=SU1Z7Y",
       .content_type = "", .error = "unknown request"},
      {.label = "another nonce", .method = "GET", .action = "receive",
       .query = "signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430722&nonce=nonce2&echostr=SU1Z7Y",
       .content_type = "", .error = "unknown request"},
      {.label = "no signature", .method = "GET", .action = "receive", .query = "timestamp=1518430722&nonce=nonce1&echostr=x",
       .content_type = "", .error = "unknown request"},
      {.label = "no echostr", .method = "GET", .action = "receive", .query = kSignedQuery, .content_type = "",
       .error = "field 'echostr' required"},
      {.label = "no secret", .method = "GET", .action = "receive", .query = signed_query, .content_type = "",
       .error = "no secret set for WC channel",
       .setup = [](Channel& c, MockProvider&) { c.config.erase("secret"); }},
  });

  // WeChat's answer is plain text, and a failed check is its 400, not 401.
  WebhookResult ok = ReceiveDirect(h, WcChannel(), "GET", signed_query, "");
  ASSERT_TRUE(ok.response_body.has_value());
  EXPECT_EQ(ok.response_content_type, "text/plain");
  WebhookResult refused = ReceiveDirect(h, WcChannel(), "GET", "signature=00&timestamp=1&nonce=2&echostr=x", "");
  EXPECT_FALSE(refused.unauthorized);
}

TEST(WeChatHandler, Receive) {
  WeChatHandler h;
  const std::string located = MediaPush("location",
                                        "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y>"
                                        "<Scale>20</Scale><Label><![CDATA[Guangzhou Tower]]></Label>");
  RunReceiveCases(h, WcChannel(), {
      [&] { auto c = PushCase("text", TextPush()); c.msgs = {TextMsg("Simple Message")}; return c; }(),
      [&] { auto c = PushCase("unicode", TextPush("你好 ☺")); c.msgs = {TextMsg("你好 ☺")}; return c; }(),
      [&] {
        auto c = PushCase("pretty-printed, not CDATA",
                          "<xml>\n  <ToUserName>gh_wechat</ToUserName>\n  <FromUserName> 1234 </FromUserName>\n"
                          "  <CreateTime>1518774424</CreateTime>\n  <MsgType>text</MsgType>\n"
                          "  <Content>a &amp; b</Content>\n  <MsgId>123456</MsgId>\n</xml>\n");
        c.msgs = {TextMsg("a & b")};
        return c;
      }(),
      [&] {
        auto c = PushCase("no CreateTime: received now",
                          Push("<FromUserName>1234</FromUserName><MsgType>text</MsgType><Content>hi</Content>"
                               "<MsgId>9</MsgId>"));
        c.msgs = {{.urn = "wechat:1234", .text = "hi", .external_id = "9", .no_received_on = true}};
        return c;
      }(),
      [&] {
        auto c = PushCase("image", MediaPush("image", "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
                                                      "<MediaId><![CDATA[media-12_ab]]></MediaId>"));
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456",
                   .attachments = {std::string(kMediaUrl) + "media-12_ab"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("voice", MediaPush("voice", "<MediaId>v-1</MediaId><Format>amr</Format>"));
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456", .attachments = {std::string(kMediaUrl) + "v-1"},
                   .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("video", MediaPush("video", "<MediaId>vid-1</MediaId><ThumbMediaId>t</ThumbMediaId>"));
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456",
                   .attachments = {std::string(kMediaUrl) + "vid-1"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("shortvideo", MediaPush("shortvideo", "<MediaId>sv-1</MediaId>"));
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456",
                   .attachments = {std::string(kMediaUrl) + "sv-1"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("media id escaped in the URL", MediaPush("image", "<MediaId>a b&amp;c</MediaId>"));
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456",
                   .attachments = {std::string(kMediaUrl) + "a%20b%26c"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("media URL follows base_url", MediaPush("image", "<MediaId>m-1</MediaId>"));
        c.setup = [](Channel&, MockProvider&) {};
        c.msgs = {{.urn = "wechat:1234", .external_id = "123456",
                   .attachments = {"{{mock}}/cgi-bin/media/get?media_id=m-1"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("location", located);
        c.msgs = {{.urn = "wechat:1234", .text = "Guangzhou Tower", .external_id = "123456",
                   .attachments = {"geo:23.134521,113.358803"}, .received_on = kCreated}};
        return c;
      }(),
      [&] {
        auto c = PushCase("subscribe: a new conversation", EventPush("subscribe"));
        c.events = {{.type = ChannelEventType::kNewConversation, .urn = "wechat:1234", .occurred_on = kCreated}};
        return c;
      }(),
      [&] { auto c = PushCase("unsubscribe: ignored", EventPush("unsubscribe")); c.ignored = "unknown event type"; return c; }(),
      [&] { auto c = PushCase("menu click: ignored", EventPush("CLICK")); c.ignored = "unknown event type"; return c; }(),
      [&] {
        auto c = PushCase("no FromUserName",
                          Push("<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>"));
        c.error = "request XML doesn't match required schema: field 'FromUserName' required";
        return c;
      }(),
      [&] {
        auto c = PushCase("no MsgType", Push("<FromUserName>1234</FromUserName><MsgId>1</MsgId>"));
        c.error = "request XML doesn't match required schema: field 'MsgType' required";
        return c;
      }(),
      [&] {
        auto c = PushCase("neither", Push("<Content>hi</Content><MsgId>1</MsgId>"));
        c.error = "field 'FromUserName' required; field 'MsgType' required";
        return c;
      }(),
      [&] {
        auto c = PushCase("no MsgId nor Event",
                          Push("<FromUserName>1234</FromUserName><MsgType>text</MsgType><Content>hi</Content>"));
        c.error = "missing parameters, must have either 'MsgId' or 'Event'";
        return c;
      }(),
      [&] {
        auto c = PushCase("CreateTime not a number",
                          Push("<FromUserName>1234</FromUserName><CreateTime>today</CreateTime>"
                               "<MsgType>text</MsgType><MsgId>1</MsgId>"));
        c.error = "field 'CreateTime' must be an integer";
        return c;
      }(),
      [&] {
        auto c = PushCase("image without MediaId", MediaPush("image", "<PicUrl>http://mmbiz.qpic.cn/x</PicUrl>"));
        c.error = "field 'MediaId' required for a image msg";
        return c;
      }(),
      [&] {
        auto c = PushCase("location without coordinates", MediaPush("location", "<Label>x</Label>"));
        c.error = "field 'Location_X' must be a number";
        return c;
      }(),
      [&] { auto c = PushCase("not XML", "{\"FromUserName\":\"1234\"}"); c.error = "unable to parse request XML"; return c; }(),
      [&] { auto c = PushCase("cut short", "<xml><FromUserName>1234</FromUser"); c.error = "unable to parse request XML"; return c; }(),
      [&] { auto c = PushCase("empty body", ""); c.error = "unable to parse request XML"; return c; }(),
      [&] {
        auto c = PushCase("encrypted push (safe mode)", Push("<Encrypt><![CDATA[bm90IHJlYWQ=]]></Encrypt>"));
        c.error = "field 'FromUserName' required";
        return c;
      }(),
      [&] {
        auto c = PushCase("internal entities (billion laughs)",
                          "<?xml version=\"1.0\"?>\n<!-- a comment first -->\n<!DOCTYPE xml [<!ENTITY a \"aaaaaaaaaa\">"
                          "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>" +
                              TextPush("&c;"));
        c.error = "a DOCTYPE is not allowed";
        return c;
      }(),
      [&] {
        auto c = PushCase("too large", TextPush(std::string(70000, 'x')));
        c.error = "request XML larger than 65536 bytes";
        return c;
      }(),
      [&] {
        auto c = PushCase("push without signature", TextPush());
        c.query = "timestamp=1518430722&nonce=nonce1&openid=1234";
        c.error = "missing request signature";
        c.unauthorized = true;
        return c;
      }(),
      [&] {
        auto c = PushCase("push with a wrong signature", TextPush());
        c.query = "signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430723&nonce=nonce1";
        c.error = "invalid request signature";
        c.unauthorized = true;
        return c;
      }(),
      [&] {
        auto c = PushCase("push to a channel without secret", TextPush());
        c.setup = [](Channel& channel, MockProvider&) { channel.config.erase("secret"); };
        c.error = "no secret set for WC channel";
        return c;
      }(),
  });
}

// WeChat passes any other body on to the user as the account's reply.
TEST(WeChatHandler, PushesAreAnsweredWithAnEmptyBody) {
  WeChatHandler h;
  for (const std::string& body : {TextPush(), EventPush("subscribe"), EventPush("unsubscribe")}) {
    SCOPED_TRACE(body);
    WebhookResult r = ReceiveDirect(h, WcChannel(), "POST", kSignedQuery, body);
    EXPECT_EQ(r.error, "");
    ASSERT_TRUE(r.response_body.has_value());
    EXPECT_EQ(*r.response_body, "");
  }
}

// A DOCTYPE naming a file: refused, and the file never read.
TEST(WeChatHandler, ExternalEntitiesAreNeverRead) {
  WeChatHandler h;
  ScratchDir dir;
  const std::string path = dir.path() + "/outside.txt";
  const std::string marker = "MARKER-outside-the-body-8c1f";
  std::ofstream(path) << marker;
  for (const std::string& doctype :
       {"<!DOCTYPE xml [<!ENTITY outside SYSTEM \"file://" + path + "\">]>",
        "<!DOCTYPE xml SYSTEM \"file://" + path + "\">",
        "<!DOCTYPE xml [<!ENTITY % outside SYSTEM \"file://" + path + "\"> %outside;]>"}) {
    SCOPED_TRACE(doctype);
    WebhookResult r = ReceiveDirect(h, WcChannel(), "POST", kSignedQuery, doctype + TextPush("&outside;"));
    EXPECT_NE(r.error.find("a DOCTYPE is not allowed"), std::string::npos) << r.error;
    EXPECT_TRUE(r.msgs.empty());
    EXPECT_EQ(r.error.find(marker), std::string::npos);
  }
}

TEST(WeChatHandler, Send) {
  WeChatHandler h;
  const std::string long_text = std::string(1600, 'a') + " tail";
  RunSendCases(h, WcChannel(), {
      {.label = "plain send: W, no id", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()}},
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "unicode", .text = "你好 ☺", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()}},
       .requests = {TokenRequest(), SendRequest("你好 ☺")}},
      {.label = "long text: one token, two parts", .text = long_text, .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()}, {kSendPath, SendOk()}},
       .requests = {TokenRequest(), SendRequest(std::string(1600, 'a')), SendRequest("tail")}},
      {.label = "max_length", .text = "Hello World", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()}, {kSendPath, SendOk()}},
       .requests = {TokenRequest(), SendRequest("Hello"), SendRequest("World")},
       .setup = [](Channel& c) { c.config["max_length"] = "6"; }},
      {.label = "attachment as a link", .text = "My pic!", .urn = "wechat:12345",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()}},
       .requests = {TokenRequest(), SendRequest("My pic!\\nhttps://foo.bar/image.jpg")}},
      {.label = "an answer without errcode: W", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.body = "{}"}}},
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "errcode -1 (system busy): E", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, WeChatError(-1, "system error")}},
       .status = MsgStatus::kErrored, .error = "WeChat refused the msg: errcode -1 (system error)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "errcode 45009 (daily quota): E", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, WeChatError(45009, "reach max api daily quota limit")}},
       .status = MsgStatus::kErrored, .error = "errcode 45009 (reach max api daily quota limit)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "errcode 45015 (window over): F", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, WeChatError(45015, "response out of time limit or subscription is canceled")}},
       .status = MsgStatus::kFailed,
       .error = "WeChat refused the msg: errcode 45015 (response out of time limit or subscription is canceled)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "errcode 45047 (too many replies): F", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, WeChatError(45047, "out of response count limit")}},
       .status = MsgStatus::kFailed, .error = "errcode 45047 (out of response count limit)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "errcode as a string", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.body = R"({"errcode":"43004","errmsg":"require subscribe"})"}}},
       .status = MsgStatus::kFailed, .error = "errcode 43004 (require subscribe)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "a token just fetched refused (40001): F, not fetched again", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, WeChatError(40001, "invalid credential")}},
       .status = MsgStatus::kFailed, .error = "errcode 40001 (invalid credential)",
       .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "second part refused: F after the first", .text = "Hello World", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk()},
                     {kSendPath, WeChatError(45047, "out of response count limit")}},
       .status = MsgStatus::kFailed, .error = "45047",
       .requests = {TokenRequest(), SendRequest("Hello"), SendRequest("World")},
       .setup = [](Channel& c) { c.config["max_length"] = "6"; }},
      {.label = "send 500: E", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "500", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "send 429: throttled", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 429, .headers = {{"Retry-After", "30"}}}}},
       .status = MsgStatus::kErrored, .requests = {TokenRequest(), SendRequest("Simple Message")},
       .throttled_for_seconds = 30},
      {.label = "send 404: F", .urn = "wechat:12345",
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.status = 404, .body = "not found"}}},
       .status = MsgStatus::kFailed, .error = "404", .requests = {TokenRequest(), SendRequest("Simple Message")}},
      {.label = "token refused in the body: E with WeChat's reason, nothing sent", .urn = "wechat:12345",
       .responses = {{kTokenPath, WeChatError(40013, "invalid appid")}}, .status = MsgStatus::kErrored,
       .error = "access token request refused: errcode 40013 (invalid appid)", .requests = {TokenRequest()}},
      {.label = "token answer without token or errcode: E", .urn = "wechat:12345",
       .responses = {{kTokenPath, {.body = R"({"expires_in":7200})"}}}, .status = MsgStatus::kErrored,
       .error = "no access_token in WeChat's token answer", .requests = {TokenRequest()}},
      {.label = "token endpoint down: E", .urn = "wechat:12345",
       .responses = {{kTokenPath, {.status = 503, .body = "unavailable", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "access token request refused (HTTP 503)", .requests = {TokenRequest()}},
      {.label = "token endpoint throttles: re-queued", .urn = "wechat:12345",
       .responses = {{kTokenPath, {.status = 429, .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {TokenRequest()}, .throttled_for_seconds = 12},
      {.label = "token endpoint 403: F", .urn = "wechat:12345",
       .responses = {{kTokenPath, {.status = 403, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "access token request refused (HTTP 403)", .requests = {TokenRequest()}},
      {.label = "no app id", .status = MsgStatus::kErrored, .error = "no wechat_app_id set for WC channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("wechat_app_id"); }},
      {.label = "no app secret", .status = MsgStatus::kErrored, .error = "no wechat_app_secret set for WC channel",
       .logs = 1, .setup = [](Channel& c) { c.config.erase("wechat_app_secret"); }},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "no text or attachments",
       .logs = 1},
  });
}

// The app secret goes to WeChat in the token request's query string, and
// WeChat's answers may carry the token: neither reaches a log.
TEST(WeChatHandler, NeitherAppSecretNorTokenIsLogged) {
  WeChatHandler h;
  MockProvider provider;
  provider.On(kTokenPath, TokenOk());
  provider.On(kSendPath, WeChatError(40001, "invalid credential, access_token is invalid: " + kToken));
  provider.On(kTokenPath, TokenOk(kToken + "-2"));
  provider.On(kSendPath, SendOk());
  provider.On(kSendPath, SendOk());
  Channel channel = WcChannel();
  channel.config["base_url"] = provider.url();
  ManualClock clock(1'700'000'000LL * kMicrosPerSecond);
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, clock, kTestBaseUrl};
  Msg msg;
  msg.id = 1;
  msg.urn = "wechat:12345";
  msg.text = "hi";
  SendResult first = h.Send(channel, msg, ctx);  // fresh token refused: F
  EXPECT_EQ(first.status, MsgStatus::kFailed);
  msg.id = 2;
  SendResult second = h.Send(channel, msg, ctx);  // nothing cached: a new token
  EXPECT_EQ(second.status, MsgStatus::kWired) << second.error;
  SendResult third = h.Send(channel, msg, ctx);  // the cached one
  EXPECT_EQ(third.status, MsgStatus::kWired) << third.error;
  ASSERT_EQ(provider.requests().size(), 5u);
  EXPECT_EQ(provider.requests()[4].params["access_token"], kToken + "-2");
  for (const SendResult* r : {&first, &second, &third}) {
    access_token_detail::ExpectNotLogged(*r, kAppSecret);
    access_token_detail::ExpectNotLogged(*r, kToken);
  }
  ASSERT_FALSE(first.logs.empty());
  EXPECT_NE(first.logs[0].url.find("secret=********"), std::string::npos) << first.logs[0].url;
}

// courier-fetch downloads WeChat's media with the channel's token, bought
// once and reused; a URL elsewhere gets no token, and a token that cannot
// be had fails the attempt (to be retried) with the token request's log.
TEST(WeChatHandler, MediaDownloadsCarryTheAccessToken) {
  WeChatHandler h;
  MockProvider provider;
  provider.On(kTokenPath, WeChatError(40013, "invalid appid"));
  provider.On(kTokenPath, TokenOk());
  Channel channel = WcChannel();
  channel.config["base_url"] = provider.url();
  ManualClock clock(1'700'000'000LL * kMicrosPerSecond);
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, clock, kTestBaseUrl};
  const std::string media = provider.url() + "/cgi-bin/media/get?media_id=MID-1";

  std::vector<ChannelLog> logs;
  auto refused = h.MediaRequestWithToken(channel, media, ctx, logs);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("errcode 40013"), std::string::npos) << refused.status().message();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].description, "Access Token Requested");

  logs.clear();
  auto first = h.MediaRequestWithToken(channel, media, ctx, logs);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->method, "GET");
  EXPECT_EQ(first->url, media + "&access_token=" + kToken);
  auto second = h.MediaRequestWithToken(channel, media, ctx, logs);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->url, first->url);
  EXPECT_EQ(provider.requests().size(), 2u);  // one refused token request, one token
  for (const auto& log : logs) EXPECT_EQ(log.response.find(kToken), std::string::npos) << log.response;

  auto elsewhere = h.MediaRequestWithToken(channel, "https://cdn.example.com/a.jpg", ctx, logs);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_EQ(elsewhere->url, "https://cdn.example.com/a.jpg");
  EXPECT_EQ(provider.requests().size(), 2u);
}

// --- the access token ------------------------------------------------------------

TEST(WeChatHandler, AccessToken) {
  RunAccessTokenCases({
      .make_handler = [] { return std::make_unique<WeChatHandler>(); },
      .channel = WcChannel(),
      .credential_key = "wechat_app_secret",
      .urn = "wechat:12345",
      .token_path = kTokenPath,
      .send_path = kSendPath,
      .token_ok = TokenOk,
      .send_ok = SendOk,
      .expires_in_600 = "600",
      .expires_in_none = "0",
      .fallback_lifetime = 7200,
      .token_refused = WeChatError(40125, "invalid appsecret"),
      .token_refused_status = MsgStatus::kErrored,
      .token_refused_error = "access token request refused: errcode 40125 (invalid appsecret)",
      .sent_token = [](const RecordedRequest& r) {
        auto token = r.params.find("access_token");
        return token == r.params.end() ? std::string() : token->second;
      },
      .send_refuses_token = WeChatError(42001, "access_token expired"),
      .send_gives_id = false,
  });
}

}  // namespace
