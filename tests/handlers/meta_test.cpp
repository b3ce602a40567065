// WAC, FBA, IG — Meta: webhook verification, signatures, receive (text,
// media, interactive replies, postbacks, statuses) and send through the
// Graph API (text, split text, media, errors, throttling) tables.
#include "handlers/meta.h"

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kAppSecret = "fb-app-secret-d41d8cd98f00";
const std::string kVerifyToken = "verify-me-3f2a9c";
const std::string kToken = "EAAGm0PX4ZCpsBAKlongpagetoken123";
const char* kJson = "application/json";
const std::string kLookaside = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1234&ext=99&hash=ATx";

std::map<std::string, std::string> Config(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> c = {
      {"access_token", kToken}, {"app_secret", kAppSecret}, {"verify_token", kVerifyToken}};
  for (auto& [k, v] : extra) c[k] = v;
  return c;
}

Channel WacChannel() { return TestChannel("WAC", "12345", "", Config({{"phone_number_id", "8548"}}), {"whatsapp"}); }
Channel FbaChannel() { return TestChannel("FBA", "12345", "", Config(), {"facebook"}); }
Channel IgChannel() { return TestChannel("IG", "17841400000000001", "", Config(), {"instagram"}); }

std::string Signature(const std::string& body) { return "sha256=" + courier::HmacSha256Hex(kAppSecret, body); }

// A POST to the receive route, signed as Meta signs.
ReceiveCase Signed(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  if (!c.headers.count("x-hub-signature-256")) c.headers["x-hub-signature-256"] = Signature(c.body);
  return c;
}

// ---- WhatsApp Cloud payloads ----

std::string WacValue(const std::string& value, const std::string& phone_number_id = "8548") {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"8856996819413533","changes":[{"value":{)"
         R"("messaging_product":"whatsapp","metadata":{"display_phone_number":"+250 788 123 200","phone_number_id":")" +
         phone_number_id + R"("},)" + value + R"(},"field":"messages"}]}]})";
}

std::string WacMsg(const std::string& fields, const std::string& id = "external_id") {
  return WacValue(R"("contacts":[{"profile":{"name":"Kerry Fisher"},"wa_id":"5678"}],)"
                  R"("messages":[{"from":"5678","id":")" + id + R"(","timestamp":"1454119029",)" + fields + "}]");
}

std::string WacStatus(const std::string& status, const std::string& id = "wamid.S1") {
  return WacValue(R"("statuses":[{"id":")" + id + R"(","status":")" + status +
                  R"(","timestamp":"1454119029","recipient_id":"5678"}])");
}

const Micros kWacDate = 1454119029 * kMicrosPerSecond;

std::function<void(Channel&, MockProvider&)> Media(const std::string& id, MockResponse response) {
  return [id, response](Channel&, MockProvider& p) { p.On("/v21.0/" + id, response); };
}

MockResponse MediaAnswer(const std::string& mime) {
  return {.body = R"({"messaging_product":"whatsapp","url":")" + kLookaside + R"(","mime_type":")" + mime +
                  R"(","sha256":"abc","file_size":"303833","id":"x"})"};
}

TEST(MetaHandler, Basics) {
  MetaHandler wac(MetaHandler::Kind::kWhatsApp), fba(MetaHandler::Kind::kMessenger), ig(MetaHandler::Kind::kInstagram);
  EXPECT_EQ(wac.Code(), "WAC");
  EXPECT_EQ(fba.Code(), "FBA");
  EXPECT_EQ(ig.Code(), "IG");
  EXPECT_EQ(wac.Name(), "WhatsApp Cloud");
  EXPECT_EQ(fba.Name(), "Facebook");
  EXPECT_EQ(ig.Name(), "Instagram");
  auto routes = wac.Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].action, "receive");
  EXPECT_EQ(routes[1].method, "POST");
  EXPECT_EQ(routes[1].action, "receive");
}

// The verification challenge is the same for the three types.
std::vector<ReceiveCase> VerifyCases() {
  return {
      {.label = "verify: challenge echoed", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1158201444",
       .content_type = "", .response_body = "1158201444"},
      {.label = "verify: wrong token", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", .content_type = "",
       .error = "token does not match verify token", .unauthorized = true},
      {.label = "verify: no token", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.challenge=1158201444", .content_type = "",
       .error = "token does not match verify token", .unauthorized = true},
      {.label = "verify: other mode", .method = "GET", .action = "receive",
       .query = "hub.mode=unsubscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1", .content_type = "",
       .error = "unknown hub.mode 'unsubscribe'"},
      {.label = "verify: no mode", .method = "GET", .action = "receive",
       .query = "hub.verify_token=" + kVerifyToken + "&hub.challenge=1", .content_type = "",
       .error = "field 'hub.mode' required"},
      {.label = "verify: no challenge", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=" + kVerifyToken, .content_type = "",
       .error = "field 'hub.challenge' required"},
      {.label = "verify: webhook_secret instead of verify_token", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=other-secret&hub.challenge=42", .content_type = "",
       .response_body = "42", .setup = [](Channel& c, MockProvider&) {
         c.config.erase("verify_token");
         c.config["webhook_secret"] = "other-secret";
       }},
      {.label = "verify: no verify token configured", .method = "GET", .action = "receive",
       .query = "hub.mode=subscribe&hub.verify_token=x&hub.challenge=42", .content_type = "",
       .error = "no verify_token set", .setup = [](Channel& c, MockProvider&) { c.config.erase("verify_token"); }},
  };
}

// Signature failures, for any valid body.
std::vector<ReceiveCase> SignatureCases(const std::string& body) {
  return {
      Signed({.label = "signature: missing", .body = body, .headers = {{"x-hub-signature-256", ""}},
              .error = "missing request signature", .unauthorized = true}),
      Signed({.label = "signature: wrong secret", .body = body,
              .headers = {{"x-hub-signature-256", "sha256=" + courier::HmacSha256Hex("other", body)}},
              .error = "invalid request signature", .unauthorized = true}),
      Signed({.label = "signature: of another body", .body = body,
              .headers = {{"x-hub-signature-256", Signature(body + " ")}}, .error = "invalid request signature",
              .unauthorized = true}),
      Signed({.label = "signature: sha1 only", .body = body,
              .headers = {{"x-hub-signature-256", "sha1=" + courier::HmacSha256Hex(kAppSecret, body)}},
              .error = "invalid request signature", .unauthorized = true}),
      Signed({.label = "signature: upper-case hex accepted", .body = body,
              .headers = {{"x-hub-signature-256", [&] {
                std::string s = Signature(body);
                for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                return s;
              }()}},
              .ignored = "ignoring"}),
      Signed({.label = "signature: no app_secret configured", .body = body, .error = "no app_secret set",
              .setup = [](Channel& c, MockProvider&) { c.config.erase("app_secret"); }}),
  };
}

TEST(MetaHandler, WhatsAppVerifyAndSignature) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  RunReceiveCases(h, WacChannel(), VerifyCases());
  // A reaction is valid but ignored, so the upper-case case has something to ignore.
  RunReceiveCases(h, WacChannel(), SignatureCases(WacMsg(R"("type":"reaction","reaction":{"message_id":"m","emoji":"x"})")));
}

TEST(MetaHandler, WhatsAppReceive) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  const std::string urn = "whatsapp:5678";
  RunReceiveCases(h, WacChannel(), {
      Signed({.label = "text", .body = WacMsg(R"("type":"text","text":{"body":"Hello World"})"),
              .msgs = {{.urn = urn, .text = "Hello World", .external_id = "external_id",
                        .contact_name = "Kerry Fisher", .received_on = kWacDate}}}),
      Signed({.label = "unicode", .body = WacMsg(R"("type":"text","text":{"body":"Muraho \u263a \ud83c\uddf7\ud83c\uddfc"})"),
              .msgs = {{.urn = urn, .text = "Muraho ☺ 🇷🇼", .external_id = "external_id",
                        .contact_name = "Kerry Fisher"}}}),
      Signed({.label = "fractional timestamp: the fraction dropped", .body = WacValue(
                  R"("messages":[{"from":"5678","id":"e3","timestamp":1454119029.75,"type":"text","text":{"body":"hi"}}])"),
              .msgs = {{.urn = urn, .text = "hi", .external_id = "e3", .received_on = kWacDate}}}),
      Signed({.label = "no contacts block: no name", .body = WacValue(
                  R"("messages":[{"from":"5678","id":"e2","timestamp":"1454119029","type":"text","text":{"body":"hi"}}])"),
              .msgs = {{.urn = urn, .text = "hi", .external_id = "e2"}}}),
      Signed({.label = "two messages in one change", .body = WacValue(
                  R"("messages":[{"from":"5678","id":"e1","timestamp":"1","type":"text","text":{"body":"one"}},)"
                  R"({"from":"5679","id":"e2","timestamp":"2","type":"text","text":{"body":"two"}}])"),
              .msgs = {{.urn = urn, .text = "one", .external_id = "e1"},
                       {.urn = "whatsapp:5679", .text = "two", .external_id = "e2"}}}),
      Signed({.label = "location with name and address",
              .body = WacMsg(R"("type":"location","location":{"latitude":0.3476,"longitude":32.5825,)"
                             R"("name":"Kampala","address":"Plot 1"})"),
              .msgs = {{.urn = urn, .text = "Kampala, Plot 1", .external_id = "external_id",
                        .contact_name = "Kerry Fisher", .attachments = {"geo:0.3476,32.5825"}}}}),
      Signed({.label = "location only", .body = WacMsg(R"("type":"location","location":{"latitude":-2.890287,"longitude":-79.004333})"),
              .msgs = {{.urn = urn, .text = "-2.890287,-79.004333", .external_id = "external_id",
                        .contact_name = "Kerry Fisher", .attachments = {"geo:-2.890287,-79.004333"}}}}),
      Signed({.label = "template quick reply button",
              .body = WacMsg(R"("type":"button","button":{"text":"No","payload":"No-Button-Payload"})"),
              .msgs = {{.urn = urn, .text = "No", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Signed({.label = "interactive button reply",
              .body = WacMsg(R"("type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"0","title":"Yes"}})"),
              .msgs = {{.urn = urn, .text = "Yes", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Signed({.label = "interactive list reply",
              .body = WacMsg(R"("type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"3","title":"Row 4","description":"d"}})"),
              .msgs = {{.urn = urn, .text = "Row 4", .external_id = "external_id", .contact_name = "Kerry Fisher"}}}),
      Signed({.label = "interactive flow reply ignored",
              .body = WacMsg(R"("type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{}"}})"),
              .ignored = "ignoring interactive reply of type 'nfm_reply'"}),
      Signed({.label = "shared contact",
              .body = WacMsg(R"("type":"contacts","contacts":[{"name":{"formatted_name":"Bob Smith","first_name":"Bob"},)"
                             R"("phones":[{"phone":"+1 415 555 0100","type":"CELL"},{"wa_id":"14155550101"}]}])"),
              .msgs = {{.urn = urn, .text = "Bob Smith (+1 415 555 0100, 14155550101)", .external_id = "external_id",
                        .contact_name = "Kerry Fisher"}}}),
      Signed({.label = "reaction ignored", .body = WacMsg(R"("type":"reaction","reaction":{"message_id":"m","emoji":"x"})"),
              .ignored = "ignoring message of type 'reaction'"}),
      Signed({.label = "unsupported ignored",
              .body = WacMsg(R"("type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}])"),
              .ignored = "ignoring message of type 'unsupported'"}),
      Signed({.label = "another phone number's change", .body = WacValue(
                  R"("messages":[{"from":"5678","id":"e1","timestamp":"1","type":"text","text":{"body":"x"}}])", "9999"),
              .ignored = "ignoring change for phone number id '9999'"}),
      Signed({.label = "other field", .body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)"
                                              R"({"value":{"event":"APPROVED"},"field":"message_template_status_update"}]}]})",
              .ignored = "ignoring change of field 'message_template_status_update'"}),
      Signed({.label = "phone_number_id from the address when not configured",
              .body = WacValue(R"("messages":[{"from":"5678","id":"e1","timestamp":"1","type":"text","text":{"body":"x"}}])",
                               "12345"),
              .msgs = {{.urn = urn, .text = "x", .external_id = "e1"}},
              .setup = [](Channel& c, MockProvider&) { c.config.erase("phone_number_id"); }}),
      Signed({.label = "missing from", .body = WacValue(R"("messages":[{"id":"e1","timestamp":"1","type":"text","text":{"body":"x"}}])"),
              .error = "field 'messages.from' required"}),
      Signed({.label = "missing id", .body = WacValue(R"("messages":[{"from":"5678","timestamp":"1","type":"text","text":{"body":"x"}}])"),
              .error = "field 'messages.id' required"}),
      Signed({.label = "non-numeric from", .body = WacValue(R"("messages":[{"from":"abc","id":"e1","type":"text","text":{"body":"x"}}])"),
              .error = "invalid path for scheme 'whatsapp'"}),
      Signed({.label = "image without id", .body = WacMsg(R"("type":"image","image":{"mime_type":"image/jpeg"})"),
              .error = "field 'messages.image.id' required"}),
      Signed({.label = "location without coordinates", .body = WacMsg(R"("type":"location","location":{"name":"x"})"),
              .error = "field 'messages.location.latitude' required"}),
      Signed({.label = "malformed JSON", .body = R"({"object":"whatsapp_business_account","entry":[)",
              .error = "unable to parse request JSON"}),
      Signed({.label = "missing object", .body = R"({"entry":[]})", .error = "field 'object' required"}),
      Signed({.label = "missing entry", .body = R"({"object":"whatsapp_business_account"})",
              .error = "field 'entry' required"}),
      Signed({.label = "another product's object", .body = R"({"object":"page","entry":[]})",
              .ignored = "ignoring object 'page'"}),
      Signed({.label = "empty entry list", .body = R"({"object":"whatsapp_business_account","entry":[]})",
              .ignored = "no messages or statuses"}),
  });
}

TEST(MetaHandler, WhatsAppReceiveMedia) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  const std::string urn = "whatsapp:5678";
  RunReceiveCases(h, WacChannel(), {
      Signed({.label = "image with caption",
              .body = WacMsg(R"("type":"image","image":{"caption":"Check out my new phone!","mime_type":"image/jpeg","sha256":"x","id":"id_image"})"),
              .msgs = {{.urn = urn, .text = "Check out my new phone!", .external_id = "external_id",
                        .contact_name = "Kerry Fisher", .attachments = {"image/jpeg:" + kLookaside}}},
              .setup = Media("id_image", MediaAnswer("image/jpeg")), .extra_logs = 1}),
      Signed({.label = "voice note: MIME parameters dropped",
              .body = WacMsg(R"("type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"x","id":"id_audio","voice":true})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"audio/ogg:" + kLookaside}}},
              .setup = Media("id_audio", MediaAnswer("audio/ogg; codecs=opus")), .extra_logs = 1}),
      Signed({.label = "video",
              .body = WacMsg(R"("type":"video","video":{"mime_type":"video/mp4","id":"id_video"})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"video/mp4:" + kLookaside}}},
              .setup = Media("id_video", MediaAnswer("video/mp4")), .extra_logs = 1}),
      Signed({.label = "document with caption",
              .body = WacMsg(R"("type":"document","document":{"caption":"the report","filename":"r.pdf","mime_type":"application/pdf","id":"id_doc"})"),
              .msgs = {{.urn = urn, .text = "the report", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"application/pdf:" + kLookaside}}},
              .setup = Media("id_doc", MediaAnswer("application/pdf")), .extra_logs = 1}),
      Signed({.label = "sticker",
              .body = WacMsg(R"("type":"sticker","sticker":{"mime_type":"image/webp","id":"id_sticker","animated":false})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"image/webp:" + kLookaside}}},
              .setup = Media("id_sticker", MediaAnswer("image/webp")), .extra_logs = 1}),
      Signed({.label = "lookup without mime: the message's",
              .body = WacMsg(R"("type":"image","image":{"mime_type":"image/png","id":"id_png"})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"image/png:" + kLookaside}}},
              .setup = Media("id_png", {.body = R"({"url":")" + kLookaside + R"(","id":"id_png"})"}), .extra_logs = 1}),
      // Read as D3C reads them (whatsapp_cloud.h): the same rows in dialog360_test.
      Signed({.label = "voice type (On-Premises shape) is media",
              .body = WacMsg(R"("type":"voice","voice":{"mime_type":"audio/ogg; codecs=opus","id":"id_voice"})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"audio/ogg:" + kLookaside}}},
              .setup = Media("id_voice", MediaAnswer("audio/ogg")), .extra_logs = 1}),
      Signed({.label = "numeric media id",
              .body = WacMsg(R"("type":"image","image":{"mime_type":"image/jpeg","id":1234567})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"image/jpeg:" + kLookaside}}},
              .setup = Media("1234567", MediaAnswer("image/jpeg")), .extra_logs = 1}),
      Signed({.label = "upper-case media type lower-cased",
              .body = WacMsg(R"("type":"document","document":{"mime_type":"Application/PDF","id":"id_up"})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "external_id", .contact_name = "Kerry Fisher",
                        .attachments = {"application/pdf:" + kLookaside}}},
              .setup = Media("id_up", MediaAnswer("Application/PDF")), .extra_logs = 1}),
      Signed({.label = "lookup refused", .body = WacMsg(R"("type":"image","image":{"id":"gone"})"),
              .error = "error retrieving media: received non 200 status: 400",
              .setup = Media("gone", {.status = 400, .body = R"({"error":{"message":"Unsupported get request","code":100}})"}),
              .extra_logs = 1}),
      Signed({.label = "lookup without url", .body = WacMsg(R"("type":"image","image":{"id":"odd"})"),
              .error = "error retrieving media: no 'url' in media lookup response",
              .setup = Media("odd", {.body = R"({"id":"odd"})"}), .extra_logs = 1}),
  });
}

// What the harness cannot see: the lookup request itself and its log.
TEST(MetaHandler, WhatsAppMediaLookupRequest) {
  MockProvider provider;
  provider.SetDefault(MediaAnswer("image/jpeg"));
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  Channel channel = WacChannel();
  channel.config["base_url"] = provider.url();
  channel.config["api_version"] = "19.0";
  const std::string body = WacMsg(R"("type":"image","image":{"mime_type":"image/jpeg","id":"1234567"})");
  auto request = WebhookRequest::Build("POST", "/c/wac/" + channel.uuid + "/receive/",
                                       {{"content-type", kJson}, {"x-hub-signature-256", Signature(body)}}, body,
                                       kTestBaseUrl, "receive");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto r = h.Receive(h.Routes()[1], channel, request, ctx);
  ASSERT_EQ(r.error, "");
  auto requests = provider.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/v19.0/1234567");
  EXPECT_EQ(requests[0].headers["authorization"], "Bearer " + kToken);
  ASSERT_EQ(r.extra_logs.size(), 1u);
  EXPECT_EQ(r.extra_logs[0].description, "Media Lookup");
  EXPECT_FALSE(r.extra_logs[0].msg_id.has_value());
  EXPECT_EQ(r.extra_logs[0].request.find(kToken), std::string::npos);
}

TEST(MetaHandler, WhatsAppStatuses) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  RunReceiveCases(h, WacChannel(), {
      Signed({.label = "sent", .body = WacStatus("sent"), .statuses = {{.status = MsgStatus::kSent, .external_id = "wamid.S1"}}}),
      Signed({.label = "delivered", .body = WacStatus("delivered"),
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "wamid.S1"}}}),
      Signed({.label = "read", .body = WacStatus("read"), .statuses = {{.status = MsgStatus::kRead, .external_id = "wamid.S1"}}}),
      Signed({.label = "failed with errors", .body = WacValue(
                  R"("statuses":[{"id":"wamid.F1","status":"failed","timestamp":"1","recipient_id":"5678",)"
                  R"("errors":[{"code":131047,"title":"Re-engagement message"}]}])"),
              .statuses = {{.status = MsgStatus::kFailed, .external_id = "wamid.F1"}}}),
      Signed({.label = "two statuses", .body = WacValue(
                  R"("statuses":[{"id":"wamid.A","status":"delivered"},{"id":"wamid.B","status":"read"}])"),
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "wamid.A"},
                           {.status = MsgStatus::kRead, .external_id = "wamid.B"}}}),
      Signed({.label = "deleted: 200, ignored", .body = WacStatus("deleted"), .ignored = "ignoring status 'deleted'"}),
      Signed({.label = "a status Meta adds later: 200, ignored", .body = WacStatus("warning"),
              .ignored = "ignoring unknown status 'warning'"}),
      Signed({.label = "deleted beside others: the others taken", .body = WacValue(
                  R"("statuses":[{"id":"wamid.A","status":"deleted"},{"id":"wamid.B","status":"delivered"}],)"
                  R"("messages":[{"from":"5678","id":"e9","timestamp":"1","type":"text","text":{"body":"x"}}])"),
              .msgs = {{.urn = "whatsapp:5678", .text = "x", .external_id = "e9"}},
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "wamid.B"}}}),
      Signed({.label = "status without id", .body = WacValue(R"("statuses":[{"status":"sent"}])"),
              .error = "field 'statuses.id' required"}),
      Signed({.label = "status without status", .body = WacValue(R"("statuses":[{"id":"wamid.X"}])"),
              .error = "field 'statuses.status' required"}),
  });
}

// ---- Messenger and Instagram payloads ----

std::string Messaging(const std::string& object, const std::string& entry_id, const std::string& events) {
  return R"({"object":")" + object + R"(","entry":[{"id":")" + entry_id + R"(","time":1459991487970,"messaging":[)" +
         events + "]}]}";
}

std::string Event(const std::string& recipient, const std::string& fields, const std::string& sender = "5678") {
  return R"({"sender":{"id":")" + sender + R"("},"recipient":{"id":")" + recipient +
         R"("},"timestamp":1459991487970,)" + fields + "}";
}

std::string Fb(const std::string& fields) { return Messaging("page", "12345", Event("12345", fields)); }

const Micros kFbDate = 1459991487970LL * 1000;

TEST(MetaHandler, MessengerVerifyAndSignature) {
  MetaHandler h(MetaHandler::Kind::kMessenger);
  RunReceiveCases(h, FbaChannel(), VerifyCases());
  RunReceiveCases(h, FbaChannel(), SignatureCases(Fb(R"("read":{"watermark":1458668856253})")));
}

TEST(MetaHandler, MessengerReceive) {
  MetaHandler h(MetaHandler::Kind::kMessenger);
  const std::string urn = "facebook:5678";
  RunReceiveCases(h, FbaChannel(), {
      Signed({.label = "text", .body = Fb(R"("message":{"mid":"external_id","text":"Hello World"})"),
              .msgs = {{.urn = urn, .text = "Hello World", .external_id = "external_id", .received_on = kFbDate}}}),
      Signed({.label = "unicode", .body = Fb(R"("message":{"mid":"m2","text":"Muraho \u263a"})"),
              .msgs = {{.urn = urn, .text = "Muraho ☺", .external_id = "m2"}}}),
      Signed({.label = "quick reply: the title as text",
              .body = Fb(R"("message":{"mid":"m3","text":"Red","quick_reply":{"payload":"DEVELOPER_DEFINED_PAYLOAD"}})"),
              .msgs = {{.urn = urn, .text = "Red", .external_id = "m3"}}}),
      Signed({.label = "image attachment",
              .body = Fb(R"("message":{"mid":"m4","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/t1/123_n.png?_nc_cat=1&oh=x"}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m4",
                        .attachments = {"image/png:https://scontent.xx.fbcdn.net/v/t1/123_n.png?_nc_cat=1&oh=x"}}}}),
      Signed({.label = "image without extension, with text",
              .body = Fb(R"("message":{"mid":"m5","text":"look","attachments":[{"type":"image","payload":{"url":"https://cdn.fb/x"}}]})"),
              .msgs = {{.urn = urn, .text = "look", .external_id = "m5", .attachments = {"image/jpeg:https://cdn.fb/x"}}}}),
      Signed({.label = "voice clip in mp4 is audio",
              .body = Fb(R"("message":{"mid":"m6","attachments":[{"type":"audio","payload":{"url":"https://cdn.fb/audioclip-1.mp4?x=1"}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m6", .attachments = {"audio/mp4:https://cdn.fb/audioclip-1.mp4?x=1"}}}}),
      Signed({.label = "video and file",
              .body = Fb(R"("message":{"mid":"m7","attachments":[{"type":"video","payload":{"url":"https://cdn.fb/v.mp4"}},)"
                         R"({"type":"file","payload":{"url":"https://cdn.fb/doc.pdf"}},{"type":"file","payload":{"url":"https://cdn.fb/blob"}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m7",
                        .attachments = {"video/mp4:https://cdn.fb/v.mp4", "application/pdf:https://cdn.fb/doc.pdf",
                                        "application/octet-stream:https://cdn.fb/blob"}}}}),
      Signed({.label = "location",
              .body = Fb(R"("message":{"mid":"m8","attachments":[{"type":"location","payload":{"coordinates":{"lat":1.2,"long":-3.4}}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m8", .attachments = {"geo:1.2,-3.4"}}}}),
      Signed({.label = "shared link (fallback) only: ignored",
              .body = Fb(R"("message":{"mid":"m9","attachments":[{"type":"fallback","title":"x","payload":{"url":"https://x.y"}}]})"),
              .ignored = "ignoring message without text or attachments"}),
      Signed({.label = "postback: the title as text",
              .body = Fb(R"("postback":{"mid":"m10","title":"Yes please","payload":"YES"})"),
              .msgs = {{.urn = urn, .text = "Yes please", .external_id = "m10", .received_on = kFbDate}}}),
      Signed({.label = "Get Started: a new conversation",
              .body = Fb(R"("postback":{"mid":"m10","title":"Get Started","payload":"get_started"})"),
              .events = {{.type = ChannelEventType::kNewConversation, .urn = urn,
                          .extra = {{"title", "Get Started"}, {"payload", "get_started"}}, .occurred_on = kFbDate}}}),
      Signed({.label = "Get Started from an m.me link with a ref: a referral",
              .body = Fb(R"("postback":{"title":"Get Started","payload":"get_started",)"
                         R"("referral":{"ref":"summer","source":"SHORTLINK","type":"OPEN_THREAD"}})"),
              .events = {{.type = ChannelEventType::kReferral, .urn = urn,
                          .extra = {{"title", "Get Started"}, {"payload", "get_started"}, {"ref", "summer"},
                                    {"source", "SHORTLINK"}, {"type", "OPEN_THREAD"}}}}}),
      Signed({.label = "postback without title: the payload",
              .body = Fb(R"("postback":{"payload":"ORDER_42"})"),
              .msgs = {{.urn = urn, .text = "ORDER_42"}}}),
      Signed({.label = "delivery", .body = Fb(R"("delivery":{"mids":["mid.1458668856218:ed81099e15d3f4f233"],"watermark":1458668856253})"),
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.1458668856218:ed81099e15d3f4f233"}}}),
      Signed({.label = "delivery of two", .body = Fb(R"("delivery":{"mids":["mid.a","mid.b"],"watermark":1})"),
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.a"},
                           {.status = MsgStatus::kDelivered, .external_id = "mid.b"}}}),
      Signed({.label = "delivery without mids", .body = Fb(R"("delivery":{"watermark":1})"),
              .ignored = "ignoring delivery without message ids"}),
      Signed({.label = "read watermark only: ignored", .body = Fb(R"("read":{"watermark":1458668856253})"),
              .ignored = "ignoring read receipt without message id"}),
      Signed({.label = "echo ignored", .body = Fb(R"("message":{"mid":"m11","text":"from us","is_echo":true,"app_id":1})"),
              .ignored = "ignoring echo"}),
      Signed({.label = "referral from a link",
              .body = Fb(R"("referral":{"ref":"my_ref","source":"SHORTLINK","type":"OPEN_THREAD"})"),
              .events = {{.type = ChannelEventType::kReferral, .urn = urn,
                          .extra = {{"ref", "my_ref"}, {"source", "SHORTLINK"}, {"type", "OPEN_THREAD"}},
                          .occurred_on = kFbDate}}}),
      Signed({.label = "referral from an ad",
              .body = Fb(R"("referral":{"source":"ADS","type":"OPEN_THREAD","ad_id":6045246247433,)"
                         R"("ads_context_data":{"ad_title":"Clinic days","photo_url":"https://x/y.jpg"}})"),
              .events = {{.type = ChannelEventType::kReferral, .urn = urn,
                          .extra = {{"source", "ADS"}, {"type", "OPEN_THREAD"}, {"ad_id", "6045246247433"},
                                    {"ad_title", "Clinic days"}}}}}),
      Signed({.label = "send-to-messenger opt-in: a referral",
              .body = Fb(R"("optin":{"ref":"optin_ref"})"),
              .events = {{.type = ChannelEventType::kReferral, .urn = urn, .extra = {{"ref", "optin_ref"}}}}}),
      Signed({.label = "checkbox opt-in without a sender ignored",
              .body = Messaging("page", "12345", R"({"recipient":{"id":"12345"},"timestamp":1,)"
                                                 R"("optin":{"ref":"optin_ref","user_ref":"x"}})"),
              .ignored = "ignoring opt-in without a sender"}),
      Signed({.label = "marketing messages opt-in",
              .body = Fb(R"("optin":{"type":"notification_messages","title":"Clinic reminders","payload":"REMIND",)"
                         R"("notification_messages_token":"tok-1","notification_messages_frequency":"DAILY",)"
                         R"("token_expiry_timestamp":1700000000000,"notification_messages_status":"RESUME NOTIFICATIONS"})"),
              .events = {{.type = ChannelEventType::kOptIn, .urn = urn,
                          .extra = {{"title", "Clinic reminders"}, {"payload", "REMIND"},
                                    {"notification_messages_token", "tok-1"},
                                    {"notification_messages_frequency", "DAILY"},
                                    {"token_expiry_timestamp", "1700000000000"}}}}}),
      Signed({.label = "marketing messages stopped: an opt-out",
              .body = Fb(R"("optin":{"type":"notification_messages","payload":"REMIND",)"
                         R"("notification_messages_status":"STOP NOTIFICATIONS"})"),
              .events = {{.type = ChannelEventType::kOptOut, .urn = urn, .extra = {{"payload", "REMIND"}}}}}),
      Signed({.label = "unknown event ignored", .body = Fb(R"("game_play":{"game_id":"1"})"),
              .ignored = "ignoring unknown messaging event"}),
      Signed({.label = "entry of another page", .body = Messaging("page", "99999", Event("99999", R"("message":{"mid":"m","text":"x"})")),
              .ignored = "ignoring entry for '99999'"}),
      Signed({.label = "entry without messaging (standby)", .body = R"({"object":"page","entry":[{"id":"12345","standby":[]}]})",
              .ignored = "ignoring entry without messaging events"}),
      Signed({.label = "two events: a message and a delivery",
              .body = Messaging("page", "12345", Event("12345", R"("message":{"mid":"m1","text":"hi"})") + "," +
                                                     Event("12345", R"("delivery":{"mids":["mid.x"]})")),
              .msgs = {{.urn = urn, .text = "hi", .external_id = "m1"}},
              .statuses = {{.status = MsgStatus::kDelivered, .external_id = "mid.x"}}}),
      Signed({.label = "missing sender", .body = Messaging("page", "12345", R"({"recipient":{"id":"12345"},"timestamp":1,"message":{"mid":"m","text":"x"}})"),
              .error = "field 'sender.id' required"}),
      Signed({.label = "missing mid", .body = Fb(R"("message":{"text":"x"})"), .error = "field 'message.mid' required"}),
      Signed({.label = "non-numeric sender", .body = Messaging("page", "12345", Event("12345", R"("message":{"mid":"m","text":"x"})", "abc")),
              .error = "invalid path for scheme 'facebook'"}),
      Signed({.label = "malformed JSON", .body = "{", .error = "unable to parse request JSON"}),
      Signed({.label = "instagram object on a Facebook channel", .body = R"({"object":"instagram","entry":[]})",
              .ignored = "ignoring object 'instagram', expected 'page'"}),
      Signed({.label = "missing entry", .body = R"({"object":"page"})", .error = "field 'entry' required"}),
  });
}

std::string Ig(const std::string& fields) {
  return Messaging("instagram", "17841400000000001", Event("17841400000000001", fields, "7654321"));
}

TEST(MetaHandler, InstagramVerifyAndSignature) {
  MetaHandler h(MetaHandler::Kind::kInstagram);
  RunReceiveCases(h, IgChannel(), VerifyCases());
  RunReceiveCases(h, IgChannel(), SignatureCases(Ig(R"("reaction":{"mid":"m","action":"react","emoji":"x"})")));
}

TEST(MetaHandler, InstagramReceive) {
  MetaHandler h(MetaHandler::Kind::kInstagram);
  const std::string urn = "instagram:7654321";
  RunReceiveCases(h, IgChannel(), {
      Signed({.label = "text", .body = Ig(R"("message":{"mid":"aWdfZAG1faXRlbToxOklH","text":"Hello World"})"),
              .msgs = {{.urn = urn, .text = "Hello World", .external_id = "aWdfZAG1faXRlbToxOklH", .received_on = kFbDate}}}),
      Signed({.label = "quick reply", .body = Ig(R"("message":{"mid":"m2","text":"Yes","quick_reply":{"payload":"YES"}})"),
              .msgs = {{.urn = urn, .text = "Yes", .external_id = "m2"}}}),
      Signed({.label = "image", .body = Ig(R"("message":{"mid":"m3","attachments":[{"type":"image","payload":{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x"}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m3",
                        .attachments = {"image/jpeg:https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x"}}}}),
      Signed({.label = "story mention: the story's URL",
              .body = Ig(R"("message":{"mid":"m4","attachments":[{"type":"story_mention","payload":{"url":"https://cdn.ig/story.mp4"}}]})"),
              .msgs = {{.urn = urn, .text = "", .external_id = "m4", .attachments = {"video/mp4:https://cdn.ig/story.mp4"}}}}),
      Signed({.label = "postback", .body = Ig(R"("postback":{"mid":"m5","title":"Talk to a human","payload":"HUMAN"})"),
              .msgs = {{.urn = urn, .text = "Talk to a human", .external_id = "m5"}}}),
      Signed({.label = "read names the message", .body = Ig(R"("read":{"mid":"aWdfZAG1faXRlbToxOklH"})"),
              .statuses = {{.status = MsgStatus::kRead, .external_id = "aWdfZAG1faXRlbToxOklH"}}}),
      Signed({.label = "deleted ignored", .body = Ig(R"("message":{"mid":"m6","is_deleted":true})"),
              .ignored = "ignoring deleted message"}),
      Signed({.label = "unsupported ignored", .body = Ig(R"("message":{"mid":"m7","is_unsupported":true})"),
              .ignored = "ignoring message without text or attachments"}),
      Signed({.label = "echo ignored", .body = Ig(R"("message":{"mid":"m8","text":"x","is_echo":true})"),
              .ignored = "ignoring echo"}),
      Signed({.label = "reaction ignored", .body = Ig(R"("reaction":{"mid":"m","action":"react","emoji":"x"})"),
              .ignored = "ignoring reaction"}),
      Signed({.label = "another account's entry", .body = Messaging("instagram", "1784", Event("1784", R"("message":{"mid":"m","text":"x"})")),
              .ignored = "ignoring entry for '1784'"}),
      Signed({.label = "page object on an Instagram channel", .body = R"({"object":"page","entry":[]})",
              .ignored = "ignoring object 'page', expected 'instagram'"}),
      Signed({.label = "missing mid", .body = Ig(R"("message":{"text":"x"})"), .error = "field 'message.mid' required"}),
      Signed({.label = "non-numeric sender refused",
              .body = Messaging("instagram", "17841400000000001",
                                Event("17841400000000001", R"("message":{"mid":"m","text":"x"})", "ig_user")),
              .error = "invalid path for scheme 'instagram': 'ig_user' is not numeric"}),
      Signed({.label = "non-numeric sender of a postback refused",
              .body = Messaging("instagram", "17841400000000001",
                                Event("17841400000000001", R"("postback":{"mid":"m","title":"Hi"})", "12ab")),
              .error = "'12ab' is not numeric"}),
  });
}

// ---- app-level webhooks (one URL per type, routed by the payload) ----

TEST(MetaHandler, AppRoutesAndRoutingKeys) {
  MetaHandler wac(MetaHandler::Kind::kWhatsApp), fba(MetaHandler::Kind::kMessenger), ig(MetaHandler::Kind::kInstagram);
  for (const MetaHandler* h : {&wac, &fba, &ig}) {
    ASSERT_EQ(h->AppLevel(), h);
    auto routes = h->AppRoutes();
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(routes[0].method + " " + routes[0].action, "GET receive");
    EXPECT_EQ(routes[1].method + " " + routes[1].action, "POST receive");
  }
  Channel w = WacChannel();
  EXPECT_EQ(wac.RoutingKey(w), "8548");
  w.config.erase("phone_number_id");
  EXPECT_EQ(wac.RoutingKey(w), "12345");
  EXPECT_EQ(fba.RoutingKey(FbaChannel()), "12345");
  Channel f = FbaChannel();
  f.config["page_id"] = "777";  // the send node; webhooks name the page by the address
  EXPECT_EQ(fba.RoutingKey(f), "12345");
  EXPECT_EQ(ig.RoutingKey(IgChannel()), "17841400000000001");
}

TEST(MetaHandler, AppVerifyTakesAnyChannelsToken) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  Channel a = WacChannel(), b = WacChannel(), none = WacChannel();
  b.config.erase("verify_token");
  b.config["webhook_secret"] = "second-app-token";
  none.config.erase("verify_token");
  auto verify = [&](std::vector<const Channel*> channels, const std::string& query) {
    return h.Verify(channels, WebhookRequest::Build("GET", "/c/wac/receive?" + query, {}, "", kTestBaseUrl, "receive"));
  };
  struct Case {
    std::string label;
    std::vector<const Channel*> channels;
    std::string query;
    std::string challenge;  // "" when refused
    std::string error;
    bool unauthorized = false;
  };
  const std::vector<Case> cases = {
      {"first channel's token", {&none, &a, &b}, "hub.mode=subscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1158201444",
       "1158201444"},
      {"second channel's webhook_secret", {&a, &b}, "hub.mode=subscribe&hub.verify_token=second-app-token&hub.challenge=42", "42"},
      {"no channel's token", {&a, &b}, "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", "",
       "token does not match verify token", true},
      {"empty token never matches", {&a, &none}, "hub.mode=subscribe&hub.verify_token=&hub.challenge=1", "",
       "token does not match verify token", true},
      {"other mode", {&a}, "hub.mode=unsubscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1", "",
       "unknown hub.mode 'unsubscribe'"},
      {"no mode", {&a}, "hub.verify_token=" + kVerifyToken + "&hub.challenge=1", "", "field 'hub.mode' required"},
      {"no challenge", {&a}, "hub.mode=subscribe&hub.verify_token=" + kVerifyToken, "", "field 'hub.challenge' required"},
      {"no channel has a token", {&none}, "hub.mode=subscribe&hub.verify_token=x&hub.challenge=1", "",
       "no verify_token set for WAC channel"},
      {"no channel at all", {}, "hub.mode=subscribe&hub.verify_token=x&hub.challenge=1", "",
       "no verify_token set for WAC channel"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    auto r = verify(c.channels, c.query);
    if (!c.challenge.empty()) {
      EXPECT_EQ(r.error, "");
      EXPECT_EQ(r.response_body.value_or(""), c.challenge);
      EXPECT_EQ(r.response_content_type, "text/plain");
    } else {
      EXPECT_NE(r.error.find(c.error), std::string::npos) << r.error;
      EXPECT_EQ(r.unauthorized, c.unauthorized);
      EXPECT_FALSE(r.response_body.has_value());
    }
  }
}

TEST(MetaHandler, AppAuthenticateWithTheChannelsSecret) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  const std::string body = WacStatus("read");
  auto request = [&](const std::string& signature) {
    return WebhookRequest::Build("POST", "/c/wac/receive", {{"content-type", kJson}, {"x-hub-signature-256", signature}},
                                 body, kTestBaseUrl, "receive");
  };
  Channel mine = WacChannel(), other_app = WacChannel(), unconfigured = WacChannel();
  other_app.config["app_secret"] = "another-apps-secret";
  unconfigured.config.erase("app_secret");
  EXPECT_FALSE(h.Authenticate(mine, request(Signature(body))).has_value());
  auto refused = h.Authenticate(other_app, request(Signature(body)));
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->unauthorized);
  EXPECT_EQ(refused->error, "invalid request signature");
  EXPECT_FALSE(h.Authenticate(other_app, request("sha256=" + courier::HmacSha256Hex("another-apps-secret", body))));
  auto missing = h.Authenticate(mine, request(""));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->error, "missing request signature");
  auto no_secret = h.Authenticate(unconfigured, request(Signature(body)));
  ASSERT_TRUE(no_secret.has_value());
  EXPECT_FALSE(no_secret->unauthorized);
  EXPECT_EQ(no_secret->error, "no app_secret set for WAC channel");
}

// One WhatsApp Business Account entry may carry changes for several of
// its numbers, and one webhook several entries: each change goes to the
// part of its phone number id.
TEST(MetaHandler, WhatsAppAppSplitByPhoneNumberId) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  auto change = [](const std::string& pid, const std::string& value) {
    return R"({"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":")" +
           pid + R"("},)" + value + R"(},"field":"messages"})";
  };
  auto text = [](const std::string& from, const std::string& id, const std::string& body) {
    return R"("contacts":[{"profile":{"name":"K"},"wa_id":")" + from + R"("}],"messages":[{"from":")" + from +
           R"(","id":")" + id + R"(","timestamp":"1454119029","type":"text","text":{"body":")" + body + R"("}}])";
  };
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[)"
      R"({"id":"WABA1","changes":[)" + change("8548", text("5678", "wamid.A1", "for A")) + "," +
      change("9001", R"("statuses":[{"id":"wamid.OUT","status":"delivered","timestamp":"1","recipient_id":"5678"}])") +
      "," + change("7777", text("5679", "wamid.X", "nobody's")) + "]},"
      R"({"id":"WABA2","changes":[)" + change("8548", text("5680", "wamid.A2", "again A")) + "," +
      R"({"value":{"event":"APPROVED","message_template_id":1},"field":"message_template_status_update"},)"
      R"({"value":{"messages":[]},"field":"messages"}]}]})";
  auto request = WebhookRequest::Build("POST", "/c/wac/receive", {{"content-type", kJson}}, body, kTestBaseUrl, "receive");
  AppWebhookSplit split = h.Split(request);
  ASSERT_EQ(split.error, "");
  ASSERT_EQ(split.parts.size(), 3u);
  EXPECT_EQ(split.parts[0].routing_key, "8548");
  EXPECT_EQ(split.parts[1].routing_key, "9001");
  EXPECT_EQ(split.parts[2].routing_key, "7777");
  EXPECT_EQ(split.skipped, (std::vector<std::string>{"ignoring change of field 'message_template_status_update'",
                                                     "ignoring change without phone number id"}));
  // A part keeps Meta's shape, with its own changes only, under the
  // entries they came in.
  auto a = json::ParseObject(split.parts[0].body);
  ASSERT_TRUE(a.ok()) << split.parts[0].body;
  EXPECT_EQ(json::GetString(*a, "object"), "whatsapp_business_account");
  auto entries = json::GetObjects(*a, "entry");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(json::GetString(entries[0], "id"), "WABA1");
  EXPECT_EQ(json::GetObjects(entries[0], "changes").size(), 1u);
  EXPECT_EQ(json::GetString(entries[1], "id"), "WABA2");
  EXPECT_EQ(split.parts[0].body.find("9001"), std::string::npos);
  EXPECT_EQ(split.parts[0].body.find("nobody's"), std::string::npos);

  // Each part read on its channel yields only its own events.
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  auto part_request = [&](const AppWebhookPart& part) {
    return WebhookRequest::Build("POST", "/c/wac/receive", {{"content-type", kJson}}, part.body, kTestBaseUrl, "receive");
  };
  Channel channel_a = WacChannel();
  Channel channel_b = TestChannel("WAC", "250788000001", "", Config({{"phone_number_id", "9001"}}), {"whatsapp"});
  auto ra = h.ReceivePart(channel_a, part_request(split.parts[0]), ctx);
  ASSERT_EQ(ra.error, "");
  ASSERT_EQ(ra.msgs.size(), 2u);
  EXPECT_EQ(ra.msgs[0].external_id, "wamid.A1");
  EXPECT_EQ(ra.msgs[1].external_id, "wamid.A2");
  EXPECT_EQ(ra.msgs[1].text, "again A");
  EXPECT_TRUE(ra.statuses.empty());
  auto rb = h.ReceivePart(channel_b, part_request(split.parts[1]), ctx);
  ASSERT_EQ(rb.error, "");
  EXPECT_TRUE(rb.msgs.empty());
  ASSERT_EQ(rb.statuses.size(), 1u);
  EXPECT_EQ(rb.statuses[0].external_id, "wamid.OUT");
  EXPECT_EQ(rb.statuses[0].status, MsgStatus::kDelivered);
  // The whole webhook at a channel's own URL takes only that channel's.
  auto whole = h.ReceivePart(channel_b, request, ctx);
  EXPECT_TRUE(whole.msgs.empty());
  EXPECT_EQ(whole.statuses.size(), 1u);
}

TEST(MetaHandler, AppSplitEdgeCases) {
  MetaHandler wac(MetaHandler::Kind::kWhatsApp), fba(MetaHandler::Kind::kMessenger);
  auto split = [](const MetaHandler& h, const std::string& body) {
    return h.Split(WebhookRequest::Build("POST", "/c/x/receive", {{"content-type", kJson}}, body, kTestBaseUrl, "receive"));
  };
  // A webhook all for one number is its own part, byte for byte.
  const std::string one = WacMsg(R"("type":"text","text":{"body":"hi"})");
  auto s = split(wac, one);
  ASSERT_EQ(s.parts.size(), 1u);
  EXPECT_EQ(s.parts[0].routing_key, "8548");
  EXPECT_EQ(s.parts[0].body, one);
  EXPECT_EQ(split(wac, "{").error.rfind("unable to parse request JSON", 0), 0u);
  EXPECT_EQ(split(wac, R"({"object":"whatsapp_business_account"})").error, "field 'entry' required");
  EXPECT_EQ(split(wac, R"({"entry":[]})").error, "field 'object' required");
  EXPECT_EQ(split(wac, R"({"object":"page","entry":[]})").ignored,
            "ignoring object 'page', expected 'whatsapp_business_account'");
  auto empty = split(wac, R"({"object":"whatsapp_business_account","entry":[]})");
  EXPECT_TRUE(empty.parts.empty());
  EXPECT_EQ(empty.error, "");
  // Messenger: by entry id; a page's entries are kept together.
  auto m = split(fba, R"({"object":"page","entry":[)"
                      R"({"id":"111","time":1,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"111"},"message":{"mid":"a","text":"x"}}]},)"
                      R"({"id":222,"time":1,"messaging":[]},)"
                      R"({"time":1,"messaging":[]},)"
                      R"({"id":"111","time":2,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"111"},"message":{"mid":"b","text":"y"}}]}]})");
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].routing_key, "111");
  EXPECT_EQ(m.parts[1].routing_key, "222");
  EXPECT_EQ(m.skipped, std::vector<std::string>{"ignoring entry without id"});
  auto first = json::ParseObject(m.parts[0].body);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(json::GetObjects(*first, "entry").size(), 2u);
}

// ---- send ----

const std::string kWacPath = "/v21.0/8548/messages";

MockResponse WacOk(const std::string& id) {
  return {.body = R"({"messaging_product":"whatsapp","contacts":[{"input":"250788383383","wa_id":"250788383383"}],"messages":[{"id":")" +
                  id + R"("}]})"};
}

MockResponse GraphError(int status, int code, const std::string& message, const std::string& extra = "") {
  return {.status = status,
          .body = R"({"error":{"message":")" + message + R"(","type":"OAuthException","code":)" + std::to_string(code) +
                  extra + R"(,"fbtrace_id":"AbCd"}})"};
}

std::string WacTextBody(const std::string& text, bool preview = false) {
  return R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383","type":"text","text":{"body":")" +
         text + R"(","preview_url":)" + (preview ? "true" : "false") + "}}";
}

std::map<std::string, std::string> JsonAuth() {
  return {{"content-type", "application/json"}, {"authorization", "Bearer " + kToken}};
}

TEST(MetaHandler, WhatsAppSend) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  const std::string urn = "whatsapp:250788383383";
  const std::string long_text = std::string(4000, 'a') + " " + std::string(200, 'b');
  RunSendCases(h, WacChannel(), {
      {.label = "quick replies become reply buttons", .text = "Yes or no?", .urn = urn,
       .responses = {{kWacPath, WacOk("wamid.150")}}, .external_id = "wamid.150",
       .requests = {{.path = kWacPath,
                     .body_contains = {R"("type":"interactive")", R"("type":"button")", R"("title":"Yes")",
                                       R"("title":"No")", R"("text":"Yes or no?")"}}},
       .quick_replies = {"Yes", "No"}},
      {.label = "text", .urn = urn, .responses = {{kWacPath, WacOk("wamid.133")}}, .external_id = "wamid.133",
       .requests = {{.path = kWacPath, .headers = JsonAuth(), .body = WacTextBody("Simple Message")}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{kWacPath, WacOk("wamid.134")}},
       .external_id = "wamid.134", .requests = {{.path = kWacPath, .body = WacTextBody("Muraho ☺")}}},
      {.label = "a link turns on the preview", .text = "See https://nyaruka.com", .urn = urn,
       .responses = {{kWacPath, WacOk("wamid.135")}}, .external_id = "wamid.135",
       .requests = {{.path = kWacPath, .body = WacTextBody("See https://nyaruka.com", true)}}},
      {.label = "long text split at 4096, first id kept", .text = long_text, .urn = urn,
       .responses = {{kWacPath, WacOk("wamid.1")}, {kWacPath, WacOk("wamid.2")}}, .external_id = "wamid.1",
       .requests = {{.path = kWacPath, .body = WacTextBody(std::string(4000, 'a'))},
                    {.path = kWacPath, .body = WacTextBody(std::string(200, 'b'))}}},
      {.label = "image with the text as caption", .text = "My pic!", .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{kWacPath, WacOk("wamid.140")}},
       .external_id = "wamid.140",
       .requests = {{.path = kWacPath,
                     .body = R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383",)"
                             R"("type":"image","image":{"link":"https://foo.bar/image.jpg","caption":"My pic!"}})"}}},
      {.label = "document with file name", .text = "", .urn = urn,
       .attachments = {"application/pdf:https://foo.bar/docs/report.pdf?v=2"}, .responses = {{kWacPath, WacOk("wamid.141")}},
       .external_id = "wamid.141",
       .requests = {{.path = kWacPath,
                     .body = R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383",)"
                             R"("type":"document","document":{"link":"https://foo.bar/docs/report.pdf?v=2","filename":"report.pdf"}})"}}},
      {.label = "audio takes no caption: text after it", .text = "listen", .urn = urn,
       .attachments = {"audio/mpeg:https://foo.bar/a.mp3"},
       .responses = {{kWacPath, WacOk("wamid.150")}, {kWacPath, WacOk("wamid.151")}}, .external_id = "wamid.150",
       .requests = {{.path = kWacPath,
                     .body = R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383",)"
                             R"("type":"audio","audio":{"link":"https://foo.bar/a.mp3"}})"},
                    {.path = kWacPath, .body = WacTextBody("listen")}}},
      {.label = "two attachments and text: three requests", .text = "Two things", .urn = urn,
       .attachments = {"image/png:https://foo.bar/a.png", "video/mp4:https://foo.bar/b.mp4"},
       .responses = {{kWacPath, WacOk("wamid.160")}, {kWacPath, WacOk("wamid.161")}, {kWacPath, WacOk("wamid.162")}},
       .external_id = "wamid.160",
       .requests = {{.path = kWacPath, .body_contains = {R"("type":"image","image":{"link":"https://foo.bar/a.png"})"}},
                    {.path = kWacPath, .body_contains = {R"("type":"video","video":{"link":"https://foo.bar/b.mp4"})"}},
                    {.path = kWacPath, .body = WacTextBody("Two things")}}},
      {.label = "a caption too long goes as text", .text = std::string(1100, 'c'), .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/i.jpg"},
       .responses = {{kWacPath, WacOk("wamid.170")}, {kWacPath, WacOk("wamid.171")}}, .external_id = "wamid.170",
       .requests = {{.path = kWacPath, .body_contains = {R"("image":{"link":"https://foo.bar/i.jpg"})"}},
                    {.path = kWacPath, .body = WacTextBody(std::string(1100, 'c'))}}},
      {.label = "24h window closed (131047): failed", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 131047, "(#131047) Re-engagement message",
                                           R"(,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed"})")}},
       .status = MsgStatus::kFailed, .error = "Re-engagement message: More than 24 hours have passed (code 131047)",
       .requests = {{.path = kWacPath}}},
      {.label = "undeliverable (131026): failed", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 131026, "(#131026) Message Undeliverable")}},
       .status = MsgStatus::kFailed, .error = "Message Undeliverable", .requests = {{.path = kWacPath}}},
      {.label = "stopped marketing messages (131050): failed and stopped", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 131050, "(#131050) Unable to deliver the message")}},
       .status = MsgStatus::kFailed, .error = "131050", .stop_contact = true, .requests = {{.path = kWacPath}}},
      {.label = "throughput limit (130429): throttled 1s", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 130429, "(#130429) Rate limit hit")}}, .status = MsgStatus::kErrored,
       .error = "Rate limit hit", .requests = {{.path = kWacPath}}, .throttled_for_seconds = 1},
      {.label = "pair rate limit (131056): throttled 6s", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 131056, "(#131056) pair rate limit hit")}},
       .status = MsgStatus::kErrored, .requests = {{.path = kWacPath}}, .throttled_for_seconds = 6},
      {.label = "business rate limit (80007): throttled a minute", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 80007, "(#80007) Rate limit issues")}},
       .status = MsgStatus::kErrored, .requests = {{.path = kWacPath}}, .throttled_for_seconds = 60},
      {.label = "Retry-After wins", .urn = urn,
       .responses = {{kWacPath, [] {
         MockResponse r = GraphError(429, 4, "(#4) Application request limit reached");
         r.headers["Retry-After"] = "30";
         return r;
       }()}},
       .status = MsgStatus::kErrored, .requests = {{.path = kWacPath}}, .throttled_for_seconds = 30},
      {.label = "bare 429: throttled", .urn = urn,
       .responses = {{kWacPath, {.status = 429, .body = "slow down", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 429", .requests = {{.path = kWacPath}},
       .throttled_for_seconds = 1},
      {.label = "invalid parameter (a 400): failed, not throttled", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 100, "(#100) Invalid parameter")}}, .status = MsgStatus::kFailed,
       .error = "received error from whatsapp: (#100) Invalid parameter (code 100)", .requests = {{.path = kWacPath}}},
      {.label = "an error quoting the token is redacted (a 401: failed)", .urn = urn,
       .responses = {{kWacPath, GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token " + kToken)}},
       .status = MsgStatus::kFailed, .error = "Cannot parse access token ********", .requests = {{.path = kWacPath}}},
      {.label = "an error object in a 200: failed", .urn = urn,
       .responses = {{kWacPath, GraphError(200, 131009, "(#131009) Parameter value is not valid")}},
       .status = MsgStatus::kFailed, .error = "Parameter value is not valid (code 131009)", .requests = {{.path = kWacPath}}},
      {.label = "something went wrong (131000): errored", .urn = urn,
       .responses = {{kWacPath, GraphError(500, 131000, "Something went wrong")}}, .status = MsgStatus::kErrored,
       .error = "Something went wrong", .requests = {{.path = kWacPath}}},
      {.label = "server temporarily unavailable (133004) in a 400: errored", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 133004, "Server temporarily unavailable")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = kWacPath}}},
      {.label = "API service (2) in a 400: errored", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 2, "Service temporarily unavailable")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = kWacPath}}},
      {.label = "is_transient in a 400: errored", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 100, "(#100) Try again", R"(,"is_transient":true)")}},
       .status = MsgStatus::kErrored, .requests = {{.path = kWacPath}}},
      {.label = "spam rate limit (131048): throttled a minute", .urn = urn,
       .responses = {{kWacPath, GraphError(400, 131048, "(#131048) Spam rate limit hit")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = kWacPath}}, .throttled_for_seconds = 60},
      {.label = "max_length splits the text", .text = "Hello wide world", .urn = urn,
       .responses = {{kWacPath, WacOk("wamid.50")}, {kWacPath, WacOk("wamid.51")}}, .external_id = "wamid.50",
       .requests = {{.path = kWacPath, .body = WacTextBody("Hello wide")}, {.path = kWacPath, .body = WacTextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "max_length under the caption limit: text not a caption", .text = "Hello wide world", .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/i.jpg"},
       .responses = {{kWacPath, WacOk("wamid.60")}, {kWacPath, WacOk("wamid.61")}, {kWacPath, WacOk("wamid.62")}},
       .external_id = "wamid.60",
       .requests = {{.path = kWacPath, .body_contains = {R"("image":{"link":"https://foo.bar/i.jpg"})"}},
                    {.path = kWacPath, .body = WacTextBody("Hello wide")}, {.path = kWacPath, .body = WacTextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "server error without JSON", .urn = urn,
       .responses = {{kWacPath, {.status = 502, .body = "<html>bad gateway</html>", .content_type = "text/html"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 502", .requests = {{.path = kWacPath}}},
      {.label = "2xx without a message id: failed (it may have gone)", .urn = urn,
       .responses = {{kWacPath, {.body = R"({"messages":[]})"}}},
       .status = MsgStatus::kFailed, .error = "no 'messages[0].id' in response", .requests = {{.path = kWacPath}}},
      {.label = "a failed later part fails the send", .text = "Two", .urn = urn,
       .attachments = {"image/png:https://foo.bar/a.png", "image/png:https://foo.bar/b.png"},
       .responses = {{kWacPath, WacOk("wamid.1")}, {kWacPath, GraphError(400, 131053, "(#131053) Media upload error")}},
       .status = MsgStatus::kFailed, .error = "Media upload error", .requests = {{.path = kWacPath}, {.path = kWacPath}}},
      {.label = "phone number id from the address", .urn = urn, .responses = {{"/v21.0/12345/messages", WacOk("wamid.9")}},
       .external_id = "wamid.9", .requests = {{.path = "/v21.0/12345/messages"}},
       .setup = [](Channel& c) { c.config.erase("phone_number_id"); }},
      {.label = "api_version without the v", .urn = urn, .responses = {{"/v22.0/8548/messages", WacOk("wamid.10")}},
       .external_id = "wamid.10", .requests = {{.path = "/v22.0/8548/messages"}},
       .setup = [](Channel& c) { c.config["api_version"] = "22.0"; }},
      {.label = "auth_token accepted for the access token", .urn = urn, .responses = {{kWacPath, WacOk("wamid.11")}},
       .external_id = "wamid.11", .requests = {{.path = kWacPath, .headers = {{"authorization", "Bearer other-token-123"}}}},
       .setup = [](Channel& c) {
         c.config.erase("access_token");
         c.config["auth_token"] = "other-token-123";
       }},
      {.label = "no access token: errored, one log, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no access_token or auth_token set for WAC channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("access_token"); }},
      {.label = "nothing to send: failed, no request", .text = "", .urn = urn, .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1},
  });
}

MockResponse FbOk(const std::string& id) { return {.body = R"({"recipient_id":"5678","message_id":")" + id + R"("})"}; }

std::string FbTextBody(const std::string& text) {
  return R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"text":")" + text + R"("}})";
}

TEST(MetaHandler, MessengerSend) {
  MetaHandler h(MetaHandler::Kind::kMessenger);
  const std::string urn = "facebook:5678";
  const std::string path = "/v21.0/12345/messages";
  const std::string long_text = std::string(1990, 'a') + " " + std::string(100, 'b');
  RunSendCases(h, FbaChannel(), {
      {.label = "quick replies", .text = "Pick one", .urn = urn, .responses = {{path, FbOk("mid.150")}},
       .external_id = "mid.150",
       .requests = {{.path = path,
                     .body_contains = {R"("quick_replies":[)", R"("content_type":"text")", R"("title":"Red")",
                                       R"("payload":"Blue")"}}},
       .quick_replies = {"Red", "Blue"}},
      {.label = "text", .urn = urn, .responses = {{path, FbOk("mid.133")}}, .external_id = "mid.133",
       .requests = {{.path = path, .headers = JsonAuth(), .body = FbTextBody("Simple Message")}}},
      {.label = "long text split at 2000", .text = long_text, .urn = urn,
       .responses = {{path, FbOk("mid.1")}, {path, FbOk("mid.2")}}, .external_id = "mid.1",
       .requests = {{.path = path, .body = FbTextBody(std::string(1990, 'a'))},
                    {.path = path, .body = FbTextBody(std::string(100, 'b'))}}},
      {.label = "image then text", .text = "My pic!", .urn = urn, .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{path, FbOk("mid.140")}, {path, FbOk("mid.141")}}, .external_id = "mid.140",
       .requests = {{.path = path,
                     .body = R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"attachment":)"
                             R"({"type":"image","payload":{"url":"https://foo.bar/image.jpg","is_reusable":true}}}})"},
                    {.path = path, .body = FbTextBody("My pic!")}}},
      {.label = "pdf as file, audio, video", .text = "", .urn = urn,
       .attachments = {"application/pdf:https://foo.bar/d.pdf", "audio/mpeg:https://foo.bar/a.mp3", "video/mp4:https://foo.bar/v.mp4"},
       .responses = {{path, FbOk("mid.1")}, {path, FbOk("mid.2")}, {path, FbOk("mid.3")}}, .external_id = "mid.1",
       .requests = {{.path = path, .body_contains = {R"("type":"file","payload":{"url":"https://foo.bar/d.pdf")"}},
                    {.path = path, .body_contains = {R"("type":"audio","payload":{"url":"https://foo.bar/a.mp3")"}},
                    {.path = path, .body_contains = {R"("type":"video","payload":{"url":"https://foo.bar/v.mp4")"}}}},
      {.label = "user unavailable (551): failed and stopped", .urn = urn,
       .responses = {{path, GraphError(400, 551, "This person isn't available right now.", R"(,"error_subcode":1545041)")}},
       .status = MsgStatus::kFailed, .error = "This person isn't available right now. (code 551, subcode 1545041)",
       .stop_contact = true, .requests = {{.path = path}}},
      {.label = "outside the window (10/2018278): failed", .urn = urn,
       .responses = {{path, GraphError(400, 10, "(#10) This message is sent outside of allowed window.", R"(,"error_subcode":2018278)")}},
       .status = MsgStatus::kFailed, .error = "outside of allowed window", .requests = {{.path = path}}},
      {.label = "other permission error (10, a 403): failed", .urn = urn,
       .responses = {{path, GraphError(403, 10, "(#10) Requires pages_messaging permission")}},
       .status = MsgStatus::kFailed, .error = "pages_messaging", .requests = {{.path = path}}},
      {.label = "temporary failure (1200) in a 400: errored", .urn = urn,
       .responses = {{path, GraphError(400, 1200, "Temporary send message failure. Please try again later")}},
       .status = MsgStatus::kErrored, .error = "Temporary send message failure", .requests = {{.path = path}}},
      {.label = "max_length splits the text", .text = "Hello wide world", .urn = urn,
       .responses = {{path, FbOk("mid.20")}, {path, FbOk("mid.21")}}, .external_id = "mid.20",
       .requests = {{.path = path, .body = FbTextBody("Hello wide")}, {.path = path, .body = FbTextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "too many send requests (4): throttled", .urn = urn,
       .responses = {{path, GraphError(400, 4, "(#4) Too many send requests to phone numbers", R"(,"error_subcode":2018022)")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "call rate (613): throttled", .urn = urn,
       .responses = {{path, GraphError(400, 613, "Calls to this API have exceeded the rate limit.")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "temporary failure (1200): errored", .urn = urn,
       .responses = {{path, GraphError(500, 1200, "Temporary send message failure. Please try again later")}},
       .status = MsgStatus::kErrored, .error = "Temporary send message failure", .requests = {{.path = path}}},
      {.label = "2xx without message_id: failed", .urn = urn, .responses = {{path, {.body = R"({"recipient_id":"5678"})"}}},
       .status = MsgStatus::kFailed, .error = "no 'message_id' in response", .requests = {{.path = path}}},
      {.label = "an error object in a 200: failed", .urn = urn,
       .responses = {{path, GraphError(200, 100, "(#100) No matching user found", R"(,"error_subcode":2018001)")}},
       .status = MsgStatus::kFailed, .error = "No matching user found (code 100, subcode 2018001)",
       .requests = {{.path = path}}},
      {.label = "page_id config wins over the address", .urn = urn, .responses = {{"/v21.0/777/messages", FbOk("mid.7")}},
       .external_id = "mid.7", .requests = {{.path = "/v21.0/777/messages"}},
       .setup = [](Channel& c) { c.config["page_id"] = "777"; }},
      {.label = "no access token", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no access_token or auth_token set for FBA channel",
       .requests = {}, .logs = 1, .setup = [](Channel& c) { c.config.erase("access_token"); }},
  });
}

std::string IgTextBody(const std::string& text) {
  return R"({"recipient":{"id":"7654321"},"messaging_type":"RESPONSE","message":{"text":")" + text + R"("}})";
}

TEST(MetaHandler, InstagramSend) {
  MetaHandler h(MetaHandler::Kind::kInstagram);
  const std::string urn = "instagram:7654321";
  const std::string path = "/v21.0/me/messages";
  std::string e500, e100, e600;
  for (int i = 0; i < 500; ++i) e500 += "é";
  for (int i = 0; i < 100; ++i) e100 += "é";
  e600 = e500 + e100;
  RunSendCases(h, IgChannel(), {
      {.label = "text to me/messages", .urn = urn, .responses = {{path, FbOk("ig.1")}}, .external_id = "ig.1",
       .requests = {{.path = path, .headers = JsonAuth(), .body = IgTextBody("Simple Message")}}},
      {.label = "split under 1000 bytes, not characters", .text = e600, .urn = urn,
       .responses = {{path, FbOk("ig.2")}, {path, FbOk("ig.3")}}, .external_id = "ig.2",
       .requests = {{.path = path, .body = IgTextBody(e500)}, {.path = path, .body = IgTextBody(e100)}}},
      {.label = "image then text", .text = "hi", .urn = urn, .attachments = {"image/png:https://foo.bar/a.png"},
       .responses = {{path, FbOk("ig.4")}, {path, FbOk("ig.5")}}, .external_id = "ig.4",
       .requests = {{.path = path, .body_contains = {R"("attachment":{"type":"image","payload":{"url":"https://foo.bar/a.png")"}},
                    {.path = path, .body = IgTextBody("hi")}}},
      {.label = "a pdf goes as a file attachment", .text = "the doc", .urn = urn,
       .attachments = {"application/pdf:https://foo.bar/d.pdf"},
       .responses = {{path, FbOk("ig.6")}, {path, FbOk("ig.8")}}, .external_id = "ig.6",
       .requests = {{.path = path,
                     .body = R"({"recipient":{"id":"7654321"},"messaging_type":"RESPONSE","message":{"attachment":)"
                             R"({"type":"file","payload":{"url":"https://foo.bar/d.pdf","is_reusable":true}}}})"},
                    {.path = path, .body = IgTextBody("the doc")}}},
      {.label = "a document Instagram does not take goes as a link", .text = "the doc", .urn = urn,
       .attachments = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document:https://foo.bar/d.docx"},
       .responses = {{path, FbOk("ig.9")}}, .external_id = "ig.9",
       .requests = {{.path = path, .body = IgTextBody("the doc\\nhttps://foo.bar/d.docx")}}},
      {.label = "max_length under the byte limit", .text = "Hello wide world", .urn = urn,
       .responses = {{path, FbOk("ig.10")}, {path, FbOk("ig.11")}}, .external_id = "ig.10",
       .requests = {{.path = path, .body = IgTextBody("Hello wide")}, {.path = path, .body = IgTextBody("world")}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "max_length over the byte limit: bytes still bound", .text = e600, .urn = urn,
       .responses = {{path, FbOk("ig.12")}, {path, FbOk("ig.13")}}, .external_id = "ig.12",
       .requests = {{.path = path, .body = IgTextBody(e500)}, {.path = path, .body = IgTextBody(e100)}},
       .setup = [](Channel& c) { c.config["max_length"] = "5000"; }},
      {.label = "outside the window (10/2534022): failed", .urn = urn,
       .responses = {{path, GraphError(400, 10, "This message is sent outside of allowed window.", R"(,"error_subcode":2534022)")}},
       .status = MsgStatus::kFailed, .error = "outside of allowed window", .requests = {{.path = path}}},
      {.label = "user unavailable (551): failed and stopped", .urn = urn,
       .responses = {{path, GraphError(400, 551, "This person isn't available right now.")}},
       .status = MsgStatus::kFailed, .stop_contact = true, .requests = {{.path = path}}},
      {.label = "business rate limit (80002): throttled", .urn = urn,
       .responses = {{path, GraphError(400, 80002, "There have been too many calls to this Instagram account.")}},
       .status = MsgStatus::kErrored, .requests = {{.path = path}}, .throttled_for_seconds = 60},
      {.label = "page_id config", .urn = urn, .responses = {{"/v21.0/555/messages", FbOk("ig.7")}},
       .external_id = "ig.7", .requests = {{.path = "/v21.0/555/messages"}},
       .setup = [](Channel& c) { c.config["page_id"] = "555"; }},
  });
}

// Msg has no quick replies yet; the payloads that will carry them.
TEST(MetaHandler, WhatsAppQuickReplyPayloads) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  auto p = h.Payloads("5678", "Pick one", {}, {"Yes", "No"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"5678","type":"interactive",)"
                  R"("interactive":{"type":"button","body":{"text":"Pick one"},"action":{"buttons":[)"
                  R"({"type":"reply","reply":{"id":"0","title":"Yes"}},{"type":"reply","reply":{"id":"1","title":"No"}}]}}})");

  p = h.Payloads("5678", "Pick", {}, {"1", "2", "3", "4", "A row title longer than twenty-four"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"5678","type":"interactive",)"
                  R"("interactive":{"type":"list","body":{"text":"Pick"},"action":{"button":"Menu","sections":[{"rows":[)"
                  R"({"id":"0","title":"1"},{"id":"1","title":"2"},{"id":"2","title":"3"},{"id":"3","title":"4"},)"
                  R"({"id":"4","title":"A row title longer than "}]}]}}})");

  p = h.Payloads("5678", "x", {}, {"A button title over twenty"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find(R"("title":"A button title over ")"), std::string::npos) << p[0];

  std::vector<QuickReply> twelve;
  for (int i = 0; i < 12; ++i) twelve.push_back("r" + std::to_string(i));
  p = h.Payloads("5678", "x", {}, twelve);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find(R"("id":"9","title":"r9")"), std::string::npos);
  EXPECT_EQ(p[0].find(R"("title":"r10")"), std::string::npos) << "at most 10 rows";

  // With an image, the text is not a caption: the buttons come last.
  p = h.Payloads("5678", "Like it?", {"image/jpeg:https://foo.bar/i.jpg"}, {"Yes", "No"});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"5678","type":"image",)"
                  R"("image":{"link":"https://foo.bar/i.jpg"}})");
  EXPECT_NE(p[1].find(R"("type":"interactive")"), std::string::npos);

  // A body over 1024 characters: the buttons ride on the last part.
  p = h.Payloads("5678", std::string(1000, 'a') + " " + std::string(100, 'b'), {}, {"Yes"});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(p[0].find(R"("type":"text")"), std::string::npos);
  EXPECT_NE(p[1].find(R"("body":{"text":")" + std::string(100, 'b') + "\"}"), std::string::npos);
}

// Typed quick replies on WhatsApp: descriptions ask for a list, a
// location reply alone is a location request, a url reply alone a URL
// button; text replies win when kinds are mixed (one kind a message).
TEST(MetaHandler, WhatsAppTypedQuickReplyPayloads) {
  MetaHandler h(MetaHandler::Kind::kWhatsApp);
  const std::string head =
      R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"5678","type":"interactive",)";
  auto p = h.Payloads("5678", "Which clinic?", {},
                      {QuickReply::Text("Kacyiru", "Open 8-17, KG 7 Ave"), QuickReply::Text("Remera")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], head + R"("interactive":{"type":"list","body":{"text":"Which clinic?"},"action":{"button":"Menu",)"
                         R"("sections":[{"rows":[{"id":"0","title":"Kacyiru","description":"Open 8-17, KG 7 Ave"},)"
                         R"({"id":"1","title":"Remera"}]}]}}})");

  p = h.Payloads("5678", "Where are you?", {}, {QuickReply::Location("Send location")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], head + R"("interactive":{"type":"location_request_message","body":{"text":"Where are you?"},)"
                         R"("action":{"name":"send_location"}}})");

  p = h.Payloads("5678", "Book a visit", {},
                 {QuickReply::Url("Book your visit now, free", "https://clinic.example/book?a=1&b=2")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], head + R"("interactive":{"type":"cta_url","body":{"text":"Book a visit"},"action":{"name":"cta_url",)"
                         R"("parameters":{"display_text":"Book your visit now,","url":"https://clinic.example/book?a=1&b=2"}}}})");

  p = h.Payloads("5678", "Pick", {}, {QuickReply::Location("Here"), "Yes", QuickReply::Url("Site", "https://x.y")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find(R"("type":"button")"), std::string::npos) << p[0];
  EXPECT_EQ(p[0].find("send_location"), std::string::npos) << p[0];
  EXPECT_EQ(p[0].find("cta_url"), std::string::npos) << p[0];
}

// A msg with a template is that template message alone on WhatsApp: each
// component with values in WhatsApp's shape, the language the template's
// or else the msg's locale; without either, refused before any request.
TEST(MetaHandler, WhatsAppTemplatePayloads) {
  MetaHandler wac(MetaHandler::Kind::kWhatsApp), fba(MetaHandler::Kind::kMessenger);
  Msg msg;
  msg.text = "Hi Jane, see you on 12 May";
  msg.locale = "en-US";
  msg.templating = MsgTemplate{
      .name = "appointment_reminder",
      .components = {{.type = "header", .params = {{"image", "https://clinic.example/map.png", ""}}},
                     {.type = "body", .params = {{"text", "Jane", ""}, {"text", "12 May", ""}}},
                     {.type = "footer"},
                     {.type = "button/url", .index = 0, .params = {{"text", "abc123", ""}}},
                     {.type = "button/quick_reply", .index = 1, .params = {{"text", "STOP", ""}}}}};
  auto p = wac.MsgPayloads("250788383383", msg);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0],
            R"({"messaging_product":"whatsapp","recipient_type":"individual","to":"250788383383","type":"template",)"
            R"("template":{"name":"appointment_reminder","language":{"policy":"deterministic","code":"en_US"},)"
            R"("components":[{"type":"header","parameters":[{"type":"image","image":{"link":"https://clinic.example/map.png"}}]},)"
            R"({"type":"body","parameters":[{"type":"text","text":"Jane"},{"type":"text","text":"12 May"}]},)"
            R"({"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"abc123"}]},)"
            R"({"type":"button","sub_type":"quick_reply","index":"1","parameters":[{"type":"payload","payload":"STOP"}]}]}})");

  // The template's own language wins; a template without values has no components.
  msg.templating = MsgTemplate{.name = "hello", .language = "rw"};
  p = wac.MsgPayloads("250788383383", msg);
  ASSERT_TRUE(p.ok());
  EXPECT_NE((*p)[0].find(R"("template":{"name":"hello","language":{"policy":"deterministic","code":"rw"}})"),
            std::string::npos)
      << (*p)[0];

  msg.locale.clear();
  msg.templating = MsgTemplate{.name = "hello"};
  p = wac.MsgPayloads("250788383383", msg);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no language"), std::string::npos);

  // Messenger takes no templates: the text goes.
  p = fba.MsgPayloads("5678", msg);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_NE((*p)[0].find(R"("text":"Hi Jane, see you on 12 May")"), std::string::npos);
}

TEST(MetaHandler, MessengerQuickReplyPayloads) {
  MetaHandler fba(MetaHandler::Kind::kMessenger), ig(MetaHandler::Kind::kInstagram);
  auto p = fba.Payloads("5678", "Pick", {}, {"Yes", "A title over twenty characters"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], R"({"recipient":{"id":"5678"},"messaging_type":"RESPONSE","message":{"text":"Pick","quick_replies":[)"
                  R"({"content_type":"text","title":"Yes","payload":"Yes"},)"
                  R"({"content_type":"text","title":"A title over twenty ","payload":"A title over twenty characters"}]}})");

  // On the last part: after the attachment, on the text.
  p = fba.Payloads("5678", "Pick", {"image/png:https://foo.bar/a.png"}, {"Yes"});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].find("quick_replies"), std::string::npos);
  EXPECT_NE(p[1].find("quick_replies"), std::string::npos);

  // Messenger puts them on an attachment when there is no text; Instagram
  // takes them on text only.
  p = fba.Payloads("5678", "", {"image/png:https://foo.bar/a.png"}, {"Yes"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("quick_replies"), std::string::npos);
  p = ig.Payloads("5678", "", {"image/png:https://foo.bar/a.png"}, {"Yes"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].find("quick_replies"), std::string::npos);

  // Words only: Meta retired the location quick reply, and a link is no reply.
  p = fba.Payloads("5678", "Pick", {}, {QuickReply::Location("Here"), "Yes", QuickReply::Url("Site", "https://x.y")});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find(R"("quick_replies":[{"content_type":"text","title":"Yes","payload":"Yes"}])"), std::string::npos)
      << p[0];

  std::vector<QuickReply> many;
  for (int i = 0; i < 15; ++i) many.push_back("q" + std::to_string(i));
  p = ig.Payloads("5678", "Pick", {}, many);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find(R"("title":"q12")"), std::string::npos);
  EXPECT_EQ(p[0].find(R"("title":"q13")"), std::string::npos) << "at most 13";
}

}  // namespace
