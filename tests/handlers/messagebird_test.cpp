// MBD — MessageBird: signed incoming msgs in both layouts, the status
// reports by GET, the JSON sends to /messages and /mms.
#include "handlers/messagebird.h"

#include <set>

#include "handler_harness.h"
#include "handlers/common.h"
#include "handlers/google_service_account.h"
#include "webhook_token_cases.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kAccessKey = "mbd-access-Key9";
const char* kSigningKey = "mbd-signing-Key7";
const char* kMsgId = "b3f37dfd8c8d49a0bc35a1ea5fda9a2f";
constexpr Micros kCreated = 1462285617LL * kMicrosPerSecond;  // 2016-05-03T14:26:57Z

Channel MbdChannel(std::map<std::string, std::string> config = {{"auth_token", kAccessKey},
                                                                 {"secret", kSigningKey}}) {
  return TestChannel("MBD", "3197010260000", "NL", std::move(config));
}

// The URL the harness posts a webhook to, as MessageBird would sign it.
std::string WebhookUrl(const std::string& action, const std::string& host = kTestBaseUrl) {
  return host + "/c/MBD/" + std::string(kTestChannelUUID) + "/" + action + "/";
}

std::string Sha256Hex(const std::string& data) { return HexEncode(Digest(DigestAlgorithm::kSha256, data)); }

double NowSeconds() { return static_cast<double>(Clock::System().Now() / kMicrosPerSecond); }

// What goes into a Messagebird-Signature-JWT; by default a valid token for
// a webhook to `url` with `body`, as MessageBird issues them.
struct Token {
  std::string url = WebhookUrl("receive");
  std::string body;
  std::string secret = kSigningKey;
  std::string alg = "HS256";
  std::optional<std::string> exp = std::to_string(static_cast<int64_t>(NowSeconds() + 300));
  std::optional<std::string> nbf = std::to_string(static_cast<int64_t>(NowSeconds() - 5));
  std::string iat = std::to_string(static_cast<int64_t>(NowSeconds()));
  bool url_hash = true;
  bool payload_hash = true;
  std::string payload_hash_of;  // hash this instead of the body, when set
};

std::string Sign(const Token& t) {
  std::string claims = R"({"iss":"MessageBird","iat":)" + t.iat + R"(,"jti":"5c7b3b4c-2e0f-4a8e-9d8e-1f2a3b4c5d6e")";
  if (t.exp) claims += R"(,"exp":)" + *t.exp;
  if (t.nbf) claims += R"(,"nbf":)" + *t.nbf;
  if (t.url_hash) claims += R"(,"url_hash":")" + Sha256Hex(t.url) + "\"";
  if (t.payload_hash)
    claims += R"(,"payload_hash":")" + Sha256Hex(t.payload_hash_of.empty() ? t.body : t.payload_hash_of) + "\"";
  claims += "}";
  const std::string signed_part = handlers::Base64Url(R"({"alg":")" + t.alg + R"(","typ":"JWT"})") + "." +
                                  handlers::Base64Url(claims);
  const DigestAlgorithm digest = t.alg == "HS512" ? DigestAlgorithm::kSha512 : DigestAlgorithm::kSha256;
  return signed_part + "." + handlers::Base64Url(Hmac(digest, t.secret, signed_part));
}

// An incoming msg in the standard layout.
std::string Standard(const std::string& extra = "", const std::string& date = "2016-05-03T14%3A26%3A57%2B00%3A00") {
  return "id=" + std::string(kMsgId) + "&recipient=3197010260000&originator=31612345678" +
         "&body=This+is+an+incoming+message&createdDatetime=" + date + extra;
}

// An incoming msg in the short code layout.
std::string ShortCode(const std::string& date = "20160503142657") {
  return "mid=" + std::string(kMsgId) + "&shortcode=1008&keyword=MESSAGEBIRD&originator=31612345678" +
         "&operator=20401&message=This+is+an+incoming+message&receive_datetime=" + date;
}

// A receive case for `body`, signed with `token` (its body set to `body`).
ReceiveCase Signed(const std::string& label, const std::string& body, Token token = {}) {
  token.body = body;
  return {.label = label, .action = "receive", .body = body, .headers = {{"messagebird-signature-jwt", Sign(token)}}};
}

ReceiveCase Taken(ReceiveCase c, std::vector<ExpectedMsg> msgs) {
  c.msgs = std::move(msgs);
  c.response_body = "OK";
  return c;
}

ReceiveCase Refused(ReceiveCase c, const std::string& error) {
  c.error = error;
  c.unauthorized = true;
  return c;
}

ReceiveCase Failed(ReceiveCase c, const std::string& error) {
  c.error = error;
  return c;
}

const ExpectedMsg kIncoming = {.urn = "tel:+31612345678", .text = "This is an incoming message",
                               .external_id = kMsgId, .received_on = kCreated};

TEST(MessageBirdHandler, Routes) {
  MessageBirdHandler h;
  EXPECT_EQ(h.Code(), "MBD");
  std::set<std::string> routes;
  for (const auto& r : h.Routes()) routes.insert(r.method + " " + r.action);
  EXPECT_EQ(routes, (std::set<std::string>{"POST receive", "GET status"}));
}

TEST(MessageBirdHandler, Receive) {
  MessageBirdHandler h;
  RunReceiveCases(h, MbdChannel(), {
      Taken(Signed("standard layout", Standard()), {kIncoming}),
      Taken(Signed("short code layout", ShortCode()), {kIncoming}),
      Taken(Signed("a fraction after the seconds", Standard("", "2016-05-03T14%3A26%3A57.250%2B00%3A00")),
            {{.urn = "tel:+31612345678", .text = "This is an incoming message", .external_id = kMsgId,
              .received_on = kCreated + 250000}}),
      Taken(Signed("media only",
                   "id=m1&originator=31612345678&createdDatetime=2016-05-03T14%3A26%3A57%2B00%3A00"
                   "&mediaUrls=https%3A%2F%2Fmedia.messagebird.com%2Fa.jpg"
                   "&mediaUrls=https%3A%2F%2Fmedia.messagebird.com%2Fb.png"),
            {{.urn = "tel:+31612345678", .external_id = "m1",
              .attachments = {"https://media.messagebird.com/a.jpg", "https://media.messagebird.com/b.png"},
              .received_on = kCreated}}),
      Taken(Signed("text and media", Standard("&mediaUrls=https%3A%2F%2Fmedia.messagebird.com%2Fa.jpg")),
            {{.urn = "tel:+31612345678", .text = "This is an incoming message", .external_id = kMsgId,
              .attachments = {"https://media.messagebird.com/a.jpg"}, .received_on = kCreated}}),
      Failed(Signed("missing originator", "id=m1&body=hi&createdDatetime=2016-05-03T14%3A26%3A57%2B00%3A00"),
             "field 'originator' required"),
      Failed(Signed("no text or media", "id=m1&originator=31612345678&createdDatetime=2016-05-03T14%3A26%3A57%2B00%3A00"),
             "no text or media"),
      Failed(Signed("standard date with Z", Standard("", "2016-05-03T14%3A26%3A57Z")),
             "unable to parse date '2016-05-03T14:26:57Z': not in the layout 2006-01-02T15:04:05+00:00"),
      Failed(Signed("standard date with another offset", Standard("", "2016-05-03T14%3A26%3A57%2B02%3A00")),
             "unable to parse date '2016-05-03T14:26:57+02:00'"),
      Failed(Signed("no date", "id=m1&originator=31612345678&body=hi"), "unable to parse date ''"),
      Failed(Signed("short code date in the standard layout", ShortCode("2016-05-03T14%3A26%3A57%2B00%3A00")),
             "unable to parse date '2016-05-03T14:26:57+00:00': not in the layout 20060102150405"),
      Failed(Signed("short code date out of range", ShortCode("20161303142657")), "unable to parse date '20161303142657'"),
      Failed(Signed("originator not a number",
                    "id=m1&originator=%21%21&body=hi&createdDatetime=2016-05-03T14%3A26%3A57%2B00%3A00"),
             "invalid path for scheme 'tel': '!!' has no digits or letters"),
  });
}

// The signature covers the body and the URL without its query: fields are
// read from the body alone, never from a query an attacker could add.
TEST(MessageBirdHandler, ReceiveReadsOnlyTheSignedBody) {
  MessageBirdHandler h;
  ReceiveCase c = Signed("a text in the query", "id=m1&originator=31612345678&createdDatetime=2016-05-03T14%3A26%3A57%2B00%3A00");
  c.query = "body=injected";
  c.error = "no text or media";
  ReceiveCase taken = Taken(Signed("a query beside a signed body", Standard()), {kIncoming});
  taken.query = "shortcode=1";
  RunReceiveCases(h, MbdChannel(), {c, taken});
}

TEST(MessageBirdHandler, Signature) {
  MessageBirdHandler h;
  const std::string body = Standard();
  const std::string now = std::to_string(static_cast<int64_t>(NowSeconds()));
  auto with_header = [&](const std::string& label, const std::string& jwt) {
    return ReceiveCase{.label = label, .action = "receive", .body = body, .headers = {{"messagebird-signature-jwt", jwt}}};
  };
  // A token whose header claims `alg`, signed with HMAC-SHA256 anyway.
  auto claiming = [&](const std::string& alg) {
    Token t;
    t.body = body;
    const std::string valid = Sign(t);
    const std::string rest = valid.substr(valid.find('.'));
    const std::string header = handlers::Base64Url(R"({"alg":")" + alg + R"(","typ":"JWT"})");
    const std::string signed_part = header + rest.substr(0, rest.rfind('.'));
    return signed_part + "." + handlers::Base64Url(Hmac(DigestAlgorithm::kSha256, kSigningKey, signed_part));
  };
  const std::string valid = [&] {
    Token t;
    t.body = body;
    return Sign(t);
  }();
  RunReceiveCases(h, MbdChannel(), {
      Taken(Signed("HS256", body), {kIncoming}),
      Taken(Signed("HS512", body, {.alg = "HS512"}), {kIncoming}),
      Taken(Signed("no exp or nbf", body, {.exp = std::nullopt, .nbf = std::nullopt}), {kIncoming}),
      Taken(Signed("iat in the future is not checked", body,
                   {.iat = std::to_string(static_cast<int64_t>(NowSeconds() + 3600))}),
            {kIncoming}),
      Taken(Signed("no payload_hash", body, {.payload_hash = false}), {kIncoming}),
      Refused({.label = "no header", .action = "receive", .body = body}, "missing request signature"),
      Refused(Signed("another key", body, {.secret = "not-the-key"}), "token signature is invalid: signature is invalid"),
      Refused(with_header("signature altered", valid.substr(0, valid.size() - 2) + (valid.back() == 'A' ? "BB" : "AA")),
              "token signature is invalid: signature is invalid"),
      Refused(with_header("RS256 claimed", claiming("RS256")), "token is unverifiable: unexpected signing method: RS256"),
      Refused(with_header("none claimed", claiming("none")), "token is unverifiable: unexpected signing method: none"),
      Refused(with_header("HS384 claimed", claiming("HS384")), "unexpected signing method: HS384"),
      Refused(Signed("expired", body, {.exp = std::to_string(static_cast<int64_t>(NowSeconds() - 60))}),
              "token has invalid claims: token is expired"),
      Refused(Signed("expiring this second", body, {.exp = now, .nbf = std::nullopt}), "token is expired"),
      Refused(Signed("not valid yet", body, {.nbf = std::to_string(static_cast<int64_t>(NowSeconds() + 60))}),
              "token has invalid claims: token is not valid yet"),
      Refused(Signed("exp not a number", body, {.exp = "\"tomorrow\""}), "token has invalid claims: exp is invalid"),
      Refused(Signed("signed for another URL", body, {.url = WebhookUrl("status")}),
              "invalid request signature, signature doesn't match expected signature for URL."),
      Refused(Signed("signed for plain http", body, {.url = "http://courier.test/c/MBD/" + std::string(kTestChannelUUID) + "/receive/"}),
              "doesn't match expected signature for URL."),
      Refused(Signed("no url_hash", body, {.url_hash = false}), "doesn't match expected signature for URL."),
      Refused(Signed("signed for another body", body, {.payload_hash_of = Standard("&mediaUrls=x")}),
              "invalid request signature, signature doesn't match expected signature for body."),
      Refused(with_header("not a JWT", "Bearer abc"),
              "token is malformed: token contains an invalid number of segments"),
      Refused(with_header("four parts", valid + ".x"), "token is malformed: token contains an invalid number of segments"),
      Refused(with_header("header not base64url", "e30+." + valid.substr(valid.find('.') + 1)),
              "token is malformed: could not base64 decode header"),
      Refused(with_header("header not JSON", handlers::Base64Url("alg") + valid.substr(valid.find('.'))),
              "token is malformed: could not JSON decode header"),
  });
  // The signed URL takes the query off.
  ReceiveCase with_query = Taken(Signed("a query is not in the signed URL", body), {kIncoming});
  with_query.query = "from=mb";
  RunReceiveCases(h, MbdChannel(), {with_query});
}

TEST(MessageBirdHandler, SignatureConfig) {
  MessageBirdHandler h;
  const std::string body = Standard();
  // No signing key: our configuration is wrong, not the request (400).
  RunReceiveCases(h, MbdChannel({{"auth_token", kAccessKey}}), {Failed(Signed("no secret", body), "missing configsecret")});
  // MessageBird signs the URL it calls: on callback_domain when set.
  RunReceiveCases(h, MbdChannel({{"secret", kSigningKey}, {"callback_domain", "mb.example.com"}}), {
      Taken(Signed("signed on callback_domain", body, {.url = WebhookUrl("receive", "https://mb.example.com")}),
            {kIncoming}),
      Refused(Signed("signed on the base URL", body), "doesn't match expected signature for URL."),
  });
}

const char* kMsgUuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";

std::string StatusQuery(const std::string& status, const std::string& extra = "") {
  return "id=" + std::string(kMsgId) + "&reference=0191e180-7d60-7000-aded-7d8b151cbd5b&recipient=31612345678" +
         "&status=" + status + "&statusDatetime=2016-05-03T14%3A26%3A57%2B00%3A00" + extra;
}

ReceiveCase Status(const std::string& label, const std::string& query) {
  return {.label = label, .method = "GET", .action = "status", .query = query, .content_type = ""};
}

TEST(MessageBirdHandler, StatusReports) {
  MessageBirdHandler h;
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<std::string, MsgStatus>> table = {
      {"scheduled", MsgStatus::kSent},    {"sent", MsgStatus::kSent},     {"buffered", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered}, {"delivery_failed", MsgStatus::kFailed}, {"expired", MsgStatus::kFailed},
  };
  for (const auto& [value, status] : table) {
    ReceiveCase c = Status(value, StatusQuery(value));
    c.statuses = {{.status = status, .msg_uuid = kMsgUuid}};
    cases.push_back(c);
  }
  ReceiveCase stop = Status("103: the recipient sent STOP",
                            StatusQuery("delivery_failed", "&statusReason=unknown+subscriber&statusErrorCode=103"));
  stop.statuses = {{.status = MsgStatus::kFailed, .msg_uuid = kMsgUuid}};
  stop.stop_urns = {"tel:+31612345678"};
  cases.push_back(stop);
  ReceiveCase other_code = Status("another error code stops no one", StatusQuery("delivery_failed", "&statusErrorCode=104"));
  other_code.statuses = {{.status = MsgStatus::kFailed, .msg_uuid = kMsgUuid}};
  cases.push_back(other_code);
  ReceiveCase no_date = Status("no date, no reference: by id", "id=" + std::string(kMsgId) + "&status=delivered");
  no_date.statuses = {{.status = MsgStatus::kDelivered, .external_id = kMsgId}};
  cases.push_back(no_date);
  ReceiveCase other_reference = Status("a reference not ours: by id",
                                       "id=" + std::string(kMsgId) + "&reference=order-17&status=delivered");
  other_reference.statuses = {{.status = MsgStatus::kDelivered, .external_id = kMsgId}};
  cases.push_back(other_reference);
  ReceiveCase only_reference = Status("reference without id", "reference=0191E180-7D60-7000-ADED-7D8B151CBD5B&status=sent");
  only_reference.statuses = {{.status = MsgStatus::kSent, .msg_uuid = kMsgUuid}};
  cases.push_back(only_reference);

  ReceiveCase unknown = Status("unknown status", StatusQuery("queued"));
  unknown.error = "unknown status 'queued', must be one of 'scheduled', 'sent', 'buffered', 'delivered', "
                  "'delivery_failed' or 'expired'";
  cases.push_back(unknown);
  ReceiveCase no_id = Status("no id", "status=delivered");
  no_id.error = "field 'id' required";
  cases.push_back(no_id);
  ReceiveCase bad_date = Status("date not RFC 3339", "id=" + std::string(kMsgId) +
                                                         "&status=delivered&statusDatetime=20160503142657");
  bad_date.ignored = "no msg status, ignoring";
  cases.push_back(bad_date);
  ReceiveCase bad_code = Status("error code not a number", StatusQuery("delivery_failed", "&statusErrorCode=abc"));
  bad_code.ignored = "no msg status, ignoring";
  cases.push_back(bad_code);
  RunReceiveCases(h, MbdChannel(), cases);
}

// Status reports are not signed: a webhook_token, when set, must come with them.
TEST(MessageBirdHandler, StatusWebhookToken) {
  MessageBirdHandler h;
  ReceiveCase taken = Status("delivered", StatusQuery("delivered"));
  taken.statuses = {{.status = MsgStatus::kDelivered, .msg_uuid = kMsgUuid}};
  RunReceiveCases(h, MbdChannel({{"auth_token", kAccessKey}, {"secret", kSigningKey}, {"webhook_token", kWebhookToken}}),
                  WebhookTokenCases(taken));
}

const char* kSmsPath = "/messages";
const char* kMmsPath = "/mms";
const char* kUuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";

MockResponse Created(const std::string& id) {
  return {.status = 201, .body = R"({"id":")" + id + R"(","href":"https://rest.messagebird.com/messages/)" + id +
                                 R"(","direction":"mt","type":"sms","originator":"3197010260000","body":"Simple Message",)"
                                 R"("reference":")" + kUuid + R"(","recipients":{"totalCount":1,"totalSentCount":1}})"};
}

std::string SmsBody(const std::string& text) {
  return R"({"recipients":["+250788383383"],"reference":")" + std::string(kUuid) +
         R"(","originator":"3197010260000","body":")" + text + "\"}";
}

TEST(MessageBirdHandler, Send) {
  MessageBirdHandler h;
  const std::string long_text(2000, 'a');
  const std::map<std::string, std::string> headers = {{"authorization", std::string("AccessKey ") + kAccessKey},
                                                      {"content-type", "application/json"}};
  RunSendCases(h, MbdChannel(), {
      {.label = "plain", .responses = {{kSmsPath, Created("efa6405d518d4c0c88cce11f7db775fb")}},
       .external_id = "efa6405d518d4c0c88cce11f7db775fb",
       .requests = {{.path = kSmsPath, .headers = headers, .body = SmsBody("Simple Message")}}},
      {.label = "unicode", .text = "Mwaramutse ☺", .responses = {{kSmsPath, Created("u1")}}, .external_id = "u1",
       .requests = {{.path = kSmsPath, .body = SmsBody("Mwaramutse ☺")}}},
      {.label = "a long text is one request", .text = long_text, .responses = {{kSmsPath, Created("l1")}},
       .external_id = "l1", .requests = {{.path = kSmsPath, .body = SmsBody(long_text)}}},
      {.label = "attachments go as MMS", .text = "My pics",
       .attachments = {"image/jpeg:https://foo.bar/a.jpg", "image/png:https://foo.bar/b.png"},
       .responses = {{kMmsPath, Created("m1")}}, .external_id = "m1",
       .requests = {{.path = kMmsPath, .headers = headers,
                     .body = R"({"recipients":["+250788383383"],"reference":")" + std::string(kUuid) +
                             R"(","originator":"3197010260000","body":"My pics",)"
                             R"("mediaUrls":["https://foo.bar/a.jpg","https://foo.bar/b.png"]})"}}},
      {.label = "attachment without text: no body", .text = "", .attachments = {"image/jpeg:https://foo.bar/a.jpg"},
       .responses = {{kMmsPath, Created("m2")}}, .external_id = "m2",
       .requests = {{.path = kMmsPath,
                     .body = R"({"recipients":["+250788383383"],"reference":")" + std::string(kUuid) +
                             R"(","originator":"3197010260000","mediaUrls":["https://foo.bar/a.jpg"]})"}}},
      {.label = "2xx without an id: still wired", .responses = {{kSmsPath, {.status = 201, .body = R"({"href":"x"})"}}},
       .requests = {{.path = kSmsPath}}},
      {.label = "2xx not JSON: still wired", .responses = {{kSmsPath, {.status = 200, .body = "OK", .content_type = "text/plain"}}},
       .requests = {{.path = kSmsPath}}},
      {.label = "422: failed with MessageBird's reason",
       .responses = {{kSmsPath, {.status = 422, .body = R"({"errors":[{"code":9,"description":"no (correct) recipients found","parameter":"recipients"}]})"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 422: no (correct) recipients found",
       .requests = {{.path = kSmsPath}}},
      {.label = "401: failed",
       .responses = {{kSmsPath, {.status = 401, .body = R"json({"errors":[{"code":2,"description":"Request not allowed (incorrect access_key)","parameter":"access_key"}]})json"}}},
       .status = MsgStatus::kFailed, .error = "incorrect access_key", .requests = {{.path = kSmsPath}}},
      {.label = "500: retried", .responses = {{kSmsPath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = kSmsPath}}},
      {.label = "429: throttled", .responses = {{kSmsPath, {.status = 429, .body = "{}", .headers = {{"Retry-After", "7"}}}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 429", .requests = {{.path = kSmsPath}},
       .throttled_for_seconds = 7},
      {.label = "nothing to send", .text = "", .status = MsgStatus::kFailed, .error = "msg has no text or attachments",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, MbdChannel({{"secret", kSigningKey}}), {
      {.label = "no auth_token: no request", .status = MsgStatus::kErrored, .error = "no auth_token set for MBD channel",
       .requests = {}, .logs = 1},
  });
}

}  // namespace
