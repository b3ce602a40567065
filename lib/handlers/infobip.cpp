#include "handlers/infobip.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.infobip.com";
// Infobip's current endpoints. The reference posted to the retired
// /sms/1/text/advanced; SMS v3 takes the same destinations with the text
// under `content` and the report settings under `webhooks`, and MMS v2
// the same shape with `content.messageSegments`.
const char* kSmsPath = "/sms/3/messages";
const char* kMmsPath = "/mms/2/messages";
// Channel config: "false" sends attachments as links in an SMS.
const char* kMmsConfig = "mms";

// Infobip concatenates long SMS itself; texts longer than this (or the
// channel's max_length) go as several messages. Only the first part
// carries our msg id and asks for delivery reports, so reports are for
// the msg as a whole.
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
// Send-answer status groups.
constexpr int64_t kGroupPending = 1;
constexpr int64_t kGroupUndeliverable = 2;
constexpr int64_t kGroupDelivered = 3;
constexpr int64_t kGroupRejected = 5;
// Status names that mean the recipient opted out / is on a do-not-disturb
// list: permanent, and the contact is stopped.
bool IsOptOut(const std::string& name) { return name == "REJECTED_DND" || name == "REJECTED_OPTOUT"; }

// Infobip dates look like "2016-10-06T09:28:39.220+0000" (offset without
// a colon); RFC 3339 wants "+00:00".
std::optional<Micros> ParseDate(std::string date) {
  const size_t n = date.size();
  if (n > 5 && (date[n - 5] == '+' || date[n - 5] == '-') && AllDigits(date.substr(n - 4)))
    date.insert(n - 2, ":");
  return ParseRfc3339(date);
}

// An MMS result (Infobip's MO_MMS_2 inbound format) carries its content
// as `message[]` segments: text ones ({"contentType": "text/plain",
// "value": ...}) are joined with a newline into the msg's text, media ones
// ({"contentType": "image/jpeg", "url": ...}) become attachments.
void ReadMmsSegments(const json::ArrayPtr& segments, std::string& text, std::vector<std::string>& attachments) {
  for (size_t i = 0; i < segments->size(); ++i) {
    json::ObjectPtr segment = segments->getObject(i);
    if (!segment) continue;
    const std::string type = json::GetText(segment, "contentType").value_or("");
    const std::string url = json::GetText(segment, "url").value_or("");
    if (!url.empty()) {
      const std::string mime = type.empty() ? MimeTypeFromPath(url) : type;
      attachments.push_back(mime.empty() ? url : mime + ":" + url);
    } else if (auto value = json::GetText(segment, "value")) {
      if (!value->empty()) text += (text.empty() ? "" : "\n") + *value;
    }
  }
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr& root = *body;
  if (json::GetText(root, "messageCount").value_or("") == "0") return WebhookResult::Ignored("no messages, ignored");
  json::ArrayPtr results = json::GetArray(root, "results");
  if (!results || results->size() == 0) return WebhookResult::Error("field 'results' required");

  WebhookResult r;
  for (size_t i = 0; i < results->size(); ++i) {
    json::ObjectPtr result = results->getObject(i);
    if (!result) return WebhookResult::Error("field 'results' must hold objects");
    json::ArrayPtr segments = json::GetArray(result, "message");
    std::vector<std::string> errors;
    auto need = [&](const char* key) {
      auto v = json::GetText(result, key);
      if (!v || (std::string(key) != "text" && v->empty())) errors.push_back(std::string("field '") + key + "' required");
      return v.value_or("");
    };
    const std::string id = need("messageId");
    const std::string from = need("from");
    // An SMS has `text` (possibly empty); an MMS has `message[]` instead.
    std::string text = segments ? json::GetText(result, "text").value_or("") : need("text");
    if (!errors.empty()) return WebhookResult::Error(Join(errors, "; "));
    std::vector<std::string> attachments;
    if (segments) ReadMmsSegments(segments, text, attachments);
    auto urn = handlers::TelURN(from, channel);
    if (!urn.ok()) return WebhookResult::Error(urn.status().message());
    Msg msg = handlers::IncomingMsg(channel, *urn, text);
    msg.external_id = id;
    msg.attachments = std::move(attachments);
    const std::string date = json::GetText(result, "receivedAt").value_or("");
    if (!date.empty()) {
      auto received_on = ParseDate(date);
      if (!received_on) return WebhookResult::Error("invalid date format: " + date);
      msg.received_on = *received_on;
    }
    r.msgs.push_back(std::move(msg));
  }
  return r;
}

// Delivery reports of SMS v3 and MMS v2 (and of the older APIs) share the
// shape results[{messageId, status{groupId, groupName, id, name,
// description}, error{...}, ...}]. Each report stands alone: one we cannot
// use is skipped with the reason, and the others are still written.
WebhookResult ReceiveStatus(const Channel& channel, const WebhookRequest& request) {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  json::ArrayPtr results = json::GetArray(*body, "results");
  if (!results || results->size() == 0) return WebhookResult::Error("field 'results' required");
  handlers::Collector c;
  for (size_t i = 0; i < results->size(); ++i) {
    json::ObjectPtr result = results->getObject(i);
    const std::string id = json::GetText(result, "messageId").value_or("");
    json::ObjectPtr status = json::GetObject(result, "status");
    const std::string group = json::GetText(status, "groupName").value_or("");
    if (id.empty()) return c.Fail("field 'messageId' required");
    if (group.empty()) return c.Fail("field 'status.groupName' required");
    // We sent our msg id as messageId; reports for other ids (parts after
    // the first, messages sent elsewhere) cannot be matched.
    if (!AllDigits(id) || id.size() > 18) {
      c.skipped.push_back("messageId '" + id + "' is not one of ours, ignored");
      continue;
    }
    auto mapped = handlers::MapStatus(StatusTable(), group);
    if (!mapped) {
      c.skipped.push_back("unknown status '" + group + "', ignored");
      continue;
    }
    StatusUpdate update = handlers::StatusForId(channel, std::stoll(id), *mapped);
    if (*mapped == MsgStatus::kFailed) {
      const std::string name = json::GetText(status, "name").value_or(group);
      const std::string description = json::GetText(status, "description").value_or("");
      update.error_reason = name + (description.empty() ? "" : ": " + description);
    }
    c.result.statuses.push_back(std::move(update));
  }
  return c.Finish();
}

// The account's API base: base_url as given ("xyz.api.infobip.com" as
// Infobip's portal shows it gets https://), else Infobip's shared one.
std::string ApiBase(const Channel& channel) {
  std::string base = handlers::BaseUrl(channel, kDefaultApiUrl);
  if (base.find("://") == std::string::npos) base = "https://" + base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

// What a send answer says: {"bulkId": ..., "messages": [{"messageId": ...,
// "status": {"groupId": 1, "groupName": "PENDING", "name":
// "PENDING_ACCEPTED", ...}, "destination": ...}]}, or for a refused
// request {"errorCode": "E400", "description": ..., "violations": [...]}
// (the current APIs) or {"requestError": {"serviceException": {"text":
// ...}}} (the older ones).
struct Answer {
  std::string error;  // "" when accepted
  bool permanent = false;
  bool stopped = false;
  bool without_id = false;
  std::string message_id;
};

Answer ReadAnswer(const HttpExchange& exchange, const std::string& transport_error) {
  Answer a;
  auto parsed = json::ParseObject(exchange.body);
  if (!exchange.ok()) {
    a.error = transport_error;
    if (parsed.ok() && exchange.status_code != 429) {
      json::ObjectPtr re = json::GetObject(*parsed, "requestError");
      json::ObjectPtr se = json::GetObject(re, "serviceException");
      std::string text = json::GetText(se, "text").value_or("");
      if (text.empty()) text = json::GetText(*parsed, "description").value_or("");
      if (!text.empty()) a.error += ": " + text;
    }
    return a;
  }
  json::ArrayPtr answers = parsed.ok() ? json::GetArray(*parsed, "messages") : nullptr;
  json::ObjectPtr answer = answers && answers->size() > 0 ? answers->getObject(0) : nullptr;
  json::ObjectPtr status = json::GetObject(answer, "status");
  if (!status) {
    // A 2xx we cannot read may still be a message Infobip took.
    a.error = "unable to parse response body";
    a.without_id = true;
    return a;
  }
  const int64_t group = json::GetInt(status, "groupId").value_or(0);
  const std::string name = json::GetText(status, "name").value_or("");
  if (group != kGroupPending && group != kGroupDelivered) {
    a.error = "received error status: '" + name + "'";
    const std::string description = json::GetText(status, "description").value_or("");
    if (!description.empty()) a.error += " (" + description + ")";
    a.permanent = group == kGroupRejected || group == kGroupUndeliverable;
    a.stopped = IsOptOut(name);
    return a;
  }
  a.message_id = json::GetText(answer, "messageId").value_or("");
  if (a.message_id.empty()) {
    a.error = "unable to get messageId from response body";
    a.without_id = true;
  }
  return a;
}

// {"to": ..., "messageId": <our id>} as the only destination.
json::ArrayPtr Destinations(const std::string& to, const std::string& message_id) {
  json::ObjectPtr destination = json::NewObject();
  destination->set("to", to);
  if (!message_id.empty()) destination->set("messageId", message_id);
  json::ArrayPtr destinations = json::NewArray();
  destinations->add(destination);
  return destinations;
}

// Delivery reports for the msg come to our "delivered" route as JSON with
// intermediate ones (S) too; `notify_url` empty asks for none (the parts
// after the first, whose reports could not be matched).
json::ObjectPtr Webhooks(const std::string& notify_url) {
  json::ObjectPtr delivery = json::NewObject();
  if (notify_url.empty()) {
    delivery->set("notify", false);
  } else {
    delivery->set("url", notify_url);
    delivery->set("intermediateReport", true);
  }
  json::ObjectPtr webhooks = json::NewObject();
  webhooks->set("delivery", delivery);
  if (!notify_url.empty()) webhooks->set("contentType", "application/json");
  return webhooks;
}

json::ObjectPtr Request(const std::string& sender, json::ArrayPtr destinations, json::ObjectPtr content,
                        json::ObjectPtr webhooks) {
  json::ObjectPtr message = json::NewObject();
  message->set("sender", sender);
  message->set("destinations", destinations);
  message->set("content", content);
  message->set("webhooks", webhooks);
  json::ArrayPtr messages = json::NewArray();
  messages->add(message);
  json::ObjectPtr payload = json::NewObject();
  payload->set("messages", messages);
  return payload;
}

// MMS v2 content: the text as TEXT segments (each at most `max_length`),
// then each attachment as a LINK segment Infobip fetches.
json::ObjectPtr MmsContent(const Msg& msg, size_t max_length) {
  json::ArrayPtr segments = json::NewArray();
  if (!msg.text.empty()) {
    for (const auto& part : SplitText(msg.text, max_length)) {
      json::ObjectPtr segment = json::NewObject();
      segment->set("type", "TEXT");
      segment->set("text", part);
      segments->add(segment);
    }
  }
  for (const auto& attachment : msg.attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    if (mime.find('/') == std::string::npos) {  // a bare URL: "https" is no type
      mime.clear();
      url = attachment;
    }
    if (mime.empty()) mime = MimeTypeFromPath(url);
    json::ObjectPtr segment = json::NewObject();
    segment->set("type", "LINK");
    segment->set("contentType", mime.empty() ? kDefaultMimeType : mime);
    segment->set("contentUrl", url);
    segments->add(segment);
  }
  json::ObjectPtr content = json::NewObject();
  content->set("messageSegments", segments);
  return content;
}

}  // namespace

const ChannelTypeInfo& InfobipHandler::Type() const {
  static const ChannelTypeInfo type = {
      "IB",
      "Infobip",
      {"tel"},
      {
          {config_keys::kApiKey, ConfigNeed::kOptional, true,
           "API key (Authorization: App KEY), in place of username and password"},
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the account's user (basic authentication)",
           "", config_keys::kApiKey},
          {config_keys::kPassword, ConfigNeed::kToSend, true, "the account's password", "", config_keys::kApiKey},
          {kMmsConfig, ConfigNeed::kOptional, false, "false: attachments go as links in an SMS, not as an MMS",
           "true"},
          {config_keys::kBaseUrl, ConfigNeed::kOptional, false,
           "the account's personal API base URL (xyz.api.infobip.com)",
           kDefaultApiUrl},
          handlers::MaxLengthKey(kMaxMsgLength),
          handlers::WebhookTokenKey(),
      },
  };
  return type;
}

std::vector<Route> InfobipHandler::Routes() const {
  return {
      {"POST", "receive", RouteKind::kReceive},
      {"POST", "delivered", RouteKind::kStatus},
  };
}

WebhookResult InfobipHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                      HandlerContext&) const {
  if (auto refused = handlers::CheckWebhookToken(channel, request)) return *refused;
  // Infobip does not sign its webhooks; its subscriptions may send basic
  // auth, and notifyUrl is ours: a webhook_token covers both.
  if (route.kind == RouteKind::kStatus) return ReceiveStatus(channel, request);
  return ReceiveMsg(channel, request);
}

SendResult InfobipHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string api_key = channel.ConfigOr(config_keys::kApiKey);
  const std::string username = channel.ConfigOr(config_keys::kUsername);
  const std::string password = channel.ConfigOr(config_keys::kPassword);
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  const std::string base = ApiBase(channel);
  std::string to = msg.urn.substr(msg.urn.find(':') + 1);
  if (!to.empty() && to[0] == '+') to.erase(0, 1);  // Infobip's numbers are bare: 41793026727
  const std::string notify_url =
      handlers::WithWebhookToken(channel, ctx.base_url + "/c/ib/" + channel.uuid + "/delivered");
  const size_t max_length = handlers::MaxLength(channel, kMaxMsgLength);

  // One request per part: a msg with attachments is one MMS; a text is one
  // SMS per part, the first carrying our msg id and the report URL. Where
  // MMS does not reach (it is mostly a North American service), mms=false
  // sends attachments as links in the text, as channels did before.
  const bool mms = handlers::ConfigFlag(channel, kMmsConfig, true);
  std::vector<std::pair<std::string, json::ObjectPtr>> requests;
  if (!msg.attachments.empty() && mms) {
    requests.push_back({kMmsPath, Request(channel.address, Destinations(to, std::to_string(msg.id)),
                                          MmsContent(msg, max_length), Webhooks(notify_url))});
  } else {
    const auto parts = SplitText(mms ? msg.text : TextAndAttachments(msg), max_length);
    for (size_t i = 0; i < parts.size(); ++i) {
      json::ObjectPtr content = json::NewObject();
      content->set("text", parts[i]);
      requests.push_back({kSmsPath, Request(channel.address, Destinations(to, i == 0 ? std::to_string(msg.id) : ""),
                                            content, Webhooks(i == 0 ? notify_url : ""))});
    }
  }

  std::vector<ChannelLog> logs;
  std::string external_id;
  for (size_t i = 0; i < requests.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = base + requests[i].first;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!api_key.empty()) {
      req.headers.push_back({"Authorization", "App " + api_key});
    } else {
      req.basic_user = username;
      req.basic_password = password;
    }
    req.body = json::Stringify(requests[i].second);
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    const HttpExchange exchange = call.exchange;
    const Answer answer = ReadAnswer(exchange, call.log.error);
    ChannelLog log = std::move(call.log);
    if (!answer.error.empty()) log.error = answer.error;
    logs.push_back(std::move(log));

    if (!answer.error.empty()) {
      if (answer.without_id) return handlers::AcceptedWithoutId(answer.error, std::move(logs));
      if (answer.permanent) {
        SendResult r = SendResult::Failed(answer.error, std::move(logs));
        r.stop_contact = answer.stopped;
        return r;
      }
      return handlers::FailedAnswer(answer.error, std::move(logs), exchange);
    }
    if (i == 0) external_id = answer.message_id;
  }
  // Acceptance (PENDING) is W here; the reference wrote S, but the
  // delivery report we asked for brings S/D.
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
