// Meta's app-level webhooks end to end: the real courier-recv on a free
// loopback port and a real SQLite file, several WhatsApp Cloud (and
// Messenger) channels of one Meta app, and webhooks posted, signed, to the
// one URL per type Meta calls (/c/wac/receive, /c/fba/receive) in Meta's
// shapes. Checked in the store: each msg on its channel, exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "core/json.h"
#include "handlers/common.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kSecret = "meta-app-secret-5b1f0c";
const std::string kOtherAppSecret = "another-meta-app-9d2e";
const std::string kVerifyToken = "meta-verify-77a1";

class MetaAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},
            {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},
            {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_ADDRESS", "127.0.0.1"},
            {"COURIER_LOG_LEVEL", "warn"}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
    wac_a_ = AddWac("250788000001", "1001", kSecret);
    wac_b_ = AddWac("250788000002", "1002", kSecret);
  }

  std::string AddWac(const std::string& address, const std::string& phone_number_id, const std::string& secret,
                     const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"channel", "add", "--type", "WAC", "--address", address,
                                     "--config", "access_token=token-" + phone_number_id,
                                     "--config", "app_secret=" + secret,
                                     "--config", "verify_token=" + kVerifyToken,
                                     "--config", "phone_number_id=" + phone_number_id};
    for (const auto& e : extra) args.insert(args.end(), {"--config", e});
    auto added = Ctl(args);
    EXPECT_EQ(added.exit_code, 0) << added.err;
    return added.out.substr(0, 36);
  }

  void StartRecv() {
    recv_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-recv")}, env_, dir_.File("recv.log"));
    ASSERT_TRUE(recv_->WaitForHttp(port_)) << recv_->log();
  }

  RunResult Ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, input, env_);
  }

  HttpExchange Signed(const std::string& path, const std::string& body, const std::string& secret = kSecret) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    req.body = body;
    req.headers = {{"Content-Type", "application/json"},
                   {"X-Hub-Signature-256", "sha256=" + courier::HmacSha256Hex(secret, body)}};
    return http_->Do(req);
  }

  HttpExchange Get(const std::string& path_and_query) {
    HttpRequestSpec req;
    req.method = "GET";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
    return http_->Do(req);
  }

  json::ObjectPtr Body(const HttpExchange& ex) {
    auto o = json::ParseObject(ex.body);
    EXPECT_TRUE(o.ok()) << ex.body;
    return o.ok() ? *o : json::NewObject();
  }

  // The answer's data items of one type.
  std::vector<json::ObjectPtr> Items(const HttpExchange& ex, const std::string& type) {
    std::vector<json::ObjectPtr> out;
    for (const auto& item : json::GetObjects(Body(ex), "data"))
      if (json::GetStringOrEmpty(item, "type") == type) out.push_back(item);
    return out;
  }

  // Incoming msgs in the store: external id -> channel uuid (and a count
  // per external id, to see duplicates).
  std::map<std::string, std::string> StoredIn(std::map<std::string, int>* counts = nullptr) {
    std::map<std::string, std::string> out;
    for (const auto& m : JsonLines(Ctl({"msgs", "list", "--direction", "in", "--limit", "1000", "--json"}).out)) {
      const std::string external_id = json::GetStringOrEmpty(m, "external_id");
      out[external_id] = json::GetStringOrEmpty(m, "channel_uuid");
      if (counts) (*counts)[external_id]++;
    }
    return out;
  }

  // Intakes pending in the spool (a file holds one, or the writer's batch).
  size_t SpoolNew() {
    size_t n = 0;
    for (const auto& file : JsonLines(Ctl({"spool", "--json"}).out))
      if (json::GetStringOrEmpty(file, "state") == "pending")
        n += static_cast<size_t>(json::GetInt(file, "intakes").value_or(1));
    return n;
  }

  TempDir dir_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::string wac_a_, wac_b_;
  std::unique_ptr<Daemon> recv_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
};

// ---- payloads in Meta's shape ----

std::string Change(const std::string& phone_number_id, const std::string& value) {
  return R"({"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"250788000000",)"
         R"("phone_number_id":")" + phone_number_id + R"("},)" + value + R"(},"field":"messages"})";
}

std::string TextMsg(const std::string& from, const std::string& id, const std::string& text) {
  return R"("contacts":[{"profile":{"name":"Kerry"},"wa_id":")" + from + R"("}],"messages":[{"from":")" + from +
         R"(","id":")" + id + R"(","timestamp":"1454119029","type":"text","text":{"body":")" + text + R"("}}])";
}

std::string StatusOf(const std::string& id, const std::string& status) {
  return R"("statuses":[{"id":")" + id + R"(","status":")" + status +
         R"(","timestamp":"1454119030","recipient_id":"250788383383"}])";
}

std::string Webhook(const std::vector<std::string>& changes) {
  std::string joined;
  for (const auto& c : changes) joined += (joined.empty() ? "" : ",") + c;
  return R"({"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[)" + joined + "]}]}";
}

// The acceptance case: one signed webhook for two numbers of the app and
// one the host does not serve, with a status; each msg on its channel,
// exactly once, also when Meta sends the webhook again.
TEST_F(MetaAppTest, OneWebhookForTwoNumbersStoresEachOnItsChannel) {
  // The msg the status is about: sent earlier on channel A.
  auto imported = Ctl({"msgs", "import", "--jsonl", "-"},
                      R"({"channel_uuid":")" + wac_a_ + R"(","direction":"out","status":"W",)"
                      R"("urn":"whatsapp:250788383383","text":"hello","external_id":"wamid.OUT1"})" "\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  StartRecv();

  const std::string body =
      Webhook({Change("1001", TextMsg("250788383383", "wamid.A1", "for A")),
               Change("1002", TextMsg("250788383384", "wamid.B1", "for B")),
               Change("1001", StatusOf("wamid.OUT1", "delivered")),
               Change("9999", TextMsg("250788383385", "wamid.X1", "for nobody here"))});
  auto first = Signed("/c/wac/receive", body);
  ASSERT_EQ(first.status_code, 200) << first.body;
  EXPECT_EQ(json::GetString(Body(first), "message"), "Message Accepted");
  auto msgs = Items(first, "msg");
  ASSERT_EQ(msgs.size(), 2u) << first.body;
  std::map<std::string, std::string> answered;  // external id -> msg uuid
  for (const auto& m : msgs) {
    const std::string external_id = json::GetStringOrEmpty(m, "external_id");
    answered[external_id] = json::GetStringOrEmpty(m, "msg_uuid");
    EXPECT_EQ(json::GetString(m, "channel_uuid"), external_id == "wamid.A1" ? wac_a_ : wac_b_);
  }
  auto statuses = Items(first, "status");
  ASSERT_EQ(statuses.size(), 1u) << first.body;
  EXPECT_EQ(json::GetString(statuses[0], "channel_uuid"), wac_a_);
  EXPECT_EQ(json::GetString(statuses[0], "status"), "D");
  auto infos = Items(first, "info");
  ASSERT_EQ(infos.size(), 1u) << first.body;
  EXPECT_NE(json::GetStringOrEmpty(infos[0], "info").find("'9999'"), std::string::npos);

  std::map<std::string, int> counts;
  auto stored = StoredIn(&counts);
  EXPECT_EQ(stored, (std::map<std::string, std::string>{{"wamid.A1", wac_a_}, {"wamid.B1", wac_b_}}));
  auto out = Ctl({"msgs", "list", "--direction", "out", "--json"});
  EXPECT_NE(out.out.find(R"("status":"D")"), std::string::npos) << out.out;

  // Each channel's log holds only its own share of the webhook.
  auto logs_a = Ctl({"logs", "--channel", wac_a_, "--json"}).out;
  EXPECT_NE(logs_a.find("for A"), std::string::npos) << logs_a;
  EXPECT_EQ(logs_a.find("for B"), std::string::npos);
  EXPECT_EQ(logs_a.find("for nobody here"), std::string::npos);
  EXPECT_EQ(logs_a.find(kSecret), std::string::npos);

  // Meta sends it again: the same answer, nothing twice.
  auto again = Signed("/c/wac/receive", body);
  ASSERT_EQ(again.status_code, 200) << again.body;
  for (const auto& m : Items(again, "msg"))
    EXPECT_EQ(json::GetStringOrEmpty(m, "msg_uuid"), answered[json::GetStringOrEmpty(m, "external_id")]);
  counts.clear();
  StoredIn(&counts);
  EXPECT_EQ(counts, (std::map<std::string, int>{{"wamid.A1", 1}, {"wamid.B1", 1}}));
  EXPECT_EQ(recv_->Stop(), 0);
}

TEST_F(MetaAppTest, ASignatureNoChannelVerifiesIs401AndStoresNothing) {
  StartRecv();
  const std::string body = Webhook({Change("1001", TextMsg("250788383383", "wamid.A1", "forged")),
                                    Change("1002", TextMsg("250788383384", "wamid.B1", "forged"))});
  auto r = Signed("/c/wac/receive", body, "guessed-secret");
  EXPECT_EQ(r.status_code, 401) << r.body;
  EXPECT_EQ(json::GetString(Body(r), "message"), "Unauthorized");
  HttpRequestSpec unsigned_req;
  unsigned_req.method = "POST";
  unsigned_req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/wac/receive";
  unsigned_req.body = body;
  unsigned_req.headers = {{"Content-Type", "application/json"}};
  EXPECT_EQ(http_->Do(unsigned_req).status_code, 401);
  EXPECT_TRUE(StoredIn().empty());
  // Both channels named log the attempt, without their secret.
  std::string logs;
  ASSERT_TRUE(Eventually([&] {
    logs = Ctl({"logs", "--channel", wac_b_, "--json"}).out;
    return logs.find("invalid request signature") != std::string::npos;
  })) << logs;
  EXPECT_EQ(logs.find(kSecret), std::string::npos);
}

// One host may serve several Meta apps: a share for a channel of another
// app (whose secret does not verify this webhook) is refused on its own.
TEST_F(MetaAppTest, AShareForAnotherAppsChannelIsRefusedAlone) {
  const std::string other = AddWac("250788000003", "1003", kOtherAppSecret);
  StartRecv();
  const std::string body = Webhook({Change("1001", TextMsg("250788383383", "wamid.A1", "for A")),
                                    Change("1003", TextMsg("250788383386", "wamid.C1", "for C"))});
  auto r = Signed("/c/wac/receive", body);
  ASSERT_EQ(r.status_code, 200) << r.body;
  EXPECT_EQ(Items(r, "msg").size(), 1u);
  auto errors = Items(r, "error");
  ASSERT_EQ(errors.size(), 1u) << r.body;
  EXPECT_EQ(json::GetString(errors[0], "channel_uuid"), other);
  EXPECT_EQ(json::GetString(errors[0], "error"), "invalid request signature");
  EXPECT_EQ(StoredIn(), (std::map<std::string, std::string>{{"wamid.A1", wac_a_}}));
  // Signed by the other app, the same webhook is the other way round.
  auto theirs = Signed("/c/wac/receive", body, kOtherAppSecret);
  ASSERT_EQ(theirs.status_code, 200) << theirs.body;
  EXPECT_EQ(StoredIn(), (std::map<std::string, std::string>{{"wamid.A1", wac_a_}, {"wamid.C1", other}}));
}

TEST_F(MetaAppTest, NoChannelForAnyShareIs200Ignored) {
  StartRecv();
  auto r = Signed("/c/wac/receive", Webhook({Change("9999", TextMsg("250788383383", "wamid.X", "x"))}), "any");
  ASSERT_EQ(r.status_code, 200) << r.body;
  EXPECT_EQ(json::GetString(Body(r), "message"), "Ignored");
  auto only_templates = Signed("/c/wac/receive",
                               R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)"
                               R"({"value":{"event":"APPROVED"},"field":"message_template_status_update"}]}]})");
  ASSERT_EQ(only_templates.status_code, 200) << only_templates.body;
  EXPECT_EQ(json::GetString(Body(only_templates), "message"), "Ignored");
  auto malformed = Signed("/c/wac/receive", R"({"object":"whatsapp_business_account"})");
  EXPECT_EQ(malformed.status_code, 400) << malformed.body;
  EXPECT_TRUE(StoredIn().empty());
  EXPECT_EQ(Signed("/c/kn/receive", "{}").status_code, 404) << "a type without app-level webhooks";
  EXPECT_EQ(Signed("/c/wac/status", "{}").status_code, 404);
  EXPECT_TRUE(recv_->running());
}

TEST_F(MetaAppTest, VerificationChallengeAtTheAppUrl) {
  AddWac("250788000004", "1004", kSecret, {"verify_token=second-app-token"});
  StartRecv();
  auto ok = Get("/c/wac/receive?hub.mode=subscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1158201444");
  EXPECT_EQ(ok.status_code, 200) << ok.body;
  EXPECT_EQ(ok.body, "1158201444");
  EXPECT_NE(ok.Header("content-type").find("text/plain"), std::string::npos);
  auto second = Get("/c/wac/receive?hub.mode=subscribe&hub.verify_token=second-app-token&hub.challenge=42");
  EXPECT_EQ(second.status_code, 200) << second.body;
  EXPECT_EQ(second.body, "42");
  auto wrong = Get("/c/wac/receive?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1");
  EXPECT_EQ(wrong.status_code, 401) << wrong.body;
  EXPECT_EQ(json::GetString(Body(wrong), "message"), "Unauthorized");
  auto no_mode = Get("/c/wac/receive?hub.verify_token=" + kVerifyToken + "&hub.challenge=1");
  EXPECT_EQ(no_mode.status_code, 400) << no_mode.body;
  // The per-uuid route stays.
  auto per_uuid = Get("/c/wac/" + wac_a_ + "/receive?hub.mode=subscribe&hub.verify_token=" + kVerifyToken +
                      "&hub.challenge=7");
  EXPECT_EQ(per_uuid.status_code, 200);
  EXPECT_EQ(per_uuid.body, "7");
  // No FBA channel at all: nothing can match.
  EXPECT_EQ(Get("/c/fba/receive?hub.mode=subscribe&hub.verify_token=" + kVerifyToken + "&hub.challenge=1").status_code,
            400);
}

// Invariant 1 for a webhook that touches two channels: with the store
// locked, both channels' intakes are in the spool, fsynced, when the 200
// arrives; courier-flush later stores each on its channel.
TEST_F(MetaAppTest, LockedStoreSpoolsEveryChannelBeforeTheAnswer) {
  StartRecv();
  // The channels of the type are cached before the lock.
  ASSERT_EQ(Signed("/c/wac/receive", Webhook({Change("1001", TextMsg("250788383383", "wamid.W0", "warm"))})).status_code,
            200);
  StoreLock lock(dir_.File("courier.db"));
  ASSERT_TRUE(lock.locked());
  const std::string body = Webhook({Change("1001", TextMsg("250788383383", "wamid.A9", "during A")),
                                    Change("1002", TextMsg("250788383384", "wamid.B9", "during B"))});
  auto r = Signed("/c/wac/receive", body);
  ASSERT_EQ(r.status_code, 200) << r.body;
  EXPECT_EQ(Items(r, "msg").size(), 2u);
  EXPECT_EQ(SpoolNew(), 2u) << "an intake per channel, both there when the answer came";
  lock.Release();
  auto flush = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-flush")}, env_, dir_.File("flush.log"));
  ASSERT_TRUE(Eventually([&] { return StoredIn().size() == 3; })) << flush->log();
  EXPECT_EQ(StoredIn(), (std::map<std::string, std::string>{
                            {"wamid.W0", wac_a_}, {"wamid.A9", wac_a_}, {"wamid.B9", wac_b_}}));
  EXPECT_EQ(flush->Stop(), 0);
}

// A share whose failure may pass (a media lookup the provider answered
// 500) makes Meta send the whole webhook again: 503. What was written
// meanwhile is taken once.
TEST_F(MetaAppTest, APassingFailureOnOneShareAsksForTheWholeWebhookAgain) {
  MockProvider graph;
  graph.On("/v21.0/media-1", {.status = 500, .body = R"({"error":{"message":"oops","code":1}})"});
  graph.SetDefault({.body = R"({"url":"https://lookaside.example/m1.jpg","mime_type":"image/jpeg","id":"media-1"})"});
  const std::string media_channel = AddWac("250788000005", "1005", kSecret, {"base_url=" + graph.url()});
  StartRecv();
  const std::string body = Webhook(
      {Change("1001", TextMsg("250788383383", "wamid.A1", "text for A")),
       Change("1005", R"("messages":[{"from":"250788383387","id":"wamid.M1","timestamp":"1454119029","type":"image",)"
                      R"("image":{"mime_type":"image/jpeg","id":"media-1"}}])")});
  auto first = Signed("/c/wac/receive", body);
  EXPECT_EQ(first.status_code, 503) << first.body;
  EXPECT_EQ(StoredIn(), (std::map<std::string, std::string>{{"wamid.A1", wac_a_}}));
  auto second = Signed("/c/wac/receive", body);
  ASSERT_EQ(second.status_code, 200) << second.body;
  std::map<std::string, int> counts;
  EXPECT_EQ(StoredIn(&counts), (std::map<std::string, std::string>{{"wamid.A1", wac_a_}, {"wamid.M1", media_channel}}));
  EXPECT_EQ(counts, (std::map<std::string, int>{{"wamid.A1", 1}, {"wamid.M1", 1}}));
  EXPECT_NE(second.body.find("image/jpeg:https://lookaside.example/m1.jpg"), std::string::npos) << second.body;
  // At the channel's own URL too: 503, not 400.
  graph.On("/v21.0/media-2", {.status = 502, .body = "bad gateway", .content_type = "text/html"});
  const std::string per_uuid_body = Webhook(
      {Change("1005", R"("messages":[{"from":"250788383387","id":"wamid.M2","timestamp":"1454119029","type":"image",)"
                      R"("image":{"mime_type":"image/jpeg","id":"media-2"}}])")});
  EXPECT_EQ(Signed("/c/wac/" + media_channel + "/receive", per_uuid_body).status_code, 503);
}

// Messenger: each entry is a page, named by its id, matched against the
// channel's address.
TEST_F(MetaAppTest, MessengerEntriesRouteByPageId) {
  auto add_page = [&](const std::string& page) {
    return Ctl({"channel", "add", "--type", "FBA", "--address", page, "--config", "access_token=page-token-" + page,
                "--config", "app_secret=" + kSecret, "--config", "verify_token=" + kVerifyToken})
        .out.substr(0, 36);
  };
  const std::string page1 = add_page("111111"), page2 = add_page("222222");
  StartRecv();
  auto entry = [](const std::string& page, const std::string& sender, const std::string& mid, const std::string& text) {
    return R"({"id":")" + page + R"(","time":1459991487970,"messaging":[{"sender":{"id":")" + sender +
           R"("},"recipient":{"id":")" + page + R"("},"timestamp":1459991487970,"message":{"mid":")" + mid +
           R"(","text":")" + text + R"("}}]})";
  };
  const std::string body = R"({"object":"page","entry":[)" + entry("111111", "5678", "m.1", "to page one") + "," +
                           entry("222222", "5679", "m.2", "to page two") + "," +
                           entry("333333", "5680", "m.3", "to a page not here") + "]}";
  auto r = Signed("/c/fba/receive", body);
  ASSERT_EQ(r.status_code, 200) << r.body;
  EXPECT_EQ(StoredIn(), (std::map<std::string, std::string>{{"m.1", page1}, {"m.2", page2}}));
  EXPECT_EQ(Items(r, "info").size(), 1u) << r.body;
}

TEST_F(MetaAppTest, IndexAndChannelTypesListTheAppRoutes) {
  StartRecv();
  auto index = Get("/");
  ASSERT_EQ(index.status_code, 200);
  for (const std::string route : {"GET /c/wac/receive", "POST /c/wac/receive", "POST /c/fba/receive", "POST /c/ig/receive",
                                  "POST /c/wac/{uuid}/receive"})
    EXPECT_NE(index.body.find(route), std::string::npos) << route << " not in " << index.body;
  EXPECT_EQ(index.body.find("POST /c/kn/receive"), std::string::npos);
  std::set<std::string> wac_routes;
  for (const auto& t : JsonLines(Ctl({"channel", "types", "--json"}).out)) {
    if (json::GetStringOrEmpty(t, "code") != "WAC") continue;
    auto routes = json::GetStringArray(t, "routes");
    ASSERT_TRUE(routes.ok());
    wac_routes.insert(routes->begin(), routes->end());
  }
  EXPECT_EQ(wac_routes, (std::set<std::string>{"GET receive", "POST receive", "GET /c/wac/receive", "POST /c/wac/receive"}));
}

}  // namespace
