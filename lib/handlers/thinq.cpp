#include "handlers/thinq.h"

#include "handlers/common.h"
#include "http/multipart_form.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.thinq.com";
// Longer texts go as several SMS (reference: 1600, what ThinQ takes in
// one request), unless the channel's max_length says otherwise.
constexpr size_t kMaxMsgLength = 1600;
const char* kAccountIdConfig = "account_id";
const char* kTokenUserConfig = "api_token_user";
const char* kTokenConfig = "api_token";

// Delivery receipt statuses (SMPP's words) to ours.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"DELIVRD", MsgStatus::kDelivered}, {"EXPIRED", MsgStatus::kErrored}, {"DELETED", MsgStatus::kFailed},
      {"UNDELIV", MsgStatus::kFailed},    {"UNKNOWN", MsgStatus::kFailed},  {"REJECTD", MsgStatus::kFailed},
  };
  return table;
}

WebhookResult ReceiveReply(const Channel& channel, const WebhookRequest& request) {
  handlers::Fields f(request, handlers::Fields::kFormOrQuery);
  const std::string from = f.Required("from");
  f.Required("to");
  const std::string type = f.Required("type");
  if (!f.ok()) return WebhookResult::Error(f.error());
  if (type != "sms" && type != "mms") return WebhookResult::Error("unknown message type: " + type);
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  const std::string message = f.Value("message");
  Msg msg = handlers::IncomingMsg(channel, *urn, type == "sms" ? message : "");
  // An MMS's `message` is its media: a URL ThinQ hosts, or the file
  // itself in base64, which we have nowhere to keep (see thinq.h).
  if (type == "mms" && (StartsWith(message, "http://") || StartsWith(message, "https://"))) {
    const std::string mime = MimeTypeFromPath(message);
    msg.attachments.push_back(mime.empty() ? message : mime + ":" + message);
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  handlers::Fields f(request, handlers::Fields::kFormOrQuery);
  const std::string guid = f.Required("guid");
  const std::string status = f.Required("status");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto mapped = handlers::MapStatus(StatusTable(), status);
  if (!mapped) return WebhookResult::Error("unknown status: '" + status + "'");
  StatusUpdate update = handlers::StatusForExternalId(channel, guid, *mapped);
  if (*mapped != MsgStatus::kDelivered) update.error_reason = "thinq status " + status;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return r;
}

// A number as ThinQ's DID: the 10 digits of a US (+1) number. nullopt
// for anything else, which ThinQ cannot reach.
std::optional<std::string> Did(const std::string& number) {
  std::string digits = WithoutPlus(number);
  if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
  if (digits.size() != 10 || !AllDigits(digits)) return std::nullopt;
  return digits;
}

// ThinQ's reason for refusing a request ({"code": 400, "message": ...});
// "" when the answer has none.
std::string ThinqError(const std::string& body) {
  auto parsed = json::ParseObject(body);
  return parsed.ok() ? json::GetTextOrEmpty(*parsed, "message") : "";
}

}  // namespace

const ChannelTypeInfo& ThinqHandler::Type() const {
  static const ChannelTypeInfo type = {
      "TQ",
      "ThinQ",
      {"tel"},
      {
          {kAccountIdConfig, ConfigNeed::kToSend, false, "the ThinQ account id (the path of the send API)"},
          {kTokenUserConfig, ConfigNeed::kToSend, true, "the API token's user name (basic authentication)"},
          {kTokenConfig, ConfigNeed::kToSend, true, "the API token (basic authentication)"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> ThinqHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "status", RouteKind::kStatus},
  };
}

WebhookResult ThinqHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveReply(channel, request);
}

SendResult ThinqHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string account_id = channel.ConfigOr(kAccountIdConfig);
  const std::string token_user = channel.ConfigOr(kTokenUserConfig);
  const std::string token = channel.ConfigOr(kTokenConfig);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const auto from = Did(channel.address);
  if (!from) {
    const std::string error = "channel address '" + channel.address + "' is not a US number, which ThinQ needs";
    return SendResult::Errored(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
  }
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  const auto to = Did(recipient);
  if (!to) {
    const std::string error = "'" + recipient + "' is not a US number, which ThinQ sends to only";
    return SendResult::Failed(error, {ErrorLog(channel, msg, error, ctx.clock.Now())});
  }

  const std::string base =
      handlers::BaseUrl(channel, kDefaultApiUrl) + "/account/" + UrlEscape(account_id) + "/product/origination";
  std::vector<HttpRequestSpec> requests;
  auto request = [&](const std::string& path) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = base + path;
    req.headers = {{"Accept", "application/json"}};
    req.basic_user = token_user;
    req.basic_password = token;
    return req;
  };
  for (const auto& attachment : msg.attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    if (mime.find('/') == std::string::npos) url = attachment;  // a bare URL: "https" is no type
    auto [body, content_type] = MultipartForm({{"from_did", *from}, {"to_did", *to}, {"media_url", url}});
    HttpRequestSpec req = request("/mms/send");
    req.headers.push_back({"Content-Type", content_type});
    req.body = std::move(body);
    requests.push_back(std::move(req));
  }
  if (!msg.text.empty()) {
    for (const auto& part : SplitText(msg.text, handlers::MaxLength(channel, kMaxMsgLength))) {
      auto payload = json::NewObject();
      payload->set("from_did", *from);
      payload->set("to_did", *to);
      payload->set("message", part);
      HttpRequestSpec req = request("/sms/send");
      req.headers.push_back({"Content-Type", "application/json"});
      req.body = json::Stringify(payload);
      requests.push_back(std::move(req));
    }
  }

  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& req : requests) {
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      std::string error = call.log.error;
      const std::string reason = exchange.error.empty() ? ThinqError(exchange.body) : "";
      if (!reason.empty()) error += ": " + reason;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    auto answer = json::ParseObject(exchange.body);
    const std::string guid = answer.ok() ? json::GetTextOrEmpty(*answer, "guid") : "";
    if (guid.empty()) {
      const std::string error = "unable to get guid from response body";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      // ThinQ may have taken it: a retry could send it twice.
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (external_id.empty()) external_id = guid;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
