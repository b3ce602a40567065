// FCM — Firebase Cloud Messaging: receive (msg form, register) and send
// (HTTP v1 and legacy APIs, split text, notification, errors, throttling).
#include "handlers/fcm.h"

#include "handler_harness.h"

using namespace courier;
using namespace courier::testing;

namespace {

const std::string kServerKey = "AAAA1234:APA91bHkServerKeyValue";
const std::string kAccessToken = "ya29.c.b0AXv0zTOAccessTokenValue";
const std::string kDevice = "dQw4w9WgXcQ:APA91bFdeviceToken_1-2";

Channel LegacyChannel() { return TestChannel("FCM", "1234", "", {{"FCM_KEY", kServerKey}, {"FCM_TITLE", "FCMTitle"}}, {"fcm"}); }
Channel V1Channel() {
  return TestChannel("FCM", "1234", "",
                     {{"FCM_PROJECT_ID", "my-project"}, {"FCM_ACCESS_TOKEN", kAccessToken}, {"FCM_TITLE", "FCMTitle"}},
                     {"fcm"});
}

TEST(FcmHandler, Basics) {
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
  RunReceiveCases(h, LegacyChannel(), {
      {.label = "message", .action = "receive", .body = "from=12345&msg=Hello+World&fcm_token=token123",
       .msgs = {{.urn = "fcm:12345", .text = "Hello World"}}},
      {.label = "with name", .action = "receive", .body = "from=12345&msg=hi&fcm_token=token123&name=Jane+Doe",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .contact_name = "Jane Doe"}}},
      {.label = "with date", .action = "receive",
       .body = "from=12345&msg=hi&fcm_token=token123&date=2017-01-01T08:50:00.000",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .received_on = 1483260600 * kMicrosPerSecond}}},
      {.label = "date with zone", .action = "receive",
       .body = "from=12345&msg=hi&fcm_token=token123&date=2017-01-01T10:50:00.000%2B02:00",
       .msgs = {{.urn = "fcm:12345", .text = "hi", .received_on = 1483260600 * kMicrosPerSecond}}},
      {.label = "unicode", .action = "receive", .body = "from=12345&msg=Muraho+%E2%98%BA&fcm_token=t",
       .msgs = {{.urn = "fcm:12345", .text = "Muraho ☺"}}},
      {.label = "invalid date", .action = "receive", .body = "from=12345&msg=hi&fcm_token=t&date=yesterday",
       .error = "invalid date format"},
      {.label = "missing from", .action = "receive", .body = "msg=hi&fcm_token=t", .error = "field 'from' required"},
      {.label = "missing msg", .action = "receive", .body = "from=12345&fcm_token=t", .error = "field 'msg' required"},
      {.label = "missing fcm_token", .action = "receive", .body = "from=12345&msg=hi",
       .error = "field 'fcm_token' required"},
      {.label = "empty body", .action = "receive", .body = "", .error = "field 'from' required"},
      {.label = "register is accepted but not stored", .action = "register",
       .body = "urn=fcm:12345&fcm_token=token123&name=Jane", .ignored = "accepted but not stored"},
      {.label = "register with a bare path", .action = "register", .body = "urn=12345&fcm_token=token123",
       .ignored = "registration of fcm:12345"},
      {.label = "register without token", .action = "register", .body = "urn=fcm:12345",
       .error = "field 'fcm_token' required"},
      {.label = "register without urn", .action = "register", .body = "fcm_token=t", .error = "field 'urn' required"},
  });
}

const char* kLegacyPath = "/fcm/send";
const char* kV1Path = "/v1/projects/my-project/messages:send";

MockResponse LegacyOk(const std::string& id = "123456") {
  return {.body = R"({"multicast_id":)" + id + R"(,"success":1,"failure":0,"canonical_ids":0,"results":[{"message_id":"0:1"}]})"};
}
MockResponse LegacyFail(const std::string& error) {
  return {.body = R"({"multicast_id":1,"success":0,"failure":1,"canonical_ids":0,"results":[{"error":")" + error + R"("}]})"};
}
MockResponse V1Ok(const std::string& id) { return {.body = R"({"name":"projects/my-project/messages/)" + id + R"("})"}; }
MockResponse V1Fail(int status, const std::string& grpc, const std::string& code, const std::string& message) {
  return {.status = status,
          .body = R"({"error":{"code":)" + std::to_string(status) + R"(,"message":")" + message + R"(","status":")" +
                  grpc + R"(","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":")" +
                  code + R"("}]}})"};
}

TEST(FcmHandler, SendLegacy) {
  FcmHandler h;
  const std::string urn = "fcm:" + kDevice;
  const std::string long_text = std::string(1000, 'a') + " " + std::string(100, 'b');
  RunSendCases(h, LegacyChannel(), {
      {.label = "text", .urn = urn, .responses = {{kLegacyPath, LegacyOk()}}, .external_id = "123456",
       .requests = {{.path = kLegacyPath,
                     .headers = {{"authorization", "key=" + kServerKey}, {"content-type", "application/json"}},
                     .body = R"({"data":{"type":"rapidpro","title":"FCMTitle","message":"Simple Message","message_id":10},)"
                             R"("to":")" + kDevice + R"(","priority":"high"})"}}},
      {.label = "notification", .urn = urn, .responses = {{kLegacyPath, LegacyOk()}}, .external_id = "123456",
       .requests = {{.path = kLegacyPath,
                     .body_contains = {R"("notification":{"title":"FCMTitle","body":"Simple Message"})",
                                       R"("content_available":true)"}}},
       .setup = [](Channel& c) { c.config["FCM_NOTIFICATION"] = "true"; }},
      {.label = "split text, first id kept", .text = long_text, .urn = urn,
       .responses = {{kLegacyPath, LegacyOk("111")}, {kLegacyPath, LegacyOk("222")}}, .external_id = "111",
       .requests = {{.path = kLegacyPath, .body_contains = {"\"message\":\"" + std::string(1000, 'a') + "\""}},
                    {.path = kLegacyPath, .body_contains = {"\"message\":\"" + std::string(100, 'b') + "\""}}}},
      {.label = "attachment as link", .text = "pic", .urn = urn, .attachments = {"image/jpeg:https://foo.bar/a.jpg"},
       .responses = {{kLegacyPath, LegacyOk()}}, .external_id = "123456",
       .requests = {{.path = kLegacyPath, .body_contains = {R"("message":"pic\nhttps:)"}}}},
      {.label = "NotRegistered fails and stops", .urn = urn, .responses = {{kLegacyPath, LegacyFail("NotRegistered")}},
       .status = MsgStatus::kFailed, .error = "NotRegistered", .stop_contact = true, .requests = {{.path = kLegacyPath}}},
      {.label = "InvalidRegistration fails", .urn = urn, .responses = {{kLegacyPath, LegacyFail("InvalidRegistration")}},
       .status = MsgStatus::kFailed, .error = "InvalidRegistration", .requests = {{.path = kLegacyPath}}},
      {.label = "Unavailable errors", .urn = urn, .responses = {{kLegacyPath, LegacyFail("Unavailable")}},
       .status = MsgStatus::kErrored, .error = "Unavailable", .requests = {{.path = kLegacyPath}}},
      {.label = "no success", .urn = urn, .responses = {{kLegacyPath, {.body = R"({"error":"x"})"}}},
       .status = MsgStatus::kErrored, .error = "no success in response", .requests = {{.path = kLegacyPath}}},
      {.label = "401", .urn = urn, .responses = {{kLegacyPath, {.status = 401, .body = "Unauthorized", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kLegacyPath}}},
      {.label = "429 throttles", .urn = urn,
       .responses = {{kLegacyPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "20"}}}}},
       .status = MsgStatus::kErrored, .requests = {{.path = kLegacyPath}}, .throttled_for_seconds = 20},
      {.label = "no key: no request", .urn = urn, .status = MsgStatus::kErrored, .error = "no FCM_KEY", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("FCM_KEY"); }},
  });
}

TEST(FcmHandler, SendV1) {
  FcmHandler h;
  const std::string urn = "fcm:" + kDevice;
  RunSendCases(h, V1Channel(), {
      {.label = "text", .urn = urn, .responses = {{kV1Path, V1Ok("0:1500415314455276%31bd1c96")}},
       .external_id = "0:1500415314455276%31bd1c96",
       .requests = {{.path = kV1Path,
                     .headers = {{"authorization", "Bearer " + kAccessToken}, {"content-type", "application/json"}},
                     .body = R"({"message":{"token":")" + kDevice +
                             R"(","data":{"type":"rapidpro","title":"FCMTitle","message":"Simple Message","message_id":"10"},)"
                             R"("android":{"priority":"high"}}})"}}},
      {.label = "notification", .urn = urn, .responses = {{kV1Path, V1Ok("1")}}, .external_id = "1",
       .requests = {{.path = kV1Path,
                     .body_contains = {R"("notification":{"title":"FCMTitle","body":"Simple Message"})",
                                       R"("apns":{"payload":{"aps":{"content-available":1}}})"}}},
       .setup = [](Channel& c) { c.config["FCM_NOTIFICATION"] = "TRUE"; }},
      {.label = "unicode", .text = "Muraho ☺", .urn = urn, .responses = {{kV1Path, V1Ok("2")}}, .external_id = "2",
       .requests = {{.path = kV1Path, .body_contains = {"Muraho"}}}},
      {.label = "split text", .text = std::string(1020, 'a') + " bbbbbbbb", .urn = urn,
       .responses = {{kV1Path, V1Ok("3")}, {kV1Path, V1Ok("4")}}, .external_id = "3",
       .requests = {{.path = kV1Path}, {.path = kV1Path, .body_contains = {R"("message":"bbbbbbbb")"}}}},
      {.label = "UNREGISTERED fails and stops", .urn = urn,
       .responses = {{kV1Path, V1Fail(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")}},
       .status = MsgStatus::kFailed, .error = "UNREGISTERED", .stop_contact = true, .requests = {{.path = kV1Path}}},
      {.label = "INVALID_ARGUMENT fails", .urn = urn,
       .responses = {{kV1Path, V1Fail(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                                      "The registration token is not a valid FCM registration token")}},
       .status = MsgStatus::kFailed, .error = "not a valid FCM registration token", .requests = {{.path = kV1Path}}},
      {.label = "QUOTA_EXCEEDED throttles", .urn = urn,
       .responses = {{kV1Path, {.status = 429,
                                .body = R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}})",
                                .headers = {{"Retry-After", "60"}}}}},
       .status = MsgStatus::kErrored, .error = "QUOTA_EXCEEDED", .requests = {{.path = kV1Path}},
       .throttled_for_seconds = 60},
      {.label = "UNAVAILABLE errors", .urn = urn,
       .responses = {{kV1Path, V1Fail(503, "UNAVAILABLE", "UNAVAILABLE", "The server is overloaded.")}},
       .status = MsgStatus::kErrored, .error = "UNAVAILABLE", .requests = {{.path = kV1Path}}},
      {.label = "non-JSON error", .urn = urn,
       .responses = {{kV1Path, {.status = 502, .body = "Bad Gateway", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "HTTP 502", .requests = {{.path = kV1Path}}},
      {.label = "ok without name", .urn = urn, .responses = {{kV1Path, {.body = "{}"}}}, .status = MsgStatus::kErrored,
       .error = "no 'name' in response", .requests = {{.path = kV1Path}}},
      {.label = "forced legacy uses the key", .urn = urn, .responses = {{kLegacyPath, LegacyOk()}},
       .external_id = "123456",
       .requests = {{.path = kLegacyPath, .headers = {{"authorization", "key=" + kServerKey}}}},
       .setup = [](Channel& c) { c.config["FCM_API"] = "legacy"; c.config["FCM_KEY"] = kServerKey; }},
      {.label = "v1 without access token: no request", .urn = urn, .status = MsgStatus::kErrored,
       .error = "FCM_ACCESS_TOKEN must be set", .logs = 1,
       .setup = [](Channel& c) { c.config.erase("FCM_ACCESS_TOKEN"); }},
  });
}

}  // namespace
