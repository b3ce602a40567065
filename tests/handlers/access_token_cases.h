#pragma once
// The behaviour every type that buys a bearer token to send (handlers/
// access_token_request.h over the AccessTokenCache) is held to, run on one
// handler against a mock provider with a manual clock:
// - one token serves two sends and appears in no log;
// - it lives for its expires_in (renewed a minute before), or the type's
//   fallback when the answer gives none;
// - new credentials buy a new token;
// - a 401 (or the type's own refusal of a token) drops a cached token and
//   the send goes once more with a new one, the same body; a refusal of
//   the new one too is F, with no third try;
// - a failed token request sends nothing, caches nothing, and is judged as
//   the type says.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "handler_harness.h"
#include "loopback_client.h"
#include "mock_provider.h"

namespace courier::testing {

struct AccessTokenSubject {
  std::function<std::unique_ptr<ChannelHandler>()> make_handler;
  Channel channel;  // with its credentials; base_url is pointed at the mock
  std::string credential_key;  // a config key the token depends on
  std::string urn;             // of the msgs sent
  std::string token_path;
  std::string send_path;
  // A token answer; `expires_in` is inserted as JSON as given ("600",
  // "\"600\"", "0").
  std::function<MockResponse(const std::string& token, const std::string& expires_in)> token_ok;
  std::function<MockResponse(const std::string& external_id)> send_ok;
  std::string expires_in_600;  // 600 seconds, written as this type's provider writes it
  std::string expires_in_none;  // an answer the type takes as "not said"
  int64_t fallback_lifetime = 3600;
  MockResponse token_refused;  // a token endpoint failure ...
  MsgStatus token_refused_status = MsgStatus::kErrored;  // ... and what it makes of the msg
  std::string token_refused_error;
  // The token a send carried; unset: the Bearer token of its
  // Authorization header.
  std::function<std::string(const RecordedRequest&)> sent_token;
  // How the provider refuses a token it does not take; unset: a 401.
  std::optional<MockResponse> send_refuses_token;
  bool send_gives_id = true;  // send_ok's id is the msg's external id (WeChat gives none)
};

namespace access_token_detail {

constexpr Micros kNow = 1'700'000'000LL * kMicrosPerSecond;

struct Bench {
  explicit Bench(const AccessTokenSubject& s)
      : subject(s), clock(kNow), http(NewLoopbackHttpClient()), ctx{*http, clock, kTestBaseUrl},
        handler(s.make_handler()), channel(s.channel) {
    channel.config["base_url"] = provider.url();
  }

  SendResult Send(int64_t id) {
    Msg m;
    m.id = id;
    m.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5" + std::to_string(id % 10);
    m.channel_uuid = channel.uuid;
    m.direction = Direction::kOut;
    m.urn = subject.urn;
    m.text = "hi " + std::to_string(id);
    return handler->Send(channel, m, ctx);
  }

  size_t TokenRequests() const {
    size_t n = 0;
    for (const auto& r : provider.requests()) n += r.path == subject.token_path;
    return n;
  }

  std::string SentToken(const RecordedRequest& request) const {
    if (subject.sent_token) return subject.sent_token(request);
    const auto authorization = request.headers.find("authorization");
    const std::string bearer = "Bearer ";
    if (authorization == request.headers.end() || authorization->second.rfind(bearer, 0) != 0) return "";
    return authorization->second.substr(bearer.size());
  }
  std::string LastToken() const { return SentToken(provider.requests().back()); }
  MockResponse RefusingToken(MockResponse unless_the_type_says) const {
    return subject.send_refuses_token.value_or(std::move(unless_the_type_says));
  }

  const AccessTokenSubject& subject;
  MockProvider provider;
  ManualClock clock;
  std::unique_ptr<HttpClient> http;
  HandlerContext ctx;
  std::unique_ptr<ChannelHandler> handler;
  Channel channel;
};

// No log of `r` holds `token`, anywhere.
inline void ExpectNotLogged(const SendResult& r, const std::string& token) {
  for (const auto& log : r.logs) {
    EXPECT_EQ(log.url.find(token), std::string::npos) << log.url;
    EXPECT_EQ(log.request.find(token), std::string::npos) << log.request;
    EXPECT_EQ(log.response.find(token), std::string::npos) << log.response;
    EXPECT_EQ(log.error.find(token), std::string::npos) << log.error;
  }
}

}  // namespace access_token_detail

inline void RunAccessTokenCases(const AccessTokenSubject& s) {
  using access_token_detail::Bench;
  using access_token_detail::ExpectNotLogged;
  {
    SCOPED_TRACE("one token serves two sends and is never logged");
    Bench b(s);
    b.provider.On(s.token_path, s.token_ok("tok-first", s.expires_in_600));
    b.provider.SetDefault(s.send_ok("1"));
    SendResult first = b.Send(1);
    ASSERT_EQ(first.status, MsgStatus::kWired) << first.error;
    ASSERT_EQ(first.logs.size(), 2u);
    EXPECT_EQ(first.logs[0].description, "Access Token Requested");
    EXPECT_NE(first.logs[0].response.find("\"access_token\":\"********\""), std::string::npos)
        << first.logs[0].response;
    ExpectNotLogged(first, "tok-first");
    SendResult second = b.Send(2);
    ASSERT_EQ(second.status, MsgStatus::kWired) << second.error;
    EXPECT_EQ(second.logs.size(), 1u);  // no token request
    ExpectNotLogged(second, "tok-first");
    EXPECT_EQ(b.TokenRequests(), 1u);
    EXPECT_EQ(b.LastToken(), "tok-first");
  }
  {
    SCOPED_TRACE("a token lives for its expires_in, or the fallback");
    Bench b(s);
    b.provider.On(s.token_path, s.token_ok("tok-first", s.expires_in_none));
    b.provider.On(s.token_path, s.token_ok("tok-second", s.expires_in_600));
    b.provider.On(s.token_path, s.token_ok("tok-third", s.expires_in_600));
    b.provider.SetDefault(s.send_ok("1"));
    ASSERT_EQ(b.Send(1).status, MsgStatus::kWired);
    b.clock.Advance((s.fallback_lifetime - 61) * kMicrosPerSecond);
    ASSERT_EQ(b.Send(2).status, MsgStatus::kWired);
    EXPECT_EQ(b.TokenRequests(), 1u);
    b.clock.Advance(1 * kMicrosPerSecond);  // a minute left: renewed
    ASSERT_EQ(b.Send(3).status, MsgStatus::kWired);
    EXPECT_EQ(b.TokenRequests(), 2u);
    b.clock.Advance(539 * kMicrosPerSecond);
    ASSERT_EQ(b.Send(4).status, MsgStatus::kWired);
    EXPECT_EQ(b.TokenRequests(), 2u);
    b.clock.Advance(1 * kMicrosPerSecond);
    ASSERT_EQ(b.Send(5).status, MsgStatus::kWired);
    EXPECT_EQ(b.TokenRequests(), 3u);
    EXPECT_EQ(b.LastToken(), "tok-third");
  }
  {
    SCOPED_TRACE("new credentials buy a new token");
    Bench b(s);
    b.provider.On(s.token_path, s.token_ok("tok-first", s.expires_in_600));
    b.provider.On(s.token_path, s.token_ok("tok-second", s.expires_in_600));
    b.provider.SetDefault(s.send_ok("1"));
    ASSERT_EQ(b.Send(1).status, MsgStatus::kWired);
    b.channel.config[s.credential_key] += "-changed";
    ASSERT_EQ(b.Send(2).status, MsgStatus::kWired);
    EXPECT_EQ(b.TokenRequests(), 2u);
    EXPECT_EQ(b.LastToken(), "tok-second");
  }
  {
    SCOPED_TRACE("a refused token (401) is dropped and the send goes once more with a new one");
    Bench b(s);
    b.provider.On(s.token_path, s.token_ok("tok-revoked", s.expires_in_600));
    b.provider.On(s.token_path, s.token_ok("tok-renewed", s.expires_in_600));
    b.provider.On(s.send_path, s.send_ok("1"));
    b.provider.On(s.send_path, b.RefusingToken({.status = 401, .body = R"({"message":"token expired"})"}));
    b.provider.On(s.send_path, s.send_ok("2"));
    ASSERT_EQ(b.Send(1).status, MsgStatus::kWired);
    SendResult r = b.Send(2);
    EXPECT_EQ(r.status, MsgStatus::kWired) << r.error;
    if (s.send_gives_id) {
      EXPECT_EQ(r.external_id, "2");
    }
    auto requests = b.provider.requests();
    ASSERT_EQ(requests.size(), 5u);
    EXPECT_EQ(b.SentToken(requests[2]), "tok-revoked");
    EXPECT_EQ(requests[3].path, s.token_path);
    EXPECT_EQ(requests[4].path, s.send_path);
    EXPECT_EQ(b.SentToken(requests[4]), "tok-renewed");
    EXPECT_EQ(requests[4].body, requests[2].body);
    ASSERT_EQ(r.logs.size(), 3u);  // refused send, token, send
    EXPECT_NE(r.logs[0].error.find("retrying with a new one"), std::string::npos) << r.logs[0].error;
    EXPECT_EQ(r.logs[1].description, "Access Token Requested");
    ExpectNotLogged(r, "tok-revoked");
    ExpectNotLogged(r, "tok-renewed");
  }
  {
    SCOPED_TRACE("a refusal (401) of the new token too fails the msg without a third try");
    Bench b(s);
    b.provider.On(s.token_path, s.token_ok("tok-revoked", s.expires_in_600));
    b.provider.On(s.token_path, s.token_ok("tok-renewed", s.expires_in_600));
    b.provider.On(s.send_path, s.send_ok("1"));
    b.provider.On(s.send_path, b.RefusingToken({.status = 401}));
    b.provider.On(s.send_path, b.RefusingToken({.status = 401}));
    ASSERT_EQ(b.Send(1).status, MsgStatus::kWired);
    SendResult r = b.Send(2);
    EXPECT_EQ(r.status, MsgStatus::kFailed);
    EXPECT_EQ(b.provider.requests().size(), 5u);
    EXPECT_EQ(b.TokenRequests(), 2u);
  }
  {
    SCOPED_TRACE("a failed token request caches nothing and sends nothing");
    Bench b(s);
    b.provider.On(s.token_path, s.token_refused);
    b.provider.On(s.token_path, s.token_ok("tok-first", s.expires_in_600));
    b.provider.SetDefault(s.send_ok("1"));
    SendResult failed = b.Send(1);
    EXPECT_EQ(failed.status, s.token_refused_status);
    EXPECT_NE(failed.error.find(s.token_refused_error), std::string::npos) << failed.error;
    ASSERT_EQ(b.provider.requests().size(), 1u);
    ASSERT_EQ(failed.logs.size(), 1u);
    EXPECT_EQ(failed.logs[0].description, "Access Token Requested");
    SendResult sent = b.Send(2);
    EXPECT_EQ(sent.status, MsgStatus::kWired) << sent.error;
    EXPECT_EQ(b.TokenRequests(), 2u);
    ExpectNotLogged(sent, "tok-first");
  }
}

}  // namespace courier::testing
