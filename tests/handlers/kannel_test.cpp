// KN — Kannel: receive, status and send tables.
#include "handlers/kannel.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "handler_harness.h"
#include "webhook_token_cases.h"
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

// What Kannel's get-url passes for the SMSC's bytes (%b, with %c coding and
// %C charset), as Kannel 1.4.5 sends them from its fake SMSC.
TEST(KannelHandler, ReceiveDecodesByCodingAndCharset) {
  KannelHandler h;
  const std::string id = "6dd6d34c-13fd-4073-925f-c402952cca5e";
  const std::string base = "id=" + id + "&ts=1493735509&sender=250788383383&to=1234&backend=fake&";
  auto msg = [&](const std::string& text) {
    return std::vector<ExpectedMsg>{{.urn = "tel:+250788383383", .text = text, .external_id = id, .received_on = kTs}};
  };
  auto get = [&](const std::string& label, const std::string& query, const std::string& text) {
    return ReceiveCase{.label = label, .method = "GET", .action = "receive", .query = base + query,
                       .content_type = "", .msgs = msg(text)};
  };
  RunReceiveCases(h, KnChannel(), {
      get("UCS-2 without mo-recode: UTF-16BE bytes",
          "message=%00M%00u%00r%00a%00h%00o%00+%20%13%00+%27%13&coding=2&charset=UTF-16BE", "Muraho – ✓"),
      get("UCS-2 with an emoji (a surrogate pair)",
          "message=%04%3F%04%40%048%042%045%04B%00+%D8%3D%DE%00&coding=2&charset=UTF-16BE", "привет 😀"),
      get("coding=2 without charset is UTF-16BE", "message=%00h%00%E9&coding=2", "hé"),
      get("charset UCS-2 is read as UTF-16BE", "message=%00h%00i&coding=2&charset=UCS-2", "hi"),
      get("odd UTF-16BE byte count: the stray byte is U+FFFD", "message=%00h%00&coding=2&charset=UTF-16BE",
          "h\uFFFD"),
      get("mo-recode: UTF-8 as coding=0", "message=Muraho%E2%80%93&coding=0&charset=UTF-8", "Muraho–"),
      get("GSM7 arrives as UTF-8, + and newlines kept (%b)",
          "message=1%2B1+%3D+2%0Ayes+%E2%82%AC&coding=0&charset=UTF-8", "1+1 = 2\nyes €"),
      get("ISO-8859-1", "message=caf%E9&coding=0&charset=ISO-8859-1", "café"),
      get("named UTF-8 that is not: U+FFFD", "message=caf%E9&coding=0&charset=UTF-8", "caf\uFFFD"),
      get("named UTF-8 cut short: one U+FFFD for the maximal subpart",
          "message=%E2%82x%F0%9F%98&coding=0&charset=UTF-8", "\uFFFDx\uFFFD"),
      get("charset without coding", "message=caf%E9&charset=ISO-8859-1", "café"),
      get("windows-1252 (a smart quote and the euro)", "message=%93ok%94+%80&coding=0&charset=windows-1252",
          "“ok” €"),
      get("binary (8-BIT) that is not UTF-8 keeps every byte as ISO-8859-1",
          "message=caf%E9%FF&coding=1&charset=8-BIT", "caféÿ"),
      get("binary (8-BIT) that is UTF-8 is kept", "message=caf%C3%A9&coding=1&charset=8-BIT", "café"),
      get("no coding or charset (an older get-url): UTF-8 as it is", "message=caf%C3%A9", "café"),
      get("no coding or charset, not UTF-8: ISO-8859-1, Kannel's default for 7-bit text", "message=caf%E9",
          "café"),
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
      {.label = "34 expired (later Kannel releases) failed", .method = "GET", .action = "status",
       .query = "id=12345&status=34", .content_type = "",
       .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12345}}},
      {.label = "66 unknown (later Kannel releases) failed", .method = "GET", .action = "status",
       .query = "id=12345&status=66", .content_type = "",
       .statuses = {{.status = MsgStatus::kFailed, .msg_id = 12345}}},
      {.label = "unknown DLR type is answered 200 and ignored", .method = "GET", .action = "status",
       .query = "id=12345&status=3", .content_type = "", .ignored = "unknown status '3'"},
      {.label = "another unknown DLR type", .method = "GET", .action = "status", .query = "id=12345&status=32",
       .content_type = "", .ignored = "must be one of 1,2,4,8,16,34,66"},
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

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// 312 characters of words, which split at a word boundary into 159 and 152.
std::string Words(size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += (out.empty() ? "" : " ") + std::string("word") + std::to_string(100 + i);
  return out;
}
const std::string kLongText = Words(0, 38) + " and more";  // 38 * 8 - 1 + 9 = 312
const std::string kLongPart1 = Words(0, 20);                  // 159
const std::string kLongPart2 = Words(20, 38) + " and more";   // 152

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
      {.label = "160 characters are one SMS", .text = std::string(160, 'a'),
       .requests = {SendRequest({{"text", std::string(160, 'a')}, {"dlr-mask", "31"}})}},
      {.label = "a long text goes as single SMS, one request each, never cut", .text = kLongText,
       .requests = {SendRequest({{"text", kLongPart1}, {"dlr-mask", "18"}, {"dlr-url", kDlrUrl}}),
                    SendRequest({{"text", kLongPart2}, {"dlr-mask", "31"}, {"dlr-url", kDlrUrl}})}},
      {.label = "a long word is cut at 160", .text = std::string(400, 'a'),
       .requests = {SendRequest({{"text", std::string(160, 'a')}}), SendRequest({{"text", std::string(160, 'a')}}),
                    SendRequest({{"text", std::string(80, 'a')}})}},
      {.label = "GSM7 extension characters take two septets", .text = Repeat("€", 81),
       .requests = {SendRequest({{"text", Repeat("€", 80)}}), SendRequest({{"text", "€"}})}},
      {.label = "unicode: 70 characters are one SMS", .text = Repeat("ж", 70),
       .requests = {SendRequest({{"text", Repeat("ж", 70)}, {"coding", "2"}})}},
      {.label = "unicode: 71 characters are two", .text = Repeat("ж", 71),
       .requests = {SendRequest({{"text", Repeat("ж", 70)}, {"coding", "2"}, {"charset", "utf8"}}),
                    SendRequest({{"text", "ж"}, {"coding", "2"}, {"charset", "utf8"}})}},
      {.label = "an emoji takes two UCS-2 units", .text = Repeat("😀", 36),
       .requests = {SendRequest({{"text", Repeat("😀", 35)}, {"coding", "2"}}),
                    SendRequest({{"text", "😀"}, {"coding", "2"}})}},
      {.label = "provider 500", .responses = {{"/cgi-bin/sendsms", {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received error sending message: oops",
       .requests = {SendRequest({{"text", "Simple Message"}})}},
      {.label = "503 try again later is retried",
       .responses = {{"/cgi-bin/sendsms", {.status = 503, .body = "Temporal failure, try again later.",
                                           .content_type = "text/html"}}},
       .status = MsgStatus::kErrored, .error = "try again later", .requests = {SendRequest({})}},
      {.label = "403 bad credentials fail at once",
       .responses = {{"/cgi-bin/sendsms", {.status = 403, .body = "Authorization failed for sendsms",
                                           .content_type = "text/html"}}},
       .status = MsgStatus::kFailed, .error = "received error sending message: Authorization failed for sendsms",
       .requests = {SendRequest({})}},
      {.label = "400 refused number fails at once",
       .responses = {{"/cgi-bin/sendsms", {.status = 400, .body = "Missing receiver number, rejected",
                                           .content_type = "text/html"}}},
       .status = MsgStatus::kFailed, .error = "Missing receiver number, rejected", .requests = {SendRequest({})}},
      {.label = "202 queued for later delivery is wired",
       .responses = {{"/cgi-bin/sendsms", {.status = 202, .body = "3: Queued for later delivery",
                                           .content_type = "text/html"}}},
       .requests = {SendRequest({})}},
      {.label = "a later part failing errors the msg",
       .text = kLongText,
       .responses = {{"/cgi-bin/sendsms", {.status = 202, .body = "0: Accepted for delivery"}},
                     {"/cgi-bin/sendsms", {.status = 503, .body = "Temporal failure, try again later."}}},
       .status = MsgStatus::kErrored,
       .requests = {SendRequest({{"text", kLongPart1}}), SendRequest({{"text", kLongPart2}})}},
      {.label = "provider throttles", .responses = {{"/cgi-bin/sendsms", {.status = 429, .body = "busy"}}},
       .status = MsgStatus::kErrored, .error = "received error sending message",
       .requests = {SendRequest({{"text", "Simple Message"}})}, .throttled_for_seconds = 1},
      {.label = "provider 202 is fine",
       .responses = {{"/cgi-bin/sendsms", {.status = 202, .body = "0: Accepted for delivery"}}},
       .requests = {SendRequest({{"text", "Simple Message"}})}},
  });

  // The sendsms-user concatenates up to max-messages SMS.
  RunSendCases(h, KnChannel({{"max_messages", "10"}}), {
      {.label = "max_messages: a long text is one request", .text = kLongText,
       .requests = {SendRequest({{"text", kLongText}, {"dlr-mask", "31"}})}},
      {.label = "max_messages: 10 parts of 153 septets", .text = std::string(1531, 'a'),
       .requests = {SendRequest({{"text", std::string(1530, 'a')}}), SendRequest({{"text", "a"}})}},
      {.label = "max_messages: 10 parts of 67 units", .text = Repeat("ж", 671),
       .requests = {SendRequest({{"text", Repeat("ж", 670)}}), SendRequest({{"text", "ж"}})}},
  });
  RunSendCases(h, KnChannel({{"max_messages", "10"}, {"max_length", "100"}}), {
      {.label = "max_length makes parts shorter", .text = std::string(150, 'a'),
       .requests = {SendRequest({{"text", std::string(100, 'a')}}), SendRequest({{"text", std::string(50, 'a')}})}},
  });
  RunSendCases(h, KnChannel({{"max_length", "1000"}}), {
      {.label = "max_length cannot exceed what max_messages lets through", .text = std::string(161, 'a'),
       .requests = {SendRequest({{"text", std::string(160, 'a')}}), SendRequest({{"text", "a"}})}},
  });
  RunSendCases(h, KnChannel({{"max_messages", "many"}}), {
      {.label = "max_messages not a number is 1", .text = std::string(161, 'a'),
       .requests = {SendRequest({{"text", std::string(160, 'a')}}), SendRequest({{"text", "a"}})}},
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
      {.label = "custom dlr_mask: earlier parts report only failures", .text = kLongText,
       .requests = {SendRequest({{"dlr-mask", "2"}}), SendRequest({{"dlr-mask", "3"}})}},
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
  auto http = NewLoopbackHttpClient();
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
  EXPECT_EQ(s.result.error, "received error sending message: oops");
  ASSERT_EQ(s.result.logs.size(), 1u);
  EXPECT_EQ(s.result.logs[0].error, "received non 200 status: 500");
  EXPECT_EQ(s.result.logs[0].url.find("kpass-s3cret"), std::string::npos);
  EXPECT_NE(s.result.logs[0].url.find("password=********"), std::string::npos) << s.result.logs[0].url;
}

TEST(KannelHandler, EarlierPartsWithoutFailureBitsAskForNoReport) {
  auto s = SendOne({{"dlr_mask", "1"}}, kLongText);
  ASSERT_EQ(s.requests.size(), 2u);
  EXPECT_EQ(s.requests[0].params.count("dlr-url"), 0u);
  EXPECT_EQ(s.requests[0].params.count("dlr-mask"), 0u);
  EXPECT_EQ(s.requests[1].params.at("dlr-mask"), "1");
  EXPECT_EQ(s.requests[0].params.at("text") + " " + s.requests[1].params.at("text"), kLongText);
}

// Kannel signs nothing: with a webhook_token set, a webhook must carry it.
TEST(KannelHandler, WebhookToken) {
  KannelHandler h;
  RunReceiveCases(h, KnChannel({{"webhook_token", kWebhookToken}}), WebhookTokenCases({.label = "valid POST", .action = "receive", .query = "backend=NIG_MTN&sender=%2B2349067554729&message=Join&ts=1493735509&id=asdf-asdf&to=24453", .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .external_id = "asdf-asdf", .received_on = kTs}}}));
}

// The dlr-url courier gives Kannel carries the token, so its reports pass.
TEST(KannelHandler, WebhookTokenInDlrUrl) {
  KannelHandler h;
  const Channel channel = KnChannel({{"webhook_token", kWebhookToken}});
  RunSendCases(h, channel, {
      {.label = "dlr-url with the token", .requests = {SendRequest({{"dlr-url", kDlrUrl + "&webhook_token=" + kWebhookToken}})}},
  });
  RunReceiveCases(h, channel, WebhookTokenCases({.label = "our dlr-url", .action = "status", .query = "id=12&status=8",
                                                 .statuses = {{.status = MsgStatus::kSent, .msg_id = 12}}}));
}

}  // namespace
