// DA — DartMedia and H9 — Hub9: one handler, two types. Every table runs
// for both; the send URL and the split limit are what differ.
#include "handlers/dart.h"

#include <set>

#include "handler_harness.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kUsername = "dart-user";
const char* kPassword = "dart-s3cret";
// The msg UUID the harness sends with.
const char* kMsgUUID = "0191e180-7d60-7000-aded-7d8b151cbd5b";
const char* kContact = "tel:+6281234567890";

struct TypeCase {
  DartHandler::Flavor flavor;
  std::string code;
  std::string name;
  std::string send_path;
  size_t max_length;
};

const std::vector<TypeCase>& Types() {
  static const std::vector<TypeCase> types = {
      {DartHandler::Flavor::kDartMedia, "DA", "DartMedia", "/APIhttpU/receive2waysms.php", 160},
      {DartHandler::Flavor::kHub9, "H9", "Hub9", "/testing/smsmt.php", 1600},
  };
  return types;
}

Channel DartChannel(const std::string& code, std::map<std::string, std::string> config = {{"username", kUsername},
                                                                                          {"password", kPassword}}) {
  return TestChannel(code, "2020", "ID", std::move(config));
}

TEST(DartHandler, TypesAndRoutes) {
  for (const auto& t : Types()) {
    SCOPED_TRACE(t.code);
    DartHandler h(t.flavor);
    EXPECT_EQ(h.Code(), t.code);
    EXPECT_EQ(h.Name(), t.name);
    EXPECT_EQ(h.Type().schemes, std::vector<std::string>{"tel"});
    std::set<std::string> routes;
    for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
    EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "GET delivered"}));
    const ConfigKeyInfo* max_length = h.Type().Key("max_length");
    ASSERT_NE(max_length, nullptr);
    EXPECT_EQ(max_length->default_value, std::to_string(t.max_length));
  }
}

TEST(DartHandler, Receive) {
  for (const auto& t : Types()) {
    DartHandler h(t.flavor);
    RunReceiveCases(h, DartChannel(t.code), {
        {.label = "a reply", .method = "GET", .action = "receive",
         .query = "userid=testusr&password=test&original=6281234567890&sendto=2020&messageid=99123635"
                  "&message=Msg&dcs=0&udhl=0&date=2017-06-21+09:51:36",
         .content_type = "", .msgs = {{.urn = kContact, .text = "Msg", .external_id = "99123635"}},
         .response_body = "000"},
        {.label = "a local number", .method = "GET", .action = "receive",
         .query = "original=081234567890&sendto=2020&message=Halo+%E2%98%BA", .content_type = "",
         .msgs = {{.urn = kContact, .text = "Halo ☺"}}, .response_body = "000"},
        {.label = "no message: an empty text", .method = "GET", .action = "receive",
         .query = "original=6281234567890&sendto=2020", .content_type = "", .msgs = {{.urn = kContact, .text = ""}},
         .response_body = "000"},
        {.label = "a sender that is no number: ext", .method = "GET", .action = "receive",
         .query = "original=***&sendto=2020&message=hi", .content_type = "",
         .msgs = {{.urn = "ext:***", .text = "hi"}}, .response_body = "000"},
        {.label = "a sender that is neither", .method = "GET", .action = "receive",
         .query = "original=%20%2A&sendto=2020&message=hi", .content_type = "",
         .error = "invalid path for scheme 'ext'"},
        {.label = "missing original", .method = "GET", .action = "receive", .query = "sendto=2020&message=hi",
         .content_type = "", .error = "missing required parameters original and sendto"},
        {.label = "missing sendto", .method = "GET", .action = "receive",
         .query = "original=6281234567890&message=hi", .content_type = "",
         .error = "missing required parameters original and sendto"},
        {.label = "nothing", .method = "GET", .action = "receive", .content_type = "",
         .error = "missing required parameters original and sendto"},
    });
  }
}

TEST(DartHandler, Status) {
  for (const auto& t : Types()) {
    DartHandler h(t.flavor);
    std::vector<ReceiveCase> cases;
    const std::vector<std::pair<std::string, MsgStatus>> table = {
        {"10", MsgStatus::kDelivered}, {"11", MsgStatus::kDelivered}, {"12", MsgStatus::kDelivered},
        {"21", MsgStatus::kFailed},    {"52", MsgStatus::kFailed},    {"0", MsgStatus::kSent},
        {"1", MsgStatus::kSent},       {"9", MsgStatus::kSent},       {"13", MsgStatus::kSent},
        {"20", MsgStatus::kSent},      {"-1", MsgStatus::kSent},
    };
    for (const auto& [code, status] : table)
      cases.push_back({.label = "status " + code, .method = "GET", .action = "delivered",
                       .query = "status=" + code + "&messageid=" + kMsgUUID, .content_type = "",
                       .statuses = {{.status = status, .msg_uuid = kMsgUUID}}, .response_body = "000"});
    cases.push_back({.label = "a later part reports for the msg", .method = "GET", .action = "delivered",
                     .query = "status=10&messageid=" + std::string(kMsgUUID) + ".2", .content_type = "",
                     .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}},
                     .response_body = "000"});
    cases.push_back({.label = "an upper-case UUID", .method = "GET", .action = "delivered",
                     .query = "status=10&messageid=0191E180-7D60-7000-ADED-7D8B151CBD5B", .content_type = "",
                     .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}},
                     .response_body = "000"});
    cases.push_back({.label = "missing status", .method = "GET", .action = "delivered",
                     .query = "messageid=" + std::string(kMsgUUID), .content_type = "",
                     .error = "parameters messageid and status should not be empty"});
    cases.push_back({.label = "missing messageid", .method = "GET", .action = "delivered", .query = "status=10",
                     .content_type = "", .error = "parameters messageid and status should not be empty"});
    cases.push_back({.label = "status not an integer", .method = "GET", .action = "delivered",
                     .query = "status=ok&messageid=" + std::string(kMsgUUID), .content_type = "",
                     .error = "parsing failed: status 'ok' is not an integer"});
    cases.push_back({.label = "status with trailing junk", .method = "GET", .action = "delivered",
                     .query = "status=10x&messageid=" + std::string(kMsgUUID), .content_type = "",
                     .error = "parsing failed: status '10x' is not an integer"});
    cases.push_back({.label = "messageid not a UUID (an integer id)", .method = "GET", .action = "delivered",
                     .query = "status=10&messageid=12345", .content_type = "",
                     .error = "parsing failed: messageid '12345' is not a UUID"});
    cases.push_back({.label = "messageid a UUID with junk before the part", .method = "GET", .action = "delivered",
                     .query = "status=10&messageid=" + std::string(kMsgUUID) + "x.2", .content_type = "",
                     .error = "is not a UUID"});
    RunReceiveCases(h, DartChannel(t.code), cases);
  }
}

TEST(DartHandler, WebhookToken) {
  for (const auto& t : Types()) {
    DartHandler h(t.flavor);
    const auto config = std::map<std::string, std::string>{
        {"username", kUsername}, {"password", kPassword}, {"webhook_token", kWebhookToken}};
    RunReceiveCases(h, DartChannel(t.code, config),
                    WebhookTokenCases({.label = "a reply", .method = "GET", .action = "receive",
                                       .query = "original=6281234567890&sendto=2020&message=hi", .content_type = "",
                                       .msgs = {{.urn = kContact, .text = "hi"}}, .response_body = "000"}));
    RunReceiveCases(h, DartChannel(t.code, config),
                    WebhookTokenCases({.label = "a report", .method = "GET", .action = "delivered",
                                       .query = "status=10&messageid=" + std::string(kMsgUUID), .content_type = "",
                                       .statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUUID}},
                                       .response_body = "000"}));
  }
}

MockResponse Answer(const std::string& body) { return {.status = 200, .body = body, .content_type = "text/plain"}; }

TEST(DartHandler, Send) {
  for (const auto& t : Types()) {
    DartHandler h(t.flavor);
    const std::string path = t.send_path;
    auto sent = [&](const std::string& text, const std::string& message_id = kMsgUUID) {
      return ExpectedRequest{.method = "GET",
                             .path = path,
                             .params = {{"userid", kUsername},
                                        {"password", kPassword},
                                        {"sendto", "6281234567890"},
                                        {"original", "2020"},
                                        {"udhl", "0"},
                                        {"dcs", "0"},
                                        {"message", text},
                                        {"messageid", message_id}},
                             .headers = {{"content-type", "application/x-www-form-urlencoded"}}};
    };
    // Two parts at the type's limit.
    const std::string long_a(t.max_length - 10, 'a'), long_b(20, 'b');
    const std::string second_part_id = std::string(kMsgUUID) + ".2";
    RunSendCases(h, DartChannel(t.code), {
        {.label = "plain", .urn = kContact, .responses = {{path, Answer("000")}}, .requests = {sent("Simple Message")}},
        {.label = "unicode", .text = "Halo ☺", .urn = kContact, .responses = {{path, Answer("000")}},
         .requests = {sent("Halo ☺")}},
        {.label = "attachment as a link", .text = "My pic!", .urn = kContact,
         .attachments = {"image/jpeg:https://foo.bar/image.jpg"}, .responses = {{path, Answer("000")}},
         .requests = {sent("My pic!\nhttps://foo.bar/image.jpg")}},
        {.label = "long text split at the type's limit, parts numbered", .text = long_a + " " + long_b,
         .urn = kContact, .responses = {{path, Answer("000")}, {path, Answer("000")}}, .requests = {sent(long_a), sent(long_b, second_part_id)}},
        {.label = "white space before the code", .urn = kContact, .responses = {{path, Answer("\r\n000 OK")}},
         .requests = {sent("Simple Message")}},
        {.label = "001: authentication error", .urn = kContact, .responses = {{path, Answer("001")}},
         .status = MsgStatus::kFailed, .error = "received error code '001' from " + t.name + " (authentication error)",
         .requests = {sent("Simple Message")}},
        {.label = "101: account expired", .urn = kContact, .responses = {{path, Answer("101 expired")}},
         .status = MsgStatus::kFailed, .error = "'101' from " + t.name + " (account expired or invalid parameters)",
         .requests = {sent("Simple Message")}},
        {.label = "another code", .urn = kContact, .responses = {{path, Answer("999")}}, .status = MsgStatus::kFailed,
         .error = "received error code '999' from " + t.name, .requests = {sent("Simple Message")}},
        {.label = "empty answer", .urn = kContact, .responses = {{path, Answer("")}}, .status = MsgStatus::kFailed,
         .error = "received no result code from " + t.name, .requests = {sent("Simple Message")}},
        {.label = "a refused second part fails the msg", .text = long_a + " " + long_b, .urn = kContact,
         .responses = {{path, Answer("000")}, {path, Answer("001")}}, .status = MsgStatus::kFailed,
         .error = "'001'", .requests = {sent(long_a), sent(long_b, second_part_id)}},
        {.label = "500: retried", .urn = kContact, .responses = {{path, {.status = 500, .body = "000"}}},
         .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {sent("Simple Message")}},
        {.label = "401: failed", .urn = kContact, .responses = {{path, {.status = 401, .body = "001"}}},
         .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {sent("Simple Message")}},
        {.label = "429: throttled for Retry-After", .urn = kContact,
         .responses = {{path, {.status = 429, .body = "", .headers = {{"Retry-After", "9"}}}}},
         .status = MsgStatus::kErrored, .requests = {sent("Simple Message")}, .throttled_for_seconds = 9},
        {.label = "nothing to send", .text = "", .urn = kContact, .status = MsgStatus::kFailed,
         .error = "msg has no text or attachments", .requests = {}, .logs = 1},
    });
    RunSendCases(h, DartChannel(t.code, {{"username", kUsername}, {"password", kPassword}, {"max_length", "12"}}), {
        {.label = "channel max_length", .text = "Simple Message for you", .urn = kContact,
         .responses = {{path, Answer("000")}, {path, Answer("000")}, {path, Answer("000")}},
         .requests = {sent("Simple"), sent("Message for", second_part_id),
                      sent("you", std::string(kMsgUUID) + ".3")}},
    });
    for (const char* key : {"username", "password"}) {
      std::map<std::string, std::string> config = {{"username", kUsername}, {"password", kPassword}};
      config.erase(key);
      RunSendCases(h, DartChannel(t.code, config), {
          {.label = std::string("no ") + key + ": no request", .urn = kContact, .status = MsgStatus::kErrored,
           .error = std::string("no ") + key + " set for " + t.code + " channel", .requests = {}, .logs = 1},
      });
    }
  }
}

// What only Hub9's longer parts show: a text DartMedia splits goes whole.
TEST(DartHandler, Hub9SendsUpTo1600CharactersInOnePart) {
  DartHandler h(DartHandler::Flavor::kHub9);
  const std::string text(1000, 'x');
  RunSendCases(h, DartChannel("H9"), {
      {.label = "1000 characters, one request", .text = text, .urn = kContact,
       .responses = {{"/testing/smsmt.php", Answer("000")}}, .requests = {{.method = "GET", .path = "/testing/smsmt.php",
                     .params = {{"message", text}, {"messageid", kMsgUUID}}}}},
  });
}

}  // namespace
