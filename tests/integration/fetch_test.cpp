// courier-fetch end to end: real courier-recv takes a Telegram photo (its
// getFile answered by a mock provider), real courier-fetch downloads it
// from the mock with the bot token, keeps it in the media store and
// rewrites the msg; retries, refusals, and a kill -9 mid-download.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "courier_fixture.h"
#include "eventually.h"
#include "harness.h"
#include "mock_provider.h"
#include "util/hmac.h"

namespace courier::testing {
namespace {

const std::string kToken = "123456:fetch-test-token";
// A JPEG's first bytes (SOI, APP0 JFIF) and some more: libmagic says
// image/jpeg whatever the provider declares.
const std::string kJpeg = std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20) +
                          std::string(4000, '\x42');

std::string Sha256Hex(const std::string& bytes) { return HexEncode(Digest(DigestAlgorithm::kSha256, bytes)); }

class FetchFixture : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    channel_ = AddChannel("TG", {"auth_token=" + kToken, "base_url=" + provider_.url()}, "courierbot");
    env_["COURIER_MEDIA_URL"] = "https://media.example.org/m";
    StartRecv();
  }

  // Telegram's getFile names `path` for every file id.
  void FileAt(const std::string& path) {
    provider_.On("/bot" + kToken + "/getFile",
                 {.body = R"({"ok":true,"result":{"file_id":"x","file_size":1,"file_path":")" + path + R"("}})"});
  }

  std::string FileUrlPath(const std::string& path) { return "/file/bot" + kToken + "/" + path; }

  HttpExchange PostPhoto(int message_id) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/tg/" + channel_ + "/receive";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = R"({"update_id":)" + std::to_string(1000 + message_id) + R"(,"message":{"message_id":)" +
               std::to_string(message_id) +
               R"(,"from":{"id":3527065,"first_name":"Nic"},"chat":{"id":3527065,"type":"private"},"date":1454119029,)"
               R"("caption":"photo )" + std::to_string(message_id) + R"(","photo":[{"file_id":"f)" +
               std::to_string(message_id) + R"(","file_size":4020}]}})";
    return recv_http_->Do(req);
  }

  // The incoming msg's attachments, by its text.
  std::vector<std::string> AttachmentsOf(const std::string& text) {
    for (const auto& m : ListMsgs({"--direction", "in"})) {
      if (json::GetStringOrEmpty(m, "text") != text) continue;
      std::vector<std::string> out;
      auto list = json::GetArray(m, "attachments");
      for (size_t i = 0; list && i < list->size(); ++i) out.push_back(list->getElement<std::string>(i));
      return out;
    }
    return {};
  }

  // Requests the mock saw for `path`.
  size_t Downloads(const std::string& path) {
    size_t n = 0;
    for (const auto& r : provider_.requests())
      if (r.path == path) ++n;
    return n;
  }

  std::string StoredFile(const std::string& sha) {
    std::ifstream in(dir_.path() + "/media/" + sha.substr(0, 2) + "/" + sha, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  MockProvider provider_;
  std::string channel_;
};

using FetchTest = OnBothEngines<FetchFixture>;

TEST_P(FetchTest, APhotoIsDownloadedWithTheTokenKeptAndTheMsgRewritten) {
  FileAt("photos/file_1.jpg");
  // The provider says PNG; the bytes say JPEG.
  provider_.On(FileUrlPath("photos/file_1.jpg"), {.body = kJpeg, .content_type = "image/png"});
  auto answer = PostPhoto(1);
  ASSERT_EQ(answer.status_code, 200) << answer.body;
  // Stored as it came, the token left out.
  auto before = AttachmentsOf("photo 1");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0], "image/jpeg:" + provider_.url() + "/file/bot/photos/file_1.jpg");

  auto fetch = Start("courier-fetch");
  const std::string sha = Sha256Hex(kJpeg);
  const std::string stored = "image/jpeg:https://media.example.org/m/" + sha + ".jpg";
  ASSERT_TRUE(Eventually([&] {
    auto now = AttachmentsOf("photo 1");
    return now.size() == 1 && now[0] == stored;
  })) << AttachmentsOf("photo 1")[0];
  EXPECT_EQ(StoredFile(sha), kJpeg);
  EXPECT_EQ(Downloads(FileUrlPath("photos/file_1.jpg")), 1u);

  // courier-api serves the stored copy by its name, without a token.
  const int api_port = FreePort();
  env_["COURIER_API_PORT"] = std::to_string(api_port);
  auto api = Start("courier-api");
  ASSERT_TRUE(api->WaitForHttp(api_port));
  HttpRequestSpec get;
  get.url = "http://127.0.0.1:" + std::to_string(api_port) + "/media/" + sha + ".jpg";
  auto served = recv_http_->Do(get);
  EXPECT_EQ(served.status_code, 200) << served.body;
  EXPECT_EQ(served.body, kJpeg);
  EXPECT_EQ(served.Header("content-type"), "image/jpeg");
  get.url = "http://127.0.0.1:" + std::to_string(api_port) + "/media/" + std::string(64, '0');
  EXPECT_EQ(recv_http_->Do(get).status_code, 404);
  get.url = "http://127.0.0.1:" + std::to_string(api_port) + "/media/..%2F..%2Fcourier.db";
  EXPECT_EQ(recv_http_->Do(get).status_code, 404);

  // The application heard of it twice: at once, and once kept.
  auto events = Ctl({"events", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_NE(events.out.find("\"media_pending\":1"), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("\"topic\":\"msg.attachments\""), std::string::npos) << events.out;
  EXPECT_NE(events.out.find("https://media.example.org/m/" + sha + ".jpg"), std::string::npos);
  // No log, event or msg holds the token.
  auto logs = Ctl({"logs", "--json"});
  EXPECT_EQ(logs.out.find(kToken), std::string::npos) << logs.out;
  EXPECT_NE(logs.out.find("Media Fetch"), std::string::npos) << logs.out;
  EXPECT_EQ(events.out.find(kToken), std::string::npos);

  // courier-ctl shows each attachment's state, the backlog, and keeps a
  // file stored today from a prune of older ones.
  auto show = Ctl({"msgs", "show", json::GetStringOrEmpty(ListMsgs({"--direction", "in"})[0], "uuid")});
  EXPECT_NE(show.out.find("media 0:         stored, image/jpeg, " + std::to_string(kJpeg.size()) + " bytes"),
            std::string::npos) << show.out;
  auto shown = Ctl({"msgs", "show", "--json", json::GetStringOrEmpty(ListMsgs({"--direction", "in"})[0], "uuid")});
  auto shown_json = json::ParseObject(shown.out);
  ASSERT_TRUE(shown_json.ok()) << shown.out;
  auto media = json::GetArray(*shown_json, "media");
  ASSERT_TRUE(media && media->size() == 1u) << shown.out;
  EXPECT_EQ(json::GetStringOrEmpty(media->getObject(0), "sha256"), sha);
  EXPECT_EQ(json::GetInt(media->getObject(0), "attempts"), 1);
  EXPECT_EQ(json::GetStringOrEmpty(*shown_json, "uuid"), json::GetStringOrEmpty(ListMsgs({"--direction", "in"})[0], "uuid"));
  auto status = Ctl({"status", "--json"});
  EXPECT_NE(status.out.find("\"media\":{"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"courier-fetch\":{"), std::string::npos) << status.out;
  auto pruned = Ctl({"media", "prune", "--older-than", "1"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("removed 0 media files"), std::string::npos) << pruned.out;
  EXPECT_EQ(StoredFile(sha), kJpeg);

  // The same bytes again: one file, two msgs pointing at it.
  FileAt("photos/file_2.jpg");
  provider_.On(FileUrlPath("photos/file_2.jpg"), {.body = kJpeg, .content_type = "image/jpeg"});
  ASSERT_EQ(PostPhoto(2).status_code, 200);
  ASSERT_TRUE(Eventually([&] {
    auto now = AttachmentsOf("photo 2");
    return now.size() == 1 && now[0] == stored;
  }));
  EXPECT_EQ(fetch->Stop(), 0);
}

// A provider that answers the file's URL with a redirect: the file is
// fetched where it points, and the msg keeps a log of each hop, the
// redirect first, with the bot token in neither.
TEST_P(FetchTest, EachRedirectHopLeavesItsLog) {
  FileAt("photos/moved.jpg");
  provider_.On(FileUrlPath("photos/moved.jpg"),
               {.status = 302, .body = "", .headers = {{"Location", "/cdn/moved.jpg"}}});
  provider_.On("/cdn/moved.jpg", {.body = kJpeg, .content_type = "image/jpeg"});
  ASSERT_EQ(PostPhoto(11).status_code, 200);
  auto fetch = Start("courier-fetch");
  const std::string stored = "image/jpeg:https://media.example.org/m/" + Sha256Hex(kJpeg) + ".jpg";
  ASSERT_TRUE(Eventually([&] { return AttachmentsOf("photo 11") == std::vector<std::string>{stored}; }));
  EXPECT_EQ(fetch->Stop(), 0);
  auto logs = Ctl({"logs", "--json"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  std::vector<std::string> fetch_urls;
  for (const auto& log : JsonLines(logs.out))
    if (json::GetStringOrEmpty(log, "description") == "Media Fetch") fetch_urls.push_back(json::GetStringOrEmpty(log, "url"));
  ASSERT_EQ(fetch_urls.size(), 2u) << logs.out;
  // Newest first or oldest first, the two hops are both there.
  std::sort(fetch_urls.begin(), fetch_urls.end());
  EXPECT_EQ(fetch_urls[0], provider_.url() + "/cdn/moved.jpg");
  EXPECT_NE(fetch_urls[1].find("/file/bot"), std::string::npos) << fetch_urls[1];
  EXPECT_EQ(logs.out.find(kToken), std::string::npos) << logs.out;
}

// A provider failing is retried; one answering 404 fails the fetch with
// its reason and the msg keeps the provider's URL; more than the size
// cap is not kept.
TEST_P(FetchTest, FailuresAreRetriedOrFailedWithTheirReason) {
  env_["COURIER_MEDIA_MAX_MB"] = "1";
  FileAt("photos/gone.jpg");
  provider_.On(FileUrlPath("photos/gone.jpg"), {.status = 404, .body = "{}"});
  ASSERT_EQ(PostPhoto(3).status_code, 200);
  FileAt("photos/huge.jpg");
  provider_.On(FileUrlPath("photos/huge.jpg"), {.body = kJpeg + std::string(2 << 20, 'x')});
  ASSERT_EQ(PostPhoto(4).status_code, 200);
  auto fetch = Start("courier-fetch");
  ASSERT_TRUE(Eventually([&] {
    auto status = Ctl({"msgs", "list", "--json", "--direction", "in"});
    return Downloads(FileUrlPath("photos/gone.jpg")) >= 1 && Downloads(FileUrlPath("photos/huge.jpg")) >= 1;
  }));
  ASSERT_TRUE(Eventually([&] {
    auto events = Ctl({"events", "--json"});
    size_t n = 0;
    for (size_t at = 0; (at = events.out.find("\"topic\":\"msg.attachments\"", at)) != std::string::npos; ++at) ++n;
    return n == 2;
  }));
  auto events = Ctl({"events", "--json"}).out;
  EXPECT_NE(events.find("provider answered 404"), std::string::npos) << events;
  EXPECT_NE(events.find("larger than 1048576 bytes"), std::string::npos) << events;
  EXPECT_EQ(AttachmentsOf("photo 3")[0], "image/jpeg:" + provider_.url() + "/file/bot/photos/gone.jpg");
  EXPECT_EQ(fetch->Stop(), 0);
}

// WeChat answers a download whose access token it no longer takes with
// 200 and its errcode, not the photo: courier-fetch never stores that
// answer as the media, buys a new token, downloads once more, and the msg
// keeps both downloads' logs (the refusal whole), with no token in them.
// Any other errcode is a retry of the fetch, with WeChat's reason.
TEST_P(FetchTest, WeChatRefusingATokenIsBoughtAgainAndEveryDownloadIsLogged) {
  env_["COURIER_MEDIA_RETRY_BACKOFF"] = "1";
  const std::string wc = AddChannel("WC", {"secret=secret-token", "wechat_app_id=wx1", "wechat_app_secret=s3cret",
                                           "base_url=" + provider_.url()},
                                    "gh_wechat");
  provider_.On("/cgi-bin/token", {.body = R"({"access_token":"WXTOK-1","expires_in":7200})"});
  provider_.On("/cgi-bin/media/get", {.body = R"({"errcode":42001,"errmsg":"access_token expired"})"});
  provider_.On("/cgi-bin/token", {.body = R"({"access_token":"WXTOK-2","expires_in":7200})"});
  provider_.On("/cgi-bin/media/get", {.body = kJpeg, .content_type = "image/jpeg"});
  // The second photo: an id WeChat no longer has, then (retried) the file.
  provider_.On("/cgi-bin/media/get", {.body = R"({"errcode":40007,"errmsg":"invalid media_id"})"});
  provider_.On("/cgi-bin/media/get", {.body = kJpeg, .content_type = "image/jpeg"});
  auto push = [&](const std::string& media_id, int msg_id) {
    HttpRequestSpec req;
    req.method = "POST";
    // sha1 of "1518430722" + "nonce1" + "secret-token", the three sorted.
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/wc/" + wc +
              "/receive?signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430722&nonce=nonce1";
    req.headers = {{"Content-Type", "text/xml"}};
    req.body = "<xml><ToUserName><![CDATA[gh_wechat]]></ToUserName><FromUserName><![CDATA[1234]]></FromUserName>"
               "<CreateTime>1518774424</CreateTime><MsgType><![CDATA[image]]></MsgType><MediaId><![CDATA[" +
               media_id + "]]></MediaId><MsgId>" + std::to_string(msg_id) + "</MsgId></xml>";
    return recv_http_->Do(req);
  };
  auto first = push("M1", 1);
  ASSERT_EQ(first.status_code, 200) << first.body;

  auto fetch = Start("courier-fetch");
  const std::string stored = "image/jpeg:https://media.example.org/m/" + Sha256Hex(kJpeg) + ".jpg";
  auto attachments = [&] {
    std::vector<std::vector<std::string>> all;
    for (const auto& m : ListMsgs({"--direction", "in"})) {
      std::vector<std::string> out;
      auto list = json::GetArray(m, "attachments");
      for (size_t i = 0; list && i < list->size(); ++i) out.push_back(list->getElement<std::string>(i));
      all.push_back(out);
    }
    return all;
  };
  ASSERT_TRUE(Eventually([&] {
    auto all = attachments();
    return all.size() == 1 && all[0] == std::vector<std::string>{stored};
  }));
  auto downloads = [&] {
    std::vector<std::string> queries;
    for (const auto& r : provider_.requests())
      if (r.path == "/cgi-bin/media/get") queries.push_back(r.query);
    return queries;
  };
  ASSERT_EQ(downloads().size(), 2u);
  EXPECT_NE(downloads()[0].find("access_token=WXTOK-1"), std::string::npos) << downloads()[0];
  EXPECT_NE(downloads()[1].find("access_token=WXTOK-2"), std::string::npos) << downloads()[1];
  EXPECT_EQ(StoredFile(Sha256Hex(kJpeg)), kJpeg);
  auto logs = Ctl({"logs", "--json"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  size_t fetch_logs = 0;
  for (size_t at = 0; (at = logs.out.find("Media Fetch", at)) != std::string::npos; ++at) ++fetch_logs;
  EXPECT_EQ(fetch_logs, 2u) << logs.out;
  EXPECT_NE(logs.out.find("WeChat refused the media download: errcode 42001 (access_token expired)"),
            std::string::npos) << logs.out;
  EXPECT_EQ(logs.out.find("WXTOK"), std::string::npos) << logs.out;

  // Another errcode: the fetch is tried again later, not the token.
  ASSERT_EQ(push("M2", 2).status_code, 200);
  ASSERT_TRUE(Eventually([&] {
    auto all = attachments();
    return all.size() == 2 && all[0] == std::vector<std::string>{stored} && all[1] == std::vector<std::string>{stored};
  }));
  ASSERT_EQ(downloads().size(), 4u);
  EXPECT_NE(downloads()[2].find("access_token=WXTOK-2"), std::string::npos) << downloads()[2];
  EXPECT_NE(downloads()[3].find("access_token=WXTOK-2"), std::string::npos) << downloads()[3];
  size_t tokens = 0;
  for (const auto& r : provider_.requests()) tokens += r.path == "/cgi-bin/token" ? 1 : 0;
  EXPECT_EQ(tokens, 2u);
  logs = Ctl({"logs", "--json"});
  EXPECT_NE(logs.out.find("WeChat refused the media download: errcode 40007 (invalid media_id)"), std::string::npos)
      << logs.out;
  EXPECT_EQ(fetch->Stop(), 0);
}

// A provider answering 503 is asked again after media_retry_backoff,
// the wait doubling; the fetch that works on its last attempt is stored,
// the one that never works fails after media_max_attempts, with the
// count. Each file is downloaded exactly that many times.
TEST_P(FetchTest, ATransientFailureIsRetriedUntilMaxAttempts) {
  env_["COURIER_MEDIA_RETRY_BACKOFF"] = "1";
  env_["COURIER_MEDIA_MAX_ATTEMPTS"] = "3";
  FileAt("photos/flaky.jpg");
  provider_.On(FileUrlPath("photos/flaky.jpg"), {.status = 503, .body = "busy"});
  provider_.On(FileUrlPath("photos/flaky.jpg"), {.status = 503, .body = "busy"});
  provider_.On(FileUrlPath("photos/flaky.jpg"), {.body = kJpeg});
  ASSERT_EQ(PostPhoto(8).status_code, 200);
  FileAt("photos/down.jpg");
  for (int i = 0; i < 3; ++i) provider_.On(FileUrlPath("photos/down.jpg"), {.status = 503, .body = "busy"});
  ASSERT_EQ(PostPhoto(9).status_code, 200);

  auto fetch = Start("courier-fetch");
  const std::string stored = "image/jpeg:https://media.example.org/m/" + Sha256Hex(kJpeg) + ".jpg";
  ASSERT_TRUE(Eventually([&] {
    auto events = Ctl({"events", "--json"}).out;
    size_t n = 0;
    for (size_t at = 0; (at = events.find("\"topic\":\"msg.attachments\"", at)) != std::string::npos; ++at) ++n;
    return n == 2;
  }));
  EXPECT_EQ(AttachmentsOf("photo 8"), std::vector<std::string>{stored});
  EXPECT_EQ(AttachmentsOf("photo 9"), std::vector<std::string>{"image/jpeg:" + provider_.url() + "/file/bot/photos/down.jpg"});
  EXPECT_EQ(Downloads(FileUrlPath("photos/flaky.jpg")), 3u);
  EXPECT_EQ(Downloads(FileUrlPath("photos/down.jpg")), 3u);
  auto events = Ctl({"events", "--json"}).out;
  EXPECT_NE(events.find("provider answered 503 (gave up after 3 attempts)"), std::string::npos) << events;
  // The waits between the attempts: at least 1 s, then 2 s.
  std::vector<std::chrono::steady_clock::time_point> at;
  for (const auto& r : provider_.requests())
    if (r.path == FileUrlPath("photos/flaky.jpg")) at.push_back(r.received_at);
  ASSERT_EQ(at.size(), 3u);
  EXPECT_GE(at[1] - at[0], std::chrono::milliseconds(900));
  EXPECT_GE(at[2] - at[1], std::chrono::milliseconds(1900));
  EXPECT_EQ(fetch->Stop(), 0);
}

// kill -9 in the middle of a download: the next courier-fetch on this
// host releases the dead one's claim at start and downloads it once more;
// the msg is rewritten once, and exactly one msg.attachments event says so.
TEST_P(FetchTest, ADownloadCutByKillMinus9IsResumedByTheNextFetcher) {
  FileAt("photos/slow.jpg");
  provider_.On(FileUrlPath("photos/slow.jpg"), {.body = kJpeg, .delay_ms = 3000});
  ASSERT_EQ(PostPhoto(5).status_code, 200);
  auto first = Start("courier-fetch");
  ASSERT_TRUE(Eventually([&] { return Downloads(FileUrlPath("photos/slow.jpg")) == 1; }));
  first->Stop(9);
  provider_.On(FileUrlPath("photos/slow.jpg"), {.body = kJpeg});
  auto second = Start("courier-fetch");
  const std::string stored = "image/jpeg:https://media.example.org/m/" + Sha256Hex(kJpeg) + ".jpg";
  ASSERT_TRUE(Eventually([&] { return AttachmentsOf("photo 5") == std::vector<std::string>{stored}; }));
  EXPECT_EQ(Downloads(FileUrlPath("photos/slow.jpg")), 2u);
  auto events = Ctl({"events", "--json"}).out;
  size_t n = 0;
  for (size_t at = 0; (at = events.find("\"topic\":\"msg.attachments\"", at)) != std::string::npos; ++at) ++n;
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(second->Stop(), 0);
}

// An application sends a kept file on: "media:SHA256", or the URL
// courier gave it, reaches the provider as a URL under media_url; without
// a public media_url, or for a file the store does not have, the msg
// fails unsent with the reason, and no request is made.
TEST_P(FetchTest, AStoredFileIsSentOnUnderThePublicMediaUrl) {
  FileAt("photos/kept.jpg");
  provider_.On(FileUrlPath("photos/kept.jpg"), {.body = kJpeg});
  ASSERT_EQ(PostPhoto(6).status_code, 200);
  const std::string sha = Sha256Hex(kJpeg);
  const std::string stored = "image/jpeg:https://media.example.org/m/" + sha + ".jpg";
  {
    auto fetch = Start("courier-fetch");
    ASSERT_TRUE(Eventually([&] { return AttachmentsOf("photo 6") == std::vector<std::string>{stored}; }));
    EXPECT_EQ(fetch->Stop(), 0);
  }
  provider_.On("/bot" + kToken + "/sendPhoto", {.body = R"({"ok":true,"result":{"message_id":77}})"});
  auto send = [&](const std::string& text, const std::string& attachment) {
    auto sent = Ctl({"send", "--channel", channel_, "--urn", "telegram:3527065", "--text", text, "--attachment",
                     attachment});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  };
  auto ended = [&](size_t n) {
    return Eventually([&] { return OutgoingMsgs("W").size() + OutgoingMsgs("F").size() == n; });
  };
  auto failure_of = [&](const std::string& text) {
    for (const auto& m : OutgoingMsgs("F"))
      if (json::GetStringOrEmpty(m, "text") == text) return json::GetStringOrEmpty(m, "error_reason");
    return std::string("(not failed)");
  };

  send("by digest", "media:" + sha);
  send("as given", stored);
  send("unknown", "media:" + std::string(64, 'a'));
  {
    auto sender = Start("courier-send");
    ASSERT_TRUE(ended(3));
    EXPECT_EQ(sender->Stop(), 0);
  }
  std::vector<std::string> photos;
  for (const auto& r : provider_.requests())
    if (r.path == "/bot" + kToken + "/sendPhoto") photos.push_back(r.form.at("caption") + " " + r.form.at("photo"));
  std::sort(photos.begin(), photos.end());
  EXPECT_EQ(photos, (std::vector<std::string>{"as given https://media.example.org/m/" + sha + ".jpg",
                                              "by digest https://media.example.org/m/" + sha + ".jpg"}));
  EXPECT_EQ(failure_of("unknown"), "attachment 1: media " + std::string(64, 'a') + " is not in the media store");

  // No public media_url: the default, courier-api on this host, is no
  // address for a provider.
  env_.erase("COURIER_MEDIA_URL");
  const std::string internal = "image/jpeg:http://127.0.0.1:8082/media/" + sha + ".jpg";
  send("internal", internal);
  send("digest again", "media:" + sha);
  {
    auto sender = Start("courier-send");
    ASSERT_TRUE(ended(5));
    EXPECT_EQ(sender->Stop(), 0);
  }
  EXPECT_NE(failure_of("internal").find("set media_url"), std::string::npos) << failure_of("internal");
  EXPECT_NE(failure_of("digest again").find("set media_url"), std::string::npos);
  EXPECT_EQ(photos.size(), 2u);
  size_t requests = 0;
  for (const auto& r : provider_.requests()) requests += r.path == "/bot" + kToken + "/sendPhoto";
  EXPECT_EQ(requests, 2u);

  // A malformed digest is refused when queued.
  auto refused = Ctl({"send", "--channel", channel_, "--urn", "telegram:3527065", "--attachment", "media:abc"});
  EXPECT_EQ(refused.exit_code, 65) << refused.out;
  EXPECT_NE(refused.err.find("SHA-256"), std::string::npos) << refused.err;
}

// `courier-ctl media prune` removes a file no fetch stored within the
// given days, after a dry run that only lists it; the msg keeps its text
// and URL (which now answers 404).
TEST_P(FetchTest, MediaPruneRemovesFilesNotStoredWithinTheDays) {
  FileAt("photos/old.jpg");
  provider_.On(FileUrlPath("photos/old.jpg"), {.body = kJpeg});
  ASSERT_EQ(PostPhoto(7).status_code, 200);
  const std::string sha = Sha256Hex(kJpeg);
  {
    auto fetch = Start("courier-fetch");
    ASSERT_TRUE(Eventually([&] { return !StoredFile(sha).empty() && AttachmentsOf("photo 7")[0].find(sha) != std::string::npos; }));
    EXPECT_EQ(fetch->Stop(), 0);
  }
  const Micros ten_days_ago = Clock::System().Now() - 10LL * 86400 * kMicrosPerSecond;
  StoreExec(StoreUrl(), "UPDATE media SET used_on = " + std::to_string(ten_days_ago));

  auto kept = Ctl({"media", "prune", "--older-than", "11"});
  EXPECT_NE(kept.out.find("removed 0 media files"), std::string::npos) << kept.out;
  auto dry = Ctl({"media", "prune", "--older-than", "5", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find(sha + "  image/jpeg  " + std::to_string(kJpeg.size())), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("would remove 1 media files"), std::string::npos) << dry.out;
  EXPECT_EQ(StoredFile(sha), kJpeg);

  auto pruned = Ctl({"media", "prune", "--older-than", "5"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_NE(pruned.out.find("removed 1 media files (" + std::to_string(kJpeg.size()) + " bytes)"), std::string::npos)
      << pruned.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/media/" + sha.substr(0, 2) + "/" + sha));
  EXPECT_EQ(StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM media"), 0);
  EXPECT_EQ(AttachmentsOf("photo 7")[0], "image/jpeg:https://media.example.org/m/" + sha + ".jpg");
}

COURIER_INSTANTIATE_ON_BOTH_ENGINES(FetchTest);

}  // namespace
}  // namespace courier::testing
