// TG — Telegram: receive (text, media through getFile, location, venue,
// contact) and send (text, split text, media, errors) tables.
#include "handlers/telegram.h"

#include "handler_harness.h"

using namespace courier;
using namespace courier::testing;

namespace {

// Shaped like a real bot token (id:secret), so the ':' is exercised too.
const std::string kToken = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
// Stored file URLs leave the token's place empty (TelegramFetchUrl).
const std::string kFile = "{{mock}}/file/bot/";
const std::string kGetFile = "/bot" + kToken + "/getFile";
const char* kJson = "application/json";

Channel TgChannel() { return TestChannel("TG", "courierbot", "", {{"auth_token", kToken}}, {"telegram"}); }

// An Update holding one message with the given extra fields.
std::string Update(const std::string& fields, const std::string& from = R"("id":3527065,"first_name":"Nic","last_name":"Pottier","username":"nicpottier")") {
  return R"({"update_id":174114370,"message":{"message_id":41,"from":{)" + from +
         R"(},"chat":{"id":3527065,"type":"private"},"date":1454119029)" + (fields.empty() ? "" : "," + fields) + "}}";
}

// Scripts one getFile answer with the given file_path.
std::function<void(Channel&, MockProvider&)> FilePath(const std::string& path) {
  return [path](Channel&, MockProvider& p) {
    p.On(kGetFile, {.body = R"({"ok":true,"result":{"file_id":"x","file_unique_id":"u","file_size":1,"file_path":")" +
                            path + R"("}})"});
  };
}

std::function<void(Channel&, MockProvider&)> FileAnswer(MockResponse response) {
  return [response](Channel&, MockProvider& p) { p.On(kGetFile, response); };
}

const Micros kDate = 1454119029 * kMicrosPerSecond;

TEST(TelegramHandler, Basics) {
  TelegramHandler h;
  EXPECT_EQ(h.Code(), "TG");
  EXPECT_EQ(h.Name(), "Telegram");
  auto routes = h.Routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].method, "POST");
  EXPECT_EQ(routes[0].action, "receive");
}

TEST(TelegramHandler, Receive) {
  TelegramHandler h;
  RunReceiveCases(h, TgChannel(), {
      {.label = "text", .action = "receive", .body = Update(R"("text":"Hello World")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "Hello World", .external_id = "41",
                 .contact_name = "Nic Pottier", .received_on = kDate}}},
      // The Start button opens a conversation: an event, not a msg; a
      // t.me/<bot>?start=<parameter> link sends its parameter along.
      {.label = "start", .action = "receive", .body = Update(R"("text":"/start")"), .content_type = kJson,
       .events = {{.type = ChannelEventType::kNewConversation, .urn = "telegram:3527065",
                   .contact_name = "Nic Pottier", .occurred_on = kDate}}},
      {.label = "start with a deep-link parameter", .action = "receive",
       .body = Update(R"("text":"/start  campaign-42 ")"), .content_type = kJson,
       .events = {{.type = ChannelEventType::kNewConversation, .urn = "telegram:3527065",
                   .contact_name = "Nic Pottier", .extra = {{"start_parameter", "campaign-42"}}}}},
      {.label = "a command that only begins like start is a msg", .action = "receive",
       .body = Update(R"("text":"/started")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "/started", .external_id = "41", .contact_name = "Nic Pottier"}}},
      {.label = "a date past any clock is dropped", .action = "receive",
       .body = R"({"update_id":7,"message":{"message_id":41,"from":{"id":1},"date":145411904114370,"text":"hi"}})",
       .content_type = kJson, .msgs = {{.urn = "telegram:1", .text = "hi", .external_id = "41", .no_received_on = true}}},
      {.label = "unicode", .action = "receive", .body = Update(R"("text":"Muraho \u263a \ud83c\uddf7\ud83c\uddfc")"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "Muraho ☺ 🇷🇼", .external_id = "41",
                 .contact_name = "Nic Pottier"}}},
      {.label = "first name only", .action = "receive",
       .body = Update(R"("text":"hi")", R"("id":3527065,"first_name":"Nic")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "hi", .external_id = "41", .contact_name = "Nic"}}},
      {.label = "username only", .action = "receive",
       .body = Update(R"("text":"hi")", R"("id":3527065,"username":"nicpottier")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "hi", .external_id = "41", .contact_name = "nicpottier"}}},
      {.label = "no name at all", .action = "receive", .body = Update(R"("text":"hi")", R"("id":3527065)"),
       .content_type = kJson, .msgs = {{.urn = "telegram:3527065", .text = "hi", .external_id = "41"}}},
      {.label = "id beyond 32 bits", .action = "receive",
       .body = Update(R"("text":"hi")", R"("id":7003527065123,"first_name":"Big")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:7003527065123", .text = "hi", .external_id = "41", .contact_name = "Big"}}},
      {.label = "negative id", .action = "receive",
       .body = Update(R"("text":"hi")", R"("id":-1001234567890,"first_name":"Group")"), .content_type = kJson,
       .msgs = {{.urn = "telegram:-1001234567890", .text = "hi", .external_id = "41", .contact_name = "Group"}}},
      {.label = "caption when no text", .action = "receive", .body = Update(R"("caption":"Look at this")"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "Look at this", .external_id = "41",
                 .contact_name = "Nic Pottier"}}},
      {.label = "location", .action = "receive",
       .body = Update(R"("location":{"latitude":-2.890287,"longitude":-79.004333})"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "-2.890287,-79.004333", .external_id = "41",
                 .contact_name = "Nic Pottier", .attachments = {"geo:-2.890287,-79.004333"}}}},
      {.label = "venue", .action = "receive",
       .body = Update(R"("location":{"latitude":1.5,"longitude":2.5},)"
                      R"("venue":{"location":{"latitude":-2.890287,"longitude":-79.004333},)"
                      R"("title":"Cuenca","address":"Av. Solano"})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "Cuenca, Av. Solano", .external_id = "41",
                 .contact_name = "Nic Pottier", .attachments = {"geo:-2.890287,-79.004333"}}}},
      {.label = "contact", .action = "receive",
       .body = Update(R"("contact":{"phone_number":"0788123123","first_name":"Adam","last_name":"Smith"})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "Adam Smith (0788123123)", .external_id = "41",
                 .contact_name = "Nic Pottier"}}},
      {.label = "missing update_id", .action = "receive",
       .body = R"({"message":{"message_id":41,"from":{"id":1},"date":1,"text":"hi"}})", .content_type = kJson,
       .error = "field 'update_id' required"},
      {.label = "no message", .action = "receive", .body = R"({"update_id":174114370})", .content_type = kJson,
       .ignored = "Ignoring request, no message"},
      {.label = "edited message only", .action = "receive",
       .body = R"({"update_id":1,"edited_message":{"message_id":41,"from":{"id":1},"date":1,"text":"hi"}})",
       .content_type = kJson, .ignored = "Ignoring request, no message"},
      {.label = "message_id 0", .action = "receive",
       .body = R"({"update_id":1,"message":{"message_id":0,"from":{"id":1},"date":1,"text":"hi"}})",
       .content_type = kJson, .ignored = "Ignoring request, no message"},
      {.label = "malformed JSON", .action = "receive", .body = R"({"update_id":1,"message":{)", .content_type = kJson,
       .error = "unable to parse request JSON"},
      {.label = "no sender", .action = "receive",
       .body = R"({"update_id":1,"message":{"message_id":41,"date":1,"text":"hi"}})", .content_type = kJson,
       .error = "field 'message.from.id' required"},
  });
}

TEST(TelegramHandler, ReceiveMedia) {
  TelegramHandler h;
  RunReceiveCases(h, TgChannel(), {
      {.label = "photo with caption: largest size under 100k", .action = "receive",
       .body = Update(R"("caption":"My pic","photo":[{"file_id":"small","file_size":1000,"width":90,"height":51},)"
                      R"({"file_id":"medium","file_size":50000,"width":320,"height":180},)"
                      R"({"file_id":"large","file_size":150000,"width":1280,"height":720}])"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "My pic", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"image/jpeg:" + kFile + "photos/file_1.jpg"}}},
       .setup = FilePath("photos/file_1.jpg"), .extra_logs = 1},
      {.label = "video, mime from the message", .action = "receive",
       .body = Update(R"("video":{"file_id":"vid","duration":3,"mime_type":"video/quicktime"})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"video/quicktime:" + kFile + "videos/file_2.mov"}}},
       .setup = FilePath("videos/file_2.mov"), .extra_logs = 1},
      {.label = "voice", .action = "receive",
       .body = Update(R"("voice":{"file_id":"voc","duration":2,"mime_type":"audio/ogg"})"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"audio/ogg:" + kFile + "voice/file_3.oga"}}},
       .setup = FilePath("voice/file_3.oga"), .extra_logs = 1},
      {.label = "document", .action = "receive",
       .body = Update(R"("caption":"report","document":{"file_id":"doc","file_name":"r.pdf","mime_type":"application/pdf"})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "report", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"application/pdf:" + kFile + "documents/file_4.pdf"}}},
       .setup = FilePath("documents/file_4.pdf"), .extra_logs = 1},
      {.label = "document of unknown type", .action = "receive",
       .body = Update(R"("document":{"file_id":"doc"})"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"application/octet-stream:" + kFile + "documents/file_5.xyz"}}},
       .setup = FilePath("documents/file_5.xyz"), .extra_logs = 1},
      {.label = "audio, mime guessed from the path", .action = "receive",
       .body = Update(R"("audio":{"file_id":"aud","duration":200})"), .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"audio/mpeg:" + kFile + "music/file_6.mp3"}}},
       .setup = FilePath("music/file_6.mp3"), .extra_logs = 1},
      {.label = "sticker thumbnail", .action = "receive",
       .body = Update(R"("sticker":{"file_id":"stk","width":512,"height":512,"emoji":"x",)"
                      R"("thumbnail":{"file_id":"stkthumb","file_size":5000,"width":128,"height":128}})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"image/webp:" + kFile + "thumbnails/file_7.webp"}}},
       .setup = FilePath("thumbnails/file_7.webp"), .extra_logs = 1},
      {.label = "sticker thumb (before Bot API 6.6)", .action = "receive",
       .body = Update(R"("sticker":{"file_id":"stk","thumb":{"file_id":"stkthumb","file_size":5000}})"),
       .content_type = kJson,
       .msgs = {{.urn = "telegram:3527065", .text = "", .external_id = "41", .contact_name = "Nic Pottier",
                 .attachments = {"image/jpeg:" + kFile + "thumbnails/file_8.jpg"}}},
       .setup = FilePath("thumbnails/file_8.jpg"), .extra_logs = 1},
      {.label = "getFile answers ok:false", .action = "receive",
       .body = Update(R"("photo":[{"file_id":"gone","file_size":1000}])"), .content_type = kJson,
       .error = "error retrieving media: file id 'gone' not present",
       .setup = FileAnswer({.status = 400,
                            .body = R"({"ok":false,"error_code":400,"description":"Bad Request: invalid file_id"})"}),
       .extra_logs = 1},
      {.label = "getFile answers without ok", .action = "receive",
       .body = Update(R"("voice":{"file_id":"voc"})"), .content_type = kJson,
       .error = "error retrieving media: no 'ok' in response",
       .setup = FileAnswer({.status = 502, .body = "Bad Gateway", .content_type = "text/plain"}), .extra_logs = 1},
      {.label = "getFile answers without file_path", .action = "receive",
       .body = Update(R"("voice":{"file_id":"voc"})"), .content_type = kJson,
       .error = "error retrieving media: no 'result.file_path' in response",
       .setup = FileAnswer({.body = R"({"ok":true,"result":{"file_id":"voc"}})"}), .extra_logs = 1},
  });
}

// setWebhook's secret_token comes back in X-Telegram-Bot-Api-Secret-Token:
// with one set, an update without it or with another is refused.
TEST(TelegramHandler, ReceiveChecksSecretToken) {
  TelegramHandler h;
  const std::string secret = "Zx9_courier-webhook-Secret-0123456789";
  Channel channel = TestChannel("TG", "courierbot", "", {{"auth_token", kToken}, {"secret_token", secret}}, {"telegram"});
  const std::string update = Update(R"("text":"Hello World")");
  const ExpectedMsg hello{.urn = "telegram:3527065", .text = "Hello World", .external_id = "41",
                          .contact_name = "Nic Pottier"};
  RunReceiveCases(h, channel, {
      {.label = "right secret token", .action = "receive", .body = update, .content_type = kJson,
       .headers = {{"x-telegram-bot-api-secret-token", secret}}, .msgs = {hello}},
      {.label = "no secret token", .action = "receive", .body = update, .content_type = kJson,
       .error = "missing secret token", .unauthorized = true},
      {.label = "forged secret token", .action = "receive", .body = update, .content_type = kJson,
       .headers = {{"x-telegram-bot-api-secret-token", "Zx9_courier-webhook-Secret-0123456788"}},
       .error = "invalid secret token", .unauthorized = true},
      {.label = "the bot token instead", .action = "receive", .body = update, .content_type = kJson,
       .headers = {{"x-telegram-bot-api-secret-token", kToken}}, .error = "invalid secret token",
       .unauthorized = true},
      {.label = "a prefix of it", .action = "receive", .body = update, .content_type = kJson,
       .headers = {{"x-telegram-bot-api-secret-token", secret.substr(0, 10)}}, .error = "invalid secret token",
       .unauthorized = true},
  });
  // Without a secret_token Telegram sends no proof of origin: taken.
  RunReceiveCases(h, TgChannel(), {
      {.label = "no secret token set", .action = "receive", .body = update, .content_type = kJson, .msgs = {hello}},
  });
}

TEST(TelegramHandler, FetchUrlPutsTheTokenBack) {
  Channel channel = TgChannel();
  auto url = TelegramFetchUrl(channel, "https://api.telegram.org/file/bot/photos/file_1.jpg");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(*url, "https://api.telegram.org/file/bot" + kToken + "/photos/file_1.jpg");

  channel.config["base_url"] = "http://127.0.0.1:8081";
  url = TelegramFetchUrl(channel, "http://127.0.0.1:8081/file/bot/voice/file_3.oga");
  ASSERT_TRUE(url.ok()) << url.status().message();
  EXPECT_EQ(*url, "http://127.0.0.1:8081/file/bot" + kToken + "/voice/file_3.oga");

  // The token goes only to the channel's own API, never to a URL a sender
  // chose: another host, another path, nothing after the prefix.
  for (const char* other : {"https://api.telegram.org/file/bot/photos/file_1.jpg", "http://127.0.0.1:8081/file/bot/",
                            "http://127.0.0.1:8081/bot/getMe", "http://evil.example/file/bot/x.jpg",
                            "http://127.0.0.1:8081.evil.example/file/bot/x.jpg"}) {
    EXPECT_FALSE(TelegramFetchUrl(channel, other).ok()) << other;
  }
  channel.config.erase("auth_token");
  EXPECT_FALSE(TelegramFetchUrl(channel, "http://127.0.0.1:8081/file/bot/voice/file_3.oga").ok());
}

// What the harness cannot see: which size getFile was asked for, and that
// the lookup's channel log is the channel's, redacted.
WebhookResult ReceiveWith(MockProvider& provider, const std::string& body) {
  TelegramHandler h;
  Channel channel = TgChannel();
  channel.config["base_url"] = provider.url();
  auto request = WebhookRequest::Build("POST", "/c/tg/" + channel.uuid + "/receive/", {{"content-type", kJson}}, body,
                                       kTestBaseUrl, "receive");
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  return h.Receive(h.Routes()[0], channel, request, ctx);
}

TEST(TelegramHandler, ReceivePhotoSizeSelection) {
  MockProvider provider;
  provider.SetDefault({.body = R"({"ok":true,"result":{"file_id":"x","file_path":"photos/file_1.jpg"}})"});

  auto r = ReceiveWith(provider, Update(R"("photo":[{"file_id":"small","file_size":1000},)"
                                        R"({"file_id":"medium","file_size":99999},)"
                                        R"({"file_id":"exact","file_size":100000},)"
                                        R"({"file_id":"large","file_size":100001}])"));
  ASSERT_EQ(r.error, "");
  auto requests = provider.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, kGetFile);
  EXPECT_EQ(requests[0].headers["content-type"], "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].form["file_id"], "exact");

  ASSERT_EQ(r.extra_logs.size(), 1u);
  const ChannelLog& log = r.extra_logs[0];
  EXPECT_FALSE(log.msg_id.has_value());
  EXPECT_EQ(log.channel_uuid, kTestChannelUUID);
  EXPECT_EQ(log.status_code, 200);
  EXPECT_EQ(log.url.find(kToken), std::string::npos);
  EXPECT_NE(log.url.find("/getFile"), std::string::npos);
  EXPECT_EQ(log.request.find(kToken), std::string::npos);
  EXPECT_EQ(log.response.find(kToken), std::string::npos);
  // The attachment is stored without the token; TelegramFetchUrl adds it.
  ASSERT_EQ(r.msgs.size(), 1u);
  EXPECT_EQ(r.msgs[0].attachments,
            std::vector<std::string>{"image/jpeg:" + provider.url() + "/file/bot/photos/file_1.jpg"});

  provider.Clear();
  provider.SetDefault({.body = R"({"ok":true,"result":{"file_id":"x","file_path":"photos/file_2.jpg"}})"});
  r = ReceiveWith(provider, Update(R"("photo":[{"file_id":"smallest","file_size":200000},)"
                                   R"({"file_id":"bigger","file_size":400000}])"));
  ASSERT_EQ(r.error, "");
  requests = provider.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].form["file_id"], "smallest") << "none fits: the smallest";
}

TEST(TelegramHandler, ReceiveGetFileErrorKeepsLog) {
  MockProvider provider;
  provider.SetDefault({.status = 400, .body = R"({"ok":false,"error_code":400,"description":"Bad Request"})"});
  auto r = ReceiveWith(provider, Update(R"("document":{"file_id":"doc"})"));
  EXPECT_EQ(r.error, "error retrieving media: file id 'doc' not present");
  EXPECT_TRUE(r.msgs.empty());
  ASSERT_EQ(r.extra_logs.size(), 1u);
  EXPECT_EQ(r.extra_logs[0].status_code, 400);
  EXPECT_EQ(r.extra_logs[0].url.find(kToken), std::string::npos);
}

std::string SendPath(const std::string& method) { return "/bot" + kToken + "/" + method; }

MockResponse Ok(int message_id) {
  return {.body = R"({"ok":true,"result":{"message_id":)" + std::to_string(message_id) +
                  R"(,"date":1,"chat":{"id":12345,"type":"private"},"text":"x"}})"};
}

MockResponse Fail(int code, const std::string& description, const std::string& extra = "") {
  return {.status = code,
          .body = R"({"ok":false,"error_code":)" + std::to_string(code) + R"(,"description":")" + description + "\"" +
                  extra + "}"};
}

TEST(TelegramHandler, Send) {
  TelegramHandler h;
  const std::string urn = "telegram:12345";
  const std::string long_text = std::string(4000, 'a') + " " + std::string(200, 'b');
  RunSendCases(h, TgChannel(), {
      {.label = "text", .urn = urn, .responses = {{SendPath("sendMessage"), Ok(133)}}, .external_id = "133",
       .requests = {{.path = SendPath("sendMessage"),
                     .form = {{"chat_id", "12345"}, {"text", "Simple Message"}},
                     .headers = {{"content-type", "application/x-www-form-urlencoded"}}}}},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{SendPath("sendMessage"), Ok(134)}},
       .external_id = "134", .requests = {{.path = SendPath("sendMessage"), .form = {{"text", "Muraho ☺"}}}}},
      {.label = "long text split in two, first id kept", .text = long_text, .urn = urn,
       .responses = {{SendPath("sendMessage"), Ok(133)}, {SendPath("sendMessage"), Ok(134)}},
       .external_id = "133",
       .requests = {{.path = SendPath("sendMessage"), .form = {{"text", std::string(4000, 'a')}}},
                    {.path = SendPath("sendMessage"), .form = {{"text", std::string(200, 'b')}}}}},
      // Quick replies: a one-time keyboard on the last part, a row each; a
      // location button asks for the user's location; links only alone.
      {.label = "quick replies", .text = "Coming?", .urn = urn, .responses = {{SendPath("sendMessage"), Ok(135)}},
       .external_id = "135",
       .requests = {{.path = SendPath("sendMessage"),
                     .form = {{"text", "Coming?"},
                              {"reply_markup", R"({"keyboard":[[{"text":"Yes"}],[{"text":"Where are you?",)"
                                               R"("request_location":true}]],"resize_keyboard":true,)"
                                               R"("one_time_keyboard":true})"}}}},
       .quick_replies = {"Yes", QuickReply::Location("Where are you?"), QuickReply::Url("Map", "https://m.example")}},
      {.label = "a link alone: an inline keyboard", .text = "Book here", .urn = urn,
       .responses = {{SendPath("sendMessage"), Ok(136)}}, .external_id = "136",
       .requests = {{.path = SendPath("sendMessage"),
                     .form = {{"reply_markup", R"({"inline_keyboard":[[{"text":"Book","url":"https://b.example/?a=1&b=2"}]]})"}}}},
       .quick_replies = {QuickReply::Url("Book", "https://b.example/?a=1&b=2")}},
      {.label = "quick replies on the last of two parts", .text = "Look", .urn = urn,
       .attachments = {"image/png:https://foo.bar/a.png", "image/png:https://foo.bar/b.png"},
       .responses = {{SendPath("sendMessage"), Ok(137)}, {SendPath("sendPhoto"), Ok(138)}, {SendPath("sendPhoto"), Ok(139)}},
       .external_id = "137",
       .requests = {{.path = SendPath("sendMessage"), .form = {{"text", "Look"}}},
                    {.path = SendPath("sendPhoto"), .form = {{"photo", "https://foo.bar/a.png"}}},
                    {.path = SendPath("sendPhoto"),
                     .form = {{"photo", "https://foo.bar/b.png"},
                              {"reply_markup", R"({"keyboard":[[{"text":"Nice"}]],"resize_keyboard":true,"one_time_keyboard":true})"}}}},
       .quick_replies = {"Nice"}},
      {.label = "one image, text as caption", .text = "My pic!", .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{SendPath("sendPhoto"), Ok(140)}},
       .external_id = "140",
       .requests = {{.path = SendPath("sendPhoto"),
                     .form = {{"chat_id", "12345"}, {"photo", "https://foo.bar/image.jpg"}, {"caption", "My pic!"}}}}},
      {.label = "two attachments and text: three requests", .text = "Two things", .urn = urn,
       .attachments = {"image/png:https://foo.bar/a.png", "video/mp4:https://foo.bar/b.mp4"},
       .responses = {{SendPath("sendMessage"), Ok(150)}, {SendPath("sendPhoto"), Ok(151)},
                     {SendPath("sendVideo"), Ok(152)}},
       .external_id = "150",
       .requests = {{.path = SendPath("sendMessage"), .form = {{"text", "Two things"}}},
                    {.path = SendPath("sendPhoto"), .form = {{"photo", "https://foo.bar/a.png"}}},
                    {.path = SendPath("sendVideo"), .form = {{"video", "https://foo.bar/b.mp4"}}}}},
      {.label = "document", .text = "", .urn = urn, .attachments = {"application/pdf:https://foo.bar/doc.pdf"},
       .responses = {{SendPath("sendDocument"), Ok(160)}}, .external_id = "160",
       .requests = {{.path = SendPath("sendDocument"),
                     .form = {{"chat_id", "12345"}, {"document", "https://foo.bar/doc.pdf"}}}}},
      {.label = "audio with caption", .text = "listen", .urn = urn, .attachments = {"audio/mpeg:https://foo.bar/a.mp3"},
       .responses = {{SendPath("sendAudio"), Ok(161)}}, .external_id = "161",
       .requests = {{.path = SendPath("sendAudio"), .form = {{"audio", "https://foo.bar/a.mp3"}, {"caption", "listen"}}}}},
      {.label = "text too long for a caption goes on its own", .text = std::string(1100, 'c'), .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{SendPath("sendMessage"), Ok(170)}, {SendPath("sendPhoto"), Ok(171)}}, .external_id = "170",
       .requests = {{.path = SendPath("sendMessage"), .form = {{"text", std::string(1100, 'c')}}},
                    {.path = SendPath("sendPhoto"), .form = {{"photo", "https://foo.bar/image.jpg"}}}}},
      {.label = "ok:false 400 is permanent", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(400, "Bad Request: chat not found")}},
       .status = MsgStatus::kFailed, .error = "received error from telegram: Bad Request: chat not found",
       .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "a failed first part stops the send", .text = long_text, .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(400, "Bad Request: chat not found")}},
       .status = MsgStatus::kFailed, .error = "chat not found", .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "a failed later part fails the send (reference bug fixed)", .text = "caption?", .urn = urn,
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "image/jpeg:https://foo.bar/b.jpg"},
       .responses = {{SendPath("sendMessage"), Ok(180)},
                     {SendPath("sendPhoto"), Fail(400, "Bad Request: wrong file identifier/HTTP URL specified")},
                     {SendPath("sendPhoto"), Ok(182)}},
       .status = MsgStatus::kFailed, .error = "wrong file identifier",
       .requests = {{.path = SendPath("sendMessage")}, {.path = SendPath("sendPhoto")}}},
      {.label = "bot blocked: failed and contact stopped", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(403, "Forbidden: bot was blocked by the user")}},
       .status = MsgStatus::kFailed, .error = "bot was blocked by the user", .stop_contact = true,
       .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "user deactivated: failed and contact stopped", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(403, "Forbidden: user is deactivated")}},
       .status = MsgStatus::kFailed, .error = "user is deactivated", .stop_contact = true,
       .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "other 403: failed, not stopped", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(403, "Forbidden: bot can't initiate conversation with a user")}},
       .status = MsgStatus::kFailed, .error = "can't initiate", .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "429 throttles for retry_after", .urn = urn,
       .responses = {{SendPath("sendMessage"),
                      Fail(429, "Too Many Requests: retry after 7", R"(,"parameters":{"retry_after":7})")}},
       .status = MsgStatus::kErrored, .error = "Too Many Requests", .requests = {{.path = SendPath("sendMessage")}},
       .throttled_for_seconds = 7},
      {.label = "429 without parameters throttles for 1s", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(429, "Too Many Requests")}}, .status = MsgStatus::kErrored,
       .requests = {{.path = SendPath("sendMessage")}}, .throttled_for_seconds = 1},
      {.label = "ok:true without message_id", .urn = urn,
       .responses = {{SendPath("sendMessage"), {.body = R"({"ok":true,"result":{}})"}}},
       .status = MsgStatus::kFailed, .error = "no 'result.message_id' in response",
       .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "not JSON", .urn = urn,
       .responses = {{SendPath("sendMessage"), {.status = 502, .body = "<html>bad gateway</html>", .content_type = "text/html"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 502",
       .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "ok:false 500 is retried", .urn = urn,
       .responses = {{SendPath("sendMessage"), Fail(500, "Internal Server Error")}}, .status = MsgStatus::kErrored,
       .error = "Internal Server Error", .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "2xx that is not JSON may have been taken", .urn = urn,
       .responses = {{SendPath("sendMessage"), {.body = "<html>ok</html>", .content_type = "text/html"}}},
       .status = MsgStatus::kFailed, .error = "no 'ok' in response", .requests = {{.path = SendPath("sendMessage")}}},
      {.label = "channel max_length", .text = "uno dos tres", .urn = urn,
       .responses = {{SendPath("sendMessage"), Ok(190)}, {SendPath("sendMessage"), Ok(191)}}, .external_id = "190",
       .requests = {{.path = SendPath("sendMessage"), .form = {{"text", "uno dos"}}},
                    {.path = SendPath("sendMessage"), .form = {{"text", "tres"}}}},
       .setup = [](Channel& c) { c.config["max_length"] = "7"; }},
      {.label = "no auth_token: errored, one log, no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "no auth_token set for TG channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("auth_token"); }},
  });
}

TEST(TelegramHandler, SendResultHasNoThrottleOnSuccess) {
  // The harness checks throttled_for_seconds only when a case sets it; make
  // sure success and plain errors leave it unset.
  MockProvider provider;
  provider.On(SendPath("sendMessage"), Ok(1));
  provider.On(SendPath("sendMessage"), Fail(400, "Bad Request: chat not found"));
  TelegramHandler h;
  Channel channel = TgChannel();
  channel.config["base_url"] = provider.url();
  Msg msg;
  msg.id = 10;
  msg.direction = Direction::kOut;
  msg.urn = "telegram:12345";
  msg.text = "hi";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  SendResult ok = h.Send(channel, msg, ctx);
  EXPECT_EQ(ok.status, MsgStatus::kWired);
  EXPECT_FALSE(ok.throttled_for_seconds.has_value());
  ASSERT_EQ(ok.logs.size(), 1u);
  EXPECT_EQ(ok.logs[0].msg_id, std::optional<int64_t>(10));
  EXPECT_EQ(ok.logs[0].response.find(kToken), std::string::npos);
  SendResult err = h.Send(channel, msg, ctx);
  EXPECT_EQ(err.status, MsgStatus::kFailed);
  EXPECT_FALSE(err.throttled_for_seconds.has_value());
  EXPECT_FALSE(err.stop_contact);
}

}  // namespace
