#include "handlers/fcm.h"

#include <algorithm>
#include <cctype>

#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://fcm.googleapis.com";
const char* kKey = "FCM_KEY";
const char* kProjectId = "FCM_PROJECT_ID";
const char* kAccessToken = "FCM_ACCESS_TOKEN";
const char* kApi = "FCM_API";
const char* kTitle = "FCM_TITLE";
const char* kNotification = "FCM_NOTIFICATION";

// The reference splits at 1024 characters (FCM's payload limit is 4KB).
constexpr size_t kMaxTextLength = 1024;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}



// The app's date, "2006-01-02T15:04:05.000" in UTC; also accepted with a
// zone or without milliseconds.
std::optional<Micros> ParseDate(std::string date) {
  if (date.size() > 10 && date[10] == ' ') date[10] = 'T';
  if (date.size() >= 19 && date.substr(19).find_first_of("Zz+-") == std::string::npos) date += 'Z';
  return ParseRfc3339(date);
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request) {
  handlers::Fields f(request, handlers::Fields::kForm);
  const std::string from = f.Required("from");
  const std::string text = f.Required("msg");
  f.Required("fcm_token");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto urn = URN::FromParts("fcm", from);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.contact_name = f.Optional("name").value_or("");
  if (std::string date = f.Optional("date").value_or(""); !date.empty()) {
    auto t = ParseDate(date);
    if (!t) return WebhookResult::Error("invalid date format: " + date);
    msg.received_on = *t;
  }
  // fcm_token is validated but not stored: see fcm.h.
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

// The reference answers register with the contact's uuid after saving the
// token as the URN's auth. WebhookResult has no way to express "update this
// contact's URN auth", so we validate and answer Ignored with the reason.
WebhookResult Register(const WebhookRequest& request) {
  handlers::Fields f(request, handlers::Fields::kForm);
  const std::string urn_text = f.Required("urn");
  f.Required("fcm_token");
  if (!f.ok()) return WebhookResult::Error(f.error());
  std::string path = urn_text;
  if (path.rfind("fcm:", 0) == 0) path = path.substr(4);
  auto urn = URN::FromParts("fcm", path);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  return WebhookResult::Ignored("registration of " + urn->ToString() +
                                " accepted but not stored: this server keeps no fcm_token per contact, "
                                "so sends address the device by the URN path");
}

enum class Api { kV1, kLegacy };

// What one part's request looks like and how to read its answer.
struct Target {
  Api api;
  std::string url;
  std::string authorization;
};

std::optional<Target> TargetFor(const Channel& channel, std::string& error) {
  const std::string base = handlers::BaseUrl(channel, kDefaultApiUrl);
  const std::string forced = Lower(channel.ConfigOr(kApi));
  const std::string project = channel.ConfigOr(kProjectId);
  const bool v1 = forced == "v1" || (forced != "legacy" && !project.empty());
  if (v1) {
    const std::string token = channel.ConfigOr(kAccessToken);
    if (project.empty() || token.empty()) {
      error = "FCM_PROJECT_ID and FCM_ACCESS_TOKEN must be set for the FCM HTTP v1 API";
      return std::nullopt;
    }
    return Target{Api::kV1, base + "/v1/projects/" + project + "/messages:send", "Bearer " + token};
  }
  const std::string key = channel.ConfigOr(kKey);
  if (key.empty()) {
    error = "no FCM_KEY (or FCM_PROJECT_ID and FCM_ACCESS_TOKEN) set for FCM channel";
    return std::nullopt;
  }
  return Target{Api::kLegacy, base + "/fcm/send", "key=" + key};
}

std::string Payload(const Target& target, const Channel& channel, const Msg& msg, const std::string& device,
                    const std::string& text) {
  const std::string title = channel.ConfigOr(kTitle);
  const bool notify = Lower(channel.ConfigOr(kNotification)) == "true";
  json::ObjectPtr data = json::NewObject();
  data->set("type", "rapidpro");
  data->set("title", title);
  data->set("message", text);
  json::ObjectPtr notification;
  if (notify) {
    notification = json::NewObject();
    notification->set("title", title);
    notification->set("body", text);
  }

  json::ObjectPtr root = json::NewObject();
  if (target.api == Api::kLegacy) {
    data->set("message_id", msg.id);
    root->set("data", data);
    if (notification) {
      root->set("notification", notification);
      root->set("content_available", true);
    }
    root->set("to", device);
    root->set("priority", "high");
    return json::Stringify(root);
  }
  // v1: data values must all be strings; priority moves into the
  // platform blocks.
  data->set("message_id", std::to_string(msg.id));
  json::ObjectPtr message = json::NewObject();
  message->set("token", device);
  message->set("data", data);
  if (notification) message->set("notification", notification);
  json::ObjectPtr android = json::NewObject();
  android->set("priority", "high");
  message->set("android", android);
  if (notification) {
    json::ObjectPtr aps = json::NewObject();
    aps->set("content-available", 1);
    json::ObjectPtr payload = json::NewObject();
    payload->set("aps", aps);
    json::ObjectPtr apns = json::NewObject();
    apns->set("payload", payload);
    message->set("apns", apns);
  }
  root->set("message", message);
  return json::Stringify(root);
}

// The FcmError errorCode of a v1 error answer ("UNREGISTERED", …), else
// error.status.
std::string V1ErrorCode(const json::ObjectPtr& body) {
  json::ObjectPtr error = json::GetObject(body, "error");
  if (!error) return "";
  if (error->has("details") && !error->isNull("details")) {
    json::ArrayPtr details = error->getArray("details");
    for (size_t i = 0; details && i < details->size(); ++i) {
      std::string code = json::GetStringOrEmpty(details->getObject(static_cast<unsigned>(i)), "errorCode");
      if (!code.empty()) return code;
    }
  }
  return json::GetStringOrEmpty(error, "status");
}

}  // namespace

std::vector<Route> FcmHandler::Routes() const {
  return {{"POST", "receive", RouteKind::kReceive}, {"POST", "register", RouteKind::kEvent}};
}

WebhookResult FcmHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                  HandlerContext&) const {
  if (route.action == "register") return Register(request);
  return ReceiveMsg(channel, request);
}

SendResult FcmHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  std::string config_error;
  auto target = TargetFor(channel, config_error);
  if (!target) return handlers::Errored(config_error, {handlers::ErrorLog(channel, msg, config_error, ctx.clock.Now())});
  const std::string device = msg.urn.substr(msg.urn.find(':') + 1);
  const auto secrets = channel.SecretValues();

  std::vector<std::string> parts = handlers::SplitText(TextAndAttachments(msg), kMaxTextLength);
  if (parts.empty()) parts.push_back("");
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& text : parts) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = target->url;
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({"Authorization", target->authorization});
    req.body = Payload(*target, channel, msg, device, text);
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    const json::ObjectPtr answer = body.ok() ? *body : nullptr;

    if (target->api == Api::kV1) {
      if (call.ok()) {
        // {"name":"projects/<p>/messages/<id>"}: the id is the last segment.
        std::string name = json::GetStringOrEmpty(answer, "name");
        if (name.empty()) {
          call.log.error = "no 'name' in response";
          std::string error = call.log.error;
          logs.push_back(std::move(call.log));
          return handlers::Errored(error, std::move(logs));
        }
        if (external_id.empty()) external_id = name.substr(name.rfind('/') + 1);
        logs.push_back(std::move(call.log));
        continue;
      }
      const std::string code = V1ErrorCode(answer);
      std::string error = "received error from FCM: " +
                          (code.empty() ? "HTTP " + std::to_string(call.exchange.status_code) : code);
      if (std::string message = Redact(json::GetStringOrEmpty(json::GetObject(answer, "error"), "message"), secrets); !message.empty())
        error += " (" + message + ")";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      // UNREGISTERED (404): the app was uninstalled or the token expired —
      // the contact can no longer be reached. INVALID_ARGUMENT: a bad token
      // or payload, retrying cannot help. QUOTA_EXCEEDED comes as 429.
      if (code == "UNREGISTERED") {
        SendResult r = handlers::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      if (code == "INVALID_ARGUMENT" || code == "SENDER_ID_MISMATCH") return handlers::Failed(error, std::move(logs));
      return handlers::ThrottledIf429(handlers::Errored(error, std::move(logs)), call.exchange);
    }

    // Legacy: {"multicast_id":…,"success":1,"failure":0,"results":[{"message_id":"…"}]}
    if (!call.ok()) {
      std::string error = call.log.error.empty() ? "received error from FCM" : call.log.error;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::ThrottledIf429(handlers::Errored(error, std::move(logs)), call.exchange);
    }
    if (json::GetInt(answer, "success").value_or(0) != 1) {
      std::string result_error;
      if (answer && answer->has("results") && !answer->isNull("results")) {
        json::ArrayPtr results = answer->getArray("results");
        if (results && results->size() > 0) result_error = json::GetStringOrEmpty(results->getObject(0), "error");
      }
      std::string error = "received error from FCM: " + (result_error.empty() ? "no success in response" : result_error);
      call.log.error = error;
      logs.push_back(std::move(call.log));
      if (result_error == "NotRegistered") {
        SendResult r = handlers::Failed(error, std::move(logs));
        r.stop_contact = true;
        return r;
      }
      if (result_error == "InvalidRegistration" || result_error == "MismatchSenderId" ||
          result_error == "MessageTooBig")
        return handlers::Failed(error, std::move(logs));
      return handlers::Errored(error, std::move(logs));
    }
    auto multicast = json::GetInt(answer, "multicast_id");
    if (!multicast) {
      call.log.error = "no 'multicast_id' in response";
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::Errored(error, std::move(logs));
    }
    if (external_id.empty()) external_id = std::to_string(*multicast);
    logs.push_back(std::move(call.log));
  }
  return handlers::Wired(external_id, std::move(logs));
}

}  // namespace courier
