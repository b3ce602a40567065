#include "handlers/clickatell.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://platform.clickatell.com";
// Longer texts go as several messages (reference v1.1.13: 640), unless
// the channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 640;
// Config: "platform" when the API key is an SMS Platform (HTTP) one.
const char* kApiConfig = "api";

// One API error codes that mean more than their HTTP status (Clickatell
// "One API: Errors table"; every other code is judged by its HTTP status,
// 400 for nearly all of them).
constexpr int64_t kErrorRecipientOptedOut = 26;  // 400: fail and stop the contact
constexpr int64_t kErrorRateLimit = 43;          // 400: throttled
// 18 internal error (500), 19 internal error, please retry (503), 20
// insufficient account balance (402): a later try can succeed.
const std::vector<int64_t> kTransientErrors = {18, 19, 20};

std::optional<int64_t> ParseInt(const std::string& s) {
  if (s.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return n;
}

// ---- status codes ----------------------------------------------------

// What a status code means: a status, or nothing to record.
struct StatusMeaning {
  std::optional<MsgStatus> status;
  bool known = true;
};

// SMS Platform API status codes (Clickatell "Message status codes"). The
// reference: 2, 8, 11 -> W; 3, 4 -> S; 1, 5, 6, 7, 9, 10, 12, 14 -> F.
// Following Clickatell, 4 is "received by recipient" (D), 13 ("cancelled
// by Clickatell") is F, and 1 ("message unknown: the id is wrong or
// reporting is delayed") says nothing about delivery, so it is ignored.
StatusMeaning PlatformStatus(int64_t code) {
  switch (code) {
    case 1: return {std::nullopt};
    case 2: case 8: case 11: return {MsgStatus::kWired};
    case 3: return {MsgStatus::kSent};
    case 4: return {MsgStatus::kDelivered};
    case 5: case 6: case 7: case 9: case 10: case 12: case 13: case 14: return {MsgStatus::kFailed};
    default: return {std::nullopt, false};
  }
}
const std::vector<std::string> kPlatformCodes = {"1", "2", "3", "4", "5", "6", "7",
                                                 "8", "9", "10", "11", "12", "13", "14"};

// One API status codes (Clickatell "One API: Message status table"):
// 1 UNKNOWN (message not found: ignored), 2 QUEUED and 3 SCHEDULED (W),
// 4 SENT_TO_SUPPLIER (S), 5 DEVICE_ACK (D), 6 READ (R); every code from
// 20 on is an error (expired, delivery failure, routing error ...): F.
StatusMeaning OneApiStatus(int64_t code) {
  switch (code) {
    case 1: return {std::nullopt};
    case 2: case 3: return {MsgStatus::kWired};
    case 4: return {MsgStatus::kSent};
    case 5: return {MsgStatus::kDelivered};
    case 6: return {MsgStatus::kRead};
    default: return code >= 20 ? StatusMeaning{MsgStatus::kFailed} : StatusMeaning{std::nullopt, false};
  }
}
const std::vector<std::string> kOneApiCodes = {"1", "2", "3", "4", "5", "6", "20 or more"};

// ---- text decoding ---------------------------------------------------

// The bytes Clickatell meant: a text whose characters are all below 256
// carries one byte per character (how raw bytes survive JSON); anything
// else is taken as it came.
std::string RawBytes(const std::string& text) {
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) return text;
  std::string bytes;
  for (char32_t cp : cps) {
    if (cp > 0xFF) return text;
    bytes += static_cast<char>(cp);
  }
  return bytes;
}

// An ISO-8859-1 reply text as characters. Clickatell URL-escapes such
// texts ("caf%E9+ol%E9"), inside a JSON string or a form field alike, so
// %XX is the Latin-1 byte XX and '+' a space. The text around the escapes
// came as UTF-8 (JSON, or a form whose bytes are valid UTF-8) or as raw
// Latin-1 bytes (a form): either way each character below 256 is the
// Latin-1 one, so the work is done on characters, never on bytes twice.
// A '%' not followed by two hex digits is kept as it is.
std::string DecodeLatin1(const std::string& text) {
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) {
    cps.clear();
    for (unsigned char c : text) cps += static_cast<char32_t>(c);
  }
  std::string out;
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t cp = cps[i];
    if (cp == U'+') {
      cp = U' ';
    } else if (cp == U'%' && i + 2 < cps.size() && HexDigitValue(cps[i + 1]) >= 0 && HexDigitValue(cps[i + 2]) >= 0) {
      cp = static_cast<char32_t>(HexDigitValue(cps[i + 1]) * 16 + HexDigitValue(cps[i + 2]));
      i += 2;
    }
    AppendUtf8(out, cp);
  }
  return out;
}

// Reply text in the charset Clickatell names (reference: UTF-16BE and
// ISO-8859-1 are decoded); anything else is kept. Clickatell's callback
// docs say only that `charset` is the reply's character set; how the text
// arrives in each is what the reference and Clickatell's traffic show:
// UTF-16BE as its bytes, one character per byte (raw bytes in a form,
// \u00XX in JSON), ISO-8859-1 URL-escaped (DecodeLatin1).
std::string DecodeText(const std::string& text, const std::string& charset) {
  const std::string cs = ToUpper(charset);
  if (cs == "UTF-16BE" || cs == "UCS-2" || cs == "UCS2") {
    std::u32string cps;
    if (DecodeUtf8(text, cps) &&
        std::any_of(cps.begin(), cps.end(), [](char32_t cp) { return cp > 0xFF; }))
      return text;  // already decoded
    const std::string bytes = RawBytes(text);
    if (bytes.size() % 2 != 0) return text;
    std::vector<uint16_t> units;
    for (size_t i = 0; i < bytes.size(); i += 2)
      units.push_back(static_cast<uint16_t>((static_cast<unsigned char>(bytes[i]) << 8) |
                                            static_cast<unsigned char>(bytes[i + 1])));
    return Utf16ToUtf8(units);
  }
  if (cs == "ISO-8859-1" || cs == "LATIN1") return DecodeLatin1(text);
  return text;
}

// ---- receiving -------------------------------------------------------

void AddError(std::string& errors, const std::string& error) { errors += (errors.empty() ? "" : "; ") + error; }

// A reply from `from` with Clickatell's id, text and time (ms).
Result<Msg> ReplyMsg(const Channel& channel, const std::string& from, const std::string& id, const std::string& text,
                     const std::string& charset, const std::string& timestamp) {
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return urn.status();
  Msg msg = handlers::IncomingMsg(channel, *urn, DecodeText(text, charset));
  msg.external_id = id;
  if (!timestamp.empty()) {
    auto ms = ParseInt(timestamp);
    if (!ms || *ms < 0 || *ms > 253402300799999LL) return Status::InvalidArgument("invalid timestamp '" + timestamp + "'");
    msg.received_on = *ms * 1000;
  }
  return msg;
}

// The status for a code, added to `r`; a code that records nothing
// (unknown to Clickatell's tables, or "message unknown") adds why to
// `skipped`. False (with `error`) when the code is not a number.
bool AddStatus(WebhookResult& r, std::vector<std::string>& skipped, const Channel& channel, const std::string& id,
               const std::string& code_text, bool one_api, std::string& error) {
  auto code = ParseInt(code_text);
  if (!code) {
    error = "field 'statusCode' must be an integer";
    return false;
  }
  StatusMeaning m = one_api ? OneApiStatus(*code) : PlatformStatus(*code);
  // A code outside the table is Clickatell's to add: the callback is
  // well-formed, so it is taken and the code ignored, not refused.
  if (!m.known)
    skipped.push_back("ignoring " + handlers::UnknownStatusError(code_text, one_api ? kOneApiCodes : kPlatformCodes));
  else if (!m.status)
    skipped.push_back(one_api ? "status unknown to Clickatell, ignored" : "status 1 (message unknown), ignored");
  else
    r.statuses.push_back(handlers::StatusForExternalId(channel, id, *m.status));
  return true;
}

// One API: {"integrationId", "integrationName", "event": {"moText": [...]}}
// or {"event": {"messageStatusUpdate": [...]}}; a callback may carry
// several items.
WebhookResult ReceiveOneApi(const Route& route, const Channel& channel, const json::ObjectPtr& event) {
  WebhookResult r;
  std::string errors;
  if (route.kind == RouteKind::kStatus) {
    auto items = json::GetArray(event, "messageStatusUpdate");
    if (!items) return WebhookResult::Ignored("no messageStatusUpdate in event, ignored");
    handlers::Collector collected;
    for (size_t i = 0; i < items->size(); ++i) {
      auto item = items->getObject(static_cast<unsigned>(i));
      const std::string id = json::GetTextOrEmpty(item, "messageId");
      const std::string code = json::GetTextOrEmpty(item, "statusCode");
      if (id.empty()) AddError(errors, "field 'messageId' required");
      if (code.empty()) AddError(errors, "field 'statusCode' required");
      if (id.empty() || code.empty()) continue;
      std::string error;
      if (!AddStatus(collected.result, collected.skipped, channel, id, code, true, error)) AddError(errors, error);
    }
    if (!errors.empty()) return WebhookResult::Error(errors);
    return collected.Finish();
  }

  // moMedia carries the file itself, base64 encoded; with nowhere to keep
  // it, media replies are not taken (nor other events).
  auto items = json::GetArray(event, "moText");
  if (!items) return WebhookResult::Ignored("no moText in event, ignored");
  for (size_t i = 0; i < items->size(); ++i) {
    auto item = items->getObject(static_cast<unsigned>(i));
    const std::string from = json::GetTextOrEmpty(item, "from"), id = json::GetTextOrEmpty(item, "messageId");
    const bool has_content = json::GetText(item, "content").has_value();
    if (from.empty()) AddError(errors, "field 'from' required");
    if (id.empty()) AddError(errors, "field 'messageId' required");
    if (!has_content) AddError(errors, "field 'content' required");
    if (from.empty() || id.empty() || !has_content) continue;
    auto msg = ReplyMsg(channel, from, id, json::GetTextOrEmpty(item, "content"), json::GetTextOrEmpty(item, "charset"),
                        json::GetTextOrEmpty(item, "timestamp"));
    if (!msg.ok()) {
      AddError(errors, msg.status().message());
      continue;
    }
    r.msgs.push_back(std::move(*msg));
  }
  if (!errors.empty()) return WebhookResult::Error(errors);
  if (r.msgs.empty()) return WebhookResult::Ignored("no messages in event, ignored");
  return r;
}

// SMS Platform API: flat fields (reference): reply messageId, fromNumber,
// toNumber, timestamp (ms), text, charset; status messageId, statusCode.
WebhookResult ReceivePlatform(const Route& route, const Channel& channel,
                              const std::map<std::string, std::string>& params) {
  handlers::Fields f(params);
  if (route.kind == RouteKind::kStatus) {
    const std::string id = f.Required("messageId");
    const std::string code = f.Required("statusCode");
    if (!f.ok()) return WebhookResult::Error(f.error());
    handlers::Collector collected;
    std::string error;
    if (!AddStatus(collected.result, collected.skipped, channel, id, code, false, error))
      return WebhookResult::Error(error);
    return collected.Finish();
  }
  const std::string from = f.Required("fromNumber");
  const std::string id = f.Required("messageId");
  // An empty reply is a reply: `text` need only be present.
  if (!f.Optional("text")) f.AddError("field 'text' required");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto msg = ReplyMsg(channel, from, id, f.Value("text"), f.Value("charset"), f.Value("timestamp"));
  if (!msg.ok()) return WebhookResult::Error(msg.status().message());
  WebhookResult r;
  r.msgs.push_back(std::move(*msg));
  return r;
}

// ---- sending ---------------------------------------------------------

// What Clickatell answered about the message: messages[0], with the
// request-level error when there is no message-level one.
struct SendAnswer {
  std::string api_message_id;
  bool accepted = false;
  std::string error_code;
  std::string error_description;
};

void ReadError(const json::ObjectPtr& o, SendAnswer& a) {
  if (!o) return;
  if (a.error_code.empty() && a.error_description.empty()) {
    if (auto e = json::GetObject(o, "error")) {  // One API: {"code", "description", "documentation"}
      a.error_code = json::GetTextOrEmpty(e, "code");
      a.error_description = json::GetTextOrEmpty(e, "description");
    } else {
      a.error_description = json::GetTextOrEmpty(o, "error");
    }
  }
  if (a.error_code.empty()) a.error_code = json::GetTextOrEmpty(o, "errorCode");
  if (a.error_description.empty()) a.error_description = json::GetTextOrEmpty(o, "errorDescription");
}

SendAnswer ParseAnswer(const std::string& body) {
  SendAnswer a;
  auto o = json::ParseObject(body);
  if (!o.ok()) return a;
  auto messages = json::GetArray(*o, "messages");
  if (messages && messages->size() > 0) {
    auto m = messages->getObject(0);
    a.api_message_id = json::GetTextOrEmpty(m, "apiMessageId");
    a.accepted = m && json::GetBool(m, "accepted").value_or(false);
    ReadError(m, a);
  }
  ReadError(*o, a);
  return a;
}

}  // namespace

const ChannelTypeInfo& ClickatellHandler::Type() const {
  static const ChannelTypeInfo type = {
      "CT",
      "Clickatell",
      {"tel"},
      {
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the integration's API key"},
          {kApiConfig, ConfigNeed::kOptional, false,
           "platform: the key is an SMS Platform (HTTP) one, sent by GET as the reference did; unset: the One API"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ClickatellHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"GET", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult ClickatellHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                         HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Clickatell signs nothing (a webhook_token in the callback URL is all
  // there is); its callbacks are told apart by shape.
  auto params = handlers::FlatParams(request);
  if (!params.ok()) return WebhookResult::Error(params.status().message());
  if (ToLower(request.Header("content-type")).find("json") != std::string::npos) {
    auto body = json::ParseObject(request.body);
    if (body.ok() && (*body)->has("event")) {
      auto event = (*body)->getObject("event");
      if (!event) return WebhookResult::Error("field 'event' must be an object");
      return ReceiveOneApi(route, channel, event);
    }
  }
  return ReceivePlatform(route, channel, *params);
}

SendResult ClickatellHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string api_key = channel.ConfigOr(config_keys::kApiKey);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const bool platform = ToLower(channel.ConfigOr(kApiConfig)) == "platform";
  const std::string base = handlers::BaseUrl(channel, kDefaultApiUrl);
  // International format without '+' (Clickatell: "no leading 00 or +").
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string from = WithoutPlus(channel.address);

  std::vector<ChannelLog> logs;
  std::string external_id;
  // SMS only: attachments go as links in the text.
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.headers = {{"Accept", "application/json"}};
    if (platform) {
      req.method = "GET";
      req.url = base + "/messages/http/send?" +
                FormEncode({{"apiKey", api_key}, {"from", from}, {"to", to}, {"content", parts[i]}});
    } else {
      // One API: POST /v1/message, the key as the Authorization header.
      auto message = json::NewObject();
      message->set("channel", "sms");
      message->set("to", to);
      message->set("content", parts[i]);
      if (!from.empty()) message->set("from", from);
      auto messages = json::NewArray();
      messages->add(message);
      auto body = json::NewObject();
      body->set("messages", messages);
      req.method = "POST";
      req.url = base + "/v1/message";
      req.headers.push_back({"Content-Type", "application/json"});
      req.headers.push_back({"Authorization", api_key});
      req.body = json::Stringify(body);
    }
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const SendAnswer answer = ParseAnswer(call.exchange.body);
    const bool provider_error = !answer.error_code.empty() || !answer.error_description.empty();
    const bool taken = call.ok() && answer.accepted && !answer.api_message_id.empty();

    if (!taken) {
      std::string error;
      if (provider_error)
        error = "received error from clickatell: " + answer.error_code +
                (answer.error_code.empty() || answer.error_description.empty() ? "" : " ") +
                answer.error_description;
      else if (!call.ok()) error = call.log.error;
      else error = "unable to get apiMessageId from body";
      if (call.log.error.empty() || provider_error) call.log.error = error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));

      const std::optional<int64_t> code = platform ? std::nullopt : ParseInt(answer.error_code);
      if (code == kErrorRecipientOptedOut) {
        SendResult r = SendResult::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      if (code == kErrorRateLimit) {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = handlers::RetryAfterSeconds(exchange);
        return r;
      }
      if (code && std::find(kTransientErrors.begin(), kTransientErrors.end(), *code) != kTransientErrors.end())
        return handlers::ThrottledIf429(SendResult::Errored(error, std::move(logs)), exchange);
      // A 2xx that does not give the msg's id: Clickatell may have taken
      // it, so a retry could deliver it twice.
      if (exchange.ok()) return handlers::AcceptedWithoutId(error, std::move(logs));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = answer.api_message_id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
