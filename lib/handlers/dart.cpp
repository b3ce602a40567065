#include "handlers/dart.h"

#include <cerrno>
#include <cstdlib>

#include "core/uuid.h"
#include "handlers/common.h"

namespace courier {
namespace {

// What tells the two types apart: where they send and how long a part is.
struct Provider {
  const char* code;
  const char* name;
  const char* host;  // base_url stands in for it
  const char* send_path;
  size_t max_length;
};

const Provider& ProviderOf(DartHandler::Flavor flavor) {
  static const Provider kDartMedia = {"DA", "DartMedia", "http://202.43.169.11", "/APIhttpU/receive2waysms.php", 160};
  static const Provider kHub9 = {"H9", "Hub9", "http://175.103.48.29:28078", "/testing/smsmt.php", 1600};
  return flavor == DartHandler::Flavor::kHub9 ? kHub9 : kDartMedia;
}

// The providers' "OK", as the answer to every webhook taken and as the
// result code of every send they took.
const char* kOk = "000";

// The result codes the providers document for a refused send.
std::string ResultCodeMeaning(const std::string& code) {
  if (code == "001") return "authentication error";
  if (code == "101") return "account expired or invalid parameters";
  return "";
}

std::optional<int64_t> ParseInteger(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return n;
}

MsgStatus StatusFor(int64_t code) {
  if (code >= 10 && code <= 12) return MsgStatus::kDelivered;
  if (code > 20) return MsgStatus::kFailed;
  return MsgStatus::kSent;
}

WebhookResult Taken(WebhookResult r) {
  r.response_body = kOk;
  r.response_content_type = "text/plain";
  return r;
}

WebhookResult ReceiveReply(const Channel& channel, const WebhookRequest& request) {
  const std::string original = request.QueryParam("original").value_or("");
  const std::string sendto = request.QueryParam("sendto").value_or("");
  if (original.empty() || sendto.empty())
    return WebhookResult::Error("missing required parameters original and sendto");
  auto urn = handlers::TelURN(original, channel);
  // A sender that is no number (a name some networks give) is still a
  // contact we can answer through the provider.
  if (!urn.ok()) urn = URN::FromParts("ext", original);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, request.QueryParam("message").value_or(""));
  msg.external_id = request.QueryParam("messageid").value_or("");
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return Taken(std::move(r));
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request, const std::string& provider_name) {
  const std::string message_id = request.QueryParam("messageid").value_or("");
  const std::string status_text = request.QueryParam("status").value_or("");
  if (message_id.empty() || status_text.empty())
    return WebhookResult::Error("parameters messageid and status should not be empty");
  const auto code = ParseInteger(status_text);
  if (!code) return WebhookResult::Error("parsing failed: status '" + status_text + "' is not an integer");
  // Part n >= 2 of a msg went as "<uuid>.<n>": every part reports for the msg.
  const auto uuid = NormalizeUUID(message_id.substr(0, message_id.find('.')));
  if (!uuid) return WebhookResult::Error("parsing failed: messageid '" + message_id + "' is not a UUID");
  const MsgStatus status = StatusFor(*code);
  StatusUpdate update = handlers::StatusForMsgUuid(channel, *uuid, status);
  if (status == MsgStatus::kFailed) update.error_reason = provider_name + " status " + status_text;
  WebhookResult r;
  r.statuses.push_back(std::move(update));
  return Taken(std::move(r));
}

}  // namespace

ChannelTypeInfo DartHandler::Describe(Flavor flavor) {
  const Provider& p = ProviderOf(flavor);
  return {p.code,
          p.name,
          {"tel"},
          {
              {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user id (userid of each send)"},
              {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password (password of each send)"},
              {config_keys::kBaseUrl, ConfigNeed::kOptional, false,
               std::string("replaces the scheme, host and port of the send URL, its path (") + p.send_path + ") kept",
               p.host},
              handlers::MaxLengthKey(p.max_length),
              handlers::WebhookTokenKey(),
          }};
}

std::vector<Route> DartHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"GET", "delivered", RouteKind::kStatus},
  };
}

WebhookResult DartHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                   HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request, Name());
  return ReceiveReply(channel, request);
}

SendResult DartHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string text = TextAndAttachments(msg);
  if (text.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const Provider& provider = ProviderOf(flavor_);
  const std::string url = handlers::BaseUrl(channel, provider.host) + provider.send_path;
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  const std::string sendto = WithoutPlus(msg.urn.substr(msg.urn.find(':') + 1));
  const std::string original = WithoutPlus(channel.address);

  std::vector<ChannelLog> logs;
  const auto parts = SplitText(text, handlers::MaxLength(channel, provider.max_length));
  for (size_t i = 0; i < parts.size(); ++i) {
    // The id the delivery reports give back: the msg, and the part after
    // the first.
    const std::string message_id = i == 0 ? msg.uuid : msg.uuid + "." + std::to_string(i + 1);
    HttpRequestSpec req;
    req.method = "GET";
    req.url = AppendQuery(url, QueryEncode({{"userid", username},
                                            {"password", password},
                                            {"sendto", sendto},
                                            {"original", original},
                                            {"udhl", "0"},
                                            {"dcs", "0"},
                                            {"message", parts[i]},
                                            {"messageid", message_id}}));
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    const size_t start = exchange.body.find_first_not_of(" \t\r\n");
    const std::string code = start == std::string::npos ? "" : exchange.body.substr(start, 3);
    if (code != kOk) {
      const std::string meaning = ResultCodeMeaning(code);
      const std::string error = code.empty() ? "received no result code from " + Name()
                                             : "received error code '" + code + "' from " + Name() +
                                                   (meaning.empty() ? "" : " (" + meaning + ")");
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return SendResult::Failed(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
  }
  // The reports name the msg by its UUID (dart.h).
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
