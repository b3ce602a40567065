#include "handlers/infobip.h"

#include <algorithm>
#include <cctype>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.infobip.com";
// The reference posts to /sms/1/text/advanced, which Infobip has retired
// in favour of /sms/2/text/advanced (same body and answer shape, basic
// auth still accepted); we follow the provider.
const char* kSendPath = "/sms/2/text/advanced";

// Infobip concatenates long SMS itself; texts longer than this go as
// several messages. Only the first part carries our msg id and the
// notifyUrl, so delivery reports are for the msg as a whole.
constexpr size_t kMaxMsgLength = 1600;

// Delivery report status.groupName to ours (Infobip "Message status
// codes": 1 PENDING, 2 UNDELIVERABLE, 3 DELIVERED, 4 EXPIRED, 5 REJECTED).
// EXPIRED means sent but no final report within the validity period, so
// S as in the reference.
const std::map<std::string, MsgStatus>& StatusTable() {
  static const std::map<std::string, MsgStatus> table = {
      {"PENDING", MsgStatus::kSent},     {"EXPIRED", MsgStatus::kSent},
      {"DELIVERED", MsgStatus::kDelivered}, {"REJECTED", MsgStatus::kFailed},
      {"UNDELIVERABLE", MsgStatus::kFailed},
  };
  return table;
}
const std::vector<std::string>& StatusNames() {
  static const std::vector<std::string> names = {"PENDING", "EXPIRED", "DELIVERED", "REJECTED", "UNDELIVERABLE"};
  return names;
}

// Send-answer status groups.
constexpr int64_t kGroupPending = 1;
constexpr int64_t kGroupUndeliverable = 2;
constexpr int64_t kGroupDelivered = 3;
constexpr int64_t kGroupRejected = 5;
// Status names that mean the recipient opted out / is on a do-not-disturb
// list: permanent, and the contact is stopped.
bool IsOptOut(const std::string& name) { return name == "REJECTED_DND" || name == "REJECTED_OPTOUT"; }

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Infobip dates look like "2016-10-06T09:28:39.220+0000" (offset without
// a colon); RFC 3339 wants "+00:00".
std::optional<Micros> ParseDate(std::string date) {
  const size_t n = date.size();
  if (n > 5 && (date[n - 5] == '+' || date[n - 5] == '-') && AllDigits(date.substr(n - 4)))
    date.insert(n - 2, ":");
  return ParseRfc3339(date);
}

std::optional<std::string> Text(const json::ObjectPtr& o, const std::string& key) {
  if (!o || !o->has(key)) return std::nullopt;
  return handlers::JsonScalarText(o->get(key));
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr& root = *body;
  if (Text(root, "messageCount").value_or("") == "0") return WebhookResult::Ignored("no messages, ignored");
  json::ArrayPtr results = root->getArray("results");
  if (!results || results->size() == 0) return WebhookResult::Error("field 'results' required");

  WebhookResult r;
  for (size_t i = 0; i < results->size(); ++i) {
    json::ObjectPtr result = results->getObject(i);
    if (!result) return WebhookResult::Error("field 'results' must hold objects");
    std::vector<std::string> errors;
    auto need = [&](const char* key) {
      auto v = Text(result, key);
      if (!v || (std::string(key) != "text" && v->empty())) errors.push_back(std::string("field '") + key + "' required");
      return v.value_or("");
    };
    const std::string id = need("messageId");
    const std::string from = need("from");
    const std::string text = need("text");
    if (!errors.empty()) {
      std::string joined;
      for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
      return WebhookResult::Error(joined);
    }
    auto urn = handlers::TelURN(from, channel);
    if (!urn.ok()) return WebhookResult::Error(urn.status().message());
    Msg msg = handlers::IncomingMsg(channel, *urn, text);
    msg.external_id = id;
    const std::string date = Text(result, "receivedAt").value_or("");
    if (!date.empty()) {
      auto received_on = ParseDate(date);
      if (!received_on) return WebhookResult::Error("invalid date format: " + date);
      msg.received_on = *received_on;
    }
    r.msgs.push_back(std::move(msg));
  }
  return r;
}

WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  json::ArrayPtr results = (*body)->getArray("results");
  if (!results || results->size() == 0) return WebhookResult::Error("field 'results' required");
  WebhookResult r;
  // The reference reads results[0] only; Infobip may batch reports, so
  // every result is read.
  for (size_t i = 0; i < results->size(); ++i) {
    json::ObjectPtr result = results->getObject(i);
    const std::string id = Text(result, "messageId").value_or("");
    json::ObjectPtr status = result ? result->getObject("status") : nullptr;
    const std::string group = Text(status, "groupName").value_or("");
    if (id.empty()) return WebhookResult::Error("field 'messageId' required");
    if (group.empty()) return WebhookResult::Error("field 'status.groupName' required");
    // We sent our msg id as messageId; reports for other ids (parts after
    // the first, messages sent elsewhere) cannot be matched.
    if (!AllDigits(id) || id.size() > 18) return WebhookResult::Error("invalid messageId '" + id + "'");
    auto mapped = handlers::MapStatus(StatusTable(), group);
    if (!mapped) return WebhookResult::Error(handlers::UnknownStatusError(group, StatusNames()));
    r.statuses.push_back(handlers::StatusForId(channel, std::stoll(id), *mapped));
  }
  return r;
}

}  // namespace

std::vector<Route> InfobipHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "delivered", RouteKind::kStatus},
  };
}

WebhookResult InfobipHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                      HandlerContext&) const {
  // Infobip does not sign its webhooks.
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult InfobipHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(channel, msg, {config_keys::kUsername, config_keys::kPassword}, ctx.clock.Now())) return *missing;
  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  const std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  const std::string notify_url = ctx.base_url + "/c/ib/" + channel.uuid + "/delivered";

  std::vector<ChannelLog> logs;
  std::string external_id;
  const auto parts = handlers::SplitText(TextAndAttachments(msg), kMaxMsgLength);
  for (size_t i = 0; i < parts.size(); ++i) {
    json::ObjectPtr destination = json::NewObject();
    destination->set("to", to);
    if (i == 0) destination->set("messageId", std::to_string(msg.id));
    json::ArrayPtr destinations = json::NewArray();
    destinations->add(destination);
    json::ObjectPtr message = json::NewObject();
    message->set("from", channel.address);
    message->set("destinations", destinations);
    message->set("text", parts[i]);
    if (i == 0) {
      message->set("notifyContentType", "application/json");
      message->set("intermediateReport", true);
      message->set("notifyUrl", notify_url);
    }
    json::ArrayPtr messages = json::NewArray();
    messages->add(message);
    json::ObjectPtr payload = json::NewObject();
    payload->set("messages", messages);

    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    req.body = json::Stringify(payload);
    req.basic_user = username;
    req.basic_password = password;
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    const bool ok = call.ok();
    ChannelLog log = std::move(call.log);

    std::string error;
    bool permanent = false, stopped = false;
    std::string part_id;
    if (!ok) {
      error = log.error;
      // {"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}
      auto parsed = json::ParseObject(exchange.body);
      if (parsed.ok()) {
        json::ObjectPtr re = (*parsed)->getObject("requestError");
        json::ObjectPtr se = re ? re->getObject("serviceException") : nullptr;
        const std::string text = Text(se, "text").value_or("");
        if (!text.empty() && exchange.status_code != 429) error += ": " + text;
      }
    } else {
      auto parsed = json::ParseObject(exchange.body);
      json::ArrayPtr answers = parsed.ok() ? (*parsed)->getArray("messages") : nullptr;
      json::ObjectPtr answer = answers && answers->size() > 0 ? answers->getObject(0) : nullptr;
      json::ObjectPtr status = answer ? answer->getObject("status") : nullptr;
      if (!status) {
        error = "unable to parse response body";
      } else {
        const int64_t group = json::GetInt(status, "groupId").value_or(0);
        const std::string name = Text(status, "name").value_or("");
        part_id = Text(answer, "messageId").value_or("");
        if (group != kGroupPending && group != kGroupDelivered) {
          error = "received error status: '" + name + "'";
          permanent = group == kGroupRejected || group == kGroupUndeliverable;
          stopped = IsOptOut(name);
        }
      }
    }
    if (!error.empty() && log.error.empty()) log.error = error;
    logs.push_back(std::move(log));
    if (!error.empty()) {
      if (permanent) {
        SendResult r = handlers::Failed(error, std::move(logs));
        r.stop_contact = stopped;
        return r;
      }
      return handlers::ThrottledIf429(handlers::Errored(error, std::move(logs)), exchange);
    }
    if (i == 0) external_id = part_id;
  }
  // Acceptance (PENDING) is W here; the reference wrote S, but the
  // delivery report we asked for brings S/D.
  return handlers::Wired(external_id, std::move(logs));
}

}  // namespace courier
