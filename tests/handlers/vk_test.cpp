// VK — VKontakte community messages: Callback API events (confirmation,
// message_new with each kind of attachment, others), the secret, and send
// through messages.send (text, links, photo uploads, keyboard, VK's error
// answers) tables.
#include "handlers/vk.h"

#include "handler_harness.h"
#include "loopback_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kToken = "vk1.a.communitytoken0123456789";
const std::string kSecret = "vk-callback-secret-5e6f";
const std::string kConfirmation = "a1b2c3d4";
const char* kJson = "application/json";
const std::string kUrn = "vk:123456";
const Micros kDate = 1580125800LL * kMicrosPerSecond;

Channel VkChannel(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> config = {
      {"auth_token", kToken}, {"secret", kSecret}, {"callback_verification_string", kConfirmation}};
  for (auto& [k, v] : extra) config[k] = v;
  return TestChannel("VK", "123456789", "", config, {"vk"});
}

std::string Event(const std::string& type, const std::string& object, const std::string& secret = kSecret) {
  return R"({"type":")" + type + R"(","group_id":123456789,"event_id":"5e8ba9a6","secret":")" + secret +
         R"(","object":)" + object + "}";
}

// A message_new event with these fields of object.message besides its id,
// date and sender.
std::string MessageNew(const std::string& fields, const std::string& secret = kSecret) {
  return Event("message_new",
               R"({"message":{"date":1580125800,"from_id":123456,"id":1,"out":0,"peer_id":123456,)"
               R"("conversation_message_id":1,"fwd_messages":[],"important":false,"random_id":0,"is_hidden":false)" +
                   (fields.empty() ? "" : "," + fields) + R"(},"client_info":{"keyboard":true,"inline_keyboard":true}})",
               secret);
}

ReceiveCase Post(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  return c;
}

TEST(VkHandler, Basics) {
  VkHandler h;
  EXPECT_EQ(h.Code(), "VK");
  EXPECT_EQ(h.Type().schemes, std::vector<std::string>{"vk"});
  EXPECT_EQ(RouteList(h), std::vector<std::string>{"POST receive"});
  EXPECT_EQ(h.Type().WebhookVerificationKeys(), std::vector<std::string>{"secret"});
  EXPECT_EQ(h.Type().Key("auth_token")->need, ConfigNeed::kToSend);
  EXPECT_FALSE(h.Type().Key("callback_verification_string")->secret);
}

TEST(VkHandler, Receive) {
  VkHandler h;
  const auto msg = [](std::vector<std::string> attachments, std::string text = "") {
    return ExpectedMsg{.urn = kUrn, .text = std::move(text), .external_id = "1", .attachments = std::move(attachments),
                       .received_on = kDate};
  };
  RunReceiveCases(h, VkChannel(), {
      Post({.label = "confirmation", .body = Event("confirmation", "{}"), .response_body = kConfirmation}),
      Post({.label = "text: answered ok", .body = MessageNew(R"("text":"Hello World","attachments":[])"),
            .msgs = {msg({}, "Hello World")}, .response_body = "ok"}),
      Post({.label = "unicode", .body = MessageNew(R"("text":"Привет ☺")"), .msgs = {msg({}, "Привет ☺")},
            .response_body = "ok"}),
      Post({.label = "photo: the x size",
            .body = MessageNew(R"("text":"","attachments":[{"type":"photo","photo":{"id":1,"owner_id":123456,"sizes":[)"
                               R"({"type":"s","url":"https://sun9-1.userapi.com/s.jpg","width":75},)"
                               R"({"type":"x","url":"https://sun9-1.userapi.com/x.jpg?size=604x604&sign=a","width":604},)"
                               R"({"type":"w","url":"https://sun9-1.userapi.com/w.jpg","width":2560}]}}])"),
            .msgs = {msg({"image/jpeg:https://sun9-1.userapi.com/x.jpg?size=604x604&sign=a"})}}),
      Post({.label = "photo without an x size: the last size",
            .body = MessageNew(R"("text":"","attachments":[{"type":"photo","photo":{"sizes":[)"
                               R"({"type":"s","url":"https://sun9-1.userapi.com/s.jpg"},)"
                               R"({"type":"m","url":"https://sun9-1.userapi.com/impg/m"}]}}])"),
            .msgs = {msg({"image/jpeg:https://sun9-1.userapi.com/impg/m"})}}),
      Post({.label = "graffiti",
            .body = MessageNew(R"("text":"","attachments":[{"type":"graffiti","graffiti":{"id":1,"url":"https://vk.com/doc1_2?graffiti"}}])"),
            .msgs = {msg({"image/png:https://vk.com/doc1_2?graffiti"})}}),
      Post({.label = "sticker: the image 128 wide",
            .body = MessageNew(R"("text":"","attachments":[{"type":"sticker","sticker":{"product_id":1,"sticker_id":9,"images":[)"
                               R"({"url":"https://vk.com/sticker/1-9-64","width":64,"height":64},)"
                               R"({"url":"https://vk.com/sticker/1-9-128","width":128,"height":128},)"
                               R"({"url":"https://vk.com/sticker/1-9-256","width":256,"height":256}]}}])"),
            .msgs = {msg({"image/png:https://vk.com/sticker/1-9-128"})}}),
      Post({.label = "sticker without a 128 image: the last",
            .body = MessageNew(R"("text":"","attachments":[{"type":"sticker","sticker":{"images":[)"
                               R"({"url":"https://vk.com/sticker/1-9-64","width":64},{"url":"https://vk.com/sticker/1-9-512","width":512}]}}])"),
            .msgs = {msg({"image/png:https://vk.com/sticker/1-9-512"})}}),
      Post({.label = "audio message: its mp3",
            .body = MessageNew(R"("text":"","attachments":[{"type":"audio_message","audio_message":{"duration":3,)"
                               R"("link_ogg":"https://psv4.userapi.com/a.ogg","link_mp3":"https://psv4.userapi.com/a.mp3"}}])"),
            .msgs = {msg({"audio/mpeg:https://psv4.userapi.com/a.mp3"})}}),
      Post({.label = "document typed by its ext",
            .body = MessageNew(R"("text":"here","attachments":[{"type":"doc","doc":{"id":1,"title":"report.pdf","ext":"pdf",)"
                               R"("url":"https://vk.com/doc123_456?hash=x&dl=y"}}])"),
            .msgs = {msg({"application/pdf:https://vk.com/doc123_456?hash=x&dl=y"}, "here")}}),
      Post({.label = "document of an unknown ext",
            .body = MessageNew(R"("text":"","attachments":[{"type":"doc","doc":{"ext":"xyz","url":"https://vk.com/doc1_2"}}])"),
            .msgs = {msg({"application/octet-stream:https://vk.com/doc1_2"})}}),
      Post({.label = "every attachment, in order; a video left out",
            .body = MessageNew(R"("text":"two","attachments":[)"
                               R"({"type":"video","video":{"id":1,"owner_id":2}},)"
                               R"({"type":"graffiti","graffiti":{"url":"https://vk.com/g.png"}},)"
                               R"({"type":"doc","doc":{"ext":"jpg","url":"https://vk.com/doc1"}}])"),
            .msgs = {msg({"image/png:https://vk.com/g.png", "image/jpeg:https://vk.com/doc1"}, "two")}}),
      Post({.label = "location",
            .body = MessageNew(R"("text":"","geo":{"type":"point","coordinates":{"latitude":59.93,"longitude":30.31}})"),
            .msgs = {msg({"geo:59.93,30.31"})}}),
      Post({.label = "zero coordinates are no location",
            .body = MessageNew(R"("text":"x","geo":{"coordinates":{"latitude":0,"longitude":0}})"),
            .msgs = {msg({}, "x")}}),
      Post({.label = "nothing we can carry: ignored",
            .body = MessageNew(R"("text":"","attachments":[{"type":"wall","wall":{"id":1}}])"),
            .ignored = "ignoring message without text or attachments"}),
      Post({.label = "another event type: ignored", .body = Event("message_typing_state", R"({"state":"typing"})"),
            .ignored = "ignoring request, no message or server verification event"}),
      Post({.label = "message_reply: ignored", .body = Event("message_reply", R"({"id":2})"),
            .ignored = "ignoring request, no message or server verification event"}),
      Post({.label = "wrong secret", .body = MessageNew(R"("text":"hi")", "nope"), .error = "wrong secret key",
            .unauthorized = true}),
      Post({.label = "wrong secret on a confirmation", .body = Event("confirmation", "{}", "nope"),
            .error = "wrong secret key", .unauthorized = true}),
      Post({.label = "no secret", .body = R"({"type":"message_new","object":{}})", .error = "field 'secret' required"}),
      Post({.label = "no type", .body = R"({"secret":")" + kSecret + R"("})", .error = "field 'type' required"}),
      Post({.label = "neither", .body = "{}", .error = "field 'type' required; field 'secret' required"}),
      Post({.label = "message without id, date and sender", .body = Event("message_new", R"({"message":{"text":"x"}})"),
            .error = "field 'object.message.id' required; field 'object.message.date' required; "
                     "field 'object.message.from_id' required"}),
      Post({.label = "message_new without a message", .body = Event("message_new", "{}"),
            .error = "field 'object.message.id' required"}),
      Post({.label = "malformed JSON", .body = "{", .error = "unable to parse request JSON"}),
  });
  RunReceiveCases(h, VkChannel({{"callback_verification_string", ""}}), {
      Post({.label = "confirmation without the string", .body = Event("confirmation", "{}"),
            .error = "no callback_verification_string set for VK channel"}),
  });
  RunReceiveCases(h, VkChannel({{"secret", ""}}), {
      Post({.label = "channel without a secret", .body = MessageNew(R"("text":"hi")"),
            .error = "no secret set for VK channel"}),
  });
}

// VK re-sends an event until it reads "ok": what is ignored is answered so
// too, as text.
TEST(VkHandler, IgnoredEventsAreAnsweredOk) {
  VkHandler h;
  const Route route{"POST", "receive", RouteKind::kReceive};
  const Channel channel = VkChannel();
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  for (const std::string& body : {Event("group_join", R"({"user_id":1})"), MessageNew(R"("text":"")")}) {
    SCOPED_TRACE(body);
    auto request = WebhookRequest::Build("POST", "/c/vk/" + channel.uuid + "/receive", {{"content-type", kJson}},
                                         body, kTestBaseUrl, "receive");
    WebhookResult r = h.Receive(route, channel, request, ctx);
    EXPECT_FALSE(r.ignored.empty());
    EXPECT_EQ(r.response_body.value_or(""), "ok");
    EXPECT_EQ(r.response_content_type, "text/plain");
  }
}

// ---- send ----

const std::string kSendPath = "/method/messages.send.json";

MockResponse VkOk(int64_t id) { return {.body = R"({"response":)" + std::to_string(id) + "}"}; }

MockResponse VkError(int code, const std::string& message) {
  return {.body = R"({"error":{"error_code":)" + std::to_string(code) + R"(,"error_msg":")" + message +
                  R"(","request_params":[{"key":"method","value":"messages.send"}]}})"};
}

ExpectedRequest Sent(std::string message, std::string attachment = "") {
  return {.path = kSendPath,
          .params = {{"access_token", kToken}, {"v", "5.103"}, {"user_id", "123456"}, {"random_id", "10"},
                     {"message", std::move(message)}, {"attachment", std::move(attachment)}}};
}

TEST(VkHandler, Send) {
  VkHandler h;
  RunSendCases(h, VkChannel(), {
      {.label = "text", .urn = kUrn, .responses = {{kSendPath, VkOk(1)}}, .external_id = "1", .requests = {Sent("Simple Message")}},
      {.label = "unicode, not split", .text = "Привет ☺ " + std::string(5000, 'a'), .urn = kUrn,
       .responses = {{kSendPath, VkOk(2)}}, .external_id = "2", .requests = {Sent("Привет ☺ " + std::string(5000, 'a'))}},
      {.label = "random_id from a large msg id", .urn = kUrn, .msg_id = 2147483648LL + 77,
       .responses = {{kSendPath, VkOk(3)}}, .external_id = "3",
       .requests = {{.path = kSendPath, .params = {{"random_id", "77"}}}}},
      {.label = "files and audio go as links after the text", .text = "See", .urn = kUrn,
       .attachments = {"application/pdf:https://foo.bar/doc.pdf", "audio/mpeg:https://foo.bar/a.mp3"},
       .responses = {{kSendPath, VkOk(4)}}, .external_id = "4",
       .requests = {Sent("See\n\nhttps://foo.bar/doc.pdf\n\nhttps://foo.bar/a.mp3")}},
      {.label = "a link alone without text", .text = "", .urn = kUrn, .attachments = {"video/mp4:https://foo.bar/v.mp4"},
       .responses = {{kSendPath, VkOk(5)}}, .external_id = "5", .requests = {Sent("https://foo.bar/v.mp4")}},
      {.label = "an attachment without a type is dropped", .urn = kUrn, .attachments = {"geo:1.2,3.4"},
       .responses = {{kSendPath, VkOk(6)}}, .external_id = "6", .requests = {Sent("Simple Message")}},
      {.label = "an image whose upload server is refused goes as a link", .text = "Pic", .urn = kUrn,
       .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{"/method/photos.getMessagesUploadServer.json", VkError(15, "Access denied")},
                     {kSendPath, VkOk(7)}},
       .external_id = "7",
       .requests = {{.path = "/method/photos.getMessagesUploadServer.json", .params = {{"access_token", kToken}, {"v", "5.103"}}},
                    Sent("Pic\n\nhttps://foo.bar/image.jpg")}},
      {.label = "quick replies: a one-time keyboard", .text = "Pick", .urn = kUrn, .responses = {{kSendPath, VkOk(8)}},
       .external_id = "8",
       .requests = {{.path = kSendPath,
                     .params = {{"message", "Pick"},
                                {"keyboard", R"({"one_time":true,"buttons":[)"
                                             R"([{"action":{"type":"text","label":"Yes"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"A label longer than forty characters, cu"},"color":"primary"}]]})"}}}},
       .quick_replies = {"Yes", "A label longer than forty characters, cut here"}},
      {.label = "flood control (9): throttled", .urn = kUrn, .responses = {{kSendPath, VkError(9, "Flood control")}},
       .status = MsgStatus::kErrored, .error = "received error from VK: Flood control (code 9)", .requests = {Sent("Simple Message")},
       .throttled_for_seconds = 60},
      {.label = "too many requests per second (6): throttled", .urn = kUrn,
       .responses = {{kSendPath, VkError(6, "Too many requests per second")}}, .status = MsgStatus::kErrored,
       .requests = {Sent("Simple Message")}, .throttled_for_seconds = 1},
      {.label = "internal server error (10): E", .urn = kUrn, .responses = {{kSendPath, VkError(10, "Internal server error")}},
       .status = MsgStatus::kErrored, .error = "Internal server error (code 10)", .requests = {Sent("Simple Message")}},
      {.label = "no permission (901): F", .urn = kUrn,
       .responses = {{kSendPath, VkError(901, "Can't send messages for users without permission")}},
       .status = MsgStatus::kFailed, .error = "without permission (code 901)", .requests = {Sent("Simple Message")}},
      {.label = "200 without response: F", .urn = kUrn, .responses = {{kSendPath, {.body = R"({"foo":1})"}}},
       .status = MsgStatus::kFailed, .error = "no integer 'response' in response", .requests = {Sent("Simple Message")}},
      {.label = "200 with a non-integer response: F", .urn = kUrn, .responses = {{kSendPath, {.body = R"({"response":"x"})"}}},
       .status = MsgStatus::kFailed, .error = "no integer 'response'", .requests = {Sent("Simple Message")}},
      {.label = "429: throttled for Retry-After", .urn = kUrn,
       .responses = {{kSendPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "5"}}}}},
       .status = MsgStatus::kErrored, .requests = {Sent("Simple Message")}, .throttled_for_seconds = 5},
      {.label = "500: E", .urn = kUrn, .responses = {{kSendPath, {.status = 500, .body = "boom"}}},
       .status = MsgStatus::kErrored, .requests = {Sent("Simple Message")}},
      {.label = "404: F", .urn = kUrn, .responses = {{kSendPath, {.status = 404, .body = "no"}}},
       .status = MsgStatus::kFailed, .requests = {Sent("Simple Message")}},
      {.label = "no answer at all: E", .urn = kUrn, .status = MsgStatus::kErrored, .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config["base_url"] = "http://127.0.0.1:1"; }},
      {.label = "nothing to send: F without a request", .text = "", .urn = kUrn, .status = MsgStatus::kFailed,
       .error = "no text or attachments", .requests = {}, .logs = 1},
      {.label = "no auth token: E without a request", .urn = kUrn, .status = MsgStatus::kErrored,
       .error = "no auth_token set for VK channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("auth_token"); }},
  });
}

// More than 10 replies share rows, at most 40 buttons.
TEST(VkHandler, KeyboardPacksRows) {
  VkHandler h;
  std::vector<QuickReply> replies;
  for (int i = 1; i <= 45; ++i) replies.push_back(std::to_string(i));
  std::string rows;
  for (int r = 0; r < 10; ++r) {
    rows += r ? "," : "";
    rows += "[";
    for (int c = 0; c < 4; ++c)
      rows += std::string(c ? "," : "") + R"({"action":{"type":"text","label":")" + std::to_string(r * 4 + c + 1) +
              R"("},"color":"primary"})";
    rows += "]";
  }
  RunSendCases(h, VkChannel(), {
      {.label = "45 replies: 10 rows of 4", .urn = kUrn, .responses = {{kSendPath, VkOk(1)}}, .external_id = "1",
       .requests = {{.path = kSendPath, .params = {{"keyboard", R"({"one_time":true,"buttons":[)" + rows + "]}"}}}},
       .quick_replies = replies},
  });
  std::vector<QuickReply> twelve(replies.begin(), replies.begin() + 12);
  RunSendCases(h, VkChannel(), {
      {.label = "12 replies: 2 a row", .urn = kUrn, .responses = {{kSendPath, VkOk(1)}}, .external_id = "1",
       .requests = {{.path = kSendPath,
                     .params = {{"keyboard", R"({"one_time":true,"buttons":[[{"action":{"type":"text","label":"1"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"2"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"3"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"4"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"5"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"6"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"7"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"8"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"9"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"10"},"color":"primary"}],)"
                                             R"([{"action":{"type":"text","label":"11"},"color":"primary"},)"
                                             R"({"action":{"type":"text","label":"12"},"color":"primary"}]]})"}}}},
       .quick_replies = twelve},
  });
}

// The photo upload: the upload server, the image, the multipart upload
// to the URL VK gave, the save, then messages.send with the photo; the
// image's bytes stay out of the logs and the token out of every log.
struct UploadRun {
  SendResult result;
  std::vector<RecordedRequest> requests;
  std::string upload_url;
  std::string image_url;
};

// Each step answered as VK would, but for the steps (by path prefix) in
// `instead`.
UploadRun SendWithUpload(std::map<std::string, MockResponse> instead = {}) {
  MockProvider provider;
  const std::string upload_url = provider.url() + "/upload.php?act=do_add&mid=1&aid=-64&gid=123456789&hash=h&rhash=r";
  std::map<std::string, MockResponse> answers = {
      {"/method/photos.getMessagesUploadServer.json",
       {.body = R"({"response":{"album_id":-64,"upload_url":")" + upload_url + R"(","group_id":123456789}})"}},
      {"/image.png", {.body = "\x89PNG fake image bytes", .content_type = "image/png"}},
      {"/upload.php", {.body = R"({"server":845432,"photo":"[{\"photo\":\"a1b2\",\"sizes\":[]}]","hash":"d41d8"})"}},
      {"/method/photos.saveMessagesPhoto.json",
       {.body = R"({"response":[{"id":457239017,"album_id":-64,"owner_id":-123456789,"sizes":[]}]})"}},
      {kSendPath, VkOk(9)},
  };
  for (auto& [prefix, response] : instead) answers[prefix] = response;
  for (const auto& [prefix, response] : answers) provider.On(prefix, response);

  Channel channel = VkChannel({{"base_url", provider.url()}});
  Msg msg;
  msg.id = 10;
  msg.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";
  msg.channel_uuid = channel.uuid;
  msg.channel_type = "VK";
  msg.direction = Direction::kOut;
  msg.urn = kUrn;
  msg.text = "Pic";
  const std::string image_url = provider.url() + "/image.png";
  msg.attachments = {"image/png:" + image_url};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  VkHandler h;
  UploadRun run{h.Send(channel, msg, ctx), provider.requests(), upload_url, image_url};
  for (const auto& log : run.result.logs) {
    EXPECT_EQ(log.request.find(kToken), std::string::npos) << "token in log: " << log.request;
    EXPECT_EQ(log.url.find(kToken), std::string::npos) << "token in log url: " << log.url;
    EXPECT_EQ(log.request.find("fake image bytes"), std::string::npos) << "image in log: " << log.request;
    EXPECT_EQ(log.response.find("fake image bytes"), std::string::npos) << "image in log: " << log.response;
  }
  return run;
}

TEST(VkHandler, SendUploadsPhotos) {
  UploadRun run = SendWithUpload();
  EXPECT_EQ(MsgStatusString(run.result.status), MsgStatusString(MsgStatus::kWired)) << run.result.error;
  EXPECT_EQ(run.result.external_id, "9");
  ASSERT_EQ(run.requests.size(), 5u);
  EXPECT_EQ(run.requests[0].path, "/method/photos.getMessagesUploadServer.json");
  EXPECT_EQ(run.requests[0].method, "POST");
  EXPECT_EQ(run.requests[0].params.at("access_token"), kToken);
  EXPECT_EQ(run.requests[0].params.at("v"), "5.103");
  EXPECT_EQ(run.requests[1].method, "GET");
  EXPECT_EQ(run.requests[1].path, "/image.png");
  EXPECT_EQ(run.requests[2].method, "POST");
  EXPECT_EQ(run.requests[2].uri, run.upload_url.substr(run.upload_url.find("/upload.php")));
  EXPECT_EQ(run.requests[2].headers.at("content-type").rfind("multipart/form-data; boundary=", 0), 0u);
  EXPECT_NE(run.requests[2].body.find("Content-Disposition: form-data; name=\"photo\"; filename=\"photo.png\"\r\n"
                                      "Content-Type: image/png\r\n\r\n\x89PNG fake image bytes\r\n"),
            std::string::npos)
      << run.requests[2].body;
  EXPECT_EQ(run.requests[2].params.count("access_token"), 0u);
  EXPECT_EQ(run.requests[3].path, "/method/photos.saveMessagesPhoto.json");
  EXPECT_EQ(run.requests[3].params.at("server"), "845432");
  EXPECT_EQ(run.requests[3].params.at("photo"), R"([{"photo":"a1b2","sizes":[]}])");
  EXPECT_EQ(run.requests[3].params.at("hash"), "d41d8");
  EXPECT_EQ(run.requests[3].params.at("access_token"), kToken);
  EXPECT_EQ(run.requests[4].path, kSendPath);
  EXPECT_EQ(run.requests[4].params.at("attachment"), "photo-123456789_457239017");
  EXPECT_EQ(run.requests[4].params.at("message"), "Pic");
  EXPECT_EQ(run.requests[4].body, "");  // every parameter is in the query
  EXPECT_EQ(run.result.logs.size(), 5u);
}

// Any failing step of an upload ends it; the image then goes as a link
// and the failing step's log says why.
TEST(VkHandler, SendFallsBackToALinkWhenAnUploadFails) {
  struct Case {
    std::string label;
    std::map<std::string, MockResponse> instead;
    size_t upload_requests;  // made before messages.send
    std::string error;       // in the last upload log
  };
  const std::vector<Case> cases = {
      {"no upload URL", {{"/method/photos.getMessagesUploadServer.json", {.body = R"({"response":{}})"}}}, 1,
       "no 'response.upload_url' in response"},
      {"image not downloaded", {{"/image.png", {.status = 404, .body = "gone"}}}, 2, "error downloading"},
      {"upload server answers 500", {{"/upload.php", {.status = 500, .body = "oops"}}}, 3, "500"},
      {"upload not taken", {{"/upload.php", {.body = R"({"server":1,"photo":"[]","hash":"x"})"}}}, 3,
       "upload not taken"},
      {"save refused", {{"/method/photos.saveMessagesPhoto.json", VkError(100, "photos_list is invalid")}}, 4,
       "photos_list is invalid (code 100)"},
      {"save without the photo", {{"/method/photos.saveMessagesPhoto.json", {.body = R"({"response":[]})"}}}, 4,
       "no 'response[0].owner_id' or 'response[0].id' in response"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    UploadRun run = SendWithUpload(c.instead);
    EXPECT_EQ(MsgStatusString(run.result.status), MsgStatusString(MsgStatus::kWired)) << run.result.error;
    ASSERT_EQ(run.requests.size(), c.upload_requests + 1);
    EXPECT_EQ(run.requests.back().path, kSendPath);
    EXPECT_EQ(run.requests.back().params.at("attachment"), "");
    EXPECT_EQ(run.requests.back().params.at("message"), "Pic\n\n" + run.image_url);
    ASSERT_EQ(run.result.logs.size(), c.upload_requests + 1);
    EXPECT_NE(run.result.logs[c.upload_requests - 1].error.find(c.error), std::string::npos)
        << run.result.logs[c.upload_requests - 1].error;
    EXPECT_EQ(run.result.logs.back().error, "");
  }
}

}  // namespace
