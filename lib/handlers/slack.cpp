#include "handlers/slack.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/redact.h"
#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://slack.com";
const char* kBotToken = "bot_token";
const char* kUserToken = "user_token";
const char* kSigningSecret = "signing_secret";

// Slack recommends at most 4,000 characters per message (it truncates at
// 40,000); longer texts (or longer than the channel's max_length) are
// split.
constexpr size_t kMaxTextLength = 4000;
// Block Kit's limits: a section's text, a button's label and value, the
// elements of one actions block.
constexpr size_t kMaxSectionText = 3000;
constexpr size_t kMaxButtonLabel = 75;
constexpr size_t kMaxButtonValue = 2000;
constexpr size_t kMaxButtons = 25;
// Our buttons' action_ids: a text reply's click is the user's answer; a
// link button's click (Slack reports those too) is not.
const char* kReplyAction = "quick_reply_";
const char* kLinkAction = "quick_reply_url_";
// Slack's docs: reject requests whose timestamp is more than five minutes
// from now (replay protection).
constexpr int64_t kMaxSkewSeconds = 5 * 60;

// Checks X-Slack-Request-Timestamp and X-Slack-Signature; "" when the
// request is authentic, else why not.
std::string CheckSignature(const Channel& channel, const WebhookRequest& request, Micros now) {
  const std::string secret = channel.ConfigOr(kSigningSecret);
  if (secret.empty()) return "no signing_secret set for SL channel";
  const std::string timestamp = request.Header("x-slack-request-timestamp");
  const std::string signature = request.Header("x-slack-signature");
  if (timestamp.empty() || signature.empty()) return "missing request signature";
  // Unix seconds: a dozen digits cover the next 30,000 years and keep stoll in range.
  if (!AllDigits(timestamp) || timestamp.size() > 12) return "invalid request timestamp";
  const int64_t ts = std::stoll(timestamp);
  if (std::llabs(now / kMicrosPerSecond - ts) > kMaxSkewSeconds) return "stale request timestamp";
  const std::string expected = "v0=" + HmacSha256Hex(secret, "v0:" + timestamp + ":" + request.body);
  if (!ConstantTimeEquals(expected, signature)) return "invalid request signature";
  return "";
}

// Message subtypes that carry something a person wrote; the others
// (message_changed, message_deleted, channel_join, bot_message, …) are
// ignored.
bool IsUserSubtype(const std::string& subtype) {
  return subtype.empty() || subtype == "file_share" || subtype == "thread_broadcast";
}

// "1355517523.000005" -> micros; nullopt unless digits, an optional
// fraction, and a time a clock could show.
std::optional<Micros> TsToMicros(const std::string& ts) {
  const size_t dot = ts.find('.');
  const std::string whole = ts.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : ts.substr(dot + 1);
  auto all_digits = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  if (whole.empty() || whole.size() > 15 || !all_digits(whole) || !all_digits(fraction)) return std::nullopt;
  auto micros = handlers::MicrosFromSeconds(static_cast<double>(std::stoll(whole)));
  if (!micros) return std::nullopt;
  std::string f = fraction.substr(0, 6);
  while (f.size() < 6) f += '0';
  return *micros + std::stoll(f);
}

// chat.postMessage errors (Slack's method reference) that the same
// request meets again on retry: the conversation or user is wrong, gone
// or closed to the bot, the message is refused as it is, or the token
// cannot post (revoked, wrong scope: an operator must act first).
// Anything else (fatal_error, service_unavailable, request_timeout,
// team_added_to_org ...) is retried; ratelimited is throttled.
bool IsPermanentError(const std::string& error) {
  static const std::set<std::string> kPermanent = {
      "channel_not_found",   "not_in_channel",        "is_archived",        "msg_too_long",
      "no_text",             "too_many_attachments",  "user_not_found",     "cannot_dm_bot",
      "messages_tab_disabled", "restricted_action",   "restricted_action_read_only_channel",
      "restricted_action_thread_only_channel",        "restricted_action_non_threadable_channel",
      "ekm_access_denied",   "as_user_not_supported", "not_authed",         "invalid_auth",
      "account_inactive",    "token_revoked",         "token_expired",      "no_permission",
      "missing_scope",       "not_allowed_token_type", "invalid_arguments", "invalid_arg_name",
      "invalid_charset",     "invalid_form_data",     "invalid_post_type",  "missing_post_type",
  };
  return kPermanent.count(error) > 0;
}

// The last part's Block Kit blocks: its text as a section, then one
// button per text or link reply (Slack cannot ask for a location: those
// are left out, as on other channels without them); none without a
// button.
json::ArrayPtr QuickReplyBlocks(const std::string& text, const std::vector<QuickReply>& replies) {
  json::ArrayPtr buttons = json::NewArray();
  for (size_t i = 0; i < replies.size() && buttons->size() < kMaxButtons; ++i) {
    const QuickReply& reply = replies[i];
    if (reply.type == QuickReplyType::kLocation) continue;
    json::ObjectPtr label = json::NewObject();
    label->set("type", "plain_text");
    label->set("text", Truncate(reply.text, kMaxButtonLabel));
    json::ObjectPtr button = json::NewObject();
    button->set("type", "button");
    button->set("text", label);
    if (reply.type == QuickReplyType::kUrl) {
      button->set("url", reply.url);
      button->set("action_id", kLinkAction + std::to_string(i));
    } else {
      button->set("value", Truncate(reply.text, kMaxButtonValue));
      button->set("action_id", kReplyAction + std::to_string(i));
    }
    buttons->add(button);
  }
  json::ArrayPtr blocks = json::NewArray();
  if (buttons->size() == 0) return blocks;
  if (!text.empty()) {
    json::ObjectPtr mrkdwn = json::NewObject();
    mrkdwn->set("type", "mrkdwn");
    mrkdwn->set("text", text);
    json::ObjectPtr section = json::NewObject();
    section->set("type", "section");
    section->set("text", mrkdwn);
    blocks->add(section);
  }
  json::ObjectPtr actions = json::NewObject();
  actions->set("type", "actions");
  actions->set("elements", buttons);
  blocks->add(actions);
  return blocks;
}

// A click on one of our reply buttons (Slack's block_actions interaction,
// posted form-encoded as `payload`) as the user's msg.
WebhookResult ReceiveInteraction(const Channel& channel, const WebhookRequest& request) {
  const std::string payload_text = request.FormParam("payload").value_or("");
  if (payload_text.empty()) return WebhookResult::Error("field 'payload' required");
  auto payload = json::ParseObject(payload_text);
  if (!payload.ok()) return WebhookResult::Error("field 'payload' is not a JSON object");
  const std::string type = json::GetStringOrEmpty(*payload, "type");
  if (type != "block_actions") return WebhookResult::Ignored("Ignoring request, unhandled interaction '" + type + "'");
  const std::string user = json::GetStringOrEmpty(json::GetObject(*payload, "user"), "id");
  if (user.empty()) return WebhookResult::Error("field 'user.id' required");
  auto urn = URN::FromParts("slack", user);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  WebhookResult r;
  for (const json::ObjectPtr& action : json::Objects(json::GetArray(*payload, "actions"))) {
    const std::string id = json::GetStringOrEmpty(action, "action_id");
    if (id.rfind(kReplyAction, 0) != 0 || id.rfind(kLinkAction, 0) == 0) continue;
    const std::string value = json::GetStringOrEmpty(action, "value");
    const std::string ts = json::GetStringOrEmpty(action, "action_ts");
    if (value.empty() || ts.empty()) return WebhookResult::Error("fields 'actions.value' and 'actions.action_ts' required");
    Msg msg = handlers::IncomingMsg(channel, *urn, value);
    // One click, one action_ts: Slack's retries of it are duplicates.
    msg.external_id = ts;
    if (auto t = TsToMicros(ts)) msg.received_on = *t;
    r.msgs.push_back(std::move(msg));
  }
  if (r.msgs.empty()) return WebhookResult::Ignored("Ignoring request, no quick reply clicked");
  return r;
}

// The pub_secret of a public file: the last '-' part of its
// permalink_public ("https://slack-files.com/T024BE7LD-F024BERPE-8004f909b1").
std::string PubSecret(const std::string& permalink_public) {
  const size_t slash = permalink_public.rfind('/');
  const size_t dash = permalink_public.rfind('-');
  if (dash == std::string::npos || (slash != std::string::npos && dash < slash)) return "";
  return permalink_public.substr(dash + 1);
}

// Where anyone can fetch a file made public: its url_private with the
// pub_secret as the query (Slack serves a public file's bytes there; the
// permalink_public itself is an HTML page).
std::string PublicFileUrl(const std::string& url_private, const std::string& permalink_public) {
  const std::string secret = PubSecret(permalink_public);
  if (url_private.empty() || secret.empty()) return "";
  return AppendQuery(url_private, "pub_secret=" + secret);
}

// Makes a shared file public with files.sharedPublicURL (user token) and
// gives its public URL; "" (the failure logged in `logs`) when Slack does
// not.
std::string ShareFilePublicly(HandlerContext& ctx, const Channel& channel, const std::string& user_token,
                              const json::ObjectPtr& file, std::vector<ChannelLog>& logs) {
  const std::string id = json::GetStringOrEmpty(file, "id");
  HttpRequestSpec req;
  req.method = "POST";
  req.url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/api/files.sharedPublicURL";
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  req.headers.push_back({"Authorization", "Bearer " + user_token});
  req.body = FormEncode({{"file", id}});
  Msg none;  // id 0: the log belongs to the channel, not to a msg
  auto call = handlers::MakeCall(ctx, channel, none, req, "File Shared Publicly");

  std::string error;
  std::string url;
  if (!call.exchange.error.empty()) {
    error = call.log.error;
  } else {
    auto body = json::ParseObject(call.exchange.body);
    std::optional<bool> ok = body.ok() ? json::GetBool(*body, "ok") : std::nullopt;
    if (!ok) {
      error = call.log.error.empty() ? "no 'ok' in response" : call.log.error;
    } else if (!*ok) {
      error = "received error from slack: " + json::GetStringOrEmpty(*body, "error");
    } else {
      json::ObjectPtr shared = json::GetObject(*body, "file");
      std::string url_private = json::GetStringOrEmpty(shared, "url_private");
      if (url_private.empty()) url_private = json::GetStringOrEmpty(file, "url_private");
      url = PublicFileUrl(url_private, json::GetStringOrEmpty(shared, "permalink_public"));
      if (url.empty()) error = "no 'file.permalink_public' in response";
    }
  }
  if (!error.empty()) {
    call.log.error = Redact("file " + id + " kept private: " + error, channel.SecretValues());
    url.clear();
  }
  logs.push_back(std::move(call.log));
  return url;
}

}  // namespace

const ChannelTypeInfo& SlackHandler::Type() const {
  static const ChannelTypeInfo type = {
      "SL",
      "Slack",
      {"slack"},
      {
          {kBotToken, ConfigNeed::kToSend, true, "the app's bot token (xoxb-...)"},
          ConfigKeyInfo{kSigningSecret, ConfigNeed::kToReceive, true, "the app's signing secret, which signs events"}
              .VerifiesWebhooks(),
          {kUserToken, ConfigNeed::kOptional, true,
           "a user token (xoxp-...) to share received files publicly, so their URLs open without a login"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxTextLength),
      },
  };
  return type;
}

std::vector<Route> SlackHandler::Routes() const {
  return {{"POST", "receive", RouteKind::kReceive}, {"POST", "interactive", RouteKind::kReceive}};
}

WebhookResult SlackHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                    HandlerContext& ctx) const {
  // Every Events API request is signed, url_verification included, and
  // so is every interaction.
  if (std::string why = CheckSignature(channel, request, ctx.clock.Now()); !why.empty())
    return WebhookResult::Unauthorized(why);
  if (route.action == "interactive") return ReceiveInteraction(channel, request);

  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const json::ObjectPtr& body = *parsed;

  const std::string type = json::GetStringOrEmpty(body, "type");
  if (type.empty()) return WebhookResult::Error("field 'type' required");

  if (type == "url_verification") {
    const std::string challenge = json::GetStringOrEmpty(body, "challenge");
    if (challenge.empty()) return WebhookResult::Error("field 'challenge' required");
    // Slack accepts the challenge echoed as plain text.
    WebhookResult r;
    r.response_body = challenge;
    r.response_content_type = "text/plain";
    return r;
  }
  if (type != "event_callback") return WebhookResult::Ignored("Ignoring request, unhandled type '" + type + "'");

  json::ObjectPtr event = json::GetObject(body, "event");
  if (!event) return WebhookResult::Error("field 'event' required");
  const std::string event_type = json::GetStringOrEmpty(event, "type");
  if (event_type != "message") return WebhookResult::Ignored("Ignoring request, unhandled event '" + event_type + "'");
  // Messages from bots (our own replies included) are not contacts talking.
  if (!json::GetStringOrEmpty(event, "bot_id").empty() || json::GetStringOrEmpty(event, "subtype") == "bot_message")
    return WebhookResult::Ignored("Ignoring request, message from a bot");
  const std::string subtype = json::GetStringOrEmpty(event, "subtype");
  if (!IsUserSubtype(subtype)) return WebhookResult::Ignored("Ignoring request, message subtype '" + subtype + "'");

  const std::string user = json::GetStringOrEmpty(event, "user");
  if (user.empty()) return WebhookResult::Error("field 'event.user' required");
  const std::string ts = json::GetStringOrEmpty(event, "ts");
  if (ts.empty()) return WebhookResult::Error("field 'event.ts' required");
  auto urn = URN::FromParts("slack", user);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  // Files are stored by a URL a consumer can fetch without our tokens:
  // each is made public (see slack.h), else kept as its url_private.
  std::vector<std::string> attachments;
  std::vector<ChannelLog> logs;
  const std::string user_token = channel.ConfigOr(kUserToken);
  for (const json::ObjectPtr& file : json::Objects(json::GetArray(event, "files"))) {
    const std::string url_private = json::GetStringOrEmpty(file, "url_private");
    if (url_private.empty()) continue;
    std::string url;
    if (json::GetBool(file, "public_url_shared").value_or(false))
      url = PublicFileUrl(url_private, json::GetStringOrEmpty(file, "permalink_public"));
    if (url.empty() && !user_token.empty() && !json::GetStringOrEmpty(file, "id").empty())
      url = ShareFilePublicly(ctx, channel, user_token, file, logs);
    if (url.empty()) url = url_private;
    std::string mime = json::GetStringOrEmpty(file, "mimetype");
    if (mime.empty()) mime = MimeTypeFromPath(url_private);
    if (mime.empty()) mime = kDefaultMimeType;
    attachments.push_back(mime + ":" + url);
  }

  Msg msg = handlers::IncomingMsg(channel, *urn, json::GetStringOrEmpty(event, "text"));
  msg.external_id = ts;
  if (auto t = TsToMicros(ts)) msg.received_on = *t;
  msg.attachments = std::move(attachments);
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  r.extra_logs = std::move(logs);
  return r;
}

SendResult SlackHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, ctx.clock.Now())) return *missing;
  const std::string token = channel.ConfigOr(kBotToken);
  const std::string url = handlers::BaseUrl(channel, kDefaultApiUrl) + "/api/chat.postMessage";
  // A user id as the channel posts to the bot's DM with that user.
  const std::string user = msg.urn.substr(msg.urn.find(':') + 1);
  const auto secrets = channel.SecretValues();

  std::vector<ChannelLog> logs;
  std::string external_id;
  // With buttons, the last part's text is also a section's, which holds
  // fewer characters than a message.
  size_t max_length = handlers::MaxLength(channel, kMaxTextLength);
  if (!msg.quick_replies.empty()) max_length = std::min(max_length, kMaxSectionText);
  std::vector<std::string> parts = SplitText(TextAndAttachments(msg), max_length);
  if (parts.empty()) parts.push_back("");
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& text = parts[i];
    json::ObjectPtr payload = json::NewObject();
    payload->set("channel", user);
    payload->set("text", text);
    if (i + 1 == parts.size() && !msg.quick_replies.empty()) {
      json::ArrayPtr blocks = QuickReplyBlocks(text, msg.quick_replies);
      if (blocks->size() > 0) payload->set("blocks", blocks);
    }
    HttpRequestSpec req;
    req.method = "POST";
    req.url = url;
    req.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
    req.headers.push_back({"Authorization", "Bearer " + token});
    req.body = json::Stringify(payload);
    auto call = handlers::MakeCall(ctx, channel, msg, req);

    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return SendResult::Errored(error, std::move(logs));
    }
    // Slack answers HTTP 429 with Retry-After when rate limited; Web API
    // errors otherwise come as HTTP 200 {"ok":false,"error":"…"}.
    if (call.exchange.status_code == 429) {
      std::string error = "received error from slack: ratelimited";
      call.log.error = error;
      logs.push_back(std::move(call.log));
      return handlers::ThrottledIf429(SendResult::Errored(error, std::move(logs)), call.exchange);
    }
    const HttpExchange exchange = call.exchange;
    auto body = json::ParseObject(exchange.body);
    std::optional<bool> ok = body.ok() ? json::GetBool(*body, "ok") : std::nullopt;
    if (!ok) {
      std::string error = call.log.error.empty() ? "no 'ok' in response" : call.log.error;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      // A 2xx we cannot read may still have posted the message.
      if (exchange.ok()) return handlers::AcceptedWithoutId(error, std::move(logs));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (!*ok) {
      const std::string code = Redact(json::GetStringOrEmpty(*body, "error"), secrets);
      std::string error = "received error from slack: " + code;
      call.log.error = error;
      logs.push_back(std::move(call.log));
      if (code == "ratelimited" || code == "rate_limited") {
        SendResult r = SendResult::Errored(error, std::move(logs));
        r.throttled_for_seconds = handlers::RetryAfterSeconds(exchange);
        return r;
      }
      if (IsPermanentError(code) || (!exchange.ok() && handlers::IsPermanentHttpStatus(exchange.status_code)))
        return SendResult::Failed(error, std::move(logs));
      return SendResult::Errored(error, std::move(logs));
    }
    const std::string ts = json::GetStringOrEmpty(*body, "ts");
    if (ts.empty()) {
      // ok:true means the message was posted: a retry would post it again.
      call.log.error = "no 'ts' in response";
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::AcceptedWithoutId(error, std::move(logs));
    }
    if (external_id.empty()) external_id = ts;
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired(external_id, std::move(logs));
}

// A file's url_private needs the bot token (a public file's pub_secret
// URL needs nothing, and gets the token only on Slack's own hosts).
HttpRequestSpec SlackHandler::MediaRequest(const Channel& channel, const std::string& url) const {
  HttpRequestSpec req = ChannelHandler::MediaRequest(channel, url);
  const std::string token = channel.ConfigOr(kBotToken);
  if (!token.empty() && handlers::UrlOnHosts(url, {"slack.com", "slack-edge.com"}, handlers::BaseUrl(channel, kDefaultApiUrl)))
    req.headers.push_back({"Authorization", "Bearer " + token});
  return req;
}

}  // namespace courier
