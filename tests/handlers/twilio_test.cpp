// TW/T/TMS/TWA/SW — Twilio and Twilio-compatible: signature, receive,
// status and send tables.
#include "handlers/twilio.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include "core/clock.h"
#include "handler_harness.h"
#include "handlers/common.h"

using namespace courier;
using namespace courier::testing;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

const char* kAccountSid = "AC9b5f6c8a";
const char* kAuthToken = "authtoken6789";
const char* kBasicAuth = "Basic QUM5YjVmNmM4YTphdXRodG9rZW42Nzg5";  // base64("AC9b5f6c8a:authtoken6789")
const char* kTwiML = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
const char* kMessagesPath = "/2010-04-01/Accounts/AC9b5f6c8a/Messages.json";

Channel TwChannel(const std::string& code = "TW", std::map<std::string, std::string> config = {
                                                      {"account_sid", kAccountSid}, {"auth_token", kAuthToken}}) {
  return TestChannel(code, "+12065551212", "US", std::move(config));
}

Channel TwaChannel() {
  return TestChannel("TWA", "+12065551212", "US", {{"account_sid", kAccountSid}, {"auth_token", kAuthToken}},
                     {"whatsapp"});
}

// What Twilio would put in X-Twilio-Signature for a POST of `params` to
// the harness's URL (kTestBaseUrl + "/c/<code>/<uuid>/<action>/"):
// base64(HMAC-SHA1(token, url + key1 + value1 + ...)), keys sorted.
std::string Signature(const std::string& code, const std::string& action, Params params,
                      const std::string& token = kAuthToken) {
  std::string data = std::string(kTestBaseUrl) + "/c/" + code + "/" + kTestChannelUUID + "/" + action + "/";
  std::sort(params.begin(), params.end());
  for (const auto& [k, v] : params) data += k + v;
  return courier::HmacSha1Base64(token, data);
}

// A case whose body is `params`, signed as Twilio would sign it.
ReceiveCase Signed(const std::string& code, ReceiveCase c, const Params& params) {
  c.body = FormEncode(params);
  c.headers["x-twilio-signature"] = Signature(code, c.action, params);
  return c;
}

// `p` with `extra` values replacing or adding fields and `drop` removed.
Params Merge(Params p, const Params& extra, const std::vector<std::string>& drop = {}) {
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

// An incoming SMS as Twilio posts it.
Params Incoming(const Params& extra = {}, const std::vector<std::string>& drop = {}) {
  return Merge({{"ToCountry", "US"}, {"MessageSid", "SMe287d7109a5a925f182f0e07fe5b223b"},
                {"AccountSid", kAccountSid}, {"From", "+14133881111"}, {"To", "+12065551212"},
                {"Body", "Hello World"}, {"FromCountry", "US"}, {"NumMedia", "0"}},
               extra, drop);
}

// A status callback for an outgoing msg to +250788383383.
Params StatusParams(const std::string& status, const Params& extra = {}) {
  return Merge({{"MessageSid", "SMe287d7109a5a925f182f0e07fe5b223b"}, {"MessageStatus", status},
                {"AccountSid", kAccountSid}, {"To", "+250788383383"}, {"From", "+12065551212"}},
               extra);
}

const char* kBase64Body =
    "QmFubm9uIEV4cGxhaW5zIFRoZSBXb3JsZCDigKYg4oCcVGhlIENhbXAgb2YgdGhlIFNhaW50c+KAnSBpcyBhIG5vdmVsIGFib3V0IG1pZ3JhbnRz";
const char* kBinaryBase64 =
    "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7S1tre4ubq7vL2+vw==";
const char* kPlainLong = "This is a plain text message of more than sixty characters, not base64.";

TEST(TwilioHandler, Receive) {
  TwilioHandler h("TW", "Twilio");
  const std::string sid = "SMe287d7109a5a925f182f0e07fe5b223b";
  RunReceiveCases(h, TwChannel(), {
      Signed("TW", {.label = "valid", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111", .text = "Hello World", .external_id = sid}},
                    .response_body = kTwiML}, Incoming()),
      Signed("TW", {.label = "national number in FromCountry", .action = "receive",
                    .msgs = {{.urn = "tel:+250788383383", .text = "Hello World", .external_id = sid}}},
             Incoming({{"From", "0788383383"}, {"FromCountry", "RW"}})),
      Signed("TW", {.label = "no FromCountry: channel country", .action = "receive",
                    .msgs = {{.urn = "tel:+12012345678", .text = "Hello World", .external_id = sid}}},
             Incoming({{"From", "2012345678"}}, {"FromCountry"})),
      Signed("TW", {.label = "base64 body decoded", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111",
                              .text = "Bannon Explains The World \u2026 \u201cThe Camp of the Saints\u201d is a novel about migrants",
                              .external_id = sid}}},
             Incoming({{"Body", kBase64Body}})),
      Signed("TW", {.label = "plain long body kept", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111", .text = kPlainLong, .external_id = sid}}},
             Incoming({{"Body", kPlainLong}})),
      Signed("TW", {.label = "base64 of mostly non-ASCII kept", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111", .text = kBinaryBase64, .external_id = sid}}},
             Incoming({{"Body", kBinaryBase64}})),
      Signed("TW", {.label = "media, no body", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111", .text = "", .external_id = sid,
                              .attachments = {"image/jpeg:https://api.twilio.com/Media/ME1",
                                              "audio/ogg:https://api.twilio.com/Media/ME2"}}},
                    .response_body = kTwiML},
             Incoming({{"Body", ""}, {"NumMedia", "2"}, {"MediaUrl0", "https://api.twilio.com/Media/ME1"},
                       {"MediaContentType0", "image/jpeg"}, {"MediaUrl1", "https://api.twilio.com/Media/ME2"},
                       {"MediaContentType1", "audio/ogg"}})),
      Signed("TW", {.label = "media with caption", .action = "receive",
                    .msgs = {{.urn = "tel:+14133881111", .text = "look", .external_id = sid,
                              .attachments = {"image/png:https://api.twilio.com/Media/ME1"}}}},
             Incoming({{"Body", "look"}, {"NumMedia", "1"}, {"MediaUrl0", "https://api.twilio.com/Media/ME1"},
                       {"MediaContentType0", "image/png"}})),
      Signed("TW", {.label = "no body, no media", .action = "receive", .error = "field 'body' required"},
             Incoming({{"Body", ""}})),
      Signed("TW", {.label = "missing MessageSid", .action = "receive", .error = "field 'messagesid' required"},
             Incoming({}, {"MessageSid"})),
      Signed("TW", {.label = "missing AccountSid", .action = "receive", .error = "field 'accountsid' required"},
             Incoming({}, {"AccountSid"})),
      Signed("TW", {.label = "missing From", .action = "receive", .error = "field 'from' required"},
             Incoming({}, {"From"})),
      Signed("TW", {.label = "missing To", .action = "receive", .error = "field 'to' required"}, Incoming({}, {"To"})),
      {.label = "missing signature", .action = "receive", .body = FormEncode(Incoming()),
       .error = "missing request signature", .unauthorized = true},
      {.label = "signed with another token", .action = "receive", .body = FormEncode(Incoming()),
       .headers = {{"x-twilio-signature", Signature("TW", "receive", Incoming(), "othertoken")}},
       .error = "invalid request signature", .unauthorized = true},
      {.label = "body changed after signing", .action = "receive", .body = FormEncode(Incoming({{"Body", "Goodbye"}})),
       .headers = {{"x-twilio-signature", Signature("TW", "receive", Incoming())}},
       .error = "invalid request signature", .unauthorized = true},
      {.label = "signature over another URL", .action = "receive", .body = FormEncode(Incoming()),
       .headers = {{"x-twilio-signature", Signature("TW", "status", Incoming())}},
       .error = "invalid request signature", .unauthorized = true},
  });
}

TEST(TwilioHandler, ReceiveWithoutAuthToken) {
  TwilioHandler h("TW", "Twilio");
  RunReceiveCases(h, TwChannel("TW", {{"account_sid", kAccountSid}}), {
      Signed("TW", {.label = "receive", .action = "receive", .error = "invalid or missing auth token in config",
                    .unauthorized = false}, Incoming()),
      Signed("TW", {.label = "status", .action = "status", .error = "invalid or missing auth token in config",
                    .unauthorized = false}, StatusParams("sent")),
  });
}

TEST(TwilioHandler, Status) {
  TwilioHandler h("TW", "Twilio");
  const std::string sid = "SMe287d7109a5a925f182f0e07fe5b223b";
  std::vector<ReceiveCase> cases;
  const std::vector<std::pair<std::string, MsgStatus>> table = {
      {"queued", MsgStatus::kSent},       {"sending", MsgStatus::kSent},       {"sent", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered}, {"undelivered", MsgStatus::kFailed}, {"failed", MsgStatus::kFailed},
      {"read", MsgStatus::kRead},         {"accepted", MsgStatus::kWired},     {"scheduled", MsgStatus::kWired},
      {"canceled", MsgStatus::kFailed},
  };
  for (const auto& [word, status] : table)
    cases.push_back(Signed("TW", {.label = "status " + word, .action = "status",
                                  .statuses = {{.status = status, .external_id = sid}}},
                           StatusParams(word)));
  // Theme 4: a value courier does not know is answered 200 with an info
  // entry, not refused (Twilio would only send it again).
  cases.push_back(Signed("TW", {.label = "unknown status ignored", .action = "status", .ignored = "unknown status 'blah'"},
                         StatusParams("blah")));
  cases.push_back(Signed("TW", {.label = "inbound-only status ignored", .action = "status",
                                .ignored = "unknown status 'received'"},
                         StatusParams("received")));
  cases.push_back(Signed("TW", {.label = "partially_delivered ignored", .action = "status",
                                .ignored = "unknown status 'partially_delivered'"},
                         StatusParams("partially_delivered")));
  cases.push_back(Signed("TW", {.label = "missing status", .action = "status", .error = "field 'messagestatus' required"},
                         Params{{"MessageSid", sid}}));
  cases.push_back(Signed("TW", {.label = "missing sid", .action = "status", .error = "field 'messagesid' required"},
                         Params{{"MessageStatus", "sent"}}));
  cases.push_back(Signed("TW", {.label = "21610 stops the contact", .action = "status",
                                .statuses = {{.status = MsgStatus::kFailed, .external_id = sid}},
                                .stop_urns = {"tel:+250788383383"}},
                         StatusParams("undelivered", {{"ErrorCode", "21610"}})));
  // Theme 5: a failure Twilio documents as transient goes back for a
  // retry (E); a permanent one stays F; neither stops the contact.
  const std::vector<std::tuple<std::string, std::string, MsgStatus>> codes = {
      {"failed", "63018", MsgStatus::kErrored},      // rate limit exceeded for channel
      {"undelivered", "63018", MsgStatus::kErrored},
      {"failed", "63017", MsgStatus::kErrored},      // rate limit exceeded
      {"failed", "30001", MsgStatus::kErrored},      // queue overflow
      {"undelivered", "30003", MsgStatus::kErrored}, // unreachable handset
      {"undelivered", "30008", MsgStatus::kErrored}, // unknown error
      {"failed", "30500", MsgStatus::kErrored},      // Twilio internal error
      {"undelivered", "30005", MsgStatus::kFailed},  // unknown destination handset
      {"undelivered", "30006", MsgStatus::kFailed},  // landline
      {"undelivered", "30007", MsgStatus::kFailed},  // carrier filtering
      {"failed", "63016", MsgStatus::kFailed},       // outside the WhatsApp window
      {"failed", "99999", MsgStatus::kFailed},       // a code we do not know
      {"failed", "", MsgStatus::kFailed},            // no code at all
  };
  for (const auto& [word, code, want] : codes)
    cases.push_back(Signed("TW", {.label = word + " with ErrorCode '" + code + "'", .action = "status",
                                  .statuses = {{.status = want, .external_id = sid}}},
                           StatusParams(word, code.empty() ? Params{} : Params{{"ErrorCode", code}})));
  cases.push_back(Signed("TW", {.label = "ErrorCode on a delivered status is no failure", .action = "status",
                                .statuses = {{.status = MsgStatus::kDelivered, .external_id = sid}}},
                         StatusParams("delivered", {{"ErrorCode", "30003"}})));
  cases.push_back({.label = "unsigned status", .action = "status", .body = FormEncode(StatusParams("sent")),
                   .error = "missing request signature", .unauthorized = true});
  RunReceiveCases(h, TwChannel(), cases);
}

// The fields the receive table does not check: how a status callback's
// E sends the msg again, and the reason kept with E and F.
TEST(TwilioHandler, StatusCallbackRetryTimeAndReason) {
  TwilioHandler h("TW", "Twilio");
  const Channel channel = TwChannel();
  const Route route{"POST", "status", RouteKind::kStatus};
  auto http = NewLoopbackHttpClient();
  const Micros now = 1700000000LL * kMicrosPerSecond;
  ManualClock clock(now);
  HandlerContext ctx{*http, clock, kTestBaseUrl};
  auto post = [&](const Params& params) {
    const std::string uri = std::string("/c/TW/") + kTestChannelUUID + "/status/";
    auto request = WebhookRequest::Build("POST", uri,
                                         {{"content-type", "application/x-www-form-urlencoded"},
                                          {"x-twilio-signature", Signature("TW", "status", params)}},
                                         FormEncode(params), kTestBaseUrl, "status");
    WebhookResult r = h.Receive(route, channel, request, ctx);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.statuses.size(), 1u);
    return r.statuses.empty() ? StatusUpdate{} : r.statuses[0];
  };

  struct Row {
    std::string status, code;
    MsgStatus want;
    std::optional<int> retry_seconds;  // the next attempt, from now
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"failed", "63018", MsgStatus::kErrored, 60, "twilio error 63018: rate limit exceeded for channel"},
      {"failed", "63017", MsgStatus::kErrored, 60, "twilio error 63017: rate limit exceeded"},
      {"undelivered", "30001", MsgStatus::kErrored, 300, "twilio error 30001: queue overflow"},
      {"undelivered", "30003", MsgStatus::kErrored, 900, "twilio error 30003: unreachable destination handset"},
      {"undelivered", "30008", MsgStatus::kErrored, 300, "twilio error 30008: unknown error"},
      {"undelivered", "30007", MsgStatus::kFailed, std::nullopt, "twilio error 30007: message filtered"},
      {"failed", "63016", MsgStatus::kFailed, std::nullopt,
       "twilio error 63016: outside the allowed window, a template is needed"},
      {"failed", "99999", MsgStatus::kFailed, std::nullopt, "twilio error 99999"},
      {"failed", "", MsgStatus::kFailed, std::nullopt, ""},
      {"delivered", "", MsgStatus::kDelivered, std::nullopt, ""},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.status + " " + row.code);
    StatusUpdate u = post(StatusParams(row.status, row.code.empty() ? Params{} : Params{{"ErrorCode", row.code}}));
    EXPECT_EQ(MsgStatusString(u.status), MsgStatusString(row.want));
    EXPECT_EQ(u.error_reason, row.reason);
    if (row.retry_seconds) {
      ASSERT_TRUE(u.next_attempt_on.has_value());
      EXPECT_EQ(*u.next_attempt_on, now + *row.retry_seconds * kMicrosPerSecond);
    } else {
      EXPECT_FALSE(u.next_attempt_on.has_value());
    }
    // An E counts as an error, so max_retries ends a run of them.
    EXPECT_EQ(u.count_error, row.want == MsgStatus::kErrored);
  }
}

// Twilio's own documented example: token 12345 over
// https://mycompany.com/myapp.php?foo=1&bar=2 and five POST params.
TEST(TwilioHandler, SignatureKnownAnswer) {
  TwilioHandler h("TW", "Twilio");
  Channel channel = TwChannel("TW", {{"auth_token", "12345"}});
  const std::string body = FormEncode({{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675310"},
                                       {"Digits", "1234"}, {"From", "+14158675310"}, {"To", "+18005551212"}});
  Route route{"POST", "receive", RouteKind::kReceive};
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  for (const auto& [signature, valid] :
       std::vector<std::pair<std::string, bool>>{{"GvWf1cFY/Q7PnoempGyD5oXAezc=", true},
                                                 {"GvWf1cFY/Q7PnoempGyD5oXAezd=", false}}) {
    auto request = WebhookRequest::Build(
        "POST", "/myapp.php?foo=1&bar=2",
        {{"content-type", "application/x-www-form-urlencoded"}, {"x-twilio-signature", signature}}, body,
        "https://mycompany.com", "receive");
    WebhookResult r = h.Receive(route, channel, request, ctx);
    EXPECT_EQ(r.unauthorized, !valid) << signature;
    // A genuine request gets past the signature to field validation.
    EXPECT_EQ(r.error.rfind(valid ? "field 'messagesid' required" : "invalid request signature", 0), 0u) << r.error;
  }
}

TEST(TwilioHandler, DecodePossibleBase64) {
  using handlers::DecodePossibleBase64;
  const std::string padded = "SGVsbG8gZnJvbSBjb3VyaWVyOiB0aGlzIGJhc2U2NCB0ZXh0IGlzIGxvbmcgZW5vdWdoIHRvIGJlIGRlY29kZWQ=";
  EXPECT_EQ(DecodePossibleBase64(padded), "Hello from courier: this base64 text is long enough to be decoded");
  EXPECT_EQ(DecodePossibleBase64(" " + padded.substr(0, 40) + "\r" + padded.substr(40) + "\r\n"),
            "Hello from courier: this base64 text is long enough to be decoded");
  std::string bad_pad_bits = padded;
  bad_pad_bits[bad_pad_bits.size() - 2] = 'R';  // ...ZWR=: non-zero padding bits, not strict
  EXPECT_EQ(DecodePossibleBase64(bad_pad_bits), bad_pad_bits);
  EXPECT_EQ(DecodePossibleBase64("SGVsbG8gV29ybGQ="), "SGVsbG8gV29ybGQ=");  // under 60 characters
  EXPECT_EQ(DecodePossibleBase64(padded.substr(0, 87)), padded.substr(0, 87));  // not a multiple of 4
  std::string inner_newline = padded;
  inner_newline[20] = '\n';
  EXPECT_EQ(DecodePossibleBase64(inner_newline), inner_newline);
  EXPECT_EQ(DecodePossibleBase64(kBinaryBase64), kBinaryBase64);
  EXPECT_EQ(DecodePossibleBase64(""), "");
}

TEST(TwilioHandler, ReceiveWhatsAppAndSignalWire) {
  const std::string sid = "SMe287d7109a5a925f182f0e07fe5b223b";
  TwilioHandler twa("TWA", "Twilio WhatsApp", TwilioHandler::Flavor::kWhatsApp);
  RunReceiveCases(twa, TwaChannel(), {
      Signed("TWA", {.label = "whatsapp sender", .action = "receive",
                     .msgs = {{.urn = "whatsapp:14133881111", .text = "Hello World", .external_id = sid}},
                     .response_body = kTwiML},
             Incoming({{"From", "whatsapp:+14133881111"}, {"To", "whatsapp:+12065551212"}})),
      Signed("TWA", {.label = "whatsapp 21610 stop", .action = "status",
                     .statuses = {{.status = MsgStatus::kFailed, .external_id = sid}},
                     .stop_urns = {"whatsapp:250788383383"}},
             StatusParams("failed", {{"ErrorCode", "21610"}, {"To", "whatsapp:+250788383383"}})),
      {.label = "whatsapp unsigned", .action = "receive", .body = FormEncode(Incoming()),
       .error = "missing request signature", .unauthorized = true},
  });

  // A whatsapp: sender on a plain Twilio channel is still a whatsapp URN.
  TwilioHandler tw("T", "Twilio");
  RunReceiveCases(tw, TwChannel("T"), {
      Signed("T", {.label = "T type, whatsapp sender", .action = "receive",
                   .msgs = {{.urn = "whatsapp:14133881111", .text = "Hello World", .external_id = sid}}},
             Incoming({{"From", "whatsapp:+14133881111"}})),
  });

  TwilioHandler sw("SW", "SignalWire", TwilioHandler::Flavor::kSignalWire);
  RunReceiveCases(sw, TwChannel("SW", {{"account_sid", kAccountSid}}), {
      {.label = "no signature needed", .action = "receive", .body = FormEncode(Incoming()),
       .msgs = {{.urn = "tel:+14133881111", .text = "Hello World", .external_id = sid}}, .response_body = kTwiML},
      {.label = "status", .action = "status", .body = FormEncode(StatusParams("delivered")),
       .statuses = {{.status = MsgStatus::kDelivered, .external_id = sid}}},
      {.label = "missing field", .action = "receive", .body = FormEncode(Incoming({}, {"From"})),
       .error = "field 'from' required"},
  });
}

std::string Callback(const std::string& code) {
  return std::string(kTestBaseUrl) + "/c/" + code + "/" + kTestChannelUUID + "/status";
}

MockResponse Created(const std::string& sid) {
  return {.status = 201, .body = "{\"sid\":\"" + sid + "\",\"status\":\"queued\",\"error_code\":null}"};
}

// Twilio's error answer to a send: HTTP 400 with its error object.
MockResponse TwilioError(int64_t code, const std::string& message) {
  return {.status = 400,
          .body = "{\"code\":" + std::to_string(code) + ",\"message\":\"" + message +
                  "\",\"more_info\":\"https://www.twilio.com/docs/errors/" + std::to_string(code) +
                  "\",\"status\":400}"};
}

TEST(TwilioHandler, Send) {
  TwilioHandler h("TW", "Twilio");
  const std::string long_a(1590, 'a'), long_b(20, 'b');
  RunSendCases(h, TwChannel(), {
      {.label = "plain", .responses = {{kMessagesPath, Created("SM1234")}}, .external_id = "SM1234",
       .requests = {{.path = kMessagesPath,
                     .form = {{"To", "+250788383383"}, {"From", "+12065551212"}, {"Body", "Simple Message"},
                              {"StatusCallback", Callback("tw")}},
                     .headers = {{"authorization", kBasicAuth}, {"accept", "application/json"}},
                     .body = FormEncode({{"To", "+250788383383"}, {"From", "+12065551212"},
                                         {"Body", "Simple Message"}, {"StatusCallback", Callback("tw")}})}}},
      {.label = "unicode", .text = "☺ Mwaramutse", .responses = {{kMessagesPath, Created("SM1")}},
       .external_id = "SM1", .requests = {{.path = kMessagesPath, .form = {{"Body", "☺ Mwaramutse"}}}}},
      {.label = "messaging service sid", .responses = {{kMessagesPath, Created("SM2")}}, .external_id = "SM2",
       .requests = {{.path = kMessagesPath,
                     .body = FormEncode({{"To", "+250788383383"}, {"MessagingServiceSid", "MG0001"},
                                         {"Body", "Simple Message"}, {"StatusCallback", Callback("tw")}})}},
       .setup = [](Channel& c) { c.config["messaging_service_sid"] = "MG0001"; }},
      {.label = "media, repeated MediaUrl", .text = "Caption",
       .attachments = {"image/jpeg:https://foo.bar/image.jpg", "audio/ogg:https://foo.bar/audio.ogg"},
       .responses = {{kMessagesPath, Created("SM3")}}, .external_id = "SM3",
       .requests = {{.path = kMessagesPath,
                     .form = {{"Body", "Caption"}, {"MediaUrl", "https://foo.bar/audio.ogg"}},
                     .body_contains = {FormEncode({{"MediaUrl", "https://foo.bar/image.jpg"}}),
                                       FormEncode({{"MediaUrl", "https://foo.bar/audio.ogg"}})}}}},
      {.label = "media only: no Body", .text = "", .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMessagesPath, Created("SM4")}}, .external_id = "SM4",
       .requests = {{.path = kMessagesPath,
                     .body = FormEncode({{"To", "+250788383383"}, {"From", "+12065551212"},
                                         {"MediaUrl", "https://foo.bar/image.jpg"},
                                         {"StatusCallback", Callback("tw")}})}}},
      {.label = "long text split in two, media with the first",
       .text = long_a + " " + long_b, .attachments = {"image/jpeg:https://foo.bar/image.jpg"},
       .responses = {{kMessagesPath, Created("SM5")}, {kMessagesPath, Created("SM6")}}, .external_id = "SM5",
       .requests = {{.path = kMessagesPath, .form = {{"Body", long_a}, {"MediaUrl", "https://foo.bar/image.jpg"}}},
                    {.path = kMessagesPath,
                     .body = FormEncode({{"To", "+250788383383"}, {"From", "+12065551212"}, {"Body", long_b},
                                         {"StatusCallback", Callback("tw")}})}}},
      {.label = "second part fails",
       .text = long_a + " " + long_b,
       .responses = {{kMessagesPath, Created("SM7")}, {kMessagesPath, {.status = 500, .body = "oops"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500",
       .requests = {{.path = kMessagesPath}, {.path = kMessagesPath}}},
      {.label = "21610: failed and stopped",
       .responses = {{kMessagesPath, {.status = 400, .body = "{\"code\":21610,\"message\":\"Attempt to send to "
                                                           "unsubscribed recipient\",\"status\":400}"}}},
       .status = MsgStatus::kFailed, .error = "received error code from twilio '21610'", .stop_contact = true,
       .requests = {{.path = kMessagesPath}}},
      {.label = "error_code in a 2xx body",
       .responses = {{kMessagesPath, {.status = 201, .body = "{\"sid\":\"SM8\",\"error_code\":30001}"}}},
       .status = MsgStatus::kErrored, .error = "received error code from twilio '30001'",
       .requests = {{.path = kMessagesPath}}},
      // Theme 3: Twilio's documented permanent codes fail at once, with
      // Twilio's message as the reason.
      {.label = "21211 invalid To: failed with the reason",
       .responses = {{kMessagesPath, TwilioError(21211, "The 'To' number +250788383383 is not a valid phone number.")}},
       .status = MsgStatus::kFailed,
       .error = "received error code from twilio '21211': The 'To' number +250788383383 is not a valid phone number.",
       .requests = {{.path = kMessagesPath}}},
      {.label = "21614 not a mobile number",
       .responses = {{kMessagesPath, TwilioError(21614, "'To' number is not a valid mobile number")}},
       .status = MsgStatus::kFailed, .error = "'21614': 'To' number is not a valid mobile number",
       .requests = {{.path = kMessagesPath}}},
      {.label = "21612 cannot route",
       .responses = {{kMessagesPath, TwilioError(21612, "The 'To' phone number is not currently reachable")}},
       .status = MsgStatus::kFailed, .error = "'21612'", .requests = {{.path = kMessagesPath}}},
      {.label = "21408 region not enabled",
       .responses = {{kMessagesPath, TwilioError(21408, "Permission to send an SMS has not been enabled for the region")}},
       .status = MsgStatus::kFailed, .error = "'21408'", .requests = {{.path = kMessagesPath}}},
      {.label = "21617 body too long",
       .responses = {{kMessagesPath, TwilioError(21617, "The concatenated message body exceeds the 1600 character limit")}},
       .status = MsgStatus::kFailed, .error = "'21617'", .requests = {{.path = kMessagesPath}}},
      {.label = "permanent code without a message: the meaning from the table",
       .responses = {{kMessagesPath, {.status = 400, .body = "{\"code\":21212}"}}},
       .status = MsgStatus::kFailed, .error = "received error code from twilio '21212': invalid 'From' phone number",
       .requests = {{.path = kMessagesPath}}},
      {.label = "an unlisted code in a 400 is permanent by its HTTP status",
       .responses = {{kMessagesPath, TwilioError(21620, "Invalid media URL(s)")}},
       .status = MsgStatus::kFailed, .error = "'21620': Invalid media URL(s)", .requests = {{.path = kMessagesPath}}},
      {.label = "401 without a body",
       .responses = {{kMessagesPath, {.status = 401, .body = "", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "received non 200 status: 401", .requests = {{.path = kMessagesPath}}},
      {.label = "21611 queue full: transient although 400",
       .responses = {{kMessagesPath, TwilioError(21611, "This 'From' number has exceeded the maximum number of queued messages")}},
       .status = MsgStatus::kErrored, .error = "'21611'", .requests = {{.path = kMessagesPath}}},
      {.label = "429", .responses = {{kMessagesPath, {.status = 429, .body = "{\"code\":20429}"}}},
       .status = MsgStatus::kErrored, .error = "received error code from twilio '20429'",
       .requests = {{.path = kMessagesPath}}, .throttled_for_seconds = 1},
      // A 2xx without the sid: Twilio may have taken it, a retry could
      // deliver it twice.
      {.label = "no sid", .responses = {{kMessagesPath, {.status = 200, .body = "{\"status\":\"queued\"}"}}},
       .status = MsgStatus::kFailed, .error = "unable to get sid from body", .requests = {{.path = kMessagesPath}}},
      {.label = "not json", .responses = {{kMessagesPath, {.status = 200, .body = "ok", .content_type = "text/plain"}}},
       .status = MsgStatus::kFailed, .error = "unable to get sid from body", .requests = {{.path = kMessagesPath}}},
      {.label = "500", .responses = {{kMessagesPath, {.status = 500, .body = "oops", .content_type = "text/plain"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 500", .requests = {{.path = kMessagesPath}}},
      {.label = "503 with a JSON error and no code",
       .responses = {{kMessagesPath, {.status = 503, .body = "{\"message\":\"Service Unavailable\",\"status\":503}"}}},
       .status = MsgStatus::kErrored, .error = "received non 200 status: 503", .requests = {{.path = kMessagesPath}}},
      {.label = "no answer at all", .status = MsgStatus::kErrored, .requests = {},  .logs = 1,
       .setup = [](Channel& c) { c.config["base_url"] = "http://127.0.0.1:1"; }},
  });

  // Theme 2: the channel's max_length splits on word boundaries, one
  // request per part, the first part's sid kept.
  RunSendCases(h, TwChannel("TW", {{"account_sid", kAccountSid}, {"auth_token", kAuthToken}, {"max_length", "20"}}), {
      {.label = "max_length 20", .text = "This text is split into three parts",
       .responses = {{kMessagesPath, Created("SM10")}, {kMessagesPath, Created("SM11")}},
       .external_id = "SM10",
       .requests = {{.path = kMessagesPath, .form = {{"Body", "This text is split"}}},
                    {.path = kMessagesPath, .form = {{"Body", "into three parts"}}}}},
  });
  RunSendCases(h, TwChannel("TW", {{"account_sid", kAccountSid}, {"auth_token", kAuthToken}, {"max_length", "oops"}}), {
      {.label = "max_length not a number: Twilio's 1600", .text = std::string(1600, 'a'),
       .responses = {{kMessagesPath, Created("SM12")}}, .external_id = "SM12",
       .requests = {{.path = kMessagesPath, .form = {{"Body", std::string(1600, 'a')}}}}},
  });

  RunSendCases(h, TwChannel("TW", {{"ACCOUNT_SID", kAccountSid}, {"auth_token", kAuthToken}}), {
      {.label = "legacy ACCOUNT_SID", .responses = {{kMessagesPath, Created("SM9")}}, .external_id = "SM9",
       .requests = {{.path = kMessagesPath, .headers = {{"authorization", kBasicAuth}}}}},
  });
  RunSendCases(h, TwChannel("TW", {{"account_sid", kAccountSid}}), {
      {.label = "no auth_token", .status = MsgStatus::kErrored, .error = "no auth_token set for TW channel",
       .requests = {}, .logs = 1},
  });
  RunSendCases(h, TwChannel("TW", {{"auth_token", kAuthToken}}), {
      {.label = "no account_sid", .status = MsgStatus::kErrored,
       .error = "no account_sid or ACCOUNT_SID set for TW channel",
       .requests = {}, .logs = 1},
  });
}

// Sends once against a mock answering `response`; for what the table
// harness does not check (throttling).
SendResult SendOnce(const ChannelHandler& h, Channel channel, MockResponse response) {
  MockProvider provider;
  provider.On(kMessagesPath, std::move(response));
  channel.config["base_url"] = provider.url();
  Msg msg;
  msg.id = 10;
  msg.channel_uuid = channel.uuid;
  msg.direction = Direction::kOut;
  msg.urn = "tel:+250788383383";
  msg.text = "hi";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
  return h.Send(channel, msg, ctx);
}

TEST(TwilioHandler, SendThrottled) {
  TwilioHandler h("TW", "Twilio");
  auto r = SendOnce(h, TwChannel(), {.status = 429, .body = "{\"code\":20429,\"message\":\"Too Many Requests\"}",
                                     .headers = {{"Retry-After", "7"}}});
  EXPECT_EQ(r.status, MsgStatus::kErrored);
  EXPECT_EQ(r.throttled_for_seconds.value_or(-1), 7);
  EXPECT_FALSE(r.stop_contact);

  r = SendOnce(h, TwChannel(), {.status = 429, .body = "Too Many Requests", .content_type = "text/plain"});
  EXPECT_EQ(r.status, MsgStatus::kErrored);
  EXPECT_EQ(r.throttled_for_seconds.value_or(-1), 1);  // no Retry-After

  r = SendOnce(h, TwChannel(), {.status = 400, .body = "{\"code\":20429}"});
  EXPECT_EQ(r.throttled_for_seconds.value_or(-1), 1);  // Twilio's code without HTTP 429

  r = SendOnce(h, TwChannel(), {.status = 400, .body = "{\"code\":21211}"});
  EXPECT_FALSE(r.throttled_for_seconds.has_value());
  r = SendOnce(h, TwChannel(), Created("SM1"));
  EXPECT_EQ(r.status, MsgStatus::kWired);
  EXPECT_FALSE(r.throttled_for_seconds.has_value());
}

TEST(TwilioHandler, SendOtherTypes) {
  TwilioHandler tms("TMS", "Twilio Messaging Service", TwilioHandler::Flavor::kMessagingService);
  RunSendCases(tms, TwChannel("TMS", {{"account_sid", kAccountSid}, {"auth_token", kAuthToken},
                                      {"messaging_service_sid", "MG0002"}}), {
      {.label = "TMS uses the service", .responses = {{kMessagesPath, Created("SM1")}}, .external_id = "SM1",
       .requests = {{.path = kMessagesPath,
                     .body = FormEncode({{"To", "+250788383383"}, {"MessagingServiceSid", "MG0002"},
                                         {"Body", "Simple Message"}, {"StatusCallback", Callback("tms")}})}}},
  });
  RunSendCases(tms, TwChannel("TMS"), {
      {.label = "TMS without a service sid", .status = MsgStatus::kErrored,
       .error = "no messaging_service_sid set for TMS channel", .requests = {}, .logs = 1},
  });

  TwilioHandler twa("TWA", "Twilio WhatsApp", TwilioHandler::Flavor::kWhatsApp);
  RunSendCases(twa, TwaChannel(), {
      {.label = "TWA whatsapp addresses", .urn = "whatsapp:250788383383",
       .responses = {{kMessagesPath, Created("SM2")}}, .external_id = "SM2",
       .requests = {{.path = kMessagesPath,
                     .form = {{"To", "whatsapp:+250788383383"}, {"From", "whatsapp:+12065551212"},
                              {"Body", "Simple Message"}, {"StatusCallback", Callback("twa")}},
                     .headers = {{"authorization", kBasicAuth}}}}},
      // A template: Twilio's content SID and its numbered variables, no body.
      {.label = "TWA template", .urn = "whatsapp:250788383383",
       .responses = {{kMessagesPath, Created("SM4")}}, .external_id = "SM4",
       .requests = {{.path = kMessagesPath,
                     .form = {{"To", "whatsapp:+250788383383"}, {"From", "whatsapp:+12065551212"},
                              {"ContentSid", "HXb5b62575e6e4ff6129ad7c8efe1f983e"},
                              {"ContentVariables", R"({"1":"Jane","2":"12 May","date":"Monday"})"},
                              {"StatusCallback", Callback("twa")}}}},
       .templating = MsgTemplate{.name = "reminder", .external_id = "HXb5b62575e6e4ff6129ad7c8efe1f983e",
                                 .components = {{.type = "body",
                                                 .params = {{"text", "Jane", ""}, {"text", "12 May", ""},
                                                            {"text", "Monday", "date"}}}}}},
      {.label = "TWA template without a content SID: failed unsent", .urn = "whatsapp:250788383383",
       .status = MsgStatus::kFailed, .error = "Twilio needs its content SID", .requests = {}, .logs = 1,
       .templating = MsgTemplate{.name = "reminder"}},
  });

  TwilioHandler sw("SW", "SignalWire", TwilioHandler::Flavor::kSignalWire);
  RunSendCases(sw, TwChannel("SW"), {
      {.label = "SW at its base_url", .responses = {{kMessagesPath, Created("SM3")}}, .external_id = "SM3",
       .requests = {{.path = kMessagesPath,
                     .form = {{"To", "+250788383383"}, {"From", "+12065551212"}, {"StatusCallback", Callback("sw")}},
                     .headers = {{"authorization", kBasicAuth}}}}},
      {.label = "SW without base_url or space", .status = MsgStatus::kErrored,
       .error = "no base_url or space set for SW channel", .requests = {}, .logs = 1,
       .setup = [](Channel& c) { c.config.erase("base_url"); }},
  });
}

}  // namespace
