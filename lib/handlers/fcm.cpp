#include "handlers/fcm.h"

#include "core/json_writer.h"
#include "core/redact.h"
#include "handlers/access_token_request.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://fcm.googleapis.com";
const char* kCredentials = "FCM_CREDENTIALS_JSON";
const char* kProjectId = "FCM_PROJECT_ID";
const char* kLegacyKey = "FCM_KEY";
const char* kTitle = "FCM_TITLE";
const char* kNotification = "FCM_NOTIFICATION";
const char* kScope = "https://www.googleapis.com/auth/firebase.messaging";

// The reference's split; FCM itself takes 4096 bytes of data.
constexpr size_t kMaxTextLength = 1024;

// The app's date, "2006-01-02T15:04:05.000" in UTC; also accepted with a
// zone or without milliseconds.
std::optional<Micros> ParseDate(std::string date) {
  if (date.size() > 10 && date[10] == ' ') date[10] = 'T';
  if (date.size() >= 19 && date.substr(19).find_first_of("Zz+-") == std::string::npos) date += 'Z';
  return ParseRfc3339(date);
}

Result<URN> FcmUrn(std::string path) {
  if (StartsWith(path, "fcm:")) path = path.substr(4);
  return URN::FromParts("fcm", path);
}

WebhookResult ReceiveMsg(const Channel& channel, const WebhookRequest& request, Micros now) {
  handlers::Fields f(request, handlers::Fields::kForm);
  const std::string from = f.Required("from");
  const std::string text = f.Required("msg");
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
  WebhookResult r;
  if (std::string token = f.Optional("fcm_token").value_or(""); !token.empty()) {
    r.urn_auths.push_back({urn->ToString(), token, msg.contact_name, now});
  }
  r.msgs.push_back(std::move(msg));
  return r;
}

WebhookResult Register(const WebhookRequest& request, Micros now) {
  handlers::Fields f(request, handlers::Fields::kForm);
  const std::string urn_text = f.Required("urn");
  const std::string token = f.Required("fcm_token");
  if (!f.ok()) return WebhookResult::Error(f.error());
  auto urn = FcmUrn(urn_text);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  WebhookResult r;
  r.urn_auths.push_back({urn->ToString(), token, f.Optional("name").value_or(""), now});
  r.answer_from_store = [](const IntakeOutcome& outcome) {
    JsonWriter w;
    w.BeginObject().Key("contact_uuid");
    if (outcome.urn_auths.empty()) w.Null();
    else w.String(outcome.urn_auths.front().contact_uuid);
    return w.EndObject().Take();
  };
  return r;
}

std::string Payload(const Channel& channel, const Msg& msg, const std::string& text, bool last_part) {
  const std::string title = channel.ConfigOr(kTitle);
  const bool notify = handlers::ConfigFlag(channel, kNotification, false);
  // v1 data values must all be strings.
  JsonWriter w;
  w.BeginObject().Key("message").BeginObject();
  w.Field("token", msg.urn_auth);
  w.Key("data").BeginObject();
  w.Field("type", "rapidpro").Field("title", title).Field("message", text);
  w.Field("message_id", std::to_string(msg.id));
  // The app shows words only: the text replies, as the reference sent them.
  if (const auto texts = TextQuickReplies(msg.quick_replies); last_part && !texts.empty()) {
    JsonWriter replies;
    replies.Strings(texts);
    w.Field("quick_replies", replies.Take());
  }
  w.EndObject();
  if (notify) {
    w.Key("notification").BeginObject().Field("title", title).Field("body", text).EndObject();
  }
  w.Key("android").BeginObject().Field("priority", "high").EndObject();
  if (notify) {
    w.Key("apns").BeginObject().Key("payload").BeginObject().Key("aps").BeginObject();
    w.Key("content-available").Int(1);
    w.EndObject().EndObject().EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

// The FcmError errorCode of a v1 error answer ("UNREGISTERED", ...), else
// error.status ("UNAUTHENTICATED", ...); "" when the answer has neither.
std::string ErrorCode(const json::ObjectPtr& body) {
  json::ObjectPtr error = json::GetObject(body, "error");
  for (const auto& detail : json::GetObjects(error, "details")) {
    std::string code = json::GetStringOrEmpty(detail, "errorCode");
    if (!code.empty()) return code;
  }
  return json::GetStringOrEmpty(error, "status");
}

std::string ErrorReason(const std::string& code, const json::ObjectPtr& answer, int status_code,
                        const std::vector<std::string>& secrets) {
  if (code == "UNREGISTERED") {
    return "fcm token is stale: FCM answered UNREGISTERED (the app was uninstalled or its registration "
           "token expired; it must register again)";
  }
  std::string reason = "received error from FCM: " + (code.empty() ? "HTTP " + std::to_string(status_code) : code);
  const std::string message = Redact(json::GetStringOrEmpty(json::GetObject(answer, "error"), "message"), secrets);
  if (!message.empty()) reason += " (" + message + ")";
  return reason;
}

struct Setup {
  handlers::ServiceAccount account;
  std::string url;
};

// The credentials and endpoint, or why the channel cannot send.
std::optional<Setup> SetupFor(const Channel& channel, std::string& error) {
  const std::string credentials = channel.ConfigOr(kCredentials);
  if (credentials.empty()) {
    error = channel.ConfigOr(kLegacyKey).empty()
                ? std::string("no ") + kCredentials + " set for FCM channel"
                : std::string("no ") + kCredentials + " set for FCM channel: " + kLegacyKey +
                      " server keys were for FCM's legacy API, which Google has shut down; "
                      "set a service account's credentials JSON";
    return std::nullopt;
  }
  auto account = handlers::ParseServiceAccount(credentials);
  if (!account.ok()) {
    error = std::string(kCredentials) + ": " + account.status().message();
    return std::nullopt;
  }
  std::string project = channel.ConfigOr(kProjectId);
  if (project.empty()) project = account->project_id;
  if (project.empty()) {
    error = std::string("no project_id in ") + kCredentials + " and no " + kProjectId + " set for FCM channel";
    return std::nullopt;
  }
  return Setup{*account, handlers::BaseUrl(channel, kDefaultApiUrl) + "/v1/projects/" + project + "/messages:send"};
}

// FCM answers 401 for a token it no longer takes, and for the device's
// own APNs or web-push credentials (THIRD_PARTY_AUTH_ERROR), which a new
// token of ours would not mend.
const handlers::AccessTokenUse& TokenUse() {
  static const handlers::AccessTokenUse use = [] {
    handlers::AccessTokenUse u;
    u.refuses_token = [](const HttpExchange& exchange) {
      if (exchange.status_code != 401) return false;
      auto body = json::ParseObject(exchange.body);
      return ErrorCode(body.ok() ? *body : nullptr) != "THIRD_PARTY_AUTH_ERROR";
    };
    return u;
  }();
  return use;
}

}  // namespace

const ChannelTypeInfo& FcmHandler::Type() const {
  static const ChannelTypeInfo type = {
      "FCM",
      "Firebase Cloud Messaging",
      {"fcm"},
      {
          // Checked by SetupFor, which also explains a leftover FCM_KEY.
          {kCredentials, ConfigNeed::kToSend, true, "a service account's credentials JSON (FCM HTTP v1)"},
          {kProjectId, ConfigNeed::kOptional, false, "the Firebase project", "the credentials' project_id"},
          {kTitle, ConfigNeed::kOptional, false, "the title of the data message (and notification)"},
          {kNotification, ConfigNeed::kOptional, false, "true: also a visible notification", "false"},
          {kLegacyKey, ConfigNeed::kOptional, true,
           "a legacy server key: no longer accepted by FCM, only named in the error"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxTextLength),
      },
  };
  return type;
}

std::vector<Route> FcmHandler::Routes() const {
  return {{"POST", "receive", RouteKind::kReceive}, {"POST", "register", RouteKind::kEvent}};
}

WebhookResult FcmHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                  HandlerContext& ctx) const {
  if (route.action == "register") return Register(request, ctx.clock.Now());
  return ReceiveMsg(channel, request, ctx.clock.Now());
}

SendResult FcmHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (msg.urn_auth.empty()) {
    const std::string error = "no fcm token for this contact";
    return SendResult::Failed(error, {ErrorLog(channel, msg, error, now)});
  }
  std::string config_error;
  auto setup = SetupFor(channel, config_error);
  if (!setup) return SendResult::Errored(config_error, {ErrorLog(channel, msg, config_error, now)});

  std::vector<std::string> parts = SplitText(TextAndAttachments(msg), handlers::MaxLength(channel, kMaxTextLength));
  if (parts.empty()) {
    if (TextQuickReplies(msg.quick_replies).empty()) return handlers::NothingToSend(channel, msg, now);
    parts.push_back("");
  }
  const std::string credentials = channel.ConfigOr(kCredentials);
  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (size_t i = 0; i < parts.size(); ++i) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = setup->url;
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = Payload(channel, msg, parts[i], i + 1 == parts.size());

    // A token the API refuses as unauthenticated may have been revoked
    // since it was cached.
    auto answered = handlers::CallWithAccessToken(
        ctx, channel, msg, req, tokens_,
        [&] { return GoogleAccessToken(tokens_, ctx, channel, msg, credentials, setup->account, kScope, logs); }, logs,
        TokenUse());
    if (!answered.ok()) return SendResult::Errored(answered.status().message(), std::move(logs));
    handlers::Call& call = *answered;

    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return SendResult::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    const json::ObjectPtr answer = body.ok() ? *body : nullptr;
    if (!call.ok()) {
      std::string error = ErrorReason(ErrorCode(answer), answer, call.exchange.status_code, secrets);
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), call.exchange);
    }
    // {"name":"projects/<p>/messages/<id>"}: the id is the last segment.
    const std::string name = json::GetStringOrEmpty(answer, "name");
    if (name.empty()) {
      call.log.error = "no 'name' in FCM's answer";
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    if (external_id.empty()) external_id = name.substr(name.rfind('/') + 1);
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired(external_id, std::move(logs));
}

}  // namespace courier
