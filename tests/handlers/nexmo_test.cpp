// NX — Vonage (Nexmo): receive, delivery receipt, signed webhook and send
// tables.
#include "handlers/nexmo.h"

#include <algorithm>
#include <set>

#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr Micros kTs = 1493735509LL * kMicrosPerSecond;  // 2017-05-02 14:31:49 UTC
const char* kSecret = "sigsecret123";

Channel NxChannel(std::map<std::string, std::string> config = {}) {
  std::map<std::string, std::string> base = {{"nexmo_api_key", "nxkey"}, {"nexmo_api_secret", "nxsecret-s3cret"}};
  for (auto& [k, v] : config) base[k] = v;
  return TestChannel("NX", "2020", "US", std::move(base));
}

std::string Query(const Params& p) { return FormEncode(p); }

// An inbound SMS as Vonage sends it (values used for the signature
// known answers below).
Params Inbound(const Params& extra = {}, const std::vector<std::string>& drop = {}) {
  Params p = {{"msisdn", "2349067554729"},
              {"to", "2020"},
              {"messageId", "external1"},
              {"text", "Join"},
              {"type", "text"},
              {"keyword", "JOIN"},
              {"message-timestamp", "2017-05-02 14:31:49"}};
  for (const auto& name : drop)
    p.erase(std::remove_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == name; }), p.end());
  for (const auto& field : extra) {
    // Not a structured binding: clang 14 (the Sanitize build's) cannot
    // capture one in a lambda.
    auto it = std::find_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == field.first; });
    if (it != p.end()) it->second = field.second;
    else p.push_back(field);
  }
  return p;
}

Params Receipt(const std::string& status, const Params& extra = {}) {
  Params p = {{"msisdn", "250788383383"}, {"to", "2020"},        {"network-code", "63510"},
              {"messageId", "external1"},  {"price", "0.03330000"}, {"status", status},
              {"scts", "1707021431"},      {"err-code", "0"},     {"message-timestamp", "2017-05-02 14:31:49"}};
  for (const auto& field : extra) {
    // Not a structured binding: clang 14 (the Sanitize build's) cannot
    // capture one in a lambda.
    auto it = std::find_if(p.begin(), p.end(), [&](const auto& kv) { return kv.first == field.first; });
    if (it != p.end()) it->second = field.second;
    else p.push_back(field);
  }
  return p;
}

TEST(NexmoHandler, Routes) {
  NexmoHandler h;
  EXPECT_EQ(h.Code(), "NX");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"GET receive", "POST receive", "GET status", "POST status"}));
}

TEST(NexmoHandler, Receive) {
  NexmoHandler h;
  const ExpectedMsg join = {.urn = "tel:+2349067554729", .text = "Join", .external_id = "external1", .received_on = kTs};
  RunReceiveCases(h, NxChannel(), {
      {.label = "valid GET", .method = "GET", .action = "receive", .query = Query(Inbound()), .content_type = "",
       .msgs = {join}},
      {.label = "valid POST form", .action = "receive", .body = FormEncode(Inbound()), .msgs = {join}},
      {.label = "valid POST-JSON", .action = "receive",
       .body = R"({"msisdn":"2349067554729","to":"2020","messageId":"external1","text":"Join","type":"text",)"
               R"("keyword":"JOIN","message-timestamp":"2017-05-02 14:31:49"})",
       .content_type = "application/json", .msgs = {join}},
      {.label = "POST with params in the query", .action = "receive", .query = Query(Inbound()), .msgs = {join}},
      {.label = "unicode", .method = "GET", .action = "receive",
       .query = Query(Inbound({{"text", "Mwaramutse ☺ é"}, {"type", "unicode"}})), .content_type = "",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Mwaramutse ☺ é", .external_id = "external1"}}},
      {.label = "no message-timestamp", .method = "GET", .action = "receive",
       .query = Query(Inbound({}, {"message-timestamp"})), .content_type = "",
       .msgs = {{.urn = "tel:+2349067554729", .text = "Join", .external_id = "external1"}}},
      {.label = "concatenated part is a msg of its own", .method = "GET", .action = "receive",
       .query = Query(Inbound({{"concat", "true"}, {"concat-ref", "1"}, {"concat-total", "2"}, {"concat-part", "1"}})),
       .content_type = "", .msgs = {join}},
      {.label = "bad message-timestamp", .method = "GET", .action = "receive",
       .query = Query(Inbound({{"message-timestamp", "2017-05-02T14:31:49"}})), .content_type = "",
       .error = "invalid message-timestamp"},
      {.label = "no to: Vonage's URL check, ignored", .method = "GET", .action = "receive", .content_type = "",
       .ignored = "no to parameter"},
      {.label = "binary message ignored", .method = "GET", .action = "receive",
       .query = Query(Inbound({{"type", "binary"}, {"data", "0102"}, {"udh", "050003"}}, {"text"})),
       .content_type = "", .ignored = "binary message"},
      {.label = "missing msisdn", .method = "GET", .action = "receive", .query = Query(Inbound({}, {"msisdn"})),
       .content_type = "", .error = "field 'msisdn' required"},
      {.label = "missing messageId", .method = "GET", .action = "receive", .query = Query(Inbound({}, {"messageId"})),
       .content_type = "", .error = "field 'messageId' required"},
      {.label = "missing text", .method = "GET", .action = "receive", .query = Query(Inbound({}, {"text"})),
       .content_type = "", .error = "field 'text' required"},
      {.label = "malformed JSON", .action = "receive", .body = "{\"msisdn\":", .content_type = "application/json",
       .error = "unable to parse request JSON"},
  });
}

TEST(NexmoHandler, Status) {
  NexmoHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<std::string, MsgStatus>> table = {
      {"delivered", MsgStatus::kDelivered}, {"accepted", MsgStatus::kSent}, {"buffered", MsgStatus::kSent},
      {"expired", MsgStatus::kFailed},      {"failed", MsgStatus::kFailed}, {"rejected", MsgStatus::kFailed},
      {"unknown", MsgStatus::kWired},
  };
  for (const auto& [word, status] : table)
    cases.push_back({.label = "status " + word, .method = "GET", .action = "status", .query = Query(Receipt(word)),
                     .content_type = "", .statuses = {{.status = status, .external_id = "external1"}}});
  cases.push_back({.label = "POST form receipt", .action = "status", .body = FormEncode(Receipt("delivered")),
                   .statuses = {{.status = MsgStatus::kDelivered, .external_id = "external1"}}});
  cases.push_back({.label = "POST-JSON receipt", .action = "status",
                   .body = R"({"msisdn":"250788383383","to":"2020","messageId":"external1","status":"delivered",)"
                           R"("err-code":"0"})",
                   .content_type = "application/json",
                   .statuses = {{.status = MsgStatus::kDelivered, .external_id = "external1"}}});
  // Theme 4: a receipt status outside Vonage's table is answered 200 with
  // an info entry; refused, Vonage would resend it for a day.
  cases.push_back({.label = "unknown status ignored", .method = "GET", .action = "status",
                   .query = Query(Receipt("blah")), .content_type = "", .ignored = "unknown status 'blah', ignored"});
  cases.push_back({.label = "unknown status in a POST-JSON receipt ignored", .action = "status",
                   .body = R"({"msisdn":"250788383383","to":"2020","messageId":"external1","status":"deleted",)"
                           R"("err-code":"0"})",
                   .content_type = "application/json", .ignored = "unknown status 'deleted', ignored"});
  cases.push_back({.label = "missing messageId", .method = "GET", .action = "status",
                   .query = "status=delivered&msisdn=250788383383", .content_type = "",
                   .error = "field 'messageId' required"});
  cases.push_back({.label = "missing status", .method = "GET", .action = "status", .query = "messageId=external1",
                   .content_type = "", .error = "field 'status' required"});
  cases.push_back({.label = "err-code 9: opted out, stop", .method = "GET", .action = "status",
                   .query = Query(Receipt("failed", {{"err-code", "9"}})), .content_type = "",
                   .statuses = {{.status = MsgStatus::kFailed, .external_id = "external1"}},
                   .stop_urns = {"tel:+250788383383"}});
  cases.push_back({.label = "err-code 9 on rejected, stop", .method = "GET", .action = "status",
                   .query = Query(Receipt("rejected", {{"err-code", "9"}})), .content_type = "",
                   .statuses = {{.status = MsgStatus::kFailed, .external_id = "external1"}},
                   .stop_urns = {"tel:+250788383383"}});
  cases.push_back({.label = "other err-code does not stop", .method = "GET", .action = "status",
                   .query = Query(Receipt("failed", {{"err-code", "6"}})), .content_type = "",
                   .statuses = {{.status = MsgStatus::kFailed, .external_id = "external1"}}});
  RunReceiveCases(h, NxChannel(), cases);
}

// Known answers computed outside courier (Python hashlib/hmac) over these
// params, with secret "sigsecret123": the text holds '&' and '=', which
// the signature replaces with '_'.
Params SignedInbound(const std::string& sig) {
  return Inbound({{"text", "Join & win = prizes"}, {"timestamp", "1493735509"}, {"nonce", "a4b2c9d1"}, {"sig", sig}});
}

TEST(NexmoHandler, SignedWebhooks) {
  NexmoHandler h;
  const ExpectedMsg msg = {.urn = "tel:+2349067554729", .text = "Join & win = prizes", .external_id = "external1"};
  const std::string md5hash = "3f3890f973a33bc485b465aa496c7509";
  RunReceiveCases(h, NxChannel({{"signature_secret", kSecret}}), {
      {.label = "md5hash (default) valid", .method = "GET", .action = "receive",
       .query = Query(SignedInbound(md5hash)), .content_type = "", .msgs = {msg}},
      {.label = "md5hash in upper case", .method = "GET", .action = "receive",
       .query = Query(SignedInbound("3F3890F973A33BC485B465AA496C7509")), .content_type = "", .msgs = {msg}},
      {.label = "POST form signed", .action = "receive", .body = FormEncode(SignedInbound(md5hash)), .msgs = {msg}},
      {.label = "missing sig", .method = "GET", .action = "receive", .query = Query(Inbound()), .content_type = "",
       .error = "missing request signature", .unauthorized = true},
      {.label = "wrong sig", .method = "GET", .action = "receive",
       .query = Query(SignedInbound("3f3890f973a33bc485b465aa496c7500")), .content_type = "",
       .error = "invalid request signature", .unauthorized = true},
      {.label = "text changed after signing", .method = "GET", .action = "receive",
       .query = Query(Inbound({{"text", "Join & win"}, {"timestamp", "1493735509"}, {"nonce", "a4b2c9d1"},
                               {"sig", md5hash}})),
       .content_type = "", .error = "invalid request signature", .unauthorized = true},
      {.label = "signed receipt", .method = "GET", .action = "status",
       .query = Query(Receipt("delivered", {{"timestamp", "1493735509"}, {"nonce", "f00d"},
                                            {"sig", "9dee5c0a8fd2ed194d668f449da213ca"}})),
       .content_type = "", .statuses = {{.status = MsgStatus::kDelivered, .external_id = "external1"}}},
      {.label = "unsigned receipt", .method = "GET", .action = "status", .query = Query(Receipt("delivered")),
       .content_type = "", .error = "missing request signature", .unauthorized = true},
  });

  const std::vector<std::pair<std::string, std::string>> hmacs = {
      {"md5", "71db813bf9f80ec4a53483a389d43f6c"},
      {"sha1", "6dae2c893aa42b036995c7b3bc6b6ede85fc4879"},
      {"sha256", "13dc2f523dd86ca66da0f1b6129360dcfd0f8f66eee6c60a5c4b3b6489f26520"},
      {"sha512", "d900899afe4c94af330fc6bb978570909200bc136c95b768b1f94b2b40af0331ed9e10d83d3dbebf0675a6bb34f4b22"
                 "8e8d17bef105fd403f59e824d4c22595d"},
  };
  for (const auto& [method, sig] : hmacs) {
    RunReceiveCases(h, NxChannel({{"signature_secret", kSecret}, {"signature_method", method}}), {
        {.label = method + " valid", .method = "GET", .action = "receive", .query = Query(SignedInbound(sig)),
         .content_type = "", .msgs = {msg}},
        {.label = method + " rejects the md5hash answer", .method = "GET", .action = "receive",
         .query = Query(SignedInbound(md5hash)), .content_type = "", .error = "invalid request signature",
         .unauthorized = true},
    });
  }

  RunReceiveCases(h, NxChannel({{"signature_secret", kSecret}, {"signature_method", "sha3"}}), {
      {.label = "unknown method is a config error", .method = "GET", .action = "receive",
       .query = Query(SignedInbound(md5hash)), .content_type = "", .error = "unknown signature_method 'sha3'"},
  });
}

const char* kPath = "/sms/json";

MockResponse Accepted(const std::string& id) {
  return {.body = R"({"message-count":"1","messages":[{"to":"250788383383","message-id":")" + id +
                  R"(","status":"0","remaining-balance":"15.53590000","message-price":"0.03330000","network":"63510"}]})"};
}

MockResponse Rejected(const std::string& status, const std::string& error_text) {
  return {.body = R"({"message-count":"1","messages":[{"status":")" + status + R"(","error-text":")" + error_text +
                  R"("}]})"};
}

std::string Callback() { return std::string(kTestBaseUrl) + "/c/nx/" + kTestChannelUUID + "/status"; }

TEST(NexmoHandler, Send) {
  NexmoHandler h;
  const std::string long_a(1590, 'a'), long_b(20, 'b');
  RunSendCases(h, NxChannel(), {
      {.label = "plain", .responses = {{kPath, Accepted("1002")}}, .external_id = "1002",
       .requests = {{.path = kPath,
                     .headers = {{"content-type", "application/x-www-form-urlencoded"}},
                     .body = FormEncode({{"api_key", "nxkey"}, {"api_secret", "nxsecret-s3cret"}, {"from", "2020"},
                                         {"to", "250788383383"}, {"text", "Simple Message"}, {"type", "text"},
                                         {"status-report-req", "1"}, {"callback", Callback()},
                                         {"client-ref", "10"}})}}},
      {.label = "unicode", .text = "Mwaramutse ☺", .responses = {{kPath, Accepted("1003")}}, .external_id = "1003",
       .requests = {{.path = kPath, .form = {{"text", "Mwaramutse ☺"}, {"type", "unicode"}}}}},
      {.label = "GSM7 accents stay text", .text = "é à Ü {€}", .responses = {{kPath, Accepted("1004")}},
       .external_id = "1004", .requests = {{.path = kPath, .form = {{"text", "é à Ü {€}"}, {"type", "text"}}}}},
      {.label = "attachment as link", .text = "My pic!", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kPath, Accepted("1005")}}, .external_id = "1005",
       .requests = {{.path = kPath, .form = {{"text", "My pic!\nhttps://foo.bar/image.jpg"}}}}},
      {.label = "long text split, first id kept", .text = long_a + " " + long_b,
       .responses = {{kPath, Accepted("1006")}, {kPath, Accepted("1007")}}, .external_id = "1006",
       .requests = {{.path = kPath, .form = {{"text", long_a}}}, {.path = kPath, .form = {{"text", long_b}}}}},
      {.label = "second part fails", .text = long_a + " " + long_b,
       .responses = {{kPath, Accepted("1008")}, {kPath, Rejected("5", "Internal Error")}},
       .status = MsgStatus::kErrored, .error = "received error status '5' from nexmo: Internal Error",
       .requests = {{.path = kPath}, {.path = kPath}}},
      {.label = "numeric status", .responses = {{kPath, {.body = R"({"messages":[{"message-id":"1009","status":0}]})"}}},
       .external_id = "1009", .requests = {{.path = kPath}}},
      // Theme 3: the status codes Vonage documents as unchangeable fail at
      // once, with Vonage's error-text as the reason.
      {.label = "2 missing parameters", .responses = {{kPath, Rejected("2", "Missing to param")}},
       .status = MsgStatus::kFailed, .error = "received error status '2' from nexmo: Missing to param",
       .requests = {{.path = kPath}}},
      {.label = "3 invalid parameters", .responses = {{kPath, Rejected("3", "Invalid to address")}},
       .status = MsgStatus::kFailed, .error = "received error status '3' from nexmo: Invalid to address",
       .requests = {{.path = kPath}}},
      {.label = "4 invalid credentials", .responses = {{kPath, Rejected("4", "Bad Credentials")}},
       .status = MsgStatus::kFailed, .error = "received error status '4' from nexmo: Bad Credentials",
       .requests = {{.path = kPath}}},
      {.label = "8 partner account barred", .responses = {{kPath, Rejected("8", "Partner account barred")}},
       .status = MsgStatus::kFailed, .error = "received error status '8'", .requests = {{.path = kPath}}},
      {.label = "9 partner quota exceeded", .responses = {{kPath, Rejected("9", "Partner quota exceeded")}},
       .status = MsgStatus::kFailed, .error = "received error status '9' from nexmo: Partner quota exceeded",
       .requests = {{.path = kPath}}},
      {.label = "12 message too long", .responses = {{kPath, Rejected("12", "Message too long")}},
       .status = MsgStatus::kFailed, .error = "received error status '12'", .requests = {{.path = kPath}}},
      {.label = "15 invalid sender", .responses = {{kPath, Rejected("15", "Illegal Sender Address - rejected")}},
       .status = MsgStatus::kFailed, .error = "received error status '15' from nexmo: Illegal Sender Address",
       .requests = {{.path = kPath}}},
      {.label = "29 non-whitelisted destination",
       .responses = {{kPath, Rejected("29", "Non White-listed Destination - rejected")}},
       .status = MsgStatus::kFailed, .error = "received error status '29'", .requests = {{.path = kPath}}},
      {.label = "33 number de-activated", .responses = {{kPath, Rejected("33", "Number de-activated")}},
       .status = MsgStatus::kFailed, .error = "received error status '33'", .requests = {{.path = kPath}}},
      {.label = "5 internal error is retried", .responses = {{kPath, Rejected("5", "Internal Error")}},
       .status = MsgStatus::kErrored, .error = "received error status '5' from nexmo: Internal Error",
       .requests = {{.path = kPath}}},
      {.label = "a status code outside the table is retried", .responses = {{kPath, Rejected("99", "Something new")}},
       .status = MsgStatus::kErrored, .error = "received error status '99'", .requests = {{.path = kPath}}},
      {.label = "HTTP 401 is permanent",
       .responses = {{kPath, {.status = 401, .body = R"({"type":"https://developer.nexmo.com/api-errors#unauthorized",)"
                                                     R"("title":"Invalid credentials supplied"})"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = kPath}}},
      {.label = "throttled: wait from error-text", .responses = {{kPath, Rejected("1", "Throughput Rate Exceeded - please wait [ 1500 ] and retry")}},
       .status = MsgStatus::kErrored, .error = "received error status '1'", .requests = {{.path = kPath}},
       .throttled_for_seconds = 2},
      {.label = "throttled without a wait", .responses = {{kPath, Rejected("1", "Throughput Rate Exceeded")}},
       .status = MsgStatus::kErrored, .requests = {{.path = kPath}}, .throttled_for_seconds = 1},
      {.label = "too many binds: back off", .responses = {{kPath, Rejected("10", "Too many existing binds")}},
       .status = MsgStatus::kErrored, .requests = {{.path = kPath}}, .throttled_for_seconds = 1},
      {.label = "HTTP 429", .responses = {{kPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 429", .requests = {{.path = kPath}},
       .throttled_for_seconds = 7},
      {.label = "number barred: failed and stopped", .responses = {{kPath, Rejected("7", "Number barred.")}},
       .status = MsgStatus::kFailed, .error = "received error status '7'", .stop_contact = true,
       .requests = {{.path = kPath}}},
      {.label = "invalid message: permanent", .responses = {{kPath, Rejected("6", "Unroutable message")}},
       .status = MsgStatus::kFailed, .error = "received error status '6'", .requests = {{.path = kPath}}},
      // Accepted without the id receipts carry: a retry could send twice.
      {.label = "no message-id", .responses = {{kPath, {.body = R"({"messages":[{"status":"0"}]})"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message-id from body", .requests = {{.path = kPath}}},
      {.label = "200 not JSON", .responses = {{kPath, {.status = 200, .body = "ok", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "unable to get message-id from body", .requests = {{.path = kPath}}},
      {.label = "500 not JSON", .responses = {{kPath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = kPath}}},
  });

  // Theme 2: the channel's max_length, one request per part, first id kept.
  RunSendCases(h, NxChannel({{"max_length", "12"}}), {
      {.label = "max_length 12", .text = "Hello there my friend",
       .responses = {{kPath, Accepted("3001")}, {kPath, Accepted("3002")}}, .external_id = "3001",
       .requests = {{.path = kPath, .form = {{"text", "Hello there"}}},
                    {.path = kPath, .form = {{"text", "my friend"}}}}},
  });

  RunSendCases(h, TestChannel("NX", "+12065551212", "US", {{"api_key", "k2"}, {"api_secret", "s2-secret"}}), {
      {.label = "api_key/api_secret names, '+' stripped from from", .responses = {{kPath, Accepted("2001")}},
       .external_id = "2001",
       .requests = {{.path = kPath, .form = {{"api_key", "k2"}, {"api_secret", "s2-secret"}, {"from", "12065551212"}}}}},
  });
  RunSendCases(h, TestChannel("NX", "2020", "US", {{"nexmo_api_key", "nxkey"}}), {
      {.label = "no secret: no request", .status = MsgStatus::kErrored,
       .error = "no nexmo_api_secret or api_secret set for NX channel", .requests = {}, .logs = 1},
  });
}

}  // namespace
