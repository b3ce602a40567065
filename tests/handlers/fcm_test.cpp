// FCM — Firebase Cloud Messaging: receive (msgs with and without a token,
// register), send through the HTTP v1 API to the URN's stored token, FCM's
// error answers, and the service-account access token: a JWT signed with a
// key made for this run and checked on the provider's side, cached per
// channel until shortly before it expires, dropped on a 401, never logged.
#include "handlers/fcm.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <thread>

#include "base64url.h"
#include "core/json.h"
#include "core/json_writer.h"
#include "handler_harness.h"

using namespace courier;
using namespace courier::testing;

namespace {

// --- a service account whose key exists only in this process ----------------

struct TestKey {
  std::shared_ptr<EVP_PKEY> key;
  std::string private_pem;
};

// 2048-bit RSA, made once per run: nothing that looks like a real key is
// ever committed, and the provider side verifies with the public half.
const TestKey& Key() {
  static const TestKey key = [] {
    TestKey k;
    k.key.reset(EVP_RSA_gen(2048), EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), k.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    k.private_pem.assign(data, static_cast<size_t>(n));
    return k;
  }();
  return key;
}

const std::string kClientEmail = "courier-push@my-project.iam.gserviceaccount.com";
const std::string kAccessToken = "ya29.c.c0ASRK0GZtestAccessToken_1-2";
const std::string kDevice = "dQw4w9WgXcQ:APA91bFdeviceToken_1-2";
const char* kTokenPath = "/token";
const char* kSendPath = "/v1/projects/my-project/messages:send";
const char* kScope = "https://www.googleapis.com/auth/firebase.messaging";

// The JSON the Google Cloud console downloads for a service account.
std::string Credentials(const std::string& token_uri, const std::string& project = "my-project") {
  JsonWriter w;
  w.BeginObject()
      .Field("type", "service_account")
      .Field("project_id", project)
      .Field("private_key_id", "5f0d1d5c0e1a")
      .Field("private_key", Key().private_pem)
      .Field("client_email", kClientEmail)
      .Field("client_id", "104829371829371829371")
      .Field("auth_uri", "https://accounts.google.com/o/oauth2/auth")
      .Field("token_uri", token_uri)
      .EndObject();
  return w.Take();
}

Channel FcmChannel() {
  return TestChannel("FCM", "1234", "",
                     {{"FCM_CREDENTIALS_JSON", Credentials("{{mock}}/token")}, {"FCM_TITLE", "FCMTitle"}}, {"fcm"});
}

// What the token endpoint checks: the assertion's signature under the
// account's public key, its header and its claims.
void ExpectValidAssertion(const std::string& assertion, const std::string& token_uri, Micros now) {
  const auto first = assertion.find('.');
  const auto second = assertion.find('.', first + 1);
  ASSERT_NE(second, std::string::npos) << assertion;
  const std::string signing_input = assertion.substr(0, second);
  const std::string signature = Base64UrlDecode(assertion.substr(second + 1));

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, Key().key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()),
            1)
      << "signature does not verify";
  // And a changed payload does not.
  std::string tampered = signing_input;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, Key().key.get()), 1);
  EXPECT_NE(EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(tampered.data()), tampered.size()),
            1);

  auto header = json::ParseObject(Base64UrlDecode(assertion.substr(0, first)));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(json::GetStringOrEmpty(*header, "alg"), "RS256");
  EXPECT_EQ(json::GetStringOrEmpty(*header, "typ"), "JWT");
  EXPECT_EQ(json::GetStringOrEmpty(*header, "kid"), "5f0d1d5c0e1a");
  auto claims = json::ParseObject(Base64UrlDecode(assertion.substr(first + 1, second - first - 1)));
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(json::GetStringOrEmpty(*claims, "iss"), kClientEmail);
  EXPECT_EQ(json::GetStringOrEmpty(*claims, "scope"), kScope);
  EXPECT_EQ(json::GetStringOrEmpty(*claims, "aud"), token_uri);
  EXPECT_EQ(json::GetInt(*claims, "iat"), now / kMicrosPerSecond);
  EXPECT_EQ(json::GetInt(*claims, "exp"), now / kMicrosPerSecond + 3600);
}

MockResponse TokenOk(const std::string& token = kAccessToken, int expires_in = 3599) {
  return {.body = R"({"access_token":")" + token + R"(","expires_in":)" + std::to_string(expires_in) +
                  R"(,"token_type":"Bearer"})"};
}
MockResponse SendOk(const std::string& id) { return {.body = R"({"name":"projects/my-project/messages/)" + id + R"("})"}; }
MockResponse SendFail(int status, const std::string& grpc, const std::string& code, const std::string& message) {
  return {.status = status,
          .body = R"({"error":{"code":)" + std::to_string(status) + R"(,"message":")" + message + R"(","status":")" +
                  grpc + R"(","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":")" +
                  code + R"("}]}})"};
}

ExpectedRequest TokenRequest() {
  return {.path = kTokenPath,
          .form = {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}},
          .headers = {{"content-type", "application/x-www-form-urlencoded"}}};
}

// --- receive -------------------------------------------------------------------

TEST(FcmHandler, Routes) {
  FcmHandler h;
  EXPECT_EQ(h.Code(), "FCM");
  auto routes = h.Routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].action, "receive");
  EXPECT_EQ(routes[0].kind, RouteKind::kReceive);
  EXPECT_EQ(routes[1].action, "register");
  EXPECT_EQ(routes[1].method, "POST");
}

TEST(FcmHandler, Receive) {
  FcmHandler h;
  RunReceiveCases(h, FcmChannel(), {
      {.label = "message with token", .action = "receive", .body = "from=12345&msg=Hello+World&fcm_token=token123",
       .msgs = {{.urn = "fcm:12345", .text = "Hello World"}}, .urn_auths = {{"fcm:12345", "token123"}}},
      {.label = "message without token", .action = "receive", .body = "from=12345&msg=Hello",
       .msgs = {{.urn = "fcm:12345", .text = "Hello"}}},
      {.label = "empty token is no token", .action = "receive", .body = "from=12345&msg=Hello&fcm_token=",
       .msgs = {{.urn = "fcm:12345", .text = "Hello"}}},
      {.label = "with name", .action = "receive", .body = "from=12345&msg=hi&fcm_token=" + kDevice + "&name=Jane+Doe",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .contact_name = "Jane Doe"}},
       .urn_auths = {{"fcm:12345", kDevice}}},
      {.label = "with date", .action = "receive", .body = "from=12345&msg=hi&date=2017-01-01T08:50:00.000",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .received_on = 1483260600 * kMicrosPerSecond}}},
      {.label = "date with zone", .action = "receive",
       .body = "from=12345&msg=hi&date=2017-01-01T10:50:00.000%2B02:00",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .received_on = 1483260600 * kMicrosPerSecond}}},
      {.label = "unicode", .action = "receive", .body = "from=12345&msg=Muraho+%E2%98%BA",
       .msgs = {{.urn = "fcm:12345", .text = "Muraho ☺"}}},
      {.label = "invalid date", .action = "receive", .body = "from=12345&msg=hi&fcm_token=t&date=yesterday",
       .error = "invalid date format"},
      {.label = "missing from", .action = "receive", .body = "msg=hi&fcm_token=t", .error = "field 'from' required"},
      {.label = "missing msg", .action = "receive", .body = "from=12345&fcm_token=t", .error = "field 'msg' required"},
      {.label = "empty body", .action = "receive", .body = "", .error = "field 'from' required"},
      {.label = "register", .action = "register", .body = "urn=fcm:12345&fcm_token=token123&name=Jane",
       .urn_auths = {{"fcm:12345", "token123"}}},
      {.label = "register with a bare path", .action = "register", .body = "urn=12345&fcm_token=token123",
       .urn_auths = {{"fcm:12345", "token123"}}},
      {.label = "register without token", .action = "register", .body = "urn=fcm:12345",
       .error = "field 'fcm_token' required"},
      {.label = "register without urn", .action = "register", .body = "fcm_token=t", .error = "field 'urn' required"},
  });
}

// The register answer is the contact uuid the store holds, built from the
// committed outcome; the update carries the name and the time received.
TEST(FcmHandler, RegisterAnswersTheStoredContactUuid) {
  FcmHandler h;
  const Route route{"POST", "register", RouteKind::kEvent};
  auto request = WebhookRequest::Build("POST", "/c/fcm/" + std::string(kTestChannelUUID) + "/register",
                                       {{"content-type", "application/x-www-form-urlencoded"}},
                                       "urn=fcm%3A12345&fcm_token=" + kDevice + "&name=Jane+Doe", kTestBaseUrl,
                                       "register");
  auto http = NewLoopbackHttpClient();
  ManualClock clock(1'700'000'000LL * kMicrosPerSecond);
  HandlerContext ctx{*http, clock, kTestBaseUrl};
  WebhookResult r = h.Receive(route, FcmChannel(), request, ctx);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.msgs.empty());
  ASSERT_EQ(r.urn_auths.size(), 1u);
  EXPECT_EQ(r.urn_auths[0].urn, "fcm:12345");
  EXPECT_EQ(r.urn_auths[0].auth, kDevice);
  EXPECT_EQ(r.urn_auths[0].contact_name, "Jane Doe");
  EXPECT_EQ(r.urn_auths[0].sent_on, clock.Now());
  ASSERT_TRUE(r.answer_from_store);
  IntakeOutcome outcome;
  outcome.urn_auths.push_back({7, "0b1e4a6c-56d1-4bd2-a2c1-6cfa4c0d5b5e", true});
  EXPECT_EQ(r.answer_from_store(outcome), R"({"contact_uuid":"0b1e4a6c-56d1-4bd2-a2c1-6cfa4c0d5b5e"})");

  // A msg posted with a token does not wait on the store for its answer.
  auto msg = WebhookRequest::Build("POST", "/c/fcm/x/receive", {{"content-type", "application/x-www-form-urlencoded"}},
                                   "from=12345&msg=hi&fcm_token=t2", kTestBaseUrl, "receive");
  WebhookResult received = h.Receive({"POST", "receive", RouteKind::kReceive}, FcmChannel(), msg, ctx);
  EXPECT_FALSE(received.answer_from_store);
  ASSERT_EQ(received.urn_auths.size(), 1u);
  EXPECT_EQ(received.urn_auths[0].sent_on, clock.Now());
}

// --- send ----------------------------------------------------------------------

// A fresh handler per case: each case's provider is new, and a token
// cached by an earlier case must not answer for it.
void RunFcmSendCases(const Channel& channel, const std::vector<SendCase>& cases) {
  for (const auto& c : cases) {
    FcmHandler h;
    RunSendCases(h, channel, {c});
  }
}

TEST(FcmHandler, Send) {
  const std::string urn = "fcm:12345";
  const std::string long_text = std::string(1000, 'a') + " " + std::string(100, 'b');
  RunFcmSendCases(FcmChannel(), {
      {.label = "text to the stored token", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("0:1500415314455276%31bd1c96")}},
       .external_id = "0:1500415314455276%31bd1c96",
       .requests = {TokenRequest(),
                    {.path = kSendPath,
                     .headers = {{"authorization", "Bearer " + kAccessToken}, {"content-type", "application/json"}},
                     .body = R"({"message":{"token":")" + kDevice +
                             R"(","data":{"type":"rapidpro","title":"FCMTitle","message":"Simple Message","message_id":"10"},)"
                             R"("android":{"priority":"high"}}})"}}},
      {.label = "notification", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("1")}}, .external_id = "1",
       .requests = {TokenRequest(),
                    {.path = kSendPath,
                     .body_contains = {R"("notification":{"title":"FCMTitle","body":"Simple Message"})",
                                       R"("apns":{"payload":{"aps":{"content-available":1}}})"}}},
       .setup = [](Channel& c) { c.config["FCM_NOTIFICATION"] = "TRUE"; }},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("2")}}, .external_id = "2",
       .requests = {TokenRequest(), {.path = kSendPath, .body_contains = {R"("message":"Muraho ☺")"}}}},
      {.label = "split at 1024, first id kept, one token", .text = long_text, .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("111")}, {kSendPath, SendOk("222")}},
       .external_id = "111",
       .requests = {TokenRequest(),
                    {.path = kSendPath, .body_contains = {"\"message\":\"" + std::string(1000, 'a') + "\""}},
                    {.path = kSendPath, .body_contains = {"\"message\":\"" + std::string(100, 'b') + "\""}}}},
      {.label = "split at the channel's max_length", .text = "Hello World, how are you", .urn = urn,
       .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("31")}, {kSendPath, SendOk("32")},
                     {kSendPath, SendOk("33")}},
       .external_id = "31",
       .requests = {TokenRequest(), {.path = kSendPath, .body_contains = {R"("message":"Hello")"}},
                    {.path = kSendPath, .body_contains = {R"("message":"World, how")"}},
                    {.path = kSendPath, .body_contains = {R"("message":"are you")"}}},
       .setup = [](Channel& c) { c.config["max_length"] = "10"; }},
      {.label = "quick replies on the last part", .text = "Hello World", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("41")}, {kSendPath, SendOk("42")}},
       .external_id = "41",
       .requests = {TokenRequest(), {.path = kSendPath, .body_contains = {R"("message":"Hello","message_id":"10"})"}},
                    {.path = kSendPath, .body_contains = {R"("quick_replies":"[\"Yes\",\"No\"]")"}}},
       .setup = [](Channel& c) { c.config["max_length"] = "6"; },
       .quick_replies = {"Yes", "No"}},
      {.label = "attachment as link", .text = "pic", .urn = urn, .urn_auth = kDevice,
       .attachments = {"image/jpeg:https://foo.bar/a.jpg"}, .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("5")}}, .external_id = "5",
       .requests = {TokenRequest(), {.path = kSendPath, .body_contains = {R"("message":"pic\nhttps://foo.bar/a.jpg")"}}}},
      {.label = "project id from config", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {"/v1/projects/other-project/", SendOk("6")}}, .external_id = "6",
       .requests = {TokenRequest(), {.path = "/v1/projects/other-project/messages:send"}},
       .setup = [](Channel& c) { c.config["FCM_PROJECT_ID"] = "other-project"; }},

      // The URN has no token: nothing to send to, ever.
      {.label = "no token for the contact", .urn = urn, .status = MsgStatus::kFailed,
       .error = "no fcm token for this contact", .logs = 1},

      // Channel set up wrong: E, no request.
      {.label = "no credentials", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "no FCM_CREDENTIALS_JSON set for FCM channel", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("FCM_CREDENTIALS_JSON"); }},
      {.label = "legacy server key only", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "legacy API, which Google has shut down", .logs = 1,
       .setup = [](Channel& c) {
         c.config.erase("FCM_CREDENTIALS_JSON");
         c.config["FCM_KEY"] = "AAAA1234:APA91bHkServerKeyValue";
       }},
      {.label = "credentials not JSON", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "not a JSON object", .logs = 1,
       .setup = [](Channel& c) { c.config["FCM_CREDENTIALS_JSON"] = "-----BEGIN PRIVATE KEY-----"; }},
      {.label = "credentials without a key", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "lack private_key", .logs = 1,
       .setup = [](Channel& c) {
         c.config["FCM_CREDENTIALS_JSON"] = R"({"client_email":"a@b.iam.gserviceaccount.com","project_id":"p"})";
       }},
      {.label = "a key that is not PEM", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "private_key is not a PEM private key", .logs = 1,
       .setup = [](Channel& c) {
         c.config["FCM_CREDENTIALS_JSON"] =
             R"({"client_email":"a@b.iam.gserviceaccount.com","project_id":"p","private_key":"garbage"})";
       }},
      {.label = "no project anywhere", .urn = urn, .urn_auth = kDevice, .status = MsgStatus::kErrored,
       .error = "no project_id", .logs = 1,
       .setup = [](Channel& c) { c.config["FCM_CREDENTIALS_JSON"] = Credentials("{{mock}}/token", ""); }},

      // The token endpoint.
      {.label = "token refused", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, {.status = 400, .body = R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"}}},
       .status = MsgStatus::kErrored, .error = "invalid_grant (Invalid JWT Signature.)", .requests = {TokenRequest()}},
      {.label = "token endpoint down", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, {.status = 503, .body = "unavailable", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "HTTP 503", .requests = {TokenRequest()}},
      {.label = "token answer without a token", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, {.body = R"({"token_type":"Bearer"})"}}}, .status = MsgStatus::kErrored,
       .error = "no access_token", .requests = {TokenRequest()}},

      // FCM's answers (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
      {.label = "UNREGISTERED: stale token, F", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, SendFail(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")}},
       .status = MsgStatus::kFailed, .error = "fcm token is stale", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "INVALID_ARGUMENT: F", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, SendFail(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                          "The registration token is not a valid FCM registration token")}},
       .status = MsgStatus::kFailed, .error = "INVALID_ARGUMENT (The registration token is not a valid",
       .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "SENDER_ID_MISMATCH: F", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, SendFail(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch")}},
       .status = MsgStatus::kFailed, .error = "SENDER_ID_MISMATCH", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "THIRD_PARTY_AUTH_ERROR: F, no second try", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, SendFail(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "APNs certificate invalid")}},
       .status = MsgStatus::kFailed, .error = "THIRD_PARTY_AUTH_ERROR", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "UNAUTHENTICATED with a new token: F", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, {.status = 401,
                                  .body = R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})"}}},
       .status = MsgStatus::kFailed, .error = "UNAUTHENTICATED", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "QUOTA_EXCEEDED: E, throttled", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, {.status = 429,
                                  .body = R"({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}})",
                                  .headers = {{"Retry-After", "60"}}}}},
       .status = MsgStatus::kErrored, .error = "QUOTA_EXCEEDED", .requests = {TokenRequest(), {.path = kSendPath}},
       .throttled_for_seconds = 60},
      {.label = "UNAVAILABLE: E", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, SendFail(503, "UNAVAILABLE", "UNAVAILABLE", "The server is overloaded.")}},
       .status = MsgStatus::kErrored, .error = "UNAVAILABLE", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "INTERNAL: E", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendFail(500, "INTERNAL", "INTERNAL", "Internal error.")}},
       .status = MsgStatus::kErrored, .error = "INTERNAL", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "not JSON: E", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()},
                     {kSendPath, {.status = 502, .body = "Bad Gateway", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "HTTP 502", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "2xx without name: F", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, {.body = "{}"}}}, .status = MsgStatus::kFailed,
       .error = "no 'name' in FCM's answer", .requests = {TokenRequest(), {.path = kSendPath}}},
      {.label = "second part refused: F", .text = "Hello World", .urn = urn, .urn_auth = kDevice,
       .responses = {{kTokenPath, TokenOk()}, {kSendPath, SendOk("51")},
                     {kSendPath, SendFail(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Message too big")}},
       .status = MsgStatus::kFailed, .error = "Message too big",
       .requests = {TokenRequest(), {.path = kSendPath}, {.path = kSendPath}},
       .setup = [](Channel& c) { c.config["max_length"] = "6"; }},
  });
}

// --- the access token ------------------------------------------------------------

constexpr Micros kNow = 1'700'000'000LL * kMicrosPerSecond;

class FcmTokenTest : public ::testing::Test {
 protected:
  FcmTokenTest() : clock_(kNow), http_(NewLoopbackHttpClient()), ctx_{*http_, clock_, kTestBaseUrl} {
    channel_ = TestChannel("FCM", "1234", "",
                           {{"FCM_CREDENTIALS_JSON", Credentials(provider_.url() + kTokenPath)},
                            {"base_url", provider_.url()}},
                           {"fcm"});
  }

  Msg Outgoing(int64_t id, const std::string& token = kDevice) {
    Msg m;
    m.id = id;
    m.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5" + std::to_string(id % 10);
    m.channel_uuid = channel_.uuid;
    m.direction = Direction::kOut;
    m.urn = "fcm:12345";
    m.urn_auth = token;
    m.text = "hi " + std::to_string(id);
    return m;
  }

  size_t TokenRequests() const {
    size_t n = 0;
    for (const auto& r : provider_.requests()) n += r.path == kTokenPath;
    return n;
  }

  MockProvider provider_;
  ManualClock clock_;
  std::unique_ptr<HttpClient> http_;
  HandlerContext ctx_;
  Channel channel_;
  FcmHandler handler_;
};

TEST_F(FcmTokenTest, TheAssertionIsSignedByTheServiceAccountsKey) {
  provider_.On(kTokenPath, TokenOk());
  provider_.On(kSendPath, SendOk("1"));
  SendResult r = handler_.Send(channel_, Outgoing(1), ctx_);
  ASSERT_EQ(r.status, MsgStatus::kWired) << r.error;
  auto requests = provider_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
  ExpectValidAssertion(requests[0].form["assertion"], provider_.url() + kTokenPath, kNow);
  EXPECT_EQ(requests[1].headers["authorization"], "Bearer " + kAccessToken);

  // Neither the assertion nor the token it bought is in a log; the token
  // request is logged, first, as what it is.
  ASSERT_EQ(r.logs.size(), 2u);
  EXPECT_EQ(r.logs[0].description, "Access Token Requested");
  EXPECT_EQ(r.logs[0].msg_id, 1);
  for (const auto& log : r.logs) {
    for (const std::string& secret : {requests[0].form["assertion"], kAccessToken, Key().private_pem}) {
      EXPECT_EQ(log.request.find(secret), std::string::npos) << log.request;
      EXPECT_EQ(log.response.find(secret), std::string::npos) << log.response;
      EXPECT_EQ(log.url.find(secret), std::string::npos);
    }
  }
  EXPECT_NE(r.logs[0].response.find("\"access_token\":\"********\""), std::string::npos) << r.logs[0].response;
}

TEST_F(FcmTokenTest, OneTokenServesSendsUntilAMinuteBeforeItExpires) {
  provider_.On(kTokenPath, TokenOk("ya29.first", 3600));
  provider_.On(kTokenPath, TokenOk("ya29.second", 3600));
  provider_.SetDefault(SendOk("1"));

  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);
  SendResult second = handler_.Send(channel_, Outgoing(2), ctx_);
  ASSERT_EQ(second.status, MsgStatus::kWired);
  EXPECT_EQ(second.logs.size(), 1u);  // no token request
  EXPECT_EQ(TokenRequests(), 1u);

  clock_.Advance(3539 * kMicrosPerSecond);
  ASSERT_EQ(handler_.Send(channel_, Outgoing(3), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(TokenRequests(), 1u);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer ya29.first");

  clock_.Advance(1 * kMicrosPerSecond);  // 60 s left: renewed
  ASSERT_EQ(handler_.Send(channel_, Outgoing(4), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(TokenRequests(), 2u);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer ya29.second");
  ExpectValidAssertion(provider_.requests()[provider_.requests().size() - 2].form["assertion"],
                       provider_.url() + kTokenPath, kNow + 3540 * kMicrosPerSecond);
}

TEST_F(FcmTokenTest, ChannelsAndCredentialsHaveTheirOwnTokens) {
  provider_.On(kTokenPath, TokenOk("ya29.one"));
  provider_.On(kTokenPath, TokenOk("ya29.two"));
  provider_.On(kTokenPath, TokenOk("ya29.three"));
  provider_.SetDefault(SendOk("1"));
  Channel other = channel_;
  other.uuid = "2c8b1a4e-2f57-4e0c-9d0e-6b1f5a9c3d21";
  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);
  ASSERT_EQ(handler_.Send(other, Outgoing(2), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer ya29.two");
  // The operator replaces the channel's credentials: the old token is not theirs.
  other.config["FCM_CREDENTIALS_JSON"] = Credentials(provider_.url() + kTokenPath, "my-project") + " ";
  ASSERT_EQ(handler_.Send(other, Outgoing(3), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer ya29.three");
  ASSERT_EQ(handler_.Send(channel_, Outgoing(4), ctx_).status, MsgStatus::kWired);
  EXPECT_EQ(provider_.requests().back().headers["authorization"], "Bearer ya29.one");
  EXPECT_EQ(TokenRequests(), 3u);
}

TEST_F(FcmTokenTest, A401DropsTheCachedTokenAndTheSendGoesWithANewOne) {
  provider_.On(kTokenPath, TokenOk("ya29.revoked"));
  provider_.On(kTokenPath, TokenOk("ya29.renewed"));
  provider_.On(kSendPath, SendOk("1"));
  provider_.On(kSendPath, {.status = 401,
                           .body = R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})"});
  provider_.On(kSendPath, SendOk("2"));
  ASSERT_EQ(handler_.Send(channel_, Outgoing(1), ctx_).status, MsgStatus::kWired);

  SendResult r = handler_.Send(channel_, Outgoing(2), ctx_);
  EXPECT_EQ(r.status, MsgStatus::kWired) << r.error;
  EXPECT_EQ(r.external_id, "2");
  auto requests = provider_.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[2].headers["authorization"], "Bearer ya29.revoked");
  EXPECT_EQ(requests[3].path, kTokenPath);
  EXPECT_EQ(requests[4].headers["authorization"], "Bearer ya29.renewed");
  ASSERT_EQ(r.logs.size(), 3u);  // refused send, token, send
  EXPECT_NE(r.logs[0].error.find("retrying with a new one"), std::string::npos);
}

TEST_F(FcmTokenTest, ConcurrentSendsOfAChannelAskForOneToken) {
  provider_.On(kTokenPath, {.body = TokenOk().body, .delay_ms = 200});
  provider_.SetDefault(SendOk("1"));
  std::atomic<int> wired{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto http = NewLoopbackHttpClient();
      HandlerContext ctx{*http, clock_, kTestBaseUrl};
      if (handler_.Send(channel_, Outgoing(i + 1), ctx).status == MsgStatus::kWired) ++wired;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wired.load(), 8);
  EXPECT_EQ(TokenRequests(), 1u);
}

}  // namespace
