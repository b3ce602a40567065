// Receiver: routing and status codes, and the account of every refusal
// (a counter by reason, a log line with reason, path and remote address,
// rate-limited). On a real SQLite file behind the ChannelCache and the
// IntakeWriter, a hand-set clock, and an HTTP client that makes no
// requests (no handler used here calls out on receive).
#include "recv/receiver.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <optional>

#include "core/json.h"
#include "core/log.h"
#include "pass_through_env.h"
#include "store/store.h"

namespace courier {
namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;

class NoRequestsHttpClient : public HttpClient {
 public:
  HttpExchange Do(const HttpRequestSpec& request) override {
    ++calls;
    HttpExchange ex;
    ex.method = request.method;
    ex.url = request.url;
    ex.error = "unit tests make no requests";
    return ex;
  }
  std::atomic<int> calls{0};
};

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Log::Init("courier-recv", "info");
    std::string tmpl = "/tmp/courier-receiver-test-XXXXXX";
    ASSERT_NE(nullptr, ::mkdtemp(tmpl.data()));
    dir_ = tmpl;
    const std::string db = dir_ + "/courier.db";
    open_ = [db, this]() { return OpenStore(db, clock_, 2000); };
    auto store = open_();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Migrate().ok());
    ex_ = AddChannel(**store, "EX", {});
    tg_ = AddChannel(**store, "TG", {{"auth_token", "123:tg-token"}});
    spool_ = std::make_unique<SpoolDir>(dir_ + "/spool");
    ASSERT_TRUE(spool_->Ensure().ok());
    cache_ = std::make_unique<ChannelCache>(open_, clock_, 60 * kMicrosPerSecond);
    writer_ = std::make_unique<IntakeWriter>(open_, *spool_, clock_, nullptr, nullptr);
    writer_->Start();
    ReceiverOptions options;
    options.base_url = "https://courier.example.com";
    options.spool_dir = dir_ + "/spool";
    options.refusal_log = {1000, 1000};  // every line logged; the limit has its own test
    receiver_ = std::make_unique<Receiver>(handlers_, *cache_, *writer_, http_, clock_, options);
  }
  void TearDown() override {
    receiver_.reset();
    writer_->Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::string AddChannel(Store& store, const std::string& type, std::map<std::string, std::string> config) {
    Channel c;
    c.type = type;
    c.address = "1234";
    c.country = "RW";
    c.schemes = {type == "TG" ? "telegram" : "tel"};
    c.config = std::move(config);
    auto added = store.AddChannel(c);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->uuid : "";
  }

  // The answer to `in`, waited for (bounded) when it follows a write.
  HttpOut Call(HttpIn in) {
    if (in.remote_address.empty()) in.remote_address = "203.0.113.5:41236";
    auto answer = std::make_shared<std::promise<HttpOut>>();
    auto got = answer->get_future();
    receiver_->Handle(in, [answer](std::function<HttpOut()> finish) { answer->set_value(finish()); });
    EXPECT_EQ(std::future_status::ready, got.wait_for(std::chrono::seconds(10)));
    return got.get();
  }

  ManualClock clock_{kStart};
  std::string dir_;
  StoreOpener open_;
  std::string ex_, tg_;
  HandlerRegistry handlers_ = HandlerRegistry::Build();
  NoRequestsHttpClient http_;
  std::unique_ptr<SpoolDir> spool_;
  std::unique_ptr<ChannelCache> cache_;
  std::unique_ptr<IntakeWriter> writer_;
  std::unique_ptr<Receiver> receiver_;
};

HttpIn Request(std::string method, std::string uri, std::string body = "") {
  HttpIn in;
  in.method = std::move(method);
  in.uri = std::move(uri);
  in.body = std::move(body);
  if (!in.body.empty()) in.headers["content-type"] = "application/x-www-form-urlencoded";
  return in;
}

// The `error` of an error envelope, or nullopt when `body` is not one.
std::optional<std::string> EnvelopeError(const std::string& body) {
  auto parsed = json::ParseObject(body);
  if (!parsed.ok()) return std::nullopt;
  if (json::GetStringOrEmpty(*parsed, "message").empty()) return std::nullopt;
  const auto data = json::GetObjects(*parsed, "data");
  if (data.size() != 1 || !data[0] || json::GetStringOrEmpty(data[0], "type") != "error") return std::nullopt;
  return json::GetStringOrEmpty(data[0], "error");
}

TEST_F(ReceiverTest, RoutesAndRefusesWithTheRightCodeReasonAndLogLine) {
  const std::string unknown = "0b4d2b1e-5f0c-4e43-9d3a-2a7f3c8e9d10";
  struct Case {
    const char* name;
    HttpIn in;
    int status;
    std::optional<RefusalReason> reason;  // nullopt: taken, not refused
    const char* error;                    // a part of the envelope's error
  };
  auto flagged = [](HttpIn in, bool HttpIn::*flag) {
    in.*flag = true;
    return in;
  };
  const std::vector<Case> cases = {
      {"unknown route", Request("GET", "/nope"), 404, RefusalReason::kNotFound, "not found"},
      {"unknown type", Request("POST", "/c/zz/" + ex_ + "/receive"), 404, RefusalReason::kNotFound, "not found"},
      {"upper-case type", Request("POST", "/c/EX/" + ex_ + "/receive"), 404, RefusalReason::kNotFound, "not found"},
      {"unknown action", Request("POST", "/c/ex/" + ex_ + "/nope"), 404, RefusalReason::kNotFound, "not found"},
      {"wrong method", Request("PUT", "/c/ex/" + ex_ + "/receive"), 405, RefusalReason::kMethodNotAllowed,
       "method not allowed"},
      {"malformed uuid", Request("POST", "/c/ex/not-a-uuid/receive"), 400, RefusalReason::kInvalidUuid,
       "invalid channel uuid"},
      {"unknown channel", Request("POST", "/c/ex/" + unknown + "/receive"), 400, RefusalReason::kUnknownChannel,
       "channel not found"},
      {"wrong type", Request("POST", "/c/ex/" + tg_ + "/receive"), 400, RefusalReason::kWrongType,
       "channel type wrong"},
      {"body too large", flagged(Request("POST", "/c/ex/" + ex_ + "/receive"), &HttpIn::body_too_large), 413,
       RefusalReason::kBodyTooLarge, "too large"},
      {"uri too long", flagged(Request("GET", "/c/ex/" + ex_ + "/receive?text=aaaa"), &HttpIn::uri_too_long), 414,
       RefusalReason::kUriTooLong, "URI too long"},
      {"headers too large", flagged(Request("POST", "/c/ex/" + ex_ + "/receive"), &HttpIn::headers_too_large), 431,
       RefusalReason::kHeadersTooLarge, "headers too large"},
      {"bad JSON", Request("POST", "/c/tg/" + tg_ + "/receive", "{not json"), 400, RefusalReason::kBadRequest, ""},
      {"missing field", Request("POST", "/c/ex/" + ex_ + "/receive", "text=hi"), 400, RefusalReason::kBadRequest,
       "'from'"},
      {"app route, unknown type", Request("POST", "/c/zz/receive"), 404, RefusalReason::kNotFound, "not found"},
      {"a msg", Request("POST", "/c/ex/" + ex_ + "/receive", "from=%2B250788383383&text=hi"), 200, std::nullopt, ""},
      {"a msg, trailing slash", Request("POST", "/c/ex/" + ex_ + "/receive/", "from=%2B250788383384&text=hi"), 200,
       std::nullopt, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::array<int64_t, kRefusalReasons> before{};
    for (size_t i = 0; i < kRefusalReasons; ++i) before[i] = receiver_->refusals().count(static_cast<RefusalReason>(i));

    ::testing::internal::CaptureStderr();
    const HttpOut out = Call(c.in);
    const std::string log = ::testing::internal::GetCapturedStderr();

    EXPECT_EQ(c.status, out.status) << out.body;
    EXPECT_EQ("application/json", out.content_type);
    for (size_t i = 0; i < kRefusalReasons; ++i) {
      const auto reason = static_cast<RefusalReason>(i);
      EXPECT_EQ(before[i] + (c.reason == reason ? 1 : 0), receiver_->refusals().count(reason))
          << RefusalReasonName(reason);
    }
    if (!c.reason) {
      EXPECT_EQ(std::string::npos, log.find("request refused")) << log;
      EXPECT_NE(std::string::npos, out.body.find("Message Accepted")) << out.body;
      continue;
    }
    auto error = EnvelopeError(out.body);
    ASSERT_TRUE(error.has_value()) << "not the JSON error envelope: " << out.body;
    EXPECT_NE(std::string::npos, error->find(c.error)) << *error;
    const std::string path = c.in.uri.substr(0, c.in.uri.find('?'));
    EXPECT_NE(std::string::npos, log.find("msg=\"request refused\" reason=" + std::string(RefusalReasonName(*c.reason)) +
                                          " status=" + std::to_string(c.status) + " path=" + path +
                                          " remote=203.0.113.5:41236"))
        << log;
  }
  EXPECT_EQ(0, http_.calls.load());
}

// WeChat gives an account one URL, the channel's root: courier-recv
// serves /c/wc/<uuid> (no action) to the handler, as it serves
// /c/wc/<uuid>/receive; an app-level path (no uuid) is still app-level.
TEST_F(ReceiverTest, TheChannelRootIsARouteOfItsOwn) {
  auto store = open_();
  ASSERT_TRUE(store.ok());
  const std::string wc = AddChannel(**store, "WC", {{"secret", "secret-token"}});
  // sha1 of "1518430722", "nonce1" and "secret-token", sorted.
  const std::string signed_query =
      "signature=7bd614a8267c401f8cb599a1680744a07f6463f9&timestamp=1518430722&nonce=nonce1";
  HttpOut verified = Call(Request("GET", "/c/wc/" + wc + "?" + signed_query + "&echostr=hello"));
  EXPECT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(verified.body, "hello");
  EXPECT_EQ(Call(Request("GET", "/c/wc/" + wc + "/?" + signed_query + "&echostr=hi")).body, "hi");
  EXPECT_EQ(Call(Request("GET", "/c/wc/" + wc + "/receive?" + signed_query + "&echostr=again")).body, "again");

  HttpIn push = Request("POST", "/c/wc/" + wc + "?" + signed_query,
                        "<xml><ToUserName><![CDATA[gh_wechat]]></ToUserName><FromUserName><![CDATA[1234]]>"
                        "</FromUserName><CreateTime>1518774424</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                        "<Content><![CDATA[at the root]]></Content><MsgId>123456</MsgId></xml>");
  push.headers["content-type"] = "text/xml";
  HttpOut pushed = Call(push);
  EXPECT_EQ(pushed.status, 200) << pushed.body;
  auto msgs = (*store)->ListMsgs(MsgFilter{});
  ASSERT_TRUE(msgs.ok());
  bool stored = false;
  for (const auto& m : *msgs) stored = stored || m.text == "at the root";
  EXPECT_TRUE(stored);

  // The root of a type that serves none, and of a channel of another type.
  EXPECT_EQ(Call(Request("POST", "/c/ex/" + ex_, "from=%2B250788383383&text=hi")).status, 404);
  EXPECT_EQ(Call(Request("GET", "/c/wc/" + ex_ + "?" + signed_query + "&echostr=x")).status, 400);
  EXPECT_EQ(Call(Request("PUT", "/c/wc/" + wc)).status, 405);
  EXPECT_EQ(Call(Request("POST", "/c/zz/receive")).status, 404);
}

TEST_F(ReceiverTest, WrongMethodNamesTheAllowedOnes) {
  const HttpOut out = Call(Request("DELETE", "/c/tg/" + tg_ + "/receive"));
  EXPECT_EQ(405, out.status);
  EXPECT_EQ("POST", out.headers.at("Allow"));
}

TEST_F(ReceiverTest, ARefusalLogsNoQueryAndNoChannelSecret) {
  ::testing::internal::CaptureStderr();
  // The TG channel's token in the query and in an error the handler may echo.
  const HttpOut out = Call(Request("POST", "/c/tg/" + tg_ + "/receive?token=123:tg-token", "{\"update_id\":0}"));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(400, out.status);
  EXPECT_NE(std::string::npos, log.find("request refused")) << log;
  EXPECT_EQ(std::string::npos, log.find("tg-token")) << log;
}

TEST(RefusalLog, LinesAreRateLimitedAndTheHeldBackAreCountedAndSummed) {
  Log::Init("courier-recv", "info");
  ManualClock clock(kStart);
  RefusalLog refusals(clock, {3, 1});
  Refusal r{RefusalReason::kUnknownChannel, 400, "/c/ex/uuid/receive?token=T", "198.51.100.7:5000",
            "channel not found", ""};

  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 10; ++i) refusals.Note(r);
  std::string log = ::testing::internal::GetCapturedStderr();
  auto count_lines = [](const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(3, count_lines(log, "request refused")) << log;  // the burst
  EXPECT_EQ(0, count_lines(log, "refusals not logged")) << log;
  EXPECT_EQ(10, refusals.count(RefusalReason::kUnknownChannel));
  EXPECT_EQ(7, refusals.not_logged());
  EXPECT_NE(std::string::npos, log.find("path=/c/ex/uuid/receive remote=198.51.100.7:5000")) << log;

  clock.Advance(kMicrosPerSecond / 2);  // half a token: still held back
  ::testing::internal::CaptureStderr();
  refusals.Note(r);
  EXPECT_EQ("", ::testing::internal::GetCapturedStderr());

  clock.Advance(kMicrosPerSecond / 2);
  ::testing::internal::CaptureStderr();
  refusals.Note(r);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(std::string::npos, log.find("msg=\"refusals not logged\" count=8")) << log;
  EXPECT_EQ(1, count_lines(log, "request refused")) << log;
  EXPECT_EQ(12, refusals.count(RefusalReason::kUnknownChannel));
  EXPECT_EQ(8, refusals.not_logged());

  // Refilled up to the burst, no further.
  clock.Advance(3600 * kMicrosPerSecond);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) refusals.Note(r);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(3, count_lines(log, "request refused")) << log;
  EXPECT_EQ(0, count_lines(log, "refusals not logged")) << log;
}

TEST(RefusalLog, PathIsShortAndPrintable) {
  Log::Init("courier-recv", "info");
  ManualClock clock(kStart);
  RefusalLog refusals(clock, {});
  ::testing::internal::CaptureStderr();
  refusals.Note({RefusalReason::kUriTooLong, 414, "/" + std::string(5000, 'a') + "\x01?q=1", "r", "e", ""});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(std::string::npos, log.find("path=/" + std::string(199, 'a') + "... ")) << log;
  EXPECT_LT(log.size(), 400u) << log;
}

// A disk whose free space the test sets (the Env seam).
class FakeSpaceEnv : public courier::testing::PassThroughEnv {
 public:
  std::atomic<int64_t> free_bytes{int64_t{1} << 30};
  Result<FsSpace> FreeSpace(const std::string&) override {
    FsSpace space;
    space.available_bytes = free_bytes;
    space.total_bytes = int64_t{1} << 31;
    return space;
  }
};

// The incident: a full disk refused every write (503 to every webhook)
// while GET /status, which only read the store, said healthy.
TEST_F(ReceiverTest, StatusReportsRefusedWritesAndFreeSpace) {
  constexpr int64_t kMiB = 1024 * 1024;
  FakeSpaceEnv disk;
  receiver_.reset();
  writer_->Stop();
  // The store refuses writes as SQLite does on a full disk (reads go on:
  // the channel cache has its own connections), the spool its reserve.
  StoreOpener full = []() -> Result<std::unique_ptr<Store>> {
    return Status::Unavailable("store: database or disk is full");
  };
  writer_ = std::make_unique<IntakeWriter>(full, SpoolDir(dir_ + "/spool", disk, 1 * kMiB), clock_, nullptr, nullptr);
  writer_->Start();
  ReceiverOptions options;
  options.base_url = "https://courier.example.com";
  options.spool_dir = dir_ + "/spool";
  options.store_path = dir_ + "/courier.db";
  options.health_min_free_mb = 64;
  options.spool_reserve_mb = 1;
  options.env = &disk;
  receiver_ = std::make_unique<Receiver>(handlers_, *cache_, *writer_, http_, clock_, options);

  struct Step {
    const char* name;
    int64_t free_mb;
    Micros advance;
    bool post;             // a webhook first
    int status;            // of GET /status
    std::vector<std::string> problems;  // parts of the problems, in order
  };
  const std::vector<Step> steps = {
      {"room, nothing written", 1024, 0, false, 200, {}},
      {"store short of space", 40, 0, false, 503,
       {"store file system has 40 MB free, below 64 MB (health_min_free_mb)",
        "spool file system has 40 MB free, below 65 MB (spool_reserve_mb + health_min_free_mb)"}},
      {"full; a webhook refused", 0, 0, true, 503,
       {"writes refused by store and spool: spool file system has 0 MB free, below the spool's reserve of 1 MB",
        "store file system has 0 MB free", "spool file system has 0 MB free, below 65 MB"}},
      {"space freed; the refusal is recent", 1024, 29 * kMicrosPerSecond, false, 503, {"writes refused by store and spool"}},
      {"the refusal is old", 1024, kMicrosPerSecond, false, 200, {}},
  };
  for (const auto& step : steps) {
    disk.free_bytes = step.free_mb * kMiB;
    clock_.Advance(step.advance);
    if (step.post) {
      auto answer = Call(Request("POST", "/c/ex/" + ex_ + "/receive", "from=0788383383&text=hello"));
      EXPECT_EQ(503, answer.status) << step.name << ": " << answer.body;
    }
    HttpOut status = Call(Request("GET", "/status"));
    EXPECT_EQ(step.status, status.status) << step.name << ": " << status.body;
    auto body = json::ParseObject(status.body);
    ASSERT_TRUE(body.ok()) << status.body;
    EXPECT_EQ(step.status == 200, json::GetBool(*body, "healthy").value_or(false)) << step.name;
    auto listed = json::GetStringArray(*body, "problems");
    ASSERT_TRUE(listed.ok()) << status.body;
    const std::vector<std::string>& problems = *listed;
    ASSERT_EQ(step.problems.size(), problems.size()) << step.name << ": " << status.body;
    for (size_t i = 0; i < problems.size(); ++i)
      EXPECT_NE(std::string::npos, problems[i].find(step.problems[i])) << step.name << ": " << problems[i];
  }
}

}  // namespace
}  // namespace courier
