// KWA — Kaleyra WhatsApp: incoming messages and statuses by GET, text
// sends, and attachments downloaded and posted as multipart forms, every
// answer judged.
#include "handlers/kaleyra.h"

#include <set>

#include "core/clock.h"
#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kApiKey = "kwa-4p1-k3y-s3cret";
const std::string kPath = "/v1/SID/messages";
const std::string kCallback = std::string("https://courier.test/c/kwa/") + kTestChannelUUID + "/status";
const Micros kCreatedAt = 1603914166LL * kMicrosPerSecond;

Channel KwaChannel(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> config = {{"account_sid", "SID"}, {"api_key", kApiKey}};
  for (auto& [k, v] : extra) config[k] = v;
  return TestChannel("KWA", "250788383383", "", config, {"whatsapp"});
}

ReceiveCase Incoming(const std::string& label, const std::string& query) {
  return {.label = label, .method = "GET", .action = "receive", .query = query, .body = ""};
}

ReceiveCase StatusCase(const std::string& label, const std::string& query) {
  return {.label = label, .method = "GET", .action = "status", .query = query, .body = ""};
}

TEST(KaleyraHandler, Receive) {
  KaleyraHandler h;
  auto with = [](ReceiveCase c, ExpectedMsg m) {
    c.msgs = {std::move(m)};
    return c;
  };
  RunReceiveCases(h, KwaChannel(), {
      with(Incoming("text", "created_at=1603914166&type=text&from=14133881111&name=John%20Cruz&body=Hello%20World"),
           {.urn = "whatsapp:14133881111", .text = "Hello World", .contact_name = "John Cruz",
            .received_on = kCreatedAt}),
      with(Incoming("image", "created_at=1603914166&type=image&from=14133881111&name=John%20Cruz"
                             "&media_url=https%3A%2F%2Fmedia.kaleyra.io%2Fabc%2Fphoto.jpg"),
           {.urn = "whatsapp:14133881111", .text = "", .contact_name = "John Cruz",
            .attachments = {"image/jpeg:https://media.kaleyra.io/abc/photo.jpg"}, .received_on = kCreatedAt}),
      with(Incoming("video with a caption", "created_at=1603914166&type=video&from=14133881111&body=look"
                                            "&media_url=https%3A%2F%2Fmedia.kaleyra.io%2Fclip.mp4"),
           {.urn = "whatsapp:14133881111", .text = "look", .attachments = {"video/mp4:https://media.kaleyra.io/clip.mp4"},
            .received_on = kCreatedAt}),
      with(Incoming("voice of no known type", "created_at=1603914166&type=voice&from=14133881111"
                                              "&media_url=https%3A%2F%2Fmedia.kaleyra.io%2Fv%2F123"),
           {.urn = "whatsapp:14133881111", .attachments = {"https://media.kaleyra.io/v/123"},
            .received_on = kCreatedAt}),
      with(Incoming("document", "created_at=1603914166&type=document&from=14133881111"
                                "&media_url=https%3A%2F%2Fmedia.kaleyra.io%2Freport.pdf"),
           {.urn = "whatsapp:14133881111", .attachments = {"application/pdf:https://media.kaleyra.io/report.pdf"},
            .received_on = kCreatedAt}),
      with(Incoming("names in another case, the last value wins",
                    "CREATED_AT=1603914166&Type=text&FROM=14133881111&body=first&Body=second"),
           {.urn = "whatsapp:14133881111", .text = "second", .received_on = kCreatedAt}),
      {.label = "unknown type", .method = "GET", .action = "receive",
       .query = "created_at=1603914166&type=location&from=14133881111&body=x", .body = "",
       .ignored = "ignoring request, unknown message type"},
      // The type is judged before the content, the time and the sender's id.
      {.label = "unknown type, nothing else right", .method = "GET", .action = "receive",
       .query = "created_at=x&type=button&from=abc", .body = "", .ignored = "ignoring request, unknown message type"},
      {.label = "no type", .method = "GET", .action = "receive", .query = "created_at=1603914166&from=14133881111&body=x",
       .body = "", .ignored = "unknown message type"},
      {.label = "missing from", .method = "GET", .action = "receive",
       .query = "created_at=1603914166&type=text&body=hi", .body = "", .error = "field 'from' required"},
      {.label = "missing from comes before the type", .method = "GET", .action = "receive",
       .query = "type=location", .body = "", .error = "field 'from' required"},
      {.label = "no text or media", .method = "GET", .action = "receive",
       .query = "created_at=1603914166&type=text&from=14133881111", .body = "", .error = "no text or media"},
      {.label = "invalid whatsapp id", .method = "GET", .action = "receive",
       .query = "created_at=1603914166&type=text&from=abc&body=hi", .body = "", .error = "invalid whatsapp id"},
      {.label = "created_at not a number", .method = "GET", .action = "receive",
       .query = "created_at=yesterday&type=text&from=14133881111&body=hi", .body = "",
       .error = "invalid created_at: yesterday"},
      {.label = "created_at missing", .method = "GET", .action = "receive",
       .query = "type=text&from=14133881111&body=hi", .body = "", .error = "invalid created_at: none given"},
      {.label = "created_at negative", .method = "GET", .action = "receive",
       .query = "created_at=-5&type=text&from=14133881111&body=hi", .body = "", .error = "invalid created_at: -5"},
  });
}

TEST(KaleyraHandler, Status) {
  KaleyraHandler h;
  auto status = [](const std::string& word, MsgStatus want) {
    ReceiveCase c = StatusCase("status " + word, "id=58f86fab-85c5-4f7c-9b68-9c323248afc4%3A0&status=" + word);
    c.statuses = {{.status = want, .external_id = "58f86fab-85c5-4f7c-9b68-9c323248afc4:0"}};
    return c;
  };
  auto with = [](ReceiveCase c, const std::string& error, const std::string& ignored = "") {
    c.error = error;
    c.ignored = ignored;
    return c;
  };
  RunReceiveCases(h, KwaChannel(), {
      status("0", MsgStatus::kFailed),
      status("sent", MsgStatus::kWired),
      status("delivered", MsgStatus::kDelivered),
      status("read", MsgStatus::kRead),
      with(StatusCase("unknown status", "id=abc&status=deleted"), "", "unknown status: deleted"),
      with(StatusCase("missing id", "status=sent"), "field 'id' required"),
      with(StatusCase("missing status", "id=abc"), "field 'status' required"),
      with(StatusCase("missing both", ""), "field 'id' required; field 'status' required"),
  });
}

TEST(KaleyraHandler, Routes) {
  KaleyraHandler h;
  EXPECT_EQ(h.Code(), "KWA");
  EXPECT_EQ(h.Name(), "Kaleyra WhatsApp");
  EXPECT_EQ(h.Type().schemes, (std::vector<std::string>{"whatsapp"}));
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "GET status"}));
}

// Kaleyra signs nothing: with a webhook_token set, a webhook must carry it.
TEST(KaleyraHandler, WebhookToken) {
  KaleyraHandler h;
  Channel channel = KwaChannel({{"webhook_token", kWebhookToken}});
  ReceiveCase text = Incoming("text", "created_at=1603914166&type=text&from=14133881111&body=hi");
  text.msgs = {{.urn = "whatsapp:14133881111", .text = "hi", .received_on = kCreatedAt}};
  RunReceiveCases(h, channel, WebhookTokenCases(text));
  ReceiveCase status = StatusCase("status", "id=abc&status=read");
  status.statuses = {{.status = MsgStatus::kRead, .external_id = "abc"}};
  RunReceiveCases(h, channel, WebhookTokenCases(status));
}

// ---- text sends ----------------------------------------------------------

MockResponse Id(const std::string& id) { return {.body = R"({"id":")" + id + R"(","channel":"whatsapp"})"}; }

ExpectedRequest Text(const std::string& text, bool preview = false, const std::string& callback = kCallback) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"api-key", kApiKey}, {"channel", "WhatsApp"}, {"from", "250788383383"}, {"callback_url", callback},
      {"type", "text"},     {"to", "14133881111"},   {"body", text}};
  if (preview) fields.emplace_back("preview_url", "true");
  return {.path = kPath,
          .headers = {{"content-type", "application/x-www-form-urlencoded"}, {"accept", "application/json"}},
          .body = FormEncode(fields)};
}

TEST(KaleyraHandler, SendText) {
  KaleyraHandler h;
  const std::string urn = "whatsapp:14133881111";
  const std::string long_text(5000, 'x');
  RunSendCases(h, KwaChannel(), {
      {.label = "plain", .urn = urn, .responses = {{kPath, Id("k1")}}, .external_id = "k1",
       .requests = {Text("Simple Message")}},
      {.label = "unicode", .text = "☺ olá", .urn = urn, .responses = {{kPath, Id("k1")}}, .external_id = "k1",
       .requests = {Text("☺ olá")}},
      {.label = "a link asks for its preview", .text = "see https://example.com/page", .urn = urn,
       .responses = {{kPath, Id("k1")}}, .external_id = "k1", .requests = {Text("see https://example.com/page", true)}},
      {.label = "long text in one request", .text = long_text, .urn = urn, .responses = {{kPath, Id("k1")}},
       .external_id = "k1", .requests = {Text(long_text)}},
      {.label = "answer without id: W, the log says so", .urn = urn,
       .responses = {{kPath, {.body = R"({"channel":"whatsapp"})"}}}, .status = MsgStatus::kWired,
       .requests = {Text("Simple Message")}},
      {.label = "answer that is not JSON", .urn = urn, .responses = {{kPath, {.body = "queued"}}},
       .status = MsgStatus::kWired, .requests = {Text("Simple Message")}},
      {.label = "400 with Kaleyra's message", .urn = urn,
       .responses = {{kPath, {.status = 400, .body = R"({"code":"E413","message":"Invalid/incorrect inputs."})"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 400: Invalid/incorrect inputs.",
       .requests = {Text("Simple Message")}},
      {.label = "401", .urn = urn, .responses = {{kPath, {.status = 401, .body = ""}}}, .status = MsgStatus::kFailed,
       .error = "received non 200 status: 401", .requests = {Text("Simple Message")}},
      {.label = "500", .urn = urn, .responses = {{kPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {Text("Simple Message")}},
      {.label = "throttled", .urn = urn,
       .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "4"}}}}},
       .status = MsgStatus::kErrored, .requests = {Text("Simple Message")}, .throttled_for_seconds = 4},
      {.label = "nothing to send", .text = "", .urn = urn, .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1},
      {.label = "an attachment that is no URL", .text = "here", .urn = urn, .attachments = {"geo:-1.5,29.9"},
       .status = MsgStatus::kFailed, .error = "attachment 'geo:-1.5,29.9' is not an http(s) URL", .requests = {},
       .logs = 1},
  });

  RunSendCases(h, KwaChannel({{"callback_domain", "kwa.example.org"}}), {
      {.label = "callback_domain", .urn = urn, .responses = {{kPath, Id("k1")}}, .external_id = "k1",
       .requests = {Text("Simple Message", false,
                         std::string("https://kwa.example.org/c/kwa/") + kTestChannelUUID + "/status")}},
  });
  RunSendCases(h, KwaChannel({{"webhook_token", kWebhookToken}}), {
      {.label = "the webhook_token goes in callback_url", .urn = urn, .responses = {{kPath, Id("k1")}},
       .external_id = "k1", .requests = {Text("Simple Message", false, kCallback + "?webhook_token=" + kWebhookToken)}},
  });

  for (const char* key : {"account_sid", "api_key"}) {
    auto config = std::map<std::string, std::string>{{"account_sid", "SID"}, {"api_key", kApiKey}};
    config.erase(key);
    RunSendCases(h, TestChannel("KWA", "250788383383", "", config, {"whatsapp"}), {
        {.label = std::string("no ") + key, .urn = urn, .status = MsgStatus::kErrored,
         .error = std::string("no ") + key + " set for KWA channel", .requests = {}, .logs = 1},
    });
  }
}

// ---- attachments -----------------------------------------------------------

const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
const std::string kPdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";
const std::string kBoundary = "courier-form-boundary";

std::string Part(const std::string& name, const std::string& value) {
  return "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}

// Sends on a KWA channel whose base_url is `provider_`, attachment URLs
// written "{{mock}}/..." pointing at the provider too.
class MediaSend {
 public:
  MediaSend() { channel_.config["base_url"] = provider_.url(); }

  SendResult Send(const std::string& text, const std::vector<std::string>& attachments) {
    Msg msg;
    msg.id = 10;
    msg.channel_uuid = channel_.uuid;
    msg.direction = Direction::kOut;
    msg.urn = "whatsapp:14133881111";
    msg.text = text;
    for (std::string a : attachments) {
      const size_t at = a.find("{{mock}}");
      if (at != std::string::npos) a.replace(at, 8, provider_.url());
      msg.attachments.push_back(a);
    }
    auto http = NewLoopbackHttpClient();
    ManualClock clock(1700000000LL * kMicrosPerSecond);
    HandlerContext ctx{*http, clock, kTestBaseUrl};
    SendResult r = handler_.Send(channel_, msg, ctx);
    for (const auto& log : r.logs) {
      EXPECT_EQ(log.request.find(kApiKey), std::string::npos) << "api key in a log";
      EXPECT_EQ(log.request.find("JFIF"), std::string::npos) << "media bytes in a log request";
      EXPECT_EQ(log.response.find("JFIF"), std::string::npos) << "media bytes in a log response";
    }
    return r;
  }
  // Every request so far, as "METHOD path".
  std::vector<std::string> Requests() const {
    std::vector<std::string> out;
    for (const auto& r : provider_.requests()) out.push_back(r.method + " " + r.path);
    return out;
  }
  RecordedRequest Request(size_t i) const { return provider_.requests().at(i); }

  MockProvider provider_;
  KaleyraHandler handler_;
  Channel channel_ = KwaChannel();
};

using Requests = std::vector<std::string>;

TEST(KaleyraHandler, SendsAnAttachmentWithTheTextAsCaption) {
  MediaSend s;
  s.provider_.On("/files/cat.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, Id("k1"));
  SendResult r = s.Send("My pic!", {"image/jpeg:{{mock}}/files/cat.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "k1");
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/cat.jpg", "POST " + kPath}));

  const RecordedRequest upload = s.Request(1);
  EXPECT_EQ(upload.headers.at("content-type"), "multipart/form-data; boundary=" + kBoundary);
  EXPECT_EQ(upload.headers.count("authorization"), 0u);
  EXPECT_EQ(upload.body, Part("api-key", kApiKey) + Part("channel", "WhatsApp") + Part("from", "250788383383") +
                             Part("callback_url", kCallback) + Part("type", "media") + Part("to", "14133881111") +
                             Part("caption", "My pic!") + "--" + kBoundary +
                             "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"cat.jpg\"\r\n"
                             "Content-Type: image/jpeg\r\n\r\n" + kJpeg + "\r\n--" + kBoundary + "--\r\n");

  ASSERT_EQ(r.logs.size(), 2u);
  EXPECT_EQ(r.logs[0].description, "Media Download");
  EXPECT_NE(r.logs[0].response.find("[20 bytes of image/jpeg]"), std::string::npos) << r.logs[0].response;
  EXPECT_EQ(r.logs[1].description, "Message Sent");
  EXPECT_NE(r.logs[1].request.find("[20 bytes of image/jpeg]"), std::string::npos) << r.logs[1].request;
  EXPECT_EQ(r.logs[1].error, "");
}

TEST(KaleyraHandler, SendsEachAttachmentCaptioningTheFirst) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/files/report.pdf", {.body = kPdf, .content_type = "application/octet-stream"});
  s.provider_.On(kPath, Id("k1"));
  s.provider_.On(kPath, Id("k2"));
  // The second is a bare URL: its type is read from its bytes.
  SendResult r = s.Send("two files", {"image/jpeg:{{mock}}/files/a.jpg", "{{mock}}/files/report.pdf?v=2"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "k2");  // the last request's
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/a.jpg", "POST " + kPath, "GET /files/report.pdf", "POST " + kPath}));
  EXPECT_EQ(s.Request(2).query, "v=2");
  const std::string first = s.Request(1).body, second = s.Request(3).body;
  EXPECT_NE(first.find(Part("caption", "two files")), std::string::npos) << first;
  EXPECT_EQ(second.find("name=\"caption\""), std::string::npos) << second;
  EXPECT_NE(second.find(Part("type", "media")), std::string::npos) << second;
  EXPECT_NE(second.find("name=\"media\"; filename=\"report.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" + kPdf),
            std::string::npos)
      << second;
  EXPECT_EQ(r.logs.size(), 4u);
}

TEST(KaleyraHandler, AttachmentWithoutTextHasNoCaption) {
  MediaSend s;
  s.provider_.On("/files/cat.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, Id("k1"));
  SendResult r = s.Send("", {"image/jpeg:{{mock}}/files/cat.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "k1");
  EXPECT_EQ(s.Request(1).body.find("name=\"caption\""), std::string::npos);
}

// The reference judged only the last answer; each one counts here.
TEST(KaleyraHandler, RefusedFirstAttachmentFailsTheMsgAndStops) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, {.status = 400, .body = R"({"code":"E413","message":"Invalid/incorrect inputs."})"});
  SendResult r = s.Send("two", {"image/jpeg:{{mock}}/files/a.jpg", "image/jpeg:{{mock}}/files/b.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kFailed));
  EXPECT_EQ(r.error, "received non 200 status: 400: Invalid/incorrect inputs.");
  EXPECT_EQ(r.external_id, "");
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/a.jpg", "POST " + kPath}));
  EXPECT_EQ(r.logs.size(), 2u);
}

TEST(KaleyraHandler, SecondAttachmentRefusedByAServerErrorIsRetried) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/files/b.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, Id("k1"));
  s.provider_.On(kPath, {.status = 502, .body = ""});
  SendResult r = s.Send("two", {"image/jpeg:{{mock}}/files/a.jpg", "image/jpeg:{{mock}}/files/b.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_EQ(r.error, "received non 200 status: 502");
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/a.jpg", "POST " + kPath, "GET /files/b.jpg", "POST " + kPath}));
  EXPECT_EQ(r.logs.size(), 4u);
}

TEST(KaleyraHandler, ThrottledAttachment) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}});
  SendResult r = s.Send("", {"image/jpeg:{{mock}}/files/a.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_EQ(r.throttled_for_seconds, 5);
}

TEST(KaleyraHandler, ExternalIdIsTheLastOneGiven) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/files/b.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On(kPath, Id("k1"));
  s.provider_.On(kPath, {.body = "{}"});
  SendResult r = s.Send("two", {"image/jpeg:{{mock}}/files/a.jpg", "image/jpeg:{{mock}}/files/b.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kWired)) << r.error;
  EXPECT_EQ(r.external_id, "k1");
  ASSERT_EQ(r.logs.size(), 4u);
  EXPECT_EQ(r.logs[1].error, "");
  EXPECT_EQ(r.logs[3].error, "no id in Kaleyra's answer: statuses cannot be matched");
}

TEST(KaleyraHandler, FailedDownloadIsRetriedWithoutUpload) {
  MediaSend s;
  s.provider_.On("/files/gone.jpg", {.status = 404, .body = "not found", .content_type = "text/plain"});
  SendResult r = s.Send("pic", {"image/jpeg:{{mock}}/files/gone.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_EQ(r.error.rfind("unable to fetch media ", 0), 0u) << r.error;
  EXPECT_NE(r.error.find("received non 200 status: 404"), std::string::npos) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/gone.jpg"}));
  ASSERT_EQ(r.logs.size(), 1u);
  EXPECT_EQ(r.logs[0].description, "Media Download");
}

TEST(KaleyraHandler, SecondDownloadFailingStopsAfterTheFirstWent) {
  MediaSend s;
  s.provider_.On("/files/a.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  s.provider_.On("/files/b.jpg", {.status = 500, .body = ""});
  s.provider_.On(kPath, Id("k1"));
  SendResult r = s.Send("two", {"image/jpeg:{{mock}}/files/a.jpg", "image/jpeg:{{mock}}/files/b.jpg"});
  EXPECT_EQ(MsgStatusString(r.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_NE(r.error.find("unable to fetch media"), std::string::npos) << r.error;
  EXPECT_EQ(s.Requests(), (Requests{"GET /files/a.jpg", "POST " + kPath, "GET /files/b.jpg"}));
}

}  // namespace
