#include "handlers/rocketchat.h"

#include "handlers/common.h"

namespace courier {
namespace {

const char* kScheme = "rocketchat";
const char* kSendPath = "/message";
const char* kBotUsername = "bot_username";
// A Rocket.Chat admin's REST credentials: the server's uploads need them.
const char* kAdminAuthToken = "admin_auth_token";
const char* kAdminUserId = "admin_user_id";

// The app's API root as configured, without a trailing '/' so that the
// path we append does not double it.
std::string ApiRoot(const Channel& channel) {
  std::string root = channel.ConfigOr(config_keys::kBaseUrl);
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root;
}

// "image/png:https://..." as the app wants it: the type (guessed from the
// URL when the attachment has none) and the URL.
json::ObjectPtr Attachment(const std::string& attachment) {
  auto [mime, url] = SplitAttachment(attachment);
  if (mime.find('/') == std::string::npos) {  // a bare URL: "https" is no type
    url = attachment;
    mime = MimeTypeFromPath(url);
  }
  auto out = json::NewObject();
  out->set("type", mime.empty() ? kDefaultMimeType : mime);
  out->set("url", url);
  return out;
}

}  // namespace

const ChannelTypeInfo& RocketChatHandler::Type() const {
  static const ChannelTypeInfo type = {
      "RC",
      "Rocket.Chat",
      {kScheme},
      {
          {config_keys::kBaseUrl, ConfigNeed::kToSend, false,
           "the RapidPro app's public API root on the server (https://SERVER/api/apps/public/APP_ID)"},
          ConfigKeyInfo{config_keys::kSecret, ConfigNeed::kToSend, true,
                        "the token the app and courier share (Authorization: Token SECRET, both ways)"}
              .VerifiesWebhooks(),
          {kBotUsername, ConfigNeed::kToSend, false, "the user name of the bot msgs are sent as"},
          {kAdminAuthToken, ConfigNeed::kOptional, true,
           "an admin's REST token (X-Auth-Token), to download incoming attachments"},
          {kAdminUserId, ConfigNeed::kOptional, false,
           "that admin's user id (X-User-Id), to download incoming attachments"},
      },
  };
  return type;
}

std::vector<Route> RocketChatHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult RocketChatHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                         HandlerContext&) const {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  const json::ObjectPtr user = json::GetObject(*body, "user");
  const std::string urn_path = json::GetStringOrEmpty(user, "urn");
  if (urn_path.empty())
    return WebhookResult::Error(std::string("request JSON doesn't match required schema: field '") +
                                (user ? "user.urn" : "user") + "' required");

  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (secret.empty()) return WebhookResult::Error("missing config 'secret' for RC channel");
  if (!ConstantTimeEquals(request.Header("authorization"), "Token " + secret))
    return WebhookResult::Unauthorized("invalid Authorization header");

  const std::string text = json::GetStringOrEmpty(*body, "text");
  std::vector<std::string> attachments;
  for (const auto& attachment : json::GetObjects(*body, "attachments")) {
    const std::string url = json::GetStringOrEmpty(attachment, "url");
    if (url.empty()) continue;
    const std::string type = BareMimeType(json::GetStringOrEmpty(attachment, "type"));
    // Without a type the fetcher reads it from the download.
    attachments.push_back(type.find('/') == std::string::npos ? url : type + ":" + url);
  }
  if (text.empty() && attachments.empty()) return WebhookResult::Error("no text or attachment");

  auto urn = URN::FromParts(kScheme, urn_path);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.attachments = std::move(attachments);
  msg.contact_name = json::GetStringOrEmpty(user, "full_name");
  if (msg.contact_name.empty()) msg.contact_name = json::GetStringOrEmpty(user, "username");
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

SendResult RocketChatHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, ctx.clock.Now());

  std::string user = msg.urn.substr(msg.urn.find(':') + 1);
  user = user.substr(0, user.find('#'));
  auto payload = json::NewObject();
  payload->set("user", user);
  payload->set("bot", channel.ConfigOr(kBotUsername));
  if (!msg.text.empty()) payload->set("text", msg.text);
  if (!msg.attachments.empty()) {
    auto attachments = json::NewArray();
    for (const auto& attachment : msg.attachments) attachments->add(Attachment(attachment));
    payload->set("attachments", attachments);
  }

  HttpRequestSpec req;
  req.method = "POST";
  req.url = ApiRoot(channel) + kSendPath;
  req.headers = {{"Authorization", "Token " + channel.ConfigOr(config_keys::kSecret)},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = json::Stringify(payload);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  std::vector<ChannelLog> logs;
  if (!call.ok()) {
    const std::string error = call.log.error;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  std::string id;
  if (auto answer = json::ParseObject(exchange.body); answer.ok()) id = json::GetId(*answer, "id");
  if (id.empty()) {
    const std::string error = "unable to get id from response body";
    call.log.error = error;
    logs.push_back(std::move(call.log));
    return handlers::AcceptedWithoutId(error, std::move(logs));
  }
  logs.push_back(std::move(call.log));
  return SendResult::Wired(id, std::move(logs));
}

HttpRequestSpec RocketChatHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string token = channel.ConfigOr(kAdminAuthToken);
  const std::string user_id = channel.ConfigOr(kAdminUserId);
  const std::string root = ApiRoot(channel);
  // The admin's credentials open the server's uploads; they go to that
  // server only, never to wherever a visitor's URL points.
  if (!token.empty() && !user_id.empty() && !root.empty() && handlers::UrlOnHosts(url, {}, root)) {
    req.headers.push_back({"X-Auth-Token", token});
    req.headers.push_back({"X-User-Id", user_id});
  }
  return req;
}

}  // namespace courier
