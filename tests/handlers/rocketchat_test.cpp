// RC — Rocket.Chat: the shared token, receive (text, attachments, names,
// bad input), sends (body, base_url with its path, judging, config) and
// the admin credentials on media downloads.
#include "handlers/rocketchat.h"

#include <algorithm>
#include <iterator>

#include "handler_harness.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kJson = "application/json";
const char* kSecret = "rc-shared-secret-5f4e3d2c";
const char* kBot = "rocket.cat";
const char* kAdminToken = "rc-admin-token-0a9b8c7d";
const char* kAdminUser = "Xq9ZkvRb3CmJp2TtY";
const std::string kAuth = std::string("Token ") + kSecret;

Channel RcChannel(std::map<std::string, std::string> config = {}) {
  std::map<std::string, std::string> all = {{"base_url", "https://chat.example.com/api/apps/public/684e1e4e"},
                                            {"secret", kSecret},
                                            {"bot_username", kBot},
                                            {"admin_auth_token", kAdminToken},
                                            {"admin_user_id", kAdminUser}};
  for (auto& [k, v] : config) all[k] = v;
  for (auto it = all.begin(); it != all.end();) it = it->second.empty() ? all.erase(it) : std::next(it);
  return TestChannel("RC", "", "", all, {"rocketchat"});
}

// A receive case carrying the channel's token, unless it brings its own.
ReceiveCase Authorized(ReceiveCase c) {
  c.action = "receive";
  c.content_type = kJson;
  if (!c.headers.count("authorization")) c.headers["authorization"] = kAuth;
  return c;
}

TEST(RocketChatHandler, Basics) {
  RocketChatHandler h;
  EXPECT_EQ(h.Code(), "RC");
  EXPECT_EQ(h.Name(), "Rocket.Chat");
  EXPECT_EQ(h.Type().schemes, std::vector<std::string>{"rocketchat"});
  ASSERT_EQ(h.Routes().size(), 1u);
  EXPECT_EQ(h.Routes()[0].method, "POST");
  EXPECT_EQ(h.Routes()[0].action, "receive");
}

TEST(RocketChatHandler, Receive) {
  RocketChatHandler h;
  const std::string text =
      R"({"user":{"urn":"direct:john.doe","username":"john.doe","full_name":"John Doe"},"text":"Hello World"})";
  RunReceiveCases(h, RcChannel(), {
      Authorized({.label = "text", .body = text,
                  .msgs = {{.urn = "rocketchat:direct:john.doe", .text = "Hello World", .contact_name = "John Doe",
                            .no_received_on = true}}}),
      Authorized({.label = "unicode", .body = R"({"user":{"urn":"u1","full_name":"Jean"},"text":"Muraho \u263a é"})",
                  .msgs = {{.urn = "rocketchat:u1", .text = "Muraho ☺ é", .contact_name = "Jean"}}}),
      Authorized({.label = "no full name: the user name names the contact",
                  .body = R"({"user":{"urn":"u1","username":"john.doe"},"text":"hi"})",
                  .msgs = {{.urn = "rocketchat:u1", .text = "hi", .contact_name = "john.doe"}}}),
      Authorized({.label = "no name at all", .body = R"({"user":{"urn":"u1"},"text":"hi"})",
                  .msgs = {{.urn = "rocketchat:u1", .text = "hi"}}}),
      Authorized({.label = "attachments only",
                  .body = R"({"user":{"urn":"u1","full_name":"John Doe"},"attachments":[)"
                          R"({"type":"image/jpeg","url":"https://chat.example.com/file-upload/a/photo.jpg"},)"
                          R"({"type":"Audio/OGG; codecs=opus","url":"https://chat.example.com/file-upload/b/voice"},)"
                          R"({"url":"https://chat.example.com/file-upload/c/doc"}]})",
                  .msgs = {{.urn = "rocketchat:u1", .text = "", .contact_name = "John Doe",
                            .attachments = {"image/jpeg:https://chat.example.com/file-upload/a/photo.jpg",
                                            "audio/ogg:https://chat.example.com/file-upload/b/voice",
                                            "https://chat.example.com/file-upload/c/doc"}}}}),
      Authorized({.label = "text and an attachment",
                  .body = R"({"user":{"urn":"u1"},"text":"see","attachments":[{"type":"image/png","url":"https://x.y/a.png"}]})",
                  .msgs = {{.urn = "rocketchat:u1", .text = "see", .attachments = {"image/png:https://x.y/a.png"}}}}),
      Authorized({.label = "an attachment without a url is no attachment",
                  .body = R"({"user":{"urn":"u1"},"attachments":[{"type":"image/png"}]})",
                  .error = "no text or attachment"}),
      Authorized({.label = "no text or attachment", .body = R"({"user":{"urn":"u1"},"text":"","attachments":[]})",
                  .error = "no text or attachment"}),
      Authorized({.label = "no user", .body = R"({"text":"hi"})",
                  .error = "request JSON doesn't match required schema: field 'user' required"}),
      Authorized({.label = "no user.urn", .body = R"({"user":{"username":"john"},"text":"hi"})",
                  .error = "request JSON doesn't match required schema: field 'user.urn' required"}),
      Authorized({.label = "user.urn with a space", .body = R"({"user":{"urn":"a b"},"text":"hi"})",
                  .error = "contains whitespace"}),
      Authorized({.label = "not JSON", .body = "user=1", .error = "unable to parse request JSON"}),
  });
}

TEST(RocketChatHandler, Token) {
  RocketChatHandler h;
  const std::string body = R"({"user":{"urn":"u1"},"text":"hi"})";
  RunReceiveCases(h, RcChannel(), {
      Authorized({.label = "right token", .body = body, .msgs = {{.urn = "rocketchat:u1", .text = "hi"}}}),
      {.label = "no Authorization", .action = "receive", .body = body, .content_type = kJson,
       .error = "invalid Authorization header", .unauthorized = true},
      Authorized({.label = "wrong token", .body = body, .headers = {{"authorization", "Token nope"}},
                  .error = "invalid Authorization header", .unauthorized = true}),
      Authorized({.label = "another scheme", .body = body, .headers = {{"authorization", std::string("Bearer ") + kSecret}},
                  .error = "invalid Authorization header", .unauthorized = true}),
      Authorized({.label = "the secret alone", .body = body, .headers = {{"authorization", kSecret}},
                  .error = "invalid Authorization header", .unauthorized = true}),
      // The body is read first: a bad one is 400 whatever the token.
      {.label = "bad body, no token", .action = "receive", .body = R"({"text":"hi"})", .content_type = kJson,
       .error = "field 'user' required"},
  });
  // A channel without a secret takes no webhook; our configuration is at
  // fault, not the caller.
  RunReceiveCases(h, RcChannel({{"secret", ""}}), {
      Authorized({.label = "no secret", .body = body, .headers = {{"authorization", "Token "}},
                  .error = "missing config 'secret' for RC channel"}),
  });
}

const char* kAppPath = "/api/apps/public/684e1e4e";
const std::string kSendPath = std::string(kAppPath) + "/message";

MockResponse Posted(const std::string& id = "iNKE8a6k6cjbqWhWd") {
  return {.status = 201, .body = R"({"id":")" + id + R"("})"};
}

ExpectedRequest Req(const std::string& body) {
  return {.path = kSendPath, .headers = {{"authorization", kAuth}, {"content-type", kJson}}, .body = body};
}

// base_url keeps its path: the app's public API root on the mock.
void AtApp(Channel& channel) { channel.config["base_url"] = std::string("{{mock}}") + kAppPath; }

TEST(RocketChatHandler, Send) {
  RocketChatHandler h;
  const std::string long_text(5000, 'a');
  RunSendCases(h, RcChannel(), {
      {.label = "text", .urn = "rocketchat:direct:john.doe", .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd",
       .requests = {Req(R"({"user":"direct:john.doe","bot":"rocket.cat","text":"Simple Message"})")}, .setup = AtApp},
      {.label = "unicode", .text = "Muraho ☺", .urn = "rocketchat:u1", .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd", .requests = {Req(R"({"user":"u1","bot":"rocket.cat","text":"Muraho ☺"})")},
       .setup = AtApp},
      {.label = "long text in one request", .text = long_text, .urn = "rocketchat:u1",
       .responses = {{kSendPath, Posted()}}, .external_id = "iNKE8a6k6cjbqWhWd",
       .requests = {Req(R"({"user":"u1","bot":"rocket.cat","text":")" + long_text + R"("})")}, .setup = AtApp},
      {.label = "text and attachments", .text = "My pics", .urn = "rocketchat:u1",
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "https://foo.bar/b.png", "https://foo.bar/file"},
       .responses = {{kSendPath, Posted()}}, .external_id = "iNKE8a6k6cjbqWhWd",
       .requests = {Req(R"({"user":"u1","bot":"rocket.cat","text":"My pics","attachments":[)"
                        R"({"type":"image/jpeg","url":"https://foo.bar/a.jpg"},)"
                        R"({"type":"image/png","url":"https://foo.bar/b.png"},)"
                        R"({"type":"application/octet-stream","url":"https://foo.bar/file"}]})")},
       .setup = AtApp},
      {.label = "attachment only: no text", .text = "", .urn = "rocketchat:u1",
       .attachments = {"video/mp4:https://foo.bar/v.mp4"}, .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd",
       .requests = {Req(R"({"user":"u1","bot":"rocket.cat","attachments":[{"type":"video/mp4","url":"https://foo.bar/v.mp4"}]})")},
       .setup = AtApp},
      {.label = "a display part is not the user", .urn = "rocketchat:u1#John", .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd",
       .requests = {Req(R"({"user":"u1","bot":"rocket.cat","text":"Simple Message"})")}, .setup = AtApp},
      {.label = "base_url with a trailing slash", .urn = "rocketchat:u1", .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd", .requests = {{.path = kSendPath}},
       .setup = [](Channel& c) { c.config["base_url"] = std::string("{{mock}}") + kAppPath + "/"; }},
      {.label = "posted without an id", .urn = "rocketchat:u1", .responses = {{kSendPath, {.status = 200, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get id from response body", .requests = {{.path = kSendPath}},
       .setup = AtApp},
      {.label = "unreadable 2xx", .urn = "rocketchat:u1", .responses = {{kSendPath, {.status = 200, .body = "ok"}}},
       .status = MsgStatus::kFailed, .error = "unable to get id", .requests = {{.path = kSendPath}}, .setup = AtApp},
      {.label = "refused", .urn = "rocketchat:u1", .responses = {{kSendPath, {.status = 400, .body = "{}"}}},
       .status = MsgStatus::kFailed, .error = "400", .requests = {{.path = kSendPath}}, .setup = AtApp},
      {.label = "server error retried", .urn = "rocketchat:u1", .responses = {{kSendPath, {.status = 500, .body = "{}"}}},
       .status = MsgStatus::kErrored, .error = "500", .requests = {{.path = kSendPath}}, .setup = AtApp},
      {.label = "throttled", .urn = "rocketchat:u1",
       .responses = {{kSendPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "12"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kSendPath}}, .setup = AtApp, .throttled_for_seconds = 12},
      {.label = "nothing to send", .text = "", .urn = "rocketchat:u1", .status = MsgStatus::kFailed,
       .error = "msg has no text or attachments", .requests = {}, .logs = 1, .setup = AtApp},
      {.label = "no base_url", .urn = "rocketchat:u1", .status = MsgStatus::kErrored,
       .error = "no base_url set for RC channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("base_url"); }},
  });
  RunSendCases(h, RcChannel({{"secret", ""}}), {
      {.label = "no secret", .urn = "rocketchat:u1", .status = MsgStatus::kErrored,
       .error = "no secret set for RC channel", .requests = {}, .logs = 1, .setup = AtApp},
  });
  RunSendCases(h, RcChannel({{"bot_username", ""}}), {
      {.label = "no bot_username", .urn = "rocketchat:u1", .status = MsgStatus::kErrored,
       .error = "no bot_username set for RC channel", .requests = {}, .logs = 1, .setup = AtApp},
  });
  // The admin credentials are for downloads only.
  RunSendCases(h, RcChannel({{"admin_auth_token", ""}, {"admin_user_id", ""}}), {
      {.label = "no admin credentials", .urn = "rocketchat:u1", .responses = {{kSendPath, Posted()}},
       .external_id = "iNKE8a6k6cjbqWhWd", .requests = {Req(R"({"user":"u1","bot":"rocket.cat","text":"Simple Message"})")},
       .setup = AtApp},
  });
}

bool HasHeader(const HttpRequestSpec& req, const std::string& name, const std::string& value) {
  return std::any_of(req.headers.begin(), req.headers.end(),
                     [&](const auto& h) { return h.first == name && h.second == value; });
}

// The admin's credentials open the server's uploads, and go to that server
// only.
TEST(RocketChatHandler, MediaRequest) {
  RocketChatHandler h;
  const HttpRequestSpec own = h.MediaRequest(RcChannel(), "https://chat.example.com/file-upload/a/photo.jpg");
  EXPECT_EQ(own.method, "GET");
  EXPECT_EQ(own.url, "https://chat.example.com/file-upload/a/photo.jpg");
  EXPECT_TRUE(HasHeader(own, "X-Auth-Token", kAdminToken));
  EXPECT_TRUE(HasHeader(own, "X-User-Id", kAdminUser));

  const HttpRequestSpec elsewhere = h.MediaRequest(RcChannel(), "https://evil.example.org/chat.example.com/a.jpg");
  EXPECT_EQ(elsewhere.url, "https://evil.example.org/chat.example.com/a.jpg");
  EXPECT_TRUE(elsewhere.headers.empty());

  EXPECT_TRUE(h.MediaRequest(RcChannel({{"admin_user_id", ""}}), "https://chat.example.com/file-upload/a").headers.empty());
  EXPECT_TRUE(h.MediaRequest(RcChannel({{"admin_auth_token", ""}}), "https://chat.example.com/file-upload/a").headers.empty());
  EXPECT_TRUE(h.MediaRequest(RcChannel({{"base_url", ""}}), "https://chat.example.com/file-upload/a").headers.empty());
}

}  // namespace
