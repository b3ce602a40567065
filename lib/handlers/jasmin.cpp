#include "handlers/jasmin.h"

#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

const char* kAck = "ACK/Jasmin";
// Jasmin concatenates long messages itself (it splits into UDH parts when
// a text is longer than one SMS); longer than this, or than the channel's
// max_length, we send several msgs.
constexpr size_t kMaxMsgLength = 1600;

// UTF-16BE in hex (Jasmin's `binary` field for coding 8) to UTF-8.
std::optional<std::string> DecodeUcs2Hex(const std::string& hex) {
  if (hex.size() % 4 != 0) return std::nullopt;
  std::vector<uint16_t> units;
  for (size_t i = 0; i < hex.size(); i += 4) {
    uint16_t u = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int v = HexDigitValue(hex[i + k]);
      if (v < 0) return std::nullopt;
      u = static_cast<uint16_t>((u << 4) | v);
    }
    units.push_back(u);
  }
  return Utf16ToUtf8(units);
}

// UTF-8 to UTF-16BE in hex (Jasmin's hex-content for coding 8).
std::string EncodeUcs2Hex(const std::string& utf8) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (uint16_t u : Utf8ToUtf16(utf8))
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(u >> shift) & 0xF];
  return out;
}

// Jasmin's delivery receipt message_status values (its HTTP API docs,
// "Receiving DLR"): a level 1 receipt carries the SMSC's submit_sm_resp
// command status (ESME_ROK on acceptance, another ESME_* on refusal), a
// level 2 or 3 one the handset receipt's stat (SMPP 3.4 appendix B). The
// reference reads only dlvrd=1 / err=1; we read message_status when
// present and fall back to those.
//   ESME_ROK  the SMSC took the msg                      S
//   ENROUTE   on its way to the handset                  S
//   ACCEPTD   read on the subscriber's behalf by the     S
//             operator's customer service
//   UNKNOWN   the SMSC itself does not know the state:   W (says nothing
//             beyond what the send already told us)
//   DELIVRD   on the handset                             D
//   EXPIRED, DELETED, UNDELIV, REJECTD, other ESME_*     F
std::optional<MsgStatus> FromMessageStatus(const std::string& s) {
  static const std::map<std::string, MsgStatus> table = {
      {"ESME_ROK", MsgStatus::kSent},      {"ENROUTE", MsgStatus::kSent},   {"ACCEPTD", MsgStatus::kSent},
      {"UNKNOWN", MsgStatus::kWired},      {"DELIVRD", MsgStatus::kDelivered}, {"EXPIRED", MsgStatus::kFailed},
      {"DELETED", MsgStatus::kFailed},     {"UNDELIV", MsgStatus::kFailed}, {"REJECTD", MsgStatus::kFailed},
  };
  if (auto m = handlers::MapStatus(table, s)) return m;
  if (StartsWith(s, "ESME_")) return MsgStatus::kFailed;  // the SMSC refused the submit
  return std::nullopt;
}

WebhookResult Ack(WebhookResult r) {
  r.response_body = kAck;
  r.response_content_type = "text/plain";
  return r;
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kFormOrQuery);
  // An empty SMS is a message: `content` need only be present.
  const std::optional<std::string> given = f.Optional("content");
  if (!given) f.AddError("field 'content' required");
  const std::string coding = f.Required("coding");
  const std::string from = f.Required("from");
  f.Required("to");
  const std::string id = f.Required("id");
  if (!f.ok()) return WebhookResult::Error(f.error());
  std::string content = *given;

  if (coding == "0") {
    // SMSC default alphabet: the bytes are GSM7 septets.
    content = Gsm7ToUtf8(content);
  } else if (coding == "8") {
    // UCS2: the bytes are UTF-16BE, which Jasmin also gives as hex in
    // `binary`; decode that when it is there.
    if (auto binary = f.Optional("binary")) {
      if (auto decoded = DecodeUcs2Hex(*binary)) content = *decoded;
    }
  }
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, content);
  msg.external_id = id;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return Ack(std::move(r));
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kFormOrQuery);
  const std::string id = f.Required("id");
  if (!f.ok()) return WebhookResult::Error(f.error());
  const std::string message_status = f.Optional("message_status").value_or("");
  std::optional<MsgStatus> status;
  if (!message_status.empty()) {
    status = FromMessageStatus(message_status);
    // A receipt we cannot read is still acknowledged: Jasmin re-sends
    // every receipt not answered ACK/Jasmin, and the same words would
    // come back each time.
    if (!status)
      return Ack(WebhookResult::Ignored(
          "ignoring " + handlers::UnknownStatusError(message_status, {"ESME_ROK", "ENROUTE", "ACCEPTD", "UNKNOWN",
                                                                      "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
                                                                      "REJECTD", "ESME_*"})));
  } else if (f.Optional("dlvrd").value_or("") == "1") {
    status = MsgStatus::kDelivered;
  } else if (f.Optional("err").value_or("") == "1") {
    status = MsgStatus::kFailed;
  } else {
    return WebhookResult::Error("must have either dlvrd or err set to 1");
  }
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *status));
  return Ack(std::move(r));
}

// The quoted id in `Success "07033084-5cfd-4812-90a4-e4d24ffb6e3d"`.
std::optional<std::string> SuccessId(const std::string& body) {
  if (!StartsWith(body, "Success")) return std::nullopt;
  size_t open = body.find('"');
  size_t close = open == std::string::npos ? open : body.find('"', open + 1);
  if (close == std::string::npos) return std::nullopt;
  return body.substr(open + 1, close - open - 1);
}

}  // namespace

const ChannelTypeInfo& JasminHandler::Type() const {
  static const ChannelTypeInfo type = {
      "JS",
      "Jasmin",
      {"tel"},
      {
          {config_keys::kSendUrl, ConfigNeed::kToSend, false, "Jasmin's HTTP send URL (http://HOST:1401/send)"},
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the Jasmin user"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the Jasmin user's password"},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> JasminHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult JasminHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Jasmin does not sign its callbacks: a webhook_token is all there is.
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult JasminHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string send_url = channel.ConfigOr(config_keys::kSendUrl);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  // An SMPP destination_addr is digits: Jasmin passes `to` on as it is,
  // and SMSCs refuse or misroute a leading '+'.
  const std::string to = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string dlr_url = handlers::WithWebhookToken(channel, ctx.base_url + "/c/js/" + channel.uuid + "/status");

  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& part : SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength))) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"username", username}, {"password", password}, {"from", channel.address}, {"to", to},
        {"dlr", "yes"},         {"dlr-url", dlr_url},   {"dlr-level", "2"},        {"dlr-method", "POST"},
    };
    // The reference always sends coding=0 with GSM7 bytes, which mangles
    // anything outside GSM7; such texts go as UCS2 (coding=8) in Jasmin's
    // hex-content parameter instead.
    const std::string gsm = ReplaceGsm7Substitutions(part);
    if (IsGsm7(gsm)) {
      params.push_back({"coding", "0"});
      params.push_back({"content", Utf8ToGsm7(gsm)});
    } else {
      params.push_back({"coding", "8"});
      params.push_back({"hex-content", EncodeUcs2Hex(part)});
    }
    HttpRequestSpec req;
    req.method = "GET";
    req.url = AppendQuery(send_url, FormEncode(params));
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    ChannelLog log = std::move(call.log);

    if (!call.ok()) {
      // Jasmin answers `Error "..."`: 400 for a request it cannot take,
      // 403 for bad credentials, 412 when no route leads to the number,
      // 500 when the SMPP side failed. The first three stay so on retry;
      // two 403s do not: a user over its throughput quota, and one whose
      // balance could not be charged (until it is topped up).
      std::string error = log.error;
      if (!exchange.body.empty()) error = Redact(error + ": " + exchange.body, channel.SecretValues());
      log.error = error;
      logs.push_back(std::move(log));
      const std::string body = ToLower(exchange.body);
      if (body.find("throughput") != std::string::npos) {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = handlers::RetryAfterSeconds(exchange);
        return r;
      }
      if (body.find("cannot charge") != std::string::npos) return SendResult::Errored(error, std::move(logs));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    std::optional<std::string> id = SuccessId(exchange.body);
    if (!id || id->empty()) {
      const std::string error =
          Redact("unable to read external id from response: " + exchange.body, channel.SecretValues());
      log.error = error;
      logs.push_back(std::move(log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(log));
    if (external_id.empty()) external_id = *id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
