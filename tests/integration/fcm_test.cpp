// FCM end to end: the app registers its device through the real
// courier-recv, the store keeps the token with the contact's URN, and the
// real courier-send sends a queued msg to that token through a mock FCM
// that also plays Google's token endpoint (the service-account key is made
// for this run; the mock checks the JWT's signature with its public half).
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include "base64url.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kSendPath = "/v1/projects/courier-test/messages:send";
const char* kTokenPath = "/token";
const std::string kAccessToken = "ya29.c.integrationAccessToken";

class FcmEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.reset(EVP_RSA_gen(2048), EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    const std::string pem(data, static_cast<size_t>(n));
    JsonWriter credentials;
    credentials.BeginObject()
        .Field("type", "service_account")
        .Field("project_id", "courier-test")
        .Field("private_key_id", "0a1b2c")
        .Field("private_key", pem)
        .Field("client_email", "push@courier-test.iam.gserviceaccount.com")
        .Field("token_uri", provider_.url() + kTokenPath)
        .EndObject();
    credentials_ = credentials.Take();

    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},     {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},       {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_ADDRESS", "127.0.0.1"},            {"COURIER_LOG_LEVEL", "warn"},
            {"COURIER_RETRY_BACKOFF", "1"}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
    auto added = Ctl({"channel", "add", "--type", "FCM", "--address", "courier-app", "--config",
                      "FCM_CREDENTIALS_JSON=" + credentials_, "--config", "base_url=" + provider_.url(), "--config",
                      "FCM_TITLE=Courier"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    channel_ = added.out.substr(0, 36);
    provider_.On(kTokenPath, {.body = R"({"access_token":")" + kAccessToken + R"(","expires_in":3599,"token_type":"Bearer"})"});
    provider_.SetDefault({.body = R"({"name":"projects/courier-test/messages/0:1700000000000000%abcdef"})"});
  }

  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, "", env_);
  }

  std::unique_ptr<Daemon> Start(const std::string& program) {
    return std::make_unique<Daemon>(std::vector<std::string>{Bin(program)}, env_, dir_.File(program + ".log"));
  }

  HttpExchange Post(const std::string& action, const std::string& form) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port_) + "/c/fcm/" + channel_ + "/" + action;
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.body = form;
    return http_->Do(req);
  }

  std::string RegisteredUuid(const HttpExchange& answer) {
    auto body = json::ParseObject(answer.body);
    EXPECT_TRUE(body.ok()) << answer.body;
    return body.ok() ? json::GetStringOrEmpty(*body, "contact_uuid") : "";
  }

  // The msg (by id) as `msgs show --json`, once its status is `status`.
  json::ObjectPtr MsgWhen(const std::string& id, const std::string& status) {
    json::ObjectPtr msg;
    Eventually([&] {
      auto parsed = json::ParseObject(Ctl({"msgs", "show", id, "--json"}).out);
      if (parsed.ok()) msg = *parsed;
      return msg && json::GetStringOrEmpty(msg, "status") == status;
    });
    return msg;
  }

  std::string Queue(const std::string& urn, const std::string& text) {
    auto sent = Ctl({"send", "--channel", channel_, "--urn", urn, "--text", text, "--json"});
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    auto parsed = json::ParseObject(sent.out);
    return parsed.ok() ? std::to_string(json::GetInt(*parsed, "id").value_or(0)) : "";
  }

  // The mock's side of the token exchange: the assertion verifies under
  // the service account's public key.
  bool AssertionVerifies(const std::string& assertion) {
    const auto dot = assertion.rfind('.');
    const std::string input = assertion.substr(0, dot);
    const std::string signature = Base64UrlDecode(assertion.substr(dot + 1));
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  }

  std::vector<RecordedRequest> Sends() {
    std::vector<RecordedRequest> out;
    for (const auto& r : provider_.requests())
      if (r.path == kSendPath) out.push_back(r);
    return out;
  }

  TempDir dir_;
  MockProvider provider_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string credentials_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::string channel_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient();
};

TEST_F(FcmEndToEndTest, ARegisteredDeviceGetsItsMsgsAtItsToken) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();

  auto registered = Post("register", "urn=fcm%3A12345&fcm_token=device-token-1&name=Jane");
  ASSERT_EQ(registered.status_code, 200) << registered.body;
  const std::string contact_uuid = RegisteredUuid(registered);
  ASSERT_EQ(contact_uuid.size(), 36u) << registered.body;
  auto contacts = Ctl({"contact", "list", "--json"});
  EXPECT_NE(contacts.out.find("\"uuid\":\"" + contact_uuid + "\""), std::string::npos) << contacts.out;
  EXPECT_NE(contacts.out.find("\"name\":\"Jane\""), std::string::npos) << contacts.out;

  // The app's token rotates; it registers again and gets the same contact.
  auto again = Post("register", "urn=12345&fcm_token=device-token-2");
  ASSERT_EQ(again.status_code, 200) << again.body;
  EXPECT_EQ(RegisteredUuid(again), contact_uuid);
  // A msg from another install carries its token.
  auto received = Post("receive", "from=777&msg=Hello&fcm_token=device-token-777");
  ASSERT_EQ(received.status_code, 200) << received.body;
  EXPECT_NE(received.body.find("Message Accepted"), std::string::npos);
  EXPECT_EQ(recv->Stop(), 0);

  auto send = Start("courier-send");
  const std::string to_jane = Queue("fcm:12345", "Hi Jane");
  const std::string to_777 = Queue("fcm:777", "Hi 777");
  const std::string to_nobody = Queue("fcm:999", "no device");

  auto jane = MsgWhen(to_jane, "W");
  ASSERT_TRUE(jane) << send->log();
  EXPECT_EQ(json::GetStringOrEmpty(jane, "status"), "W") << send->log();
  EXPECT_EQ(json::GetStringOrEmpty(jane, "external_id"), "0:1700000000000000%abcdef");
  EXPECT_EQ(json::GetStringOrEmpty(MsgWhen(to_777, "W"), "status"), "W");
  auto nobody = MsgWhen(to_nobody, "F");
  EXPECT_EQ(json::GetStringOrEmpty(nobody, "status"), "F");
  EXPECT_EQ(json::GetStringOrEmpty(nobody, "error_reason"), "no fcm token for this contact");

  std::map<std::string, std::string> token_of;  // text -> message.token
  for (const auto& r : Sends()) {
    auto body = json::ParseObject(r.body);
    ASSERT_TRUE(body.ok()) << r.body;
    auto message = json::GetObject(*body, "message");
    token_of[json::GetStringOrEmpty(json::GetObject(message, "data"), "message")] =
        json::GetStringOrEmpty(message, "token");
    EXPECT_EQ(r.headers.at("authorization"), "Bearer " + kAccessToken);
  }
  EXPECT_EQ(token_of, (std::map<std::string, std::string>{{"Hi Jane", "device-token-2"}, {"Hi 777", "device-token-777"}}));

  // One token for both sends, bought with a properly signed assertion.
  std::vector<RecordedRequest> token_requests;
  for (const auto& r : provider_.requests())
    if (r.path == kTokenPath) token_requests.push_back(r);
  ASSERT_EQ(token_requests.size(), 1u);
  EXPECT_EQ(token_requests[0].form.at("grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_TRUE(AssertionVerifies(token_requests[0].form.at("assertion")));

  // Invariant 6 through the real programs: the stored channel logs hold
  // neither the credentials, nor the assertion, nor the access token.
  auto logs = Ctl({"logs", "--limit", "1000", "--json"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("Access Token Requested"), std::string::npos) << logs.out;
  EXPECT_EQ(logs.out.find(kAccessToken), std::string::npos);
  EXPECT_EQ(logs.out.find(token_requests[0].form.at("assertion")), std::string::npos);
  EXPECT_EQ(logs.out.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(send->Stop(), 0) << send->log();
}

// The store is locked when the app registers: the registration is spooled
// (and applied on replay) but the answer is 503, since the contact's uuid
// is only known to the store; the app's retry gets it.
TEST_F(FcmEndToEndTest, ARegistrationThatCouldOnlyBeSpooledIsAnswered503AndKept) {
  auto recv = Start("courier-recv");
  ASSERT_TRUE(recv->WaitForHttp(port_)) << recv->log();
  ASSERT_EQ(Post("receive", "from=5&msg=warm+the+channel+cache").status_code, 200);
  {
    StoreLock lock(dir_.File("courier.db"));
    ASSERT_TRUE(lock.locked());
    auto registered = Post("register", "urn=fcm%3A12345&fcm_token=spooled-token");
    EXPECT_EQ(registered.status_code, 503) << registered.body;
    EXPECT_NE(registered.body.find("try again"), std::string::npos) << registered.body;
  }
  EXPECT_EQ(Lines(Ctl({"spool", "--json"}).out).size(), 1u);
  auto flush = RunProgram({Bin("courier-flush"), "--once"}, "", env_);
  ASSERT_EQ(flush.exit_code, 0) << flush.err;

  // The replayed registration alone is enough to reach the device.
  auto send = Start("courier-send");
  const std::string id = Queue("fcm:12345", "after the outage");
  EXPECT_EQ(json::GetStringOrEmpty(MsgWhen(id, "W"), "status"), "W") << send->log();
  ASSERT_EQ(Sends().size(), 1u);
  EXPECT_NE(Sends()[0].body.find(R"("token":"spooled-token")"), std::string::npos) << Sends()[0].body;
  EXPECT_EQ(send->Stop(), 0) << send->log();

  // The app's retry gets the uuid of the contact the replay created, once
  // courier-recv tries the store again (it spools for 2 s after a failure).
  HttpExchange retry;
  ASSERT_TRUE(Eventually([&] {
    retry = Post("register", "urn=fcm%3A12345&fcm_token=spooled-token");
    return retry.status_code == 200;
  })) << retry.body;
  const std::string uuid = RegisteredUuid(retry);
  EXPECT_EQ(uuid.size(), 36u);
  EXPECT_NE(Ctl({"contact", "list", "--json"}).out.find(uuid), std::string::npos);
  EXPECT_EQ(recv->Stop(), 0);
}

}  // namespace
