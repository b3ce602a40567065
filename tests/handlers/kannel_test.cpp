// KN — Kannel: receive, status and send tables.
#include "handlers/kannel.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kDlrUrl = std::string(kTestBaseUrl) + "/c/kn/" + kTestChannelUUID + "/status?id=10&status=%d";

Channel KnChannel(std::map<std::string, std::string> config = {}) {
  std::map<std::string, std::string> base = {
      {"send_url", "{{mock}}/cgi-bin/sendsms"}, {"username", "kuser"}, {"password", "kpass-s3cret"}};
  for (auto& [k, v] : config) base[k] = v;
  return TestChannel("KN", "2020", "RW", std::move(base));
}

constexpr Micros kTs = 1493735509LL * kMicrosPerSecond;

TEST(KannelHandler, Receive) {
  KannelHandler h;
  RunReceiveCases(h, KnChannel(), {
      {.label = "valid POST", .action = "receive",
       .query = "backend=NIG_MTN&sender=%2B2349067554729&message=Join&ts=1493735509&id=asdf-asdf&to=24453",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .external_id = "asdf-asdf", .received_on = kTs}}},
      {.label = "valid GET", .method = "GET", .action = "receive",
       .query = "sender=%2B2349067554729&message=Join&ts=1493735509&id=12345", .content_type = "",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .external_id = "12345", .received_on = kTs}}},
      {.label = "national sender in channel country", .method = "GET", .action = "receive",
       .query = "sender=0788383383&message=hi&ts=1493735509&id=1", .content_type = "",
       .msgs = {{.urn = "tel:+250788383383", .text = "hi", .external_id = "1", .received_on = kTs}}},
      {.label = "unicode", .action = "receive",
       .query = "sender=%2B2349067554729&message=Mwaramutse%20%E2%98%BA%20%C3%A9&ts=1493735509&id=7",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Mwaramutse ☺ é", .external_id = "7", .received_on = kTs}}},
      {.label = "empty message is accepted", .action = "receive",
       .query = "sender=%2B2349067554729&message=&ts=1493735509&id=7",
       .msgs = {{.urn = "tel:+2349067554729", .text = "", .external_id = "7", .received_on = kTs}}},
      {.label = "form body is not read", .action = "receive", .query = "sender=%2B2349067554729&ts=1493735509&id=7",
       .body = "message=hi", .error = "field 'message' required"},
      {.label = "missing id", .action = "receive", .query = "sender=%2B2349067554729&message=Join&ts=1493735509",
       .error = "field 'id' required"},
      {.label = "missing ts", .action = "receive", .query = "sender=%2B2349067554729&message=Join&id=1",
       .error = "field 'ts' required"},
      {.label = "missing message", .action = "receive", .query = "sender=%2B2349067554729&ts=1493735509&id=1",
       .error = "field 'message' required"},
      {.label = "missing sender", .action = "receive", .query = "message=Join&ts=1493735509&id=1",
       .error = "field 'sender' required"},
      {.label = "non-numeric ts", .action = "receive",
       .query = "sender=%2B2349067554729&message=Join&ts=notint&id=1", .error = "field 'ts' must be an integer"},
      {.label = "ts out of range", .action = "receive",
       .query = "sender=%2B2349067554729&message=Join&ts=9223372036854775807&id=1", .error = "field 'ts'"},
  });
}

TEST(KannelHandler, Status) {
  KannelHandler h;
  RunReceiveCases(h, KnChannel(), {
      {.label = "1 delivered", .method = "GET", .action = "status", .query = "id=12345&status=1", .content_type = "",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12345}}},
      {.label = "2 failed", .method = "GET", .action = "status", .query = "id=12345&status=2", .content_type = "",
       .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12345}}},
      {.label = "4 sent", .method = "GET", .action = "status", .query = "id=12345&status=4", .content_type = "",
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12345}}},
      {.label = "8 sent", .method = "GET", .action = "status", .query = "id=12345&status=8", .content_type = "",
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12345}}},
      {.label = "16 failed", .method = "GET", .action = "status", .query = "id=12345&status=16", .content_type = "",
       .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12345}}},
      {.label = "POST with form", .action = "status", .body = "id=12&status=1",
       .statuses = {{.status = MsgStatus::kDelivered, .msg_id = 12}}},
      {.label = "POST with query (our dlr-url)", .action = "status", .query = "id=12&status=8",
       .statuses = {{.status = MsgStatus::kSent, .msg_id = 12}}},
      {.label = "unknown status", .method = "GET", .action = "status", .query = "id=12345&status=3",
       .content_type = "", .error = "unknown status '3', must be one of 1,2,4,8,16"},
      {.label = "missing id", .method = "GET", .action = "status", .query = "status=1", .content_type = "",
       .error = "field 'id' required"},
      {.label = "non-numeric id", .method = "GET", .action = "status", .query = "id=abc&status=1",
       .content_type = "", .error = "field 'id' must be an integer"},
      {.label = "missing status", .method = "GET", .action = "status", .query = "id=12", .content_type = "",
       .error = "field 'status' required"},
      {.label = "unreplaced %d", .method = "GET", .action = "status", .query = "id=12&status=%25d",
       .content_type = "", .error = "field 'status' must be an integer"},
  });
}

TEST(KannelHandler, Routes) {
  KannelHandler h;
  EXPECT_EQ(h.Code(), "KN");
  EXPECT_EQ(h.Name(), "Kannel");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET status", "POST status"}));
}

ExpectedRequest SendRequest(std::map<std::string, std::string> params) {
  return {.method = "GET", .path = "/cgi-bin/sendsms", .params = std::move(params)};
}

TEST(KannelHandler, Send) {
  KannelHandler h;
  RunSendCases(h, KnChannel(), {
      {.label = "plain",
       .requests = {SendRequest({{"username", "kuser"}, {"password", "kpass-s3cret"}, {"from", "2020"},
                                 {"to", "+250788383383"}, {"text", "Simple Message"}, {"dlr-url", kDlrUrl},
                                 {"dlr-mask", "31"}})}},
      {.label = "smart quotes become plain GSM7", .text = "“Hi” ‘there’ – ok…",
       .requests = {SendRequest({{"text", "\"Hi\" 'there' - ok..."}})}},
      {.label = "GSM7 extension and accents stay plain", .text = "{€} é à Ü",
       .requests = {SendRequest({{"text", "{€} é à Ü"}})}},
      {.label = "smart with non-GSM text goes unicode, text untouched", .text = "“Hi” ☺",
       .requests = {SendRequest({{"text", "“Hi” ☺"}, {"coding", "2"}, {"charset", "utf8"}})}},
      {.label = "attachment as link in text", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .requests = {SendRequest({{"text", "My pic!\nhttps://foo.bar/image.jpg"}})}},
      {.label = "long text is one request", .text = std::string(400, 'a'),
       .requests = {SendRequest({{"text", std::string(400, 'a')}})}},
      {.label = "provider 500", .responses = {{"/cgi-bin/sendsms", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received error sending message",
       .requests = {SendRequest({{"text", "Simple Message"}})}},
      {.label = "provider throttles", .responses = {{"/cgi-bin/sendsms", {.status = 429, .body = "busy"}}},
       .status = MsgStatus::kErrored, .error = "received error sending message",
       .requests = {SendRequest({{"text", "Simple Message"}})}, .throttled_for_seconds = 1},
      {.label = "provider 202 is fine", .responses = {{"/cgi-bin/sendsms", {.status = 202, .body = "Accepted"}}},
       .requests = {SendRequest({{"text", "Simple Message"}})}},
  });

  RunSendCases(h, KnChannel({{"encoding", "U"}}), {
      {.label = "unicode encoding", .text = "Simple Message",
       .requests = {SendRequest({{"text", "Simple Message"}, {"coding", "2"}, {"charset", "utf8"}})}},
  });

  RunSendCases(h, KnChannel({{"use_national", "true"}}), {
      {.label = "use_national", .requests = {SendRequest({{"to", "0788383383"}})}},
      {.label = "use_national keeps a short code", .urn = "tel:1234", .requests = {SendRequest({{"to", "1234"}})}},
  });

  RunSendCases(h, KnChannel({{"send_url", "{{mock}}/cgi-bin/sendsms?smsc=mtn"}}), {
      {.label = "send_url with query", .requests = {SendRequest({{"smsc", "mtn"}, {"username", "kuser"},
                                                                {"dlr-url", kDlrUrl}})}},
  });

  RunSendCases(h, KnChannel({{"verify_ssl", "false"}}), {
      {.label = "verify_ssl false", .requests = {SendRequest({{"text", "Simple Message"}})}},
  });

  RunSendCases(h, KnChannel({{"dlr_mask", "3"}}), {
      {.label = "custom dlr_mask", .msg_id = 77,
       .requests = {SendRequest({{"dlr-mask", "3"},
                                 {"dlr-url", std::string(kTestBaseUrl) + "/c/kn/" + kTestChannelUUID +
                                                 "/status?id=77&status=%d"}})}},
  });

  RunSendCases(h, TestChannel("KN", "2020", "RW", {{"username", "kuser"}, {"password", "kpass-s3cret"}}), {
      {.label = "no send_url", .status = MsgStatus::kErrored, .error = "no send_url set for KN channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TestChannel("KN", "2020", "RW", {{"send_url", "{{mock}}/x"}, {"username", "kuser"}}), {
      {.label = "no password", .status = MsgStatus::kErrored, .error = "no password set for KN channel",
       .requests = {}, .logs = 1},
  });
}

// What the table cannot say: parameters that must be absent, and the log.
struct Sent {
  SendResult result;
  std::vector<RecordedRequest> requests;
};

Sent SendOne(const std::map<std::string, std::string>& config, const std::string& text, MockResponse response = {}) {
  KannelHandler h;
  MockProvider provider;
  provider.On("/", response);
  Channel channel = KnChannel(config);
  channel.config["send_url"] = provider.url() + "/cgi-bin/sendsms";
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = "tel:+250788383383";
  msg.text = text;
  auto http = NewPocoHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  Sent s;
  s.result = h.Send(channel, msg, ctx);
  s.requests = provider.requests();
  return s;
}

TEST(KannelHandler, PlainSendHasNoCoding) {
  for (auto [encoding, text] : std::vector<std::pair<std::string, std::string>>{
           {"S", "Simple Message"}, {"", "“smart”"}, {"D", "☺ not converted"}}) {
    SCOPED_TRACE(encoding + " " + text);
    auto s = SendOne({{"encoding", encoding}}, text);
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_EQ(s.requests[0].params.count("coding"), 0u);
    EXPECT_EQ(s.requests[0].params.count("charset"), 0u);
  }
}

TEST(KannelHandler, ErrorKeepsLogAndRedactsPassword) {
  auto s = SendOne({}, "hi", {.status = 500, .body = "oops"});
  EXPECT_EQ(MsgStatusString(s.result.status), MsgStatusString(MsgStatus::kErrored));
  EXPECT_EQ(s.result.error, "received error sending message");
  ASSERT_EQ(s.result.logs.size(), 1u);
  EXPECT_EQ(s.result.logs[0].error, "received non 200 status: 500");
  EXPECT_EQ(s.result.logs[0].url.find("kpass-s3cret"), std::string::npos);
  EXPECT_NE(s.result.logs[0].url.find("password=********"), std::string::npos) << s.result.logs[0].url;
}

TEST(KannelHandler, Gsm7) {
  EXPECT_TRUE(handlers::IsGsm7("Hello @£$¥ {}[]~|^€\\ ÄÖÑÜ§¿äöñüà\r\n"));
  EXPECT_FALSE(handlers::IsGsm7("☺"));
  EXPECT_FALSE(handlers::IsGsm7("“quoted”"));
  EXPECT_FALSE(handlers::IsGsm7("\xff"));  // not UTF-8
  EXPECT_EQ(handlers::ReplaceGsm7Substitutions("“a” ‘b’ c—d e–f g…"), "\"a\" 'b' c-d e-f g...");
}

}  // namespace
