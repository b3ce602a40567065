// courier-api's service without a network: requests handed to
// ApiService::Handle as the HTTP server would, against a real SQLite store
// in a temporary directory. Routing, authentication and scopes, input
// validation (every refusal leaves the store as it was), idempotency, and
// the route table against doc/openapi.json.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/JSON/Parser.h>

#include "api/api_service.h"
#include "api/long_polls.h"
#include "core/json.h"
#include "model/api_token.h"
#include "model/outgoing.h"
#include "store/sqlite_store.h"
#include "store_test_helpers.h"

using namespace courier;
using courier::testing::GetContactByURN;

namespace {

// The service's cache of tokens and channels (ApiServiceOptions::cache_ttl).
constexpr Micros kCacheTtl = 300 * 1000;

class ApiServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/courier-api-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/courier.db";
    auto store = OpenStore(db_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store.value());
    ASSERT_TRUE(store_->Migrate().ok());
    Channel ch;
    ch.type = "EX";
    ch.address = "1234";
    ch.country = "RW";
    ch.schemes = {"tel"};
    ch.config = {{"send_url", "http://127.0.0.1:9/send"}, {"password", "hunter2hunter2"}, {"api_secret", "s3cr3t"}};
    auto added = store_->AddChannel(ch);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    channel_ = added->uuid;
    for (const auto& [name, scopes] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"sender", {"send"}}, {"reader", {"read"}}, {"admin", {"admin"}}, {"app", {"send", "read"}}}) {
      auto token = NewApiToken();
      ASSERT_TRUE(token.ok());
      ApiToken row;
      row.name = name;
      row.token_hash = ApiTokenHash(*token);
      row.scopes = scopes;
      ASSERT_TRUE(store_->AddApiToken(row).ok());
      tokens_[name] = *token;
    }
    const std::string db = db_;
    opener_ = [db]() { return OpenStore(db); };
    LongPollOptions poll_options;
    poll_options.poll_ms = 100;
    polls_ = std::make_unique<LongPolls>(opener_, poll_options);
    polls_->Start();
    ApiServiceOptions options;
    options.max_body_bytes = 4096;
    options.workers = 2;
    options.cache_ttl = kCacheTtl;
    options.wake_sender = [this] { wakes_++; };
    options.secret_keys = [](const std::string& type) {
      return type == "EX" ? std::set<std::string>{"api_secret"} : std::set<std::string>{};
    };
    service_ = std::make_unique<ApiService>(opener_, *polls_, options);
  }

  void TearDown() override {
    polls_->Stop();
    service_.reset();
    polls_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  struct Req {
    std::string method = "GET";
    std::string uri;
    std::string body;
    std::string token = "app";  // a name of tokens_, a literal "Bearer ..." header, or "" for none
    std::string content_type = "application/json";
    std::map<std::string, std::string> headers;
    bool too_large = false;
  };

  HttpOut Call(const Req& r) {
    HttpIn in;
    in.method = r.method;
    in.uri = r.uri;
    in.body = r.body;
    in.remote_address = "127.0.0.1";
    in.body_too_large = r.too_large;
    in.headers = r.headers;
    if (!r.body.empty() && !r.content_type.empty()) in.headers["content-type"] = r.content_type;
    if (tokens_.count(r.token)) in.headers["authorization"] = "Bearer " + tokens_[r.token];
    else if (!r.token.empty()) in.headers["authorization"] = r.token;
    auto promise = std::make_shared<std::promise<HttpOut>>();
    auto future = promise->get_future();
    service_->Handle(in, [promise](std::function<HttpOut()> finish) { promise->set_value(finish()); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready) << r.uri;
    return future.get();
  }

  json::ObjectPtr Body(const HttpOut& out) {
    auto o = json::ParseObject(out.body);
    EXPECT_TRUE(o.ok()) << out.body;
    return o.ok() ? *o : json::NewObject();
  }

  int64_t Count(const std::string& table) {
    auto s = OpenStore(db_);
    int64_t n = -1;
    // Through the API of the store where it has one; raw SQL otherwise.
    if (table == "msgs") {
      MsgFilter all;
      all.limit = 0;
      auto msgs = (*s)->ListMsgs(all);
      n = msgs.ok() ? static_cast<int64_t>(msgs->size()) : -1;
    } else if (table == "events") {
      auto events = (*s)->EventsAfter(0, 100000);
      n = events.ok() ? static_cast<int64_t>(events->size()) : -1;
    }
    return n;
  }

  std::string Msg(const std::string& urn, const std::string& text = "hi") {
    return "{\"channel\":\"" + channel_ + "\",\"urn\":\"" + urn + "\",\"text\":\"" + text + "\"}";
  }

  std::string dir_, db_, channel_;
  std::unique_ptr<Store> store_;
  StoreOpener opener_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<LongPolls> polls_;
  std::unique_ptr<ApiService> service_;
  std::atomic<int> wakes_{0};
};

TEST(ApiPattern, MatchesSegmentsAndNamesParameters) {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
    const char* uuid;
  } cases[] = {
      {"/api/v1/msgs", "/api/v1/msgs", true, ""},
      {"/api/v1/msgs", "/api/v1/msgs/", false, ""},
      {"/api/v1/msgs/{uuid}", "/api/v1/msgs/abc", true, "abc"},
      {"/api/v1/msgs/{uuid}", "/api/v1/msgs/", false, ""},
      {"/api/v1/msgs/{uuid}", "/api/v1/msgs/a/retry", false, ""},
      {"/api/v1/msgs/{uuid}/retry", "/api/v1/msgs/a%2Db/retry", true, "a-b"},
      {"/api/v1/msgs/{uuid}/retry", "/api/v1/msgs/a/retryx", false, ""},
      {"/api/v1/channels", "/api/v1/channel", false, ""},
  };
  for (const auto& c : cases) {
    std::map<std::string, std::string> params;
    EXPECT_EQ(MatchApiPattern(c.pattern, c.path, params), c.match) << c.pattern << " " << c.path;
    if (c.match && *c.uuid) {
      EXPECT_EQ(params["uuid"], c.uuid);
    }
  }
}

// doc/openapi.json and the route table name the same routes, both ways.
TEST(ApiOpenApi, DocumentAndRouteTableListTheSameRoutes) {
  std::ifstream file(std::string(COURIER_SOURCE_DIR) + "/doc/openapi.json");
  ASSERT_TRUE(file) << "doc/openapi.json is missing";
  std::stringstream text;
  text << file.rdbuf();
  auto doc = json::ParseObject(text.str());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(json::GetString(*doc, "openapi").value_or("").substr(0, 2), "3.");
  std::set<std::string> documented;
  auto paths = json::GetObject(*doc, "paths");
  ASSERT_TRUE(paths);
  for (const auto& path : paths->getNames()) {
    auto item = json::GetObject(paths, path);
    for (const auto& method : item->getNames()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
    }
  }
  std::set<std::string> served;
  for (const auto& route : ApiService::Routes()) served.insert(std::string(route.method) + " " + route.pattern);
  for (const auto& r : documented) EXPECT_TRUE(served.count(r)) << "documented but not served: " << r;
  for (const auto& r : served) EXPECT_TRUE(documented.count(r)) << "served but not documented: " << r;
  EXPECT_FALSE(served.empty());
}

TEST_F(ApiServiceTest, AuthenticationAndScopes) {
  struct Case {
    std::string name;
    Req req;
    int status;
  } cases[] = {
      {"no token", {.uri = "/api/v1/channels", .token = ""}, 401},
      {"basic auth", {.uri = "/api/v1/channels", .token = "Basic dXNlcjpwYXNz"}, 401},
      {"unknown token", {.uri = "/api/v1/channels", .token = "Bearer ctk_not-a-token"}, 401},
      {"empty bearer", {.uri = "/api/v1/channels", .token = "Bearer "}, 401},
      {"read may read", {.uri = "/api/v1/channels", .token = "reader"}, 200},
      {"send may not read", {.uri = "/api/v1/channels", .token = "sender"}, 403},
      {"read may not send", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383"), .token = "reader"}, 403},
      {"send may not stop", {.method = "POST", .uri = "/api/v1/contacts/stop", .body = "{\"urn\":\"tel:+250788383383\"}", .token = "app"}, 403},
      {"admin may do all", {.uri = "/api/v1/msgs", .token = "admin"}, 200},
      {"the index needs no token", {.uri = "/", .token = ""}, 200},
      {"bearer is case-insensitive", {.uri = "/api/v1/channels", .token = "bearer " }, 401},
  };
  const int64_t msgs = Count("msgs");
  for (auto& c : cases) {
    HttpOut out = Call(c.req);
    EXPECT_EQ(out.status, c.status) << c.name << ": " << out.body;
    if (c.status == 401) {
      EXPECT_EQ(out.headers.count("WWW-Authenticate"), 1u) << c.name;
    }
    if (c.status >= 400) {
      EXPECT_TRUE(json::GetString(Body(out), "error")) << c.name;
    }
  }
  Req lower{.uri = "/api/v1/channels", .token = "bearer " + tokens_["reader"]};
  EXPECT_EQ(Call(lower).status, 200);
  EXPECT_EQ(Count("msgs"), msgs);
  // A removed token stops working once the service's cache of it expires
  // (cache_ttl), not before it is used again.
  ASSERT_TRUE(store_->RemoveApiToken("reader").ok());
  const auto removed = std::chrono::steady_clock::now();
  int status = 0;
  while ((status = Call({.uri = "/api/v1/channels", .token = "reader"}).status) == 200 &&
         std::chrono::steady_clock::now() - removed < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(status, 401);
}

// Every refusal: its status, the field it names, and nothing stored.
TEST_F(ApiServiceTest, BadInputIsRefusedAndNothingIsStored) {
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  struct Case {
    std::string name;
    Req req;
    int status;
    std::string field;
  } cases[] = {
      {"malformed JSON", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":"}, 400, ""},
      {"a JSON string", {.method = "POST", .uri = "/api/v1/msgs", .body = "\"hello\""}, 400, ""},
      {"wrong content type", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383"), .content_type = "text/plain"}, 415, ""},
      {"form content type", {.method = "POST", .uri = "/api/v1/msgs", .body = "channel=x", .content_type = "application/x-www-form-urlencoded"}, 415, ""},
      {"body too large", {.method = "POST", .uri = "/api/v1/msgs", .body = "", .too_large = true}, 413, ""},
      {"no channel", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"urn\":\"tel:+250788383383\",\"text\":\"hi\"}"}, 422, "channel"},
      {"channel not a uuid", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":\"nope\",\"urn\":\"tel:+250788383383\",\"text\":\"hi\"}"}, 422, "channel"},
      {"unknown channel", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":\"" + unknown + "\",\"urn\":\"tel:+250788383383\",\"text\":\"hi\"}"}, 422, "channel"},
      {"invalid URN", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+")}, 422, "urn"},
      {"unknown scheme", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("nosuch:123")}, 422, "urn"},
      {"scheme the channel does not speak", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("telegram:12345")}, 422, "urn"},
      {"no text", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383", "")}, 422, "text"},
      {"text not a string", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":\"" + channel_ + "\",\"urn\":\"tel:+250788383383\",\"text\":5}"}, 422, "text"},
      {"bad attachment", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":\"" + channel_ + "\",\"urn\":\"tel:+250788383383\",\"attachments\":[\"ftp://x\"]}"}, 422, "attachments"},
      {"bad priority", {.method = "POST", .uri = "/api/v1/msgs", .body = "{\"channel\":\"" + channel_ + "\",\"urn\":\"tel:+250788383383\",\"text\":\"hi\",\"priority\":\"urgent\"}"}, 422, "priority"},
      {"array with one bad msg", {.method = "POST", .uri = "/api/v1/msgs", .body = "[" + Msg("tel:+250788383383") + "," + Msg("tel:+") + "]"}, 422, "[1].urn"},
      {"array with a non-object", {.method = "POST", .uri = "/api/v1/msgs", .body = "[" + Msg("tel:+250788383383") + ",7]"}, 422, "[1]"},
      {"empty array", {.method = "POST", .uri = "/api/v1/msgs", .body = "[]"}, 422, ""},
      {"bad idempotency key", {.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383"), .headers = {{"idempotency-key", "has space"}}}, 400, "Idempotency-Key"},
      {"stop without urn", {.method = "POST", .uri = "/api/v1/contacts/stop", .body = "{}", .token = "admin"}, 422, "urn"},
      {"stop with invalid urn", {.method = "POST", .uri = "/api/v1/contacts/stop", .body = "{\"urn\":\"tel:\"}", .token = "admin"}, 422, "urn"},
      {"stop with malformed JSON", {.method = "POST", .uri = "/api/v1/contacts/stop", .body = "{urn}", .token = "admin"}, 400, ""},
      {"list with bad status", {.uri = "/api/v1/msgs?status=X"}, 400, "status"},
      {"list with bad limit", {.uri = "/api/v1/msgs?limit=0"}, 400, "limit"},
      {"list with bad urn", {.uri = "/api/v1/msgs?urn=tel%3A%2B"}, 422, "urn"},
      {"list with unknown channel", {.uri = "/api/v1/msgs?channel=" + unknown}, 422, "channel"},
      {"events with bad wait", {.uri = "/api/v1/events?wait=100000"}, 400, "wait"},
      {"unknown msg", {.uri = "/api/v1/msgs/" + unknown}, 404, ""},
      {"msg not a uuid", {.uri = "/api/v1/msgs/12"}, 404, ""},
      {"unknown channel in path", {.uri = "/api/v1/channels/" + unknown}, 404, ""},
      {"retry unknown msg", {.method = "POST", .uri = "/api/v1/msgs/" + unknown + "/retry"}, 404, ""},
      {"no such route", {.uri = "/api/v2/msgs"}, 404, ""},
      {"wrong method", {.method = "DELETE", .uri = "/api/v1/msgs"}, 405, ""},
  };
  const int64_t msgs = Count("msgs"), events = Count("events");
  for (auto& c : cases) {
    HttpOut out = Call(c.req);
    EXPECT_EQ(out.status, c.status) << c.name << ": " << out.body;
    auto body = Body(out);
    EXPECT_FALSE(json::GetStringOrEmpty(body, "error").empty()) << c.name;
    EXPECT_EQ(json::GetStringOrEmpty(body, "field"), c.field) << c.name << ": " << out.body;
    EXPECT_EQ(out.content_type, "application/json") << c.name;
  }
  EXPECT_EQ(Count("msgs"), msgs);
  EXPECT_EQ(Count("events"), events);
  EXPECT_EQ(wakes_.load(), 0);
}

TEST_F(ApiServiceTest, QueuesOneMsgOrAnArrayAndWakesTheSender) {
  HttpOut one = Call({.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:0788383383")});
  ASSERT_EQ(one.status, 201) << one.body;
  auto ref = Body(one);
  ASSERT_TRUE(json::GetInt(ref, "id"));
  const std::string uuid = json::GetStringOrEmpty(ref, "uuid");
  EXPECT_EQ(wakes_.load(), 1);
  // Stored as courier-ctl send would: the URN in the channel's country.
  HttpOut got = Call({.uri = "/api/v1/msgs/" + uuid, .token = "reader"});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(json::GetStringOrEmpty(Body(got), "urn"), "tel:+250788383383");
  EXPECT_EQ(json::GetStringOrEmpty(Body(got), "status"), "Q");

  HttpOut many = Call({.method = "POST", .uri = "/api/v1/msgs",
                       .body = "[" + Msg("tel:+250788000001") + "," + Msg("tel:+250788000002") + "]"});
  ASSERT_EQ(many.status, 201) << many.body;
  auto refs = json::GetArray(Body(many), "msgs");
  ASSERT_TRUE(refs);
  EXPECT_EQ(refs->size(), 2u);
  EXPECT_EQ(Count("msgs"), 3);
  EXPECT_EQ(wakes_.load(), 2);

  // The list: by URN, and paged ascending with the cursor.
  HttpOut by_urn = Call({.uri = "/api/v1/msgs?urn=tel%3A%2B250788000002"});
  ASSERT_EQ(by_urn.status, 200) << by_urn.body;
  EXPECT_EQ(json::GetArray(Body(by_urn), "msgs")->size(), 1u);
  HttpOut page = Call({.uri = "/api/v1/msgs?after_id=0&limit=2&direction=out"});
  auto page_body = Body(page);
  EXPECT_EQ(json::GetArray(page_body, "msgs")->size(), 2u);
  auto next = json::GetInt(page_body, "next_after_id");
  ASSERT_TRUE(next);
  HttpOut last = Call({.uri = "/api/v1/msgs?after_id=" + std::to_string(*next) + "&limit=2"});
  auto last_body = Body(last);
  EXPECT_EQ(json::GetArray(last_body, "msgs")->size(), 1u);
  EXPECT_TRUE(last_body->isNull("next_after_id"));
}

TEST_F(ApiServiceTest, IdempotencyKeyAnswersTheSameAndQueuesOnce) {
  Req first{.method = "POST", .uri = "/api/v1/msgs", .body = "[" + Msg("tel:+250788000001") + "," + Msg("tel:+250788000002") + "]",
            .headers = {{"idempotency-key", "order-42"}}};
  HttpOut a = Call(first);
  ASSERT_EQ(a.status, 201) << a.body;
  HttpOut b = Call(first);
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(b.headers["Idempotent-Replayed"], "true");
  EXPECT_EQ(Count("msgs"), 2);
  EXPECT_EQ(wakes_.load(), 1);
  Req other = first;
  other.body = "[" + Msg("tel:+250788000003") + "]";
  HttpOut c = Call(other);
  EXPECT_EQ(c.status, 409) << c.body;
  EXPECT_EQ(json::GetStringOrEmpty(Body(c), "field"), "Idempotency-Key");
  EXPECT_EQ(Count("msgs"), 2);
  // Keys are each token's own: another token's same key is a new request.
  Req admin = first;
  admin.token = "admin";
  EXPECT_EQ(Call(admin).status, 201);
  EXPECT_EQ(Count("msgs"), 4);
}

TEST_F(ApiServiceTest, ChannelsAreShownWithTheirSecretsRedacted) {
  HttpOut out = Call({.uri = "/api/v1/channels/" + channel_});
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(out.body.find("hunter2hunter2"), std::string::npos) << out.body;
  EXPECT_EQ(out.body.find("s3cr3t"), std::string::npos) << out.body;  // secret by the type's declaration
  auto config = json::GetObject(Body(out), "config");
  EXPECT_EQ(json::GetStringOrEmpty(config, "password"), "****(14)");
  EXPECT_EQ(json::GetStringOrEmpty(config, "api_secret"), "****(6)");
  EXPECT_EQ(json::GetStringOrEmpty(config, "send_url"), "http://127.0.0.1:9/send");
  HttpOut list = Call({.uri = "/api/v1/channels"});
  EXPECT_EQ(list.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(json::GetArray(Body(list), "channels")->size(), 1u);
}

TEST_F(ApiServiceTest, StopUnstopAndRetry) {
  HttpOut stop = Call({.method = "POST", .uri = "/api/v1/contacts/stop", .body = "{\"urn\":\"tel:+250788383383\"}", .token = "admin"});
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_EQ(json::GetBool(Body(stop), "stopped"), true);
  auto contact = GetContactByURN(*store_, "tel:+250788383383");
  ASSERT_TRUE(contact.ok());
  EXPECT_TRUE(contact->stopped);
  HttpOut unstop = Call({.method = "POST", .uri = "/api/v1/contacts/unstop", .body = "{\"urn\":\"tel:+250788383383\"}", .token = "admin"});
  ASSERT_EQ(unstop.status, 200) << unstop.body;
  EXPECT_FALSE(GetContactByURN(*store_, "tel:+250788383383")->stopped);

  HttpOut queued = Call({.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383")});
  const std::string uuid = json::GetStringOrEmpty(Body(queued), "uuid");
  // Queued, not errored: nothing to retry.
  EXPECT_EQ(Call({.method = "POST", .uri = "/api/v1/msgs/" + uuid + "/retry"}).status, 409);
  auto msg = store_->GetMsgByUUID(uuid);
  ASSERT_TRUE(store_->FailMsgs({msg->id}).ok());
  HttpOut retried = Call({.method = "POST", .uri = "/api/v1/msgs/" + uuid + "/retry"});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(json::GetStringOrEmpty(Body(retried), "status"), "Q");
}

TEST_F(ApiServiceTest, EventsAnswerAtOnceOrWhenOneIsCommitted) {
  HttpOut now = Call({.uri = "/api/v1/events?after=0"});
  ASSERT_EQ(now.status, 200) << now.body;
  const int64_t last = *json::GetInt(Body(now), "next_after");
  // Waiting: answered when the API itself commits an event.
  auto waiting = std::async(std::launch::async, [&] { return Call({.uri = "/api/v1/events?after=" + std::to_string(last) + "&wait=30"}); });
  while (polls_->waiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(Call({.method = "POST", .uri = "/api/v1/msgs", .body = Msg("tel:+250788383383")}).status, 201);
  HttpOut woke = waiting.get();
  ASSERT_EQ(woke.status, 200) << woke.body;
  auto events = json::GetArray(Body(woke), "events");
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(json::GetStringOrEmpty(json::Objects(events)[0], "topic"), "msg.queued");
  // A short wait with nothing new: answered empty at its deadline.
  HttpOut empty = Call({.uri = "/api/v1/events?after=" + std::to_string(last + 1) + "&wait=1"});
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(json::GetArray(Body(empty), "events")->size(), 0u);
  EXPECT_EQ(json::GetInt(Body(empty), "next_after"), last + 1);
}

// Long polls are bounded: past api_max_long_polls, 503 at once, and the
// one waiting is still answered.
TEST_F(ApiServiceTest, LongPollsBeyondTheLimitAreRefused) {
  service_.reset();
  polls_->Stop();
  LongPollOptions one;
  one.max_waiting = 1;
  polls_ = std::make_unique<LongPolls>(opener_, one);
  polls_->Start();
  ApiServiceOptions options;
  options.workers = 2;
  service_ = std::make_unique<ApiService>(opener_, *polls_, options);
  const std::string last = std::to_string(*store_->LastEventSeq());
  auto first = std::async(std::launch::async, [&] { return Call({.uri = "/api/v1/events?after=" + last + "&wait=30"}); });
  while (polls_->waiting() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  HttpOut second = Call({.uri = "/api/v1/events?after=" + last + "&wait=30"});
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_EQ(second.headers["Retry-After"], "1");
  ASSERT_TRUE(store_->SetContactStopped("tel:+250788383383", true, "").ok());  // an event, announced by nobody
  HttpOut answered = first.get();
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(json::GetArray(Body(answered), "events")->size(), 1u) << answered.body;
}

TEST_F(ApiServiceTest, CountsRequestsByRouteAndStatus) {
  Call({.uri = "/api/v1/channels"});
  Call({.uri = "/api/v1/channels", .token = ""});
  Call({.uri = "/nowhere"});
  auto counts = service_->Counts();
  auto channels = json::GetObject(counts, "GET /api/v1/channels");
  ASSERT_TRUE(channels) << json::Stringify(counts);
  EXPECT_EQ(json::GetInt(channels, "200"), 1);
  EXPECT_EQ(json::GetInt(channels, "401"), 1);
  EXPECT_EQ(json::GetInt(json::GetObject(counts, "other"), "404"), 1);
}

TEST(ApiToken, TokensAreRandomAndOnlyTheirHashIsKept) {
  auto a = NewApiToken(), b = NewApiToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->rfind("ctk_", 0), 0u);
  EXPECT_EQ(a->size(), 4u + 43u);
  EXPECT_EQ(a->find_first_of("+/= "), std::string::npos);
  EXPECT_EQ(ApiTokenHash(*a).size(), 64u);
  EXPECT_EQ(ApiTokenHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiToken, Scopes) {
  EXPECT_EQ(*ParseApiScopes("send, read,send"), (std::vector<std::string>{"send", "read"}));
  EXPECT_FALSE(ParseApiScopes("write").ok());
  EXPECT_FALSE(ParseApiScopes(" , ").ok());
  EXPECT_TRUE(ApiScopeAllows({"admin"}, "send"));
  EXPECT_TRUE(ApiScopeAllows({"read"}, "read"));
  EXPECT_FALSE(ApiScopeAllows({"read"}, "send"));
  EXPECT_FALSE(ApiScopeAllows({"send", "read"}, "admin"));
}

}  // namespace
