// D3C — 360Dialog: receive (text, media through 360Dialog's host,
// interactive replies, statuses, errors) and send (Cloud API bodies with
// the D360-API-KEY header, split text, media, errors, throttling).
#include "handlers/dialog360.h"

#include "handler_harness.h"
#include "webhook_token_cases.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kKey = "d360-key-7f3c9a1b2e";
const char* kJson = "application/json";
const std::string kLookasidePath = "/whatsapp_business/attachments/?mid=1234&ext=99&hash=ATx";

Channel D3cChannel() { return TestChannel("D3C", "250788383383", "", {{"api_key", kKey}}, {"whatsapp"}); }

ReceiveCase Json(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  return c;
}

std::string Value(const std::string& value) {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"8856996819413533","changes":[{"value":{)"
         R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"+250 788 383 383","phone_number_id":"8548"},)" +
         value + R"(},"field":"messages"}]}]})";
}

std::string MsgBody(const std::string& fields, const std::string& id = "external_id") {
  return Value(R"("contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"5678"}],)"
               R"("messages":[{"from":"5678","id":")" + id + R"(","timestamp":"1454119029",)" + fields + "}]");
}

std::string StatusBody(const std::string& status, const std::string& id = "wamid.S1") {
  return Value(R"("statuses":[{"id":")" + id + R"(","status":")" + status +
               R"(","timestamp":"1454119029","recipient_id":"5678"}])");
}

const Micros kDate = 1454119029 * kMicrosPerSecond;

std::function<void(Channel&, MockProvider&)> Media(const std::string& id, MockResponse response) {
  return [id, response](Channel&, MockProvider& p) { p.On("/" + id, response); };
}

MockResponse MediaAnswer(const std::string& mime) {
  return {.body = R"({"messaging_product":"whatsapp","url":"https://lookaside.fbsbx.com)" + kLookasidePath +
                  R"(","mime_type":")" + mime + R"(","sha256":"abc","file_size":"303833","id":"x"})"};
}

TEST(Dialog360Handler, Basics) {
  Dialog360Handler h;
  EXPECT_EQ(h.Code(), "D3C");
  EXPECT_EQ(h.Name(), "360Dialog");
  auto routes = h.Routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].action, "receive");
}

TEST(Dialog360Handler, Receive) {
  Dialog360Handler h;
  const std::string urn = "whatsapp:5678";
  RunReceiveCases(h, D3cChannel(), {
      Json({.label = "text", .body = MsgBody(R"("type":"text","text":{"body":"Hello World"})"),
            .msgs = {{.urn = urn, .text = "Hello World", .external_id = "external_id",
                      .contact_name = "Kerry Fisher", .received_on = kDate}}}),
      Json({.label = "unicode", .body = MsgBody(R"("type":"text","text":{"body":"Muraho \u263a \ud83c\uddf7\ud83c\uddfc"})"),
            .msgs = {{.urn = urn, .text = "Muraho ☺ 🇷🇼", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "no contacts: no name",
            .body = Value(R"("messages":[{"from":"5678","id":"e2","timestamp":"1454119029","type":"text","text":{"body":"hi"}}])"),
            .msgs = {{.urn = urn, .text = "hi", .external_id = "e2"}}}),
      Json({.label = "location", .body = MsgBody(R"("type":"location","location":{"latitude":0.3476,"longitude":32.5825,"name":"Kampala"})"),
            .msgs = {{.urn = urn, .text = "Kampala", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"geo:0.3476,32.5825"}}}}),
      Json({.label = "template button", .body = MsgBody(R"("type":"button","button":{"text":"No","payload":"p"})"),
            .msgs = {{.urn = urn, .text = "No", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "button reply",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"0","title":"Yes"}})"),
            .msgs = {{.urn = urn, .text = "Yes", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "list reply",
            .body = MsgBody(R"("type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"1","title":"Row"}})"),
            .msgs = {{.urn = urn, .text = "Row", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "contacts",
            .body = MsgBody(R"("type":"contacts","contacts":[{"name":{"formatted_name":"Bob"},"phones":[{"phone":"+1 415"}]}])"),
            .msgs = {{.urn = urn, .text = "Bob (+1 415)", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Json({.label = "image through 360dialog's host",
            .body = MsgBody(R"("type":"image","image":{"caption":"pic","mime_type":"image/jpeg","id":"id_image"})"),
            .msgs = {{.urn = urn, .text = "pic", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"image/jpeg:{{mock}}" + kLookasidePath}}},
            .setup = Media("id_image", MediaAnswer("image/jpeg")), .extra_logs = 1}),
      Json({.label = "voice note: MIME parameters dropped",
            .body = MsgBody(R"("type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","id":"id_audio","voice":true})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"audio/ogg:{{mock}}" + kLookasidePath}}},
            .setup = Media("id_audio", MediaAnswer("audio/ogg; codecs=opus")), .extra_logs = 1}),
      Json({.label = "document", .body = MsgBody(R"("type":"document","document":{"mime_type":"application/pdf","id":"id_doc"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"application/pdf:{{mock}}" + kLookasidePath}}},
            .setup = Media("id_doc", MediaAnswer("application/pdf")), .extra_logs = 1}),
      // Read as WAC reads them (whatsapp_cloud.h): the same rows in meta_test.
      Json({.label = "voice type (On-Premises shape) is media",
            .body = MsgBody(R"("type":"voice","voice":{"mime_type":"audio/ogg; codecs=opus","id":"id_voice"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"audio/ogg:{{mock}}" + kLookasidePath}}},
            .setup = Media("id_voice", MediaAnswer("audio/ogg")), .extra_logs = 1}),
      Json({.label = "numeric media id",
            .body = MsgBody(R"("type":"image","image":{"mime_type":"image/jpeg","id":1234567})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"image/jpeg:{{mock}}" + kLookasidePath}}},
            .setup = Media("1234567", MediaAnswer("image/jpeg")), .extra_logs = 1}),
      Json({.label = "upper-case media type lower-cased",
            .body = MsgBody(R"("type":"document","document":{"mime_type":"Application/PDF","id":"id_up"})"),
            .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                      .attachments = {"application/pdf:{{mock}}" + kLookasidePath}}},
            .setup = Media("id_up", MediaAnswer("Application/PDF")), .extra_logs = 1}),
      Json({.label = "fractional timestamp: the fraction dropped",
            .body = Value(R"("messages":[{"from":"5678","id":"e3","timestamp":1454119029.75,"type":"text","text":{"body":"hi"}}])"),
            .msgs = {{.urn = urn, .text = "hi", .external_id = "e3", .received_on = kDate}}}),
      Json({.label = "media lookup refused", .body = MsgBody(R"("type":"image","image":{"id":"gone"})"),
            .error = "error retrieving media: received non 200 status: 404",
            .setup = Media("gone", {.status = 404, .body = "{}"}), .extra_logs = 1}),
      Json({.label = "media lookup without url", .body = MsgBody(R"("type":"image","image":{"id":"odd"})"),
            .error = "no 'url' in media lookup response", .setup = Media("odd", {.body = R"({"id":"odd"})"}),
            .extra_logs = 1}),
      Json({.label = "reaction ignored", .body = MsgBody(R"("type":"reaction","reaction":{"message_id":"x","emoji":"x"})"),
            .ignored = "ignoring message of type 'reaction'"}),
      Json({.label = "other field ignored",
            .body = R"({"object":"whatsapp_business_account","entry":[{"changes":[{"value":{},"field":"account_update"}]}]})",
            .ignored = "ignoring change of field 'account_update'"}),
      Json({.label = "other object ignored", .body = R"({"object":"page","entry":[]})", .ignored = "ignoring object 'page'"}),
      Json({.label = "no object", .body = R"({"entry":[]})", .error = "field 'object' required"}),
      Json({.label = "no entry", .body = R"({"object":"whatsapp_business_account"})", .error = "field 'entry' required"}),
      Json({.label = "no from", .body = Value(R"("messages":[{"id":"e","type":"text","text":{"body":"x"}}])"),
            .error = "field 'messages.from' required"}),
      Json({.label = "no id", .body = Value(R"("messages":[{"from":"5678","type":"text","text":{"body":"x"}}])"),
            .error = "field 'messages.id' required"}),
      Json({.label = "image without id", .body = MsgBody(R"("type":"image","image":{"mime_type":"image/jpeg"})"),
            .error = "field 'messages.image.id' required"}),
      Json({.label = "malformed JSON", .body = "{nope", .error = "unable to parse request JSON"}),
  });
}

TEST(Dialog360Handler, Statuses) {
  Dialog360Handler h;
  RunReceiveCases(h, D3cChannel(), {
      Json({.label = "sent", .body = StatusBody("sent"), .statuses = {{.status = MsgStatus::kSent, .external_id = "wamid.S1"}}}),
      Json({.label = "delivered", .body = StatusBody("delivered"),
            .statuses = {{.status = MsgStatus::kDelivered, .external_id = "wamid.S1"}}}),
      Json({.label = "read", .body = StatusBody("read"), .statuses = {{.status = MsgStatus::kRead, .external_id = "wamid.S1"}}}),
      Json({.label = "failed", .body = StatusBody("failed"),
            .statuses = {{.status = MsgStatus::kFailed, .external_id = "wamid.S1"}}}),
      Json({.label = "deleted: 200, ignored", .body = StatusBody("deleted"), .ignored = "ignoring status 'deleted'"}),
      Json({.label = "unknown status: 200, ignored", .body = StatusBody("bogus"),
            .ignored = "ignoring unknown status 'bogus'"}),
      Json({.label = "deleted beside others: the others taken",
            .body = Value(R"("statuses":[{"id":"wamid.A","status":"deleted"},{"id":"wamid.B","status":"read"}],)"
                          R"("messages":[{"from":"5678","id":"e9","timestamp":"1","type":"text","text":{"body":"x"}}])"),
            .msgs = {{.urn = "whatsapp:5678", .text = "x", .external_id = "e9"}},
            .statuses = {{.status = MsgStatus::kRead, .external_id = "wamid.B"}}}),
      Json({.label = "no id", .body = Value(R"("statuses":[{"status":"sent"}])"), .error = "field 'statuses.id' required"}),
      Json({.label = "no status", .body = Value(R"("statuses":[{"id":"x"}])"), .error = "field 'statuses.status' required"}),
  });
}

// A failed media lookup is a passing fault: answered 503 so 360Dialog
// sends the webhook again; bad data is not.
TEST(Dialog360Handler, MediaLookupFailureIsTemporary) {
  MockProvider provider;
  provider.SetDefault({.status = 502, .body = "bad gateway"});
  Dialog360Handler h;
  Channel channel = D3cChannel();
  channel.config["base_url"] = provider.url();
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto receive = [&](const std::string& body) {
    auto request = WebhookRequest::Build("POST", "/c/d3c/" + channel.uuid + "/receive", {{"content-type", kJson}},
                                         body, kTestBaseUrl, "receive");
    return h.Receive(h.Routes()[0], channel, request, ctx);
  };
  auto media = receive(MsgBody(R"("type":"image","image":{"id":"m1"})"));
  EXPECT_NE(media.error.find("error retrieving media"), std::string::npos) << media.error;
  EXPECT_TRUE(media.temporary);
  auto bad = receive(Value(R"("messages":[{"id":"e","type":"text","text":{"body":"x"}}])"));
  EXPECT_EQ(bad.error, "field 'messages.from' required");
  EXPECT_FALSE(bad.temporary);
}

// The lookup itself: GET /<media id> with the API key header, logged
// without the key.
TEST(Dialog360Handler, MediaLookupRequest) {
  MockProvider provider;
  provider.SetDefault(MediaAnswer("image/jpeg"));
  Dialog360Handler h;
  Channel channel = D3cChannel();
  channel.config["base_url"] = provider.url();
  const std::string body = MsgBody(R"("type":"image","image":{"mime_type":"image/jpeg","id":"1234567"})");
  auto request = WebhookRequest::Build("POST", "/c/d3c/" + channel.uuid + "/receive/", {{"content-type", kJson}}, body,
                                       kTestBaseUrl, "receive");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto r = h.Receive(h.Routes()[0], channel, request, ctx);
  ASSERT_EQ(r.error, "");
  auto requests = provider.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/1234567");
  EXPECT_EQ(requests[0].headers["d360-api-key"], kKey);
  ASSERT_EQ(r.extra_logs.size(), 1u);
  EXPECT_EQ(r.extra_logs[0].request.find(kKey), std::string::npos);
}

MockResponse Ok(const std::string& id) {
  return {.body = R"({"messaging_product":"whatsapp","contacts":[{"input":"250788383383","wa_id":"250788383383"}],"messages":[{"id":")" +
                  id + R"("}]})"};
}

MockResponse MetaError(int status, int code, const std::string& message) {
  return {.status = status,
          .body = R"({"error":{"message":")" + message + R"(","type":"OAuthException","code":)" + std::to_string(code) + "}}"};
}

std::string TextBody(const std::string& text) {
  return R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383","type":"text","text":{"body":")" +
         text + R"(","preview_url":false}})";
}

TEST(Dialog360Handler, Send) {
  Dialog360Handler h;
  const std::string urn = "whatsapp:250788383383";
  const std::map<std::string, std::string> headers = {{"content-type", "application/json"}, {"d360-api-key", kKey}};
  const std::string long_text = std::string(4000, 'a') + " " + std::string(200, 'b');
  RunSendCases(h, D3cChannel(), {
      {.label = "text", .urn = urn, .responses = {{"/messages", Ok("wamid.1")}}, .external_id = "wamid.1",
       .requests = {{.path = "/messages", .headers = headers, .body = TextBody("Simple Message")}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{"/messages", Ok("wamid.2")}},
       .external_id = "wamid.2", .requests = {{.path = "/messages", .body = TextBody("Muraho ☺")}}},
      {.label = "auth_token accepted as the key", .urn = urn, .responses = {{"/messages", Ok("wamid.3")}},
       .external_id = "wamid.3", .requests = {{.path = "/messages", .headers = {{"d360-api-key", "tok-abc123"}}}},
       .setup = [](Channel& c) {
         c.config.erase("api_key");
         c.config["auth_token"] = "tok-abc123";
       }},
      // 360Dialog relays the Cloud API: the same template message.
      {.label = "template", .urn = urn, .responses = {{"/messages", Ok("wamid.4")}}, .external_id = "wamid.4",
       .requests = {{.path = "/messages",
                     .body = R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383",)"
                             R"("type":"template","template":{"name":"welcome","language":{"policy":"deterministic",)"
                             R"("code":"rw"},"components":[{"type":"body","parameters":[{"type":"text","text":"Jane"}]}]}})"}},
       .templating = MsgTemplate{.name = "welcome", .components = {{.type = "body", .params = {{"text", "Jane", ""}}}}},
       .locale = "rw"},
      {.label = "template without a language: failed unsent", .urn = urn, .status = MsgStatus::kFailed,
       .error = "has no language", .requests = {}, .logs = 1, .templating = MsgTemplate{.name = "welcome"}},
      {.label = "long text split at 4096, first id kept", .text = long_text, .urn = urn,
       .responses = {{"/messages", Ok("wamid.10")}, {"/messages", Ok("wamid.11")}}, .external_id = "wamid.10",
       .requests = {{.path = "/messages", .body = TextBody(std::string(4000, 'a'))},
                    {.path = "/messages", .body = TextBody(std::string(200, 'b'))}}},
      {.label = "image with caption", .text = "My pic!", .urn = urn, .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{"/messages", Ok("wamid.20")}}, .external_id = "wamid.20",
       .requests = {{.path = "/messages",
                     .body = R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383",)"
                             R"("type":"image","image":{"link":"https://foo.bar/image.jpg","caption":"My pic!"}})"}}},
      {.label = "audio then text", .text = "listen", .urn = urn, .attachments = {"audio/mpeg:https://foo.bar/a.mp3"},
       .responses = {{"/messages", Ok("wamid.30")}, {"/messages", Ok("wamid.31")}}, .external_id = "wamid.30",
       .requests = {{.path = "/messages", .body_contains = {R"("audio":{"link":"https://foo.bar/a.mp3"})"}},
                    {.path = "/messages", .body = TextBody("listen")}}},
      {.label = "window closed (131047): failed", .urn = urn,
       .responses = {{"/messages", MetaError(400, 131047, "Re-engagement message")}}, .status = MsgStatus::kFailed,
       .error = "Re-engagement message (code 131047)", .requests = {{.path = "/messages"}}},
      {.label = "stopped marketing (131050): failed and stopped", .urn = urn,
       .responses = {{"/messages", MetaError(400, 131050, "Unable to deliver")}}, .status = MsgStatus::kFailed,
       .stop_contact = true, .requests = {{.path = "/messages"}}},
      {.label = "pair rate limit (131056): throttled 6s", .urn = urn,
       .responses = {{"/messages", MetaError(400, 131056, "pair rate limit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = "/messages"}}, .throttled_for_seconds = 6},
      {.label = "429 with Retry-After", .urn = urn,
       .responses = {{"/messages", {.status = 429, .body = "{}", .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = "/messages"}}, .throttled_for_seconds = 12},
      {.label = "bad key (360dialog's own answer, 401): failed", .urn = urn,
       .responses = {{"/messages", {.status = 401, .body = R"({"meta":{"success":false,"http_code":401,"developer_message":"Invalid api key"}})"}}},
       .status = MsgStatus::kFailed, .error = "Invalid api key", .requests = {{.path = "/messages"}}},
      {.label = "360dialog's endpoint rate limit (a 400): throttled a minute", .urn = urn,
       .responses = {{"/messages", {.status = 400, .body = R"({"meta":{"success":false,"http_code":400,"developer_message":"You have exceeded the endpoint rate limit."}})"}}},
       .status = MsgStatus::kErrored, .error = "endpoint rate limit", .requests = {{.path = "/messages"}},
       .throttled_for_seconds = 60},
      {.label = "invalid parameter (100, a 400): failed", .urn = urn,
       .responses = {{"/messages", MetaError(400, 100, "(#100) Invalid parameter")}}, .status = MsgStatus::kFailed,
       .error = "received error from 360dialog: (#100) Invalid parameter (code 100)", .requests = {{.path = "/messages"}}},
      {.label = "an error object in a 200: failed", .urn = urn,
       .responses = {{"/messages", MetaError(200, 131009, "(#131009) Parameter value is not valid")}},
       .status = MsgStatus::kFailed, .error = "Parameter value is not valid (code 131009)", .requests = {{.path = "/messages"}}},
      {.label = "something went wrong (131000): errored", .urn = urn,
       .responses = {{"/messages", MetaError(500, 131000, "Something went wrong")}}, .status = MsgStatus::kErrored,
       .error = "Something went wrong", .requests = {{.path = "/messages"}}},
      {.label = "service unavailable (131016) in a 400: errored", .urn = urn,
       .responses = {{"/messages", MetaError(400, 131016, "Service unavailable")}}, .status = MsgStatus::kErrored,
       .error = "Service unavailable", .requests = {{.path = "/messages"}}},
      {.label = "spam rate limit (131048): throttled a minute", .urn = urn,
       .responses = {{"/messages", MetaError(400, 131048, "Spam rate limit hit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = "/messages"}}, .throttled_for_seconds = 60},
      {.label = "server error: errored", .urn = urn, .responses = {{"/messages", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = "/messages"}}},
      {.label = "no id in answer: failed (it may have gone)", .urn = urn,
       .responses = {{"/messages", {.body = R"({"messages":[]})"}}}, .status = MsgStatus::kFailed,
       .error = "no 'messages[0].id' in response", .requests = {{.path = "/messages"}}},
      {.label = "max_length splits the text", .text = "Hello wide world", .urn = urn,
       .responses = {{"/messages", Ok("wamid.40")}, {"/messages", Ok("wamid.41")}}, .external_id = "wamid.40",
       .requests = {{.path = "/messages", .body = TextBody("Hello wide")}, {.path = "/messages", .body = TextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "no key: errored, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no api_key or auth_token set for D3C channel",
       .logs = 1, .setup = [](Channel& c) { c.config.erase("api_key"); }},
  });
}

// Dialog360 signs nothing: with a webhook_token set, a webhook must carry it.
Channel WithToken(Channel channel) {
  channel.config["webhook_token"] = kWebhookToken;
  return channel;
}

TEST(Dialog360Handler, WebhookToken) {
  Dialog360Handler h;
  RunReceiveCases(h, WithToken(D3cChannel()), WebhookTokenCases(Json({.label = "text", .body = MsgBody(R"("type":"text","text":{"body":"Hello World"})"), .msgs = {{.urn = "whatsapp:5678", .text = "Hello World", .external_id = "external_id", .contact_name = "Kerry Fisher", .received_on = kDate}}})));
}

}  // namespace
