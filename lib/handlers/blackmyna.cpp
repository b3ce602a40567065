#include "handlers/blackmyna.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>

#include "handlers/common.h"

namespace courier {
namespace {

using handlers::Fields;

const char* kDefaultApiUrl = "http://api.blackmyna.com";
const char* kOutboundPath = "/2/smsmessaging/outbound";
const char* kFormContentType = "application/x-www-form-urlencoded";

// Blackmyna publishes no message length limit any more (the service is
// gone); one plain SMS is the safe unit, so longer texts go as several.
// The reference (v0.2.0) sent one request whatever the length.
constexpr size_t kMaxMsgLength = 160;

// Blackmyna's DLR types (Kannel-style): 1 delivered to phone, 2 not
// delivered, 8 delivered to SMSC, 16 rejected by SMSC.
const std::map<std::string, MsgStatus> kStatuses = {
    {"1", MsgStatus::kDelivered}, {"2", MsgStatus::kFailed}, {"8", MsgStatus::kSent}, {"16", MsgStatus::kFailed}};

// The first element's "id" of a JSON array body; "" when there is none.
std::string FirstId(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(body);
    if (parsed.type() != typeid(Poco::JSON::Array::Ptr)) return "";
    auto array = parsed.extract<Poco::JSON::Array::Ptr>();
    if (!array || array->size() == 0) return "";
    json::ObjectPtr first = array->getObject(0);
    if (!first) return "";
    if (auto id = json::GetString(first, "id")) return *id;
    if (auto id = json::GetInt(first, "id")) return std::to_string(*id);
  } catch (const Poco::Exception&) {
  } catch (const std::exception&) {
  }
  return "";
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kQuery);
  f.Required("to");
  const std::string text = f.Required("text");
  const std::string from = f.Required("from");
  if (!f.ok()) return WebhookResult::Error(f.error());
  // smsc (the operator) is not kept, as in the reference.
  auto urn = handlers::TelURN(from, channel);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.msgs.push_back(handlers::IncomingMsg(channel, *urn, text));
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  Fields f(request, Fields::kQuery);
  const std::string id = f.Required("id");
  // [bug] fixed: v0.2.0 rejected status=0 as missing; a present 0 is an
  // unknown status like any other number outside the table.
  const int64_t status = f.RequiredInt("status");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto mapped = handlers::MapStatus(kStatuses, std::to_string(status));
  // A status outside the table is a well-formed report we cannot use:
  // answered 200 so the provider does not retry it forever.
  if (!mapped)
    return WebhookResult::Ignored("unknown status '" + std::to_string(status) + "', must be one of 1, 2, 8 or 16");
  WebhookResult r;
  r.statuses.push_back(handlers::StatusForExternalId(channel, id, *mapped));
  return r;
}

}  // namespace

const ChannelTypeInfo& BlackmynaHandler::Type() const {
  static const ChannelTypeInfo type = {
      "BM",
      "Blackmyna",
      {"tel"},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user (HTTP basic authentication)"},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password"},
          // The reference requires it though only username and password go
          // on the wire; kept so a half-configured channel is caught early.
          {config_keys::kApiKey, ConfigNeed::kToSend, true, "the account's API key"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> BlackmynaHandler::Routes() const {
  return {
      {"GET", "receive", RouteKind::kReceive},
      {"GET", "status", RouteKind::kStatus},
  };
}

WebhookResult BlackmynaHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Blackmyna does not sign its calls: a webhook_token is all there is.
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult BlackmynaHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;

  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kOutboundPath;
  const std::string address = msg.urn.substr(msg.urn.find(':') + 1);
  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxMsgLength));
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", kFormContentType}, {"Accept", "application/json"}};
    req.body = FormEncode({{"address", address}, {"senderaddress", channel.address}, {"message", parts[i]}});
    req.basic_user = username;
    req.basic_password = password;
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    const HttpExchange exchange = call.exchange;
    if (!call.ok()) {
      const std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    const std::string id = FirstId(exchange.body);
    if (id.empty()) {
      call.log.error = "no external id returned in body";
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId("no external id returned in body", std::move(logs));
    }
    logs.push_back(std::move(call.log));
    if (i == 0) external_id = id;
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
