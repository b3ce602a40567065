// Fetcher (fetch/fetcher.h): what each answer makes of a claimed fetch,
// and the credentials each channel type's download carries.
#include "fetch/fetcher.h"

#include <gtest/gtest.h>

#include "fake_http_client.h"
#include "handlers/registry.h"
#include "temp_dir.h"
#include "util/hmac.h"

namespace courier {
namespace {

using testing::FakeHttpClient;
using testing::ScratchDir;

const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
constexpr Micros kNow = 1700000000 * kMicrosPerSecond;

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest() : clock_(kNow), media_(dir_.path()) {}

  FetchOutcome Fetch(const std::string& source, int attempts = 1, FetcherOptions options = Options()) {
    Fetcher fetcher(http_, media_, clock_, options);
    AttachmentFetch f;
    f.id = 7;
    f.msg_id = 3;
    f.source = source;
    f.attempts = attempts;
    Channel ch;
    ch.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
    ch.type = "EX";
    return fetcher.Fetch(f, ch, nullptr);
  }

  // A fetch of WeChat media; the test's WC handler keeps the channel's
  // token from one to the next.
  FetchOutcome FetchWeChatMedia() {
    Channel ch;
    ch.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
    ch.type = "WC";
    ch.config = {{"wechat_app_id", "wx1"}, {"wechat_app_secret", "s3cret"}, {"base_url", "https://wx.example.com"}};
    AttachmentFetch f;
    f.id = 1;
    f.source = "image/jpeg:https://wx.example.com/cgi-bin/media/get?media_id=M1";
    f.attempts = 1;
    Fetcher fetcher(http_, media_, clock_, Options());
    return fetcher.Fetch(f, ch, wechat_.Find("WC"));
  }

  static FetcherOptions Options() {
    FetcherOptions o;
    o.media_url = "https://media.example.org/m/";
    o.max_bytes = 1000;
    return o;
  }

  ScratchDir dir_;
  HandlerRegistry wechat_ = HandlerRegistry::Build({"WC"});
  ManualClock clock_;
  FakeHttpClient http_;
  MediaStore media_;
};

TEST_F(FetcherTest, StoredByDigestWithTheTypeOfItsBytes) {
  http_.Answer(200, {{"content-type", "image/png"}}, kJpeg);
  auto out = Fetch("https://provider.example/a");  // no declared type: the header's, then the bytes'
  EXPECT_EQ(out.state, FetchState::kStored);
  EXPECT_EQ(out.fetch_id, 7);
  EXPECT_EQ(out.sha256, HexEncode(Digest(DigestAlgorithm::kSha256, kJpeg)));
  EXPECT_EQ(out.content_type, "image/jpeg");
  EXPECT_EQ(out.size, 20);
  EXPECT_EQ(out.url, "https://media.example.org/m/" + out.sha256 + ".jpg");
  EXPECT_EQ(*media_.Read(out.sha256), kJpeg);
  ASSERT_EQ(out.logs.size(), 1u);
  const ChannelLog& log = out.logs[0];
  EXPECT_EQ(log.description, "Media Fetch");
  EXPECT_EQ(log.msg_id.value_or(0), 3);
  // The log keeps the answer's head, not the media.
  EXPECT_EQ(log.response.find("JFIF"), std::string::npos) << log.response;
  EXPECT_NE(log.response.find("[20 bytes]"), std::string::npos) << log.response;
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0].method, "GET");
  EXPECT_EQ(http_.requests()[0].url, "https://provider.example/a");
}

TEST_F(FetcherTest, TransientFailuresAreRetriedWithBackoffThenFailed) {
  for (int code : {500, 503, 429, 408}) {
    http_.Answer(code);
    auto out = Fetch("image/jpeg:https://provider.example/a");
    EXPECT_EQ(out.state, FetchState::kPending) << code;
    EXPECT_EQ(out.error, "provider answered " + std::to_string(code));
    EXPECT_EQ(out.retry_on, kNow + 30 * kMicrosPerSecond);
  }
  HttpExchange cut;
  cut.error = "connection reset";
  http_.AnswerExchange(cut);
  auto out = Fetch("image/jpeg:https://provider.example/a", 3);
  EXPECT_EQ(out.state, FetchState::kPending);
  EXPECT_EQ(out.error, "no answer: connection reset");
  EXPECT_EQ(out.retry_on, kNow + 120 * kMicrosPerSecond);  // 30 s doubled per attempt
  http_.Answer(503);
  out = Fetch("image/jpeg:https://provider.example/a", 30);
  EXPECT_EQ(out.retry_on, 0);
  EXPECT_EQ(out.state, FetchState::kFailed);
  EXPECT_EQ(out.error, "provider answered 503 (gave up after 30 attempts)");
  http_.Answer(503);
  out = Fetch("image/jpeg:https://provider.example/a", 7);
  EXPECT_EQ(out.retry_on, kNow + 1920 * kMicrosPerSecond);  // 30 s * 2^6
}

TEST_F(FetcherTest, WhatNoRetryHelpsFailsAtOnce) {
  http_.Answer(404);
  EXPECT_EQ(Fetch("image/jpeg:https://provider.example/a").error, "provider answered 404");
  http_.Answer(200, {}, std::string(1001, 'x'));
  auto big = Fetch("image/jpeg:https://provider.example/a");
  EXPECT_EQ(big.state, FetchState::kFailed);
  EXPECT_EQ(big.error, "larger than 1000 bytes");
  HttpExchange capped;
  capped.error = "response larger than 1000 bytes";
  http_.AnswerExchange(capped);
  EXPECT_EQ(Fetch("image/jpeg:https://provider.example/a").error, "larger than 1000 bytes");
  HttpExchange refused;
  refused.refused = true;
  refused.error = "address 10.0.0.1 is internal";
  http_.AnswerExchange(refused);
  auto out = Fetch("image/jpeg:https://provider.example/a");
  EXPECT_EQ(out.state, FetchState::kFailed);
  EXPECT_EQ(out.error, "refused by the outbound policy: address 10.0.0.1 is internal");
  FetcherOptions no_images = Options();
  no_images.refused_types = {"image/*"};
  http_.Answer(200, {}, kJpeg);
  out = Fetch("application/pdf:https://provider.example/a", 1, no_images);
  EXPECT_EQ(out.state, FetchState::kFailed);
  EXPECT_EQ(out.error, "media type image/jpeg refused");
  EXPECT_FALSE(media_.Exists(HexEncode(Digest(DigestAlgorithm::kSha256, kJpeg))));
}

// A redirect to a CDN is followed; the credentials stay on the
// provider's host.
TEST_F(FetcherTest, RedirectsAreFollowedWithoutTheCredentialsElsewhere) {
  auto registry = HandlerRegistry::Build();
  Channel ch;
  ch.uuid = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
  ch.type = "TW";
  ch.config = {{"account_sid", "AC1"}, {"auth_token", "secret"}};
  http_.Answer(307, {{"location", "/2010-04-01/Media/ME2"}});
  http_.Answer(302, {{"location", "https://cdn.example.net/x"}});
  http_.Answer(200, {}, kJpeg);
  Fetcher fetcher(http_, media_, clock_, Options());
  AttachmentFetch f;
  f.id = 1;
  f.source = "image/jpeg:https://api.twilio.com/2010-04-01/Media/ME1";
  f.attempts = 1;
  auto out = fetcher.Fetch(f, ch, registry.Find("TW"));
  EXPECT_EQ(out.state, FetchState::kStored) << out.error;
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].url, "https://api.twilio.com/2010-04-01/Media/ME2");
  EXPECT_EQ(requests[1].basic_user, "AC1");
  EXPECT_EQ(requests[2].url, "https://cdn.example.net/x");
  EXPECT_EQ(requests[2].basic_user, "");
  EXPECT_EQ(requests[2].basic_password, "");
  // Every hop is on the msg's record, in order.
  ASSERT_EQ(out.logs.size(), 3u);
  EXPECT_EQ(out.logs[0].url, "https://api.twilio.com/2010-04-01/Media/ME1");
  EXPECT_EQ(out.logs[1].url, "https://api.twilio.com/2010-04-01/Media/ME2");
  EXPECT_EQ(out.logs[2].url, "https://cdn.example.net/x");
  for (const auto& log : out.logs) EXPECT_EQ(log.description, "Media Fetch");
}

// WeChat's media need the channel's access token: bought before the
// download, then reused; a token refused is a retry, with its log.
TEST_F(FetcherTest, ATokenIsBoughtForMediaThatNeedOne) {
  http_.Answer(200, {}, R"({"errcode":-1,"errmsg":"system error"})");
  auto refused = FetchWeChatMedia();
  EXPECT_EQ(refused.state, FetchState::kPending);
  EXPECT_NE(refused.error.find("no media token"), std::string::npos) << refused.error;
  ASSERT_EQ(refused.logs.size(), 1u);
  EXPECT_EQ(refused.logs[0].description, "Access Token Requested");

  http_.Answer(200, {}, R"({"access_token":"TOK-1","expires_in":7200})");
  http_.Answer(200, {}, kJpeg);
  http_.Answer(200, {}, kJpeg);
  EXPECT_EQ(FetchWeChatMedia().state, FetchState::kStored);
  auto out = FetchWeChatMedia();
  EXPECT_EQ(out.state, FetchState::kStored) << out.error;
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 4u);  // refused token, token, two downloads
  EXPECT_EQ(requests[2].url, "https://wx.example.com/cgi-bin/media/get?media_id=M1&access_token=TOK-1");
  EXPECT_EQ(requests[3].url, requests[2].url);
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_EQ(out.logs[0].url.find("TOK-1"), std::string::npos) << out.logs[0].url;
}

// WeChat answers a refused download 200 with its errcode, which must
// never be stored as the attachment. A refused token (another process
// bought a newer one) is bought again and the download tried once more;
// any other errcode is a retry of the fetch, with WeChat's answer logged.
TEST_F(FetcherTest, AnErrcodeInsteadOfMediaIsNeverStored) {
  const std::string expired = R"({"errcode":42001,"errmsg":"access_token expired"})";

  http_.Answer(200, {}, R"({"access_token":"TOK-1","expires_in":7200})");
  http_.Answer(200, {}, expired);
  http_.Answer(200, {}, R"({"access_token":"TOK-2","expires_in":7200})");
  http_.Answer(200, {}, kJpeg);
  auto out = FetchWeChatMedia();
  EXPECT_EQ(out.state, FetchState::kStored) << out.error;
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_NE(requests[1].url.find("access_token=TOK-1"), std::string::npos);
  EXPECT_NE(requests[3].url.find("access_token=TOK-2"), std::string::npos);
  EXPECT_EQ(*media_.Read(out.sha256), kJpeg);
  // Both downloads are on the msg's record: the refused one with WeChat's
  // answer whole, then the media's.
  ASSERT_EQ(out.logs.size(), 2u);
  EXPECT_EQ(out.logs[0].error, "WeChat refused the media download: errcode 42001 (access_token expired)");
  EXPECT_NE(out.logs[0].response.find("access_token expired"), std::string::npos) << out.logs[0].response;
  EXPECT_EQ(out.logs[0].url.find("TOK-1"), std::string::npos) << out.logs[0].url;
  EXPECT_EQ(out.logs[1].error, "");
  EXPECT_NE(out.logs[1].response.find("bytes]"), std::string::npos) << out.logs[1].response;

  // Refused again with the new token: no third download in this attempt.
  http_.Answer(200, {}, expired);
  http_.Answer(200, {}, R"({"access_token":"TOK-3","expires_in":7200})");
  http_.Answer(200, {}, expired);
  out = FetchWeChatMedia();
  EXPECT_EQ(out.state, FetchState::kPending);
  EXPECT_NE(out.error.find("errcode 42001"), std::string::npos) << out.error;
  EXPECT_EQ(http_.requests().size(), 7u);
  ASSERT_EQ(out.logs.size(), 2u);  // both refused downloads
  EXPECT_EQ(out.logs[0].error, out.logs[1].error);

  // A media id WeChat no longer has: not a token matter, one download
  // (with a token bought anew: TOK-3 was refused).
  http_.Answer(200, {}, R"({"access_token":"TOK-4","expires_in":7200})");
  http_.Answer(200, {}, R"({"errcode":40007,"errmsg":"invalid media_id"})");
  out = FetchWeChatMedia();
  EXPECT_EQ(out.state, FetchState::kPending);
  EXPECT_EQ(out.error, "WeChat refused the media download: errcode 40007 (invalid media_id)");
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_EQ(out.logs[0].error, out.error);
  EXPECT_NE(out.logs[0].response.find("invalid media_id"), std::string::npos);
  EXPECT_EQ(out.logs[0].url.find("TOK-4"), std::string::npos) << out.logs[0].url;
  EXPECT_EQ(http_.requests().size(), 9u);
}

// Each type's download: credentials only where its provider needs them,
// and only to its provider's hosts (or the channel's own base URL's).
TEST(MediaRequest, CredentialsGoOnlyToTheProvidersHosts) {
  auto registry = HandlerRegistry::Build();
  struct Case {
    std::string type;
    std::map<std::string, std::string> config;
    std::string url;
    std::string header, value;  // "" for none
    std::string basic_user;
  };
  const std::vector<Case> cases = {
      {"WAC", {{"auth_token", "wa-token"}}, "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
       "Authorization", "Bearer wa-token", ""},
      {"WAC", {{"auth_token", "wa-token"}}, "https://evil.example/fbsbx.com/x", "", "", ""},
      {"WAC", {{"auth_token", "wa-token"}, {"base_url", "http://127.0.0.1:9999"}}, "http://127.0.0.1:9999/media/1",
       "Authorization", "Bearer wa-token", ""},
      {"FBA", {{"auth_token", "page-token"}}, "https://scontent.xx.fbcdn.net/v/t1.jpg", "", "", ""},
      {"D3C", {{"api_key", "d3c-key"}}, "https://waba-v2.360dialog.io/whatsapp_business/attachments/?mid=1",
       "D360-API-KEY", "d3c-key", ""},
      {"TW", {{"account_sid", "AC1"}, {"auth_token", "tw-token"}}, "https://api.twilio.com/2010-04-01/Media/ME1", "", "",
       "AC1"},
      {"TW", {{"account_sid", "AC1"}, {"auth_token", "tw-token"}}, "https://notwilio.com/x", "", "", ""},
      {"LN", {{"auth_token", "ln-token"}}, "https://api-data.line.me/v2/bot/message/1/content", "Authorization",
       "Bearer ln-token", ""},
      {"LN", {{"auth_token", "ln-token"}}, "https://cdn.example/x.jpg", "", "", ""},
      {"SL", {{"bot_token", "xoxb-1"}}, "https://files.slack.com/files-pri/T1-F1/a.png", "Authorization",
       "Bearer xoxb-1", ""},
      {"VP", {{"auth_token", "vp-token"}}, "https://dl-media.viber.com/1.jpg", "", "", ""},
  };
  for (const auto& c : cases) {
    const ChannelHandler* h = registry.Find(c.type);
    ASSERT_NE(h, nullptr) << c.type;
    Channel ch;
    ch.type = c.type;
    for (const auto& [k, v] : c.config) ch.config[k] = v;
    HttpRequestSpec req = h->MediaRequest(ch, c.url);
    EXPECT_EQ(req.method, "GET");
    EXPECT_EQ(req.url, c.url);
    std::string found;
    for (const auto& [name, value] : req.headers)
      if (name == c.header) found = value;
    EXPECT_EQ(found, c.value) << c.type << " " << c.url;
    if (c.header.empty()) {
      EXPECT_TRUE(req.headers.empty()) << c.type << " " << c.url;
    }
    EXPECT_EQ(req.basic_user, c.basic_user) << c.type << " " << c.url;
  }
  // Telegram's stored URL gets the bot token back.
  Channel tg;
  tg.type = "TG";
  tg.config["auth_token"] = "123:abc";
  EXPECT_EQ(registry.Find("TG")->MediaRequest(tg, "https://api.telegram.org/file/bot/photos/1.jpg").url,
            "https://api.telegram.org/file/bot123:abc/photos/1.jpg");
}

}  // namespace
}  // namespace courier
