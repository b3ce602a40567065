#include "handlers/wechat.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/Node.h>
#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "core/json_writer.h"
#include "core/redact.h"
#include "handlers/access_token_request.h"
#include "handlers/common.h"
#include "handlers/xml_body.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.weixin.qq.com";
const char* kAppIdKey = "wechat_app_id";
const char* kAppSecretKey = "wechat_app_secret";
constexpr size_t kMaxMsgLength = 1600;
// WeChat's tokens live two hours and say so; the fallback is the same.
const handlers::TokenLifetime kTokenLifetime{7200, 86400};
// WeChat's pushes are a few hundred bytes.
constexpr size_t kMaxXmlBytes = 64 * 1024;

// WeChat's global return codes (errcode) that are not a plain refusal.
constexpr int64_t kSystemBusy = -1;
constexpr int64_t kDailyQuotaReached = 45009;
bool RefusesToken(int64_t errcode) {
  return errcode == 40001     // invalid credential (the token is not valid)
         || errcode == 40014  // invalid access_token
         || errcode == 42001;  // access_token expired
}

struct WeChatError {
  int64_t code = 0;
  std::string message;
  std::string Describe() const {
    return "errcode " + std::to_string(code) + (message.empty() ? "" : " (" + message + ")");
  }
};

// The error a WeChat answer carries in its body ({"errcode":40013,
// "errmsg":"invalid appid"}), which WeChat answers with HTTP 200; none for
// errcode 0 or none.
std::optional<WeChatError> ErrorIn(const std::string& body) {
  auto answer = json::ParseObject(body);
  if (!answer.ok()) return std::nullopt;
  const auto code = json::GetIntLoose(*answer, "errcode");
  if (!code || *code == 0) return std::nullopt;
  return WeChatError{*code, json::GetStringOrEmpty(*answer, "errmsg")};
}

// --- receiving ---------------------------------------------------------------

std::string Signature(const std::string& token, const std::string& timestamp, const std::string& nonce) {
  std::vector<std::string> parts = {token, timestamp, nonce};
  std::sort(parts.begin(), parts.end());
  return HexEncode(Digest(DigestAlgorithm::kSha1, parts[0] + parts[1] + parts[2]));
}

// Whether the request carries the signature `secret` makes of its
// timestamp and nonce; false when it carries none.
bool SignedWith(const std::string& secret, const WebhookRequest& request) {
  const std::string signature = request.QueryParam("signature").value_or("");
  if (signature.empty()) return false;
  const std::string expected = Signature(secret, request.QueryParam("timestamp").value_or(""),
                                         request.QueryParam("nonce").value_or(""));
  return ConstantTimeEquals(ToLower(signature), expected);
}

WebhookResult EmptyAnswer(WebhookResult r) {
  r.response_body = "";
  r.response_content_type = "text/plain";
  return r;
}

WebhookResult Verify(const Channel& channel, const WebhookRequest& request) {
  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (secret.empty()) return WebhookResult::Error("no secret set for WC channel");
  // WeChat defines this answer, so a bad signature is its 400.
  if (!SignedWith(secret, request)) return WebhookResult::Error("unknown request");
  const std::string echo = request.QueryParam("echostr").value_or("");
  if (echo.empty()) return WebhookResult::Error("field 'echostr' required");
  WebhookResult r;
  r.response_body = echo;
  r.response_content_type = "text/plain";
  return r;
}

// The fields of a push: the text of each element under the root, by name
// (the first of a name).
Result<std::map<std::string, std::string>> ReadPush(const std::string& body) {
  if (body.size() > kMaxXmlBytes)
    return Status::InvalidArgument("request XML larger than " + std::to_string(kMaxXmlBytes) + " bytes");
  auto document = handlers::ParseXmlBody(body);
  if (!document.ok()) return document.status();
  std::map<std::string, std::string> fields;
  Poco::XML::Element* root = (*document)->documentElement();
  for (Poco::XML::Node* node = root->firstChild(); node != nullptr; node = node->nextSibling())
    if (node->nodeType() == Poco::XML::Node::ELEMENT_NODE) fields.emplace(node->nodeName(), node->innerText());
  return fields;
}

std::string Field(const std::map<std::string, std::string>& fields, const std::string& name) {
  auto it = fields.find(name);
  return it == fields.end() ? "" : it->second;
}

std::optional<double> Number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double n = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return n;
}

bool IsMediaType(const std::string& type) {
  return type == "image" || type == "voice" || type == "video" || type == "shortvideo";
}

WebhookResult ReceivePush(const Channel& channel, const WebhookRequest& request) {
  auto read = ReadPush(request.body);
  if (!read.ok()) return WebhookResult::Error(read.status().message());
  const auto& fields = *read;
  auto field = [&](const std::string& name) { return Trim(Field(fields, name)); };

  const std::string from = field("FromUserName");
  const std::string type = field("MsgType");
  std::vector<std::string> missing;
  if (from.empty()) missing.push_back("field 'FromUserName' required");
  if (type.empty()) missing.push_back("field 'MsgType' required");
  if (!missing.empty())
    return WebhookResult::Error("request XML doesn't match required schema: " + Join(missing, "; "));
  const std::string msg_id = field("MsgId");
  const std::string event = field("Event");
  if (msg_id.empty() && event.empty())
    return WebhookResult::Error("missing parameters, must have either 'MsgId' or 'Event'");
  std::optional<Micros> created;
  if (const std::string create_time = field("CreateTime"); !create_time.empty()) {
    errno = 0;
    char* end = nullptr;
    const long long seconds = std::strtoll(create_time.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return WebhookResult::Error("field 'CreateTime' must be an integer");
    created = handlers::MicrosFromSeconds(static_cast<double>(seconds));
  }
  auto urn = URN::FromParts("wechat", from);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  if (type == "event") {
    if (event != "subscribe") return EmptyAnswer(WebhookResult::Ignored("unknown event type"));
    ChannelEvent followed;
    followed.type = ChannelEventType::kNewConversation;
    followed.urn = urn->ToString();
    followed.occurred_on = created;
    WebhookResult r;
    r.events.push_back(std::move(followed));
    return EmptyAnswer(std::move(r));
  }

  std::string text = Field(fields, "Content");
  std::vector<std::string> attachments;
  if (IsMediaType(type)) {
    const std::string media_id = field("MediaId");
    if (media_id.empty()) return WebhookResult::Error("field 'MediaId' required for a " + type + " msg");
    attachments.push_back(handlers::BaseUrl(channel, kDefaultApiUrl) +
                          "/cgi-bin/media/get?media_id=" + UrlEscape(media_id));
  } else if (type == "location") {
    const auto lat = Number(field("Location_X"));
    const auto lng = Number(field("Location_Y"));
    if (!lat) return WebhookResult::Error("field 'Location_X' must be a number");
    if (!lng) return WebhookResult::Error("field 'Location_Y' must be a number");
    const auto place = handlers::LocationMsg(*lat, *lng, field("Label"), "");
    text = place.text;
    attachments.push_back(place.attachment);
  }
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = msg_id;
  msg.attachments = std::move(attachments);
  msg.received_on = created;
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return EmptyAnswer(std::move(r));
}

}  // namespace

const ChannelTypeInfo& WeChatHandler::Type() const {
  static const ChannelTypeInfo type = {
      "WC",
      "WeChat",
      {"wechat"},
      {
          ConfigKeyInfo{config_keys::kSecret, ConfigNeed::kToReceive, true,
                        "the Token of the account's server configuration, which signs WeChat's requests"}
              .VerifiesWebhooks(),
          {kAppIdKey, ConfigNeed::kToSend, false, "the official account's AppID"},
          {kAppSecretKey, ConfigNeed::kToSend, true, "the official account's AppSecret, which buys access tokens"},
          handlers::BaseUrlKey(kDefaultApiUrl),
          handlers::MaxLengthKey(kMaxMsgLength),
      },
  };
  return type;
}

std::vector<Route> WeChatHandler::Routes() const {
  // The channel's root is the URL an account is given; "receive" is kept
  // for accounts set up before courier served the root.
  return {{"GET", "", RouteKind::kReceive},
          {"POST", "", RouteKind::kReceive},
          {"GET", "receive", RouteKind::kReceive},
          {"POST", "receive", RouteKind::kReceive}};
}

WebhookResult WeChatHandler::Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                     HandlerContext&) const {
  if (route.method == "GET") return Verify(channel, request);
  const std::string secret = channel.ConfigOr(config_keys::kSecret);
  if (secret.empty()) return WebhookResult::Error("no secret set for WC channel");
  if (request.QueryParam("signature").value_or("").empty())
    return WebhookResult::Unauthorized("missing request signature");
  if (!SignedWith(secret, request)) return WebhookResult::Unauthorized("invalid request signature");
  return ReceivePush(channel, request);
}

Result<handlers::AccessTokenCache::Token> WeChatHandler::AccessToken(const Channel& channel, const Msg& msg,
                                                                     HandlerContext& ctx, const std::string& api,
                                                                     std::vector<ChannelLog>& logs,
                                                                     std::optional<HttpExchange>& refusal) const {
  const std::string app_id = channel.ConfigOr(kAppIdKey);
  const std::string app_secret = channel.ConfigOr(kAppSecretKey);
  const std::string url = api + "/cgi-bin/token";
  return tokens_.Get(channel.uuid, handlers::TokenFingerprint({url, app_id, app_secret}), ctx.clock.Now(),
                     kTokenLifetime, [&]() -> Result<handlers::IssuedToken> {
    HttpRequestSpec request;
    request.method = "GET";
    request.url =
        url + "?" + FormEncode({{"appid", app_id}, {"grant_type", "client_credential"}, {"secret", app_secret}});
    request.headers.push_back({"Accept", "application/json"});
    auto issued = handlers::RequestAccessToken(ctx, channel, msg, request, "WeChat", {}, logs, &refusal);
    if (issued.ok() || !refusal || !refusal->ok()) return issued;
    // WeChat refuses with HTTP 200 and its errcode, which says more than
    // "no access_token".
    const auto refused = ErrorIn(refusal->body);
    if (!refused) return issued;
    const std::string error =
        Redact("access token request refused: " + refused->Describe(), channel.SecretValues());
    logs.back().error = error;
    return Status::Unavailable(error);
  });
}

Result<HttpRequestSpec> WeChatHandler::MediaRequestWithToken(const Channel& channel, const std::string& url,
                                                            HandlerContext& ctx, std::vector<ChannelLog>& logs) const {
  HttpRequestSpec request = MediaRequest(channel, url);
  // The token goes to WeChat's API only, never to another host a push
  // could name.
  const std::string api = handlers::BaseUrl(channel, kDefaultApiUrl);
  if (handlers::UrlOrigin(url) != handlers::UrlOrigin(api)) return request;
  Msg none;
  std::optional<HttpExchange> refusal;
  auto token = AccessToken(channel, none, ctx, api, logs, refusal);
  if (!token.ok()) return token.status();
  request.url += (request.url.find('?') == std::string::npos ? "?" : "&") + std::string("access_token=") +
                 UrlEscape(token->value);
  return request;
}

std::optional<ChannelHandler::MediaRefusal> WeChatHandler::RefusedMedia(const Channel& channel,
                                                                       const HttpRequestSpec& request,
                                                                       const HttpExchange& answer) const {
  // An error answer is a few dozen bytes of JSON; media are not read as
  // JSON at all.
  constexpr size_t kLongestErrorAnswer = 4096;
  if (answer.body.size() > kLongestErrorAnswer) return std::nullopt;
  const auto error = ErrorIn(answer.body);
  if (!error) return std::nullopt;
  MediaRefusal refusal;
  refusal.error = "WeChat refused the media download: " + error->Describe();
  if (!RefusesToken(error->code)) return refusal;
  try {
    for (const auto& [name, value] : Poco::URI(request.url).getQueryParameters()) {
      if (name != "access_token") continue;
      tokens_.Forget(channel.uuid, value);
      refusal.token_refused = true;
    }
  } catch (const Poco::Exception&) {
    // Not a URL MediaRequestWithToken made: no token of ours to forget.
  }
  return refusal;
}

SendResult WeChatHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  const std::string text = TextAndAttachments(msg);
  if (text.empty()) return handlers::NothingToSend(channel, msg, now);
  const auto parts = SplitText(text, handlers::MaxLength(channel, kMaxMsgLength));

  const std::string api = handlers::BaseUrl(channel, kDefaultApiUrl);
  const std::string open_id = msg.urn.substr(msg.urn.find(':') + 1);
  handlers::AccessTokenUse use;
  use.query_parameter = "access_token";
  use.refuses_token = [](const HttpExchange& exchange) {
    if (exchange.status_code == 401) return true;
    const auto error = exchange.ok() ? ErrorIn(exchange.body) : std::nullopt;
    return error && RefusesToken(error->code);
  };
  std::vector<ChannelLog> logs;
  for (const auto& part : parts) {
    HttpRequestSpec request;
    request.method = "POST";
    request.url = api + "/cgi-bin/message/custom/send";
    request.headers.push_back({"Content-Type", "application/json"});
    request.headers.push_back({"Accept", "application/json"});
    JsonWriter body;
    body.BeginObject()
        .Field("msgtype", "text")
        .Field("touser", open_id)
        .Key("text")
        .BeginObject()
        .Field("content", part)
        .EndObject()
        .EndObject();
    request.body = body.Take();

    std::optional<HttpExchange> refusal;
    std::string token_sent;  // to redact from the errmsg, which may quote it
    auto answered = handlers::CallWithAccessToken(
        ctx, channel, msg, request, tokens_,
        [&] {
          auto token = AccessToken(channel, msg, ctx, api, logs, refusal);
          if (token.ok()) token_sent = token->value;
          return token;
        },
        logs, use);
    // A 2xx without a token: WeChat may hand one out on the next try.
    if (!answered.ok()) return handlers::TokenFailure(answered.status(), refusal, std::move(logs), MsgStatus::kErrored);
    handlers::Call& call = *answered;
    if (!call.ok()) {
      const std::string error = call.log.error;
      const HttpExchange exchange = call.exchange;
      logs.push_back(std::move(call.log));
      return handlers::FailedAnswer(error, std::move(logs), exchange);
    }
    if (const auto refused = ErrorIn(call.exchange.body)) {
      const std::string error =
          Redact(Redact("WeChat refused the msg: " + refused->Describe(), channel.SecretValues()), {token_sent});
      call.log.error = error;
      logs.push_back(std::move(call.log));
      if (refused->code == kSystemBusy || refused->code == kDailyQuotaReached)
        return SendResult::Errored(error, std::move(logs));
      return SendResult::Failed(error, std::move(logs));
    }
    logs.push_back(std::move(call.log));
  }
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
