// FC — FreshChat: RSA webhook signatures (a key pair made for the test),
// receive (text, images, ignored events, bad input) and sends (text,
// images, dropped media, judging, config).
#include "handlers/freshchat.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <iterator>
#include <memory>

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kJson = "application/json";
const char* kToken = "fc-api-token-8d7f6e5a4b";
const char* kAgent = "0c4e2c4b-9a2e-4c93-a9b8-7e4a5d6f3b21";
const char* kChannelId = "c8fddfaf-622a-4a0e-b060-4f3ccbeab606";
const char* kUserId = "882f3926-b292-414b-a411-96380db373cd";
const std::string kUrn = std::string("freshchat:") + kChannelId + "/" + kUserId;
const Micros kCreated = 1561139000LL * kMicrosPerSecond + 875000;  // 2019-06-21T17:43:20.875Z

using Key = std::shared_ptr<EVP_PKEY>;

Key NewRsaKey() { return Key(EVP_RSA_gen(2048), EVP_PKEY_free); }

// The key FreshChat signs with, and one it does not.
const Key& SigningKey() {
  static const Key key = NewRsaKey();
  return key;
}
const Key& OtherKey() {
  static const Key key = NewRsaKey();
  return key;
}

std::string PublicPem(const Key& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The PEM as RapidPro keeps it: on one line, breaks turned into spaces.
std::string OneLine(std::string pem) {
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  for (char& c : pem)
    if (c == '\n') c = ' ';
  return pem;
}

std::string Sign(const Key& key, const std::string& body) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(body.data()),
                           body.size()),
            1);
  std::string signature(length, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(body.data()), body.size()),
            1);
  signature.resize(length);
  return Base64Encode(signature);
}

Channel FcChannel(std::map<std::string, std::string> config = {}) {
  std::map<std::string, std::string> all = {
      {"username", kAgent}, {"auth_token", kToken}, {"secret", PublicPem(SigningKey())}};
  for (auto& [k, v] : config) all[k] = v;
  for (auto it = all.begin(); it != all.end();) it = it->second.empty() ? all.erase(it) : std::next(it);
  return TestChannel("FC", "", "", all, {"freshchat"});
}

// A receive case signed with the channel's key, unless it brings its own
// signature.
ReceiveCase Signed(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  if (!c.headers.count("x-freshchat-signature")) c.headers["x-freshchat-signature"] = Sign(SigningKey(), c.body);
  return c;
}

// A message_create webhook with these message fields.
std::string Webhook(const std::string& message) {
  return std::string(R"({"actor":{"actor_type":"user","actor_id":")") + kUserId +
         R"("},"action":"message_create","action_time":"2019-06-21T17:43:20.966Z","data":{"message":{)" + message +
         "}}}";
}
std::string Message(const std::string& parts, const std::string& actor_type = "user") {
  return R"("message_parts":[)" + parts + R"(],"app_id":"55b190fa-2d3a-4bdc-9a6d-8fe48ff0ea9f","actor_id":")" +
         kUserId + R"(","id":"7a454fde-c720-4c97-a61d-0ffe70449eb6","channel_id":")" + kChannelId +
         R"(","conversation_id":"dba5d9ae-87e6-4ca7-a47c-d4e3e2e54c0e","message_type":"normal","actor_type":")" +
         actor_type + R"(","created_time":"2019-06-21T17:43:20.875Z")";
}
std::string Text(const std::string& text) { return R"({"text":{"content":")" + text + R"("}})"; }
std::string Image(const std::string& url) { return R"({"image":{"url":")" + url + R"("}})"; }

const char* kExternalId = "7a454fde-c720-4c97-a61d-0ffe70449eb6";

TEST(FreshchatHandler, Basics) {
  FreshchatHandler h;
  EXPECT_EQ(h.Code(), "FC");
  EXPECT_EQ(h.Name(), "FreshChat");
  EXPECT_EQ(h.Type().schemes, std::vector<std::string>{"freshchat"});
  ASSERT_EQ(h.Routes().size(), 1u);
  EXPECT_EQ(h.Routes()[0].method, "POST");
  EXPECT_EQ(h.Routes()[0].action, "receive");
}

TEST(FreshchatHandler, Receive) {
  FreshchatHandler h;
  const std::string text = Webhook(Message(Text("Test 2")));
  RunReceiveCases(h, FcChannel(), {
      Signed({.label = "text", .body = text,
              .msgs = {{.urn = kUrn, .text = "Test 2", .external_id = kExternalId, .received_on = kCreated}}}),
      Signed({.label = "unicode", .body = Webhook(Message(Text("Muraho \\u263a é"))),
              .msgs = {{.urn = kUrn, .text = "Muraho ☺ é", .external_id = kExternalId}}}),
      Signed({.label = "image", .body = Webhook(Message(Image("https://cdn.freshchat.com/img/a.png"))),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kExternalId,
                        .attachments = {"image/png:https://cdn.freshchat.com/img/a.png"}}}}),
      Signed({.label = "image without an extension: the fetcher finds its type",
              .body = Webhook(Message(Image("https://cdn.freshchat.com/img/123"))),
              .msgs = {{.urn = kUrn, .text = "", .external_id = kExternalId,
                        .attachments = {"https://cdn.freshchat.com/img/123"}}}}),
      Signed({.label = "every part kept: texts joined, each image",
              .body = Webhook(Message(Text("Look") + "," + Image("https://cdn.freshchat.com/a.jpg") + "," +
                                      Text("and this") + "," + Image("https://cdn.freshchat.com/b.gif"))),
              .msgs = {{.urn = kUrn, .text = "Look\nand this", .external_id = kExternalId,
                        .attachments = {"image/jpeg:https://cdn.freshchat.com/a.jpg",
                                        "image/gif:https://cdn.freshchat.com/b.gif"}}}}),
      Signed({.label = "no created_time",
              .body = Webhook(std::string(R"("message_parts":[{"text":{"content":"hi"}}],"actor_id":")") + kUserId +
                              R"(","channel_id":")" + kChannelId + R"(","actor_type":"user","id":"m1")"),
              .msgs = {{.urn = kUrn, .text = "hi", .external_id = "m1"}}}),
      Signed({.label = "our own msg echoed back", .body = Webhook(Message(Text("Hello"), "agent")),
              .ignored = "Ignoring request, Agent Message"}),
      Signed({.label = "no message",
              .body = R"({"actor":{"actor_type":"agent","actor_id":"a1"},"action":"conversation_assignment",)"
                      R"("data":{"assignment":{"to_agent_id":"a1"}}})",
              .ignored = "Ignoring request, no message"}),
      Signed({.label = "message without actor_id",
              .body = Webhook(R"("message_parts":[{"text":{"content":"hi"}}],"channel_id":"c1","actor_type":"user")"),
              .ignored = "Ignoring request, no message"}),
      Signed({.label = "no channel_id",
              .body = Webhook(std::string(R"("message_parts":[{"text":{"content":"hi"}}],"actor_id":")") + kUserId +
                              R"(","actor_type":"user")"),
              .error = "field 'data.message.channel_id' required"}),
      Signed({.label = "bad created_time",
              .body = Webhook(std::string(R"("message_parts":[],"actor_id":")") + kUserId + R"(","channel_id":")" +
                              kChannelId + R"(","actor_type":"user","created_time":"yesterday")"),
              .error = "invalid created_time 'yesterday'"}),
      // The body is read before the signature: a body that is not JSON is
      // 400, signed or not.
      {.label = "not JSON", .action = "receive", .body = "not json", .content_type = kJson,
       .error = "unable to parse request JSON"},
  });
}

TEST(FreshchatHandler, Signature) {
  FreshchatHandler h;
  const std::string body = Webhook(Message(Text("Test 2")));
  const ExpectedMsg msg{.urn = kUrn, .text = "Test 2", .external_id = kExternalId, .received_on = kCreated};
  RunReceiveCases(h, FcChannel(), {
      Signed({.label = "signed", .body = body, .msgs = {msg}}),
      {.label = "missing", .action = "receive", .body = body, .content_type = kJson,
       .error = "missing request signature", .unauthorized = true},
      Signed({.label = "not base64", .body = body, .headers = {{"x-freshchat-signature", "not*base64!"}},
              .error = "unable to decode base64 signature", .unauthorized = true}),
      Signed({.label = "another key's", .body = body,
              .headers = {{"x-freshchat-signature", Sign(OtherKey(), body)}},
              .error = "unable to verify signature", .unauthorized = true}),
      Signed({.label = "another body's", .body = body,
              .headers = {{"x-freshchat-signature", Sign(SigningKey(), body + " ")}},
              .error = "unable to verify signature", .unauthorized = true}),
      Signed({.label = "truncated", .body = body,
              .headers = {{"x-freshchat-signature", Sign(SigningKey(), body).substr(0, 40)}},
              .error = "unable to verify signature", .unauthorized = true}),
  });

  // The key as RapidPro stores it.
  RunReceiveCases(h, FcChannel({{"secret", OneLine(PublicPem(SigningKey()))}}), {
      Signed({.label = "one-line key", .body = body, .msgs = {msg}}),
      Signed({.label = "one-line key, another key's signature", .body = body,
              .headers = {{"x-freshchat-signature", Sign(OtherKey(), body)}},
              .error = "unable to verify signature", .unauthorized = true}),
  });

  // Our configuration at fault: 400, not 401.
  RunReceiveCases(h, FcChannel({{"secret", ""}}), {
      Signed({.label = "no secret", .body = body, .error = "missing config 'secret' for FC channel"}),
  });
  RunReceiveCases(h, FcChannel({{"secret", "-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----"}}), {
      Signed({.label = "not a key", .body = body, .error = "failed to parse DER encoded public key"}),
  });
  RunReceiveCases(h, FcChannel({{"secret", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}}), {
      Signed({.label = "no PEM block", .body = body,
              .error = "failed to parse DER encoded public key, config 'secret' is not a PEM block"}),
  });
  const Key ec(EVP_EC_gen("P-256"), EVP_PKEY_free);
  RunReceiveCases(h, FcChannel({{"secret", PublicPem(ec)}}), {
      Signed({.label = "not RSA", .body = body, .error = "failed to parse DER encoded public key, not an RSA key"}),
  });
}

const char* kPath = "/v2/conversations";

std::string SendBody(const std::string& parts) {
  return std::string(R"({"messages":[{"message_parts":[)") + parts + R"(],"actor_id":")" + kAgent +
         R"(","actor_type":"agent"}],"channel_id":")" + kChannelId + R"(","users":[{"id":")" + kUserId + R"("}]})";
}

ExpectedRequest Req(const std::string& parts) {
  return {.path = kPath,
          .headers = {{"authorization", std::string("Bearer ") + kToken}, {"content-type", kJson}},
          .body = SendBody(parts)};
}

MockResponse Accepted() {
  return {.status = 200,
          .body = R"({"conversation_id":"dba5d9ae-87e6-4ca7-a47c-d4e3e2e54c0e","status":"new","messages":[]})"};
}

TEST(FreshchatHandler, Send) {
  FreshchatHandler h;
  const std::string long_text(5000, 'a');
  RunSendCases(h, FcChannel(), {
      {.label = "text", .urn = kUrn, .responses = {{kPath, Accepted()}},
       .requests = {Req(Text("Simple Message"))}},
      {.label = "unicode", .text = "Muraho ☺", .urn = kUrn, .responses = {{kPath, Accepted()}},
       .requests = {Req(Text("Muraho ☺"))}},
      {.label = "long text in one message", .text = long_text, .urn = kUrn, .responses = {{kPath, Accepted()}},
       .requests = {Req(Text(long_text))}},
      {.label = "text and images", .text = "My pics",
       .urn = kUrn, .attachments = {"image/jpeg:https://foo.bar/a.jpg", "image/png:https://foo.bar/b.png"},
       .responses = {{kPath, Accepted()}},
       .requests = {Req(Text("My pics") + "," + Image("https://foo.bar/a.jpg") + "," + Image("https://foo.bar/b.png"))}},
      {.label = "image only, a bare URL", .text = "", .urn = kUrn, .attachments = {"https://foo.bar/c.gif"},
       .responses = {{kPath, Accepted()}}, .requests = {Req(Image("https://foo.bar/c.gif"))}},
      {.label = "other media left out, with a log", .text = "Listen",
       .urn = kUrn, .attachments = {"audio/mp3:https://foo.bar/a.mp3", "image/jpeg:https://foo.bar/a.jpg"},
       .responses = {{kPath, Accepted()}}, .requests = {Req(Text("Listen") + "," + Image("https://foo.bar/a.jpg"))},
       .logs = 2},
      {.label = "nothing FreshChat can carry", .text = "", .urn = kUrn,
       .attachments = {"video/mp4:https://foo.bar/a.mp4"}, .status = MsgStatus::kFailed,
       .error = "msg has nothing FreshChat can carry", .requests = {}, .logs = 2},
      {.label = "nothing to send", .text = "", .urn = kUrn, .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1},
      {.label = "URN without a channel id", .urn = "freshchat:12345", .status = MsgStatus::kFailed,
       .error = "invalid freshchat URN 'freshchat:12345'", .requests = {}, .logs = 1},
      {.label = "URN with an empty user id", .urn = "freshchat:c1/", .status = MsgStatus::kFailed,
       .error = "its path must be <channel id>/<user id>", .requests = {}, .logs = 1},
      {.label = "refused",
       .urn = kUrn,
       .responses = {{kPath, {.status = 400, .body = R"({"code":400,"status":"BAD_REQUEST","message":"invalid user id"})"}}},
       .status = MsgStatus::kFailed, .error = "invalid user id", .requests = {Req(Text("Simple Message"))}},
      {.label = "unauthorized", .urn = kUrn,
       .responses = {{kPath, {.status = 401, .body = R"({"code":401,"status":"UNAUTHORIZED","message":"bad token"})"}}},
       .status = MsgStatus::kFailed, .error = "bad token", .requests = {Req(Text("Simple Message"))}},
      {.label = "server error retried", .urn = kUrn, .responses = {{kPath, {.status = 503, .body = "oops"}}},
       .status = MsgStatus::kErrored, .requests = {Req(Text("Simple Message"))}},
      {.label = "throttled", .urn = kUrn,
       .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .requests = {Req(Text("Simple Message"))}, .throttled_for_seconds = 7},
  });

  RunSendCases(h, FcChannel({{"username", ""}}), {
      {.label = "no username", .urn = kUrn, .status = MsgStatus::kErrored,
       .error = "no username set for FC channel", .requests = {}, .logs = 1},
  });
  RunSendCases(h, FcChannel({{"auth_token", ""}}), {
      {.label = "no auth_token", .urn = kUrn, .status = MsgStatus::kErrored,
       .error = "no auth_token set for FC channel", .requests = {}, .logs = 1},
  });
  // The secret verifies webhooks only; sends do without it.
  RunSendCases(h, FcChannel({{"secret", ""}}), {
      {.label = "no secret", .urn = kUrn, .responses = {{kPath, Accepted()}}, .requests = {Req(Text("Simple Message"))}},
  });
}

TEST(FreshchatHandler, DroppedMediaLogged) {
  FreshchatHandler h;
  MockProvider provider;
  provider.On(kPath, Accepted());
  Channel channel = FcChannel({{"base_url", provider.url()}});
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = kUrn;
  msg.text = "Listen";
  msg.attachments = {"audio/mp3:https://foo.bar/a.mp3"};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  SendResult r = h.Send(channel, msg, ctx);
  EXPECT_EQ(r.status, MsgStatus::kWired);
  ASSERT_EQ(r.logs.size(), 2u);
  EXPECT_EQ(r.logs[0].status_code, kNilStatusCode);
  EXPECT_EQ(r.logs[0].error, "unsupported attachment type 'audio/mp3', not sent: https://foo.bar/a.mp3");
  EXPECT_EQ(r.logs[1].status_code, 200);
  EXPECT_EQ(r.logs[1].error, "");
}

}  // namespace
