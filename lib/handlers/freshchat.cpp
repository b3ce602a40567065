#include "handlers/freshchat.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

#include "handlers/common.h"

namespace courier {
namespace {

const char* kDefaultApiUrl = "https://api.freshchat.com";
const char* kSendPath = "/v2/conversations";
const char* kSignatureHeader = "x-freshchat-signature";
const char* kScheme = "freshchat";

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PublicKey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's reason for the last failure ("" when it gave none), its error
// queue emptied so that the next caller on this thread starts clean.
std::string OpenSslReason() {
  const unsigned long code = ERR_get_error();
  std::string reason;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return reason;
}

// The RSA public key of a PEM SubjectPublicKeyInfo block, wherever its
// line breaks are (RapidPro stores it on one line, breaks turned into
// spaces).
Result<PublicKey> ParsePublicKey(const std::string& pem) {
  const std::string kFailed = "failed to parse DER encoded public key, ";
  const size_t begin = pem.find("-----BEGIN ");
  const size_t body = begin == std::string::npos ? std::string::npos : pem.find("-----", begin + 11);
  const size_t end = body == std::string::npos ? std::string::npos : pem.find("-----END ", body + 5);
  if (end == std::string::npos) return Status::InvalidArgument(kFailed + "config 'secret' is not a PEM block");
  auto der = Base64Decode(pem.substr(body + 5, end - body - 5));
  if (!der) return Status::InvalidArgument(kFailed + "config 'secret' holds invalid base64");
  const auto* bytes = reinterpret_cast<const unsigned char*>(der->data());
  PublicKey key(d2i_PUBKEY(nullptr, &bytes, static_cast<long>(der->size())));
  if (!key) return Status::InvalidArgument(kFailed + OpenSslReason());
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return Status::InvalidArgument(kFailed + "not an RSA key");
  return key;
}

bool SignatureMatches(EVP_PKEY* key, const std::string& signature, const std::string& body) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                                   signature.size(), reinterpret_cast<const unsigned char*>(body.data()),
                                   body.size()) == 1;
  ERR_clear_error();  // a mismatch leaves its reason queued
  return ok;
}

// nullopt when the body carries the channel key's signature.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request) {
  const std::string pem = channel.ConfigOr(config_keys::kSecret);
  if (pem.empty()) return WebhookResult::Error("missing config 'secret' for FC channel");
  auto key = ParsePublicKey(pem);
  if (!key.ok()) return WebhookResult::Error(key.status().message());
  const std::string header = Trim(request.Header(kSignatureHeader));
  if (header.empty()) return WebhookResult::Unauthorized("missing request signature");
  auto signature = Base64Decode(header);
  if (!signature) return WebhookResult::Unauthorized("unable to decode base64 signature, illegal base64 data");
  if (!SignatureMatches(key->get(), *signature, request.body))
    return WebhookResult::Unauthorized("unable to verify signature, it does not match the body");
  return std::nullopt;
}

// The part of a message_parts entry we take: its text or its image.
void ReadParts(const json::ObjectPtr& message, std::string& text, std::vector<std::string>& attachments) {
  for (const auto& part : json::GetObjects(message, "message_parts")) {
    if (auto content = json::GetString(json::GetObject(part, "text"), "content"); content && !content->empty())
      text += (text.empty() ? "" : "\n") + *content;
    const std::string url = json::GetStringOrEmpty(json::GetObject(part, "image"), "url");
    if (url.empty()) continue;
    const std::string mime = MimeTypeFromPath(url);
    // Without a type the fetcher reads it from the download.
    attachments.push_back(mime.empty() ? url : mime + ":" + url);
  }
}

// FreshChat's refusal: {"code": 400, "status": "BAD_REQUEST", "message": "..."}.
std::string ErrorMessage(const std::string& body) {
  auto parsed = json::ParseObject(body);
  return parsed.ok() ? json::GetStringOrEmpty(*parsed, "message") : "";
}

json::ObjectPtr Part(const std::string& kind, const std::string& key, const std::string& value) {
  auto inner = json::NewObject();
  inner->set(key, value);
  auto part = json::NewObject();
  part->set(kind, inner);
  return part;
}

}  // namespace

const ChannelTypeInfo& FreshchatHandler::Type() const {
  static const ChannelTypeInfo type = {
      "FC",
      "FreshChat",
      {kScheme},
      {
          {config_keys::kUsername, ConfigNeed::kToSend, false, "the id of the agent msgs are sent as"},
          {config_keys::kAuthToken, ConfigNeed::kToSend, true, "the API token (Authorization: Bearer TOKEN)"},
          ConfigKeyInfo{config_keys::kSecret, ConfigNeed::kToReceive, true,
                        "the account's webhook RSA public key in PEM, which verifies X-FreshChat-Signature"}
              .VerifiesWebhooks(),
          handlers::BaseUrlKey(kDefaultApiUrl),
      },
  };
  return type;
}

std::vector<Route> FreshchatHandler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult FreshchatHandler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext&) const {
  auto body = handlers::ParseJsonBody(request);
  if (!body.ok()) return WebhookResult::Error(body.status().message());
  if (auto refused = CheckSignature(channel, request)) return *refused;

  const json::ObjectPtr message = json::GetObject(json::GetObject(*body, "data"), "message");
  const std::string actor_id = json::GetId(message, "actor_id");
  if (!message || actor_id.empty()) return WebhookResult::Ignored("Ignoring request, no message");
  if (json::GetStringOrEmpty(message, "actor_type") == "agent")
    return WebhookResult::Ignored("Ignoring request, Agent Message");

  const std::string channel_id = json::GetId(message, "channel_id");
  if (channel_id.empty()) return WebhookResult::Error("field 'data.message.channel_id' required");
  auto urn = URN::FromParts(kScheme, channel_id + "/" + actor_id);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());

  std::string text;
  std::vector<std::string> attachments;
  ReadParts(message, text, attachments);
  Msg msg = handlers::IncomingMsg(channel, *urn, text);
  msg.external_id = json::GetId(message, "id");
  msg.attachments = std::move(attachments);
  const std::string created = json::GetStringOrEmpty(message, "created_time");
  if (!created.empty()) {
    auto received_on = ParseRfc3339(created);
    if (!received_on) return WebhookResult::Error("invalid created_time '" + created + "': not RFC 3339");
    msg.received_on = *received_on;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
}

SendResult FreshchatHandler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const Micros now = ctx.clock.Now();
  if (auto missing = handlers::MissingConfig(Type(), channel, msg, now)) return *missing;
  if (msg.text.empty() && msg.attachments.empty()) return handlers::NothingToSend(channel, msg, now);

  const std::string path = msg.urn.substr(msg.urn.find(':') + 1);
  const size_t slash = path.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.size()) {
    const std::string error = "invalid freshchat URN '" + msg.urn + "': its path must be <channel id>/<user id>";
    return SendResult::Failed(error, {ErrorLog(channel, msg, error, now)});
  }

  std::vector<ChannelLog> logs;
  auto parts = json::NewArray();
  if (!msg.text.empty()) parts->add(Part("text", "content", msg.text));
  for (const auto& attachment : msg.attachments) {
    auto [mime, url] = SplitAttachment(attachment);
    if (mime.find('/') == std::string::npos) {  // a bare URL: "https" is no type
      url = attachment;
      mime = MimeTypeFromPath(url);
    }
    if (StartsWith(mime, "image/")) {
      parts->add(Part("image", "url", url));
      continue;
    }
    const std::string why = "unsupported attachment type '" + (mime.empty() ? "unknown" : mime) +
                            "', not sent: " + url;
    logs.push_back(ErrorLog(channel, msg, why, now));
  }
  if (parts->size() == 0) {
    const std::string error = "msg has nothing FreshChat can carry (text or images)";
    logs.push_back(ErrorLog(channel, msg, error, now));
    return SendResult::Failed(error, std::move(logs));
  }

  auto message = json::NewObject();
  message->set("message_parts", parts);
  message->set("actor_id", channel.ConfigOr(config_keys::kUsername));
  message->set("actor_type", "agent");
  auto messages = json::NewArray();
  messages->add(message);
  auto user = json::NewObject();
  user->set("id", path.substr(slash + 1));
  auto users = json::NewArray();
  users->add(user);
  auto payload = json::NewObject();
  payload->set("messages", messages);
  payload->set("channel_id", path.substr(0, slash));
  payload->set("users", users);

  HttpRequestSpec req;
  req.method = "POST";
  req.url = handlers::BaseUrl(channel, kDefaultApiUrl) + kSendPath;
  req.headers = {{"Authorization", "Bearer " + channel.ConfigOr(config_keys::kAuthToken)},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"}};
  req.body = json::Stringify(payload);
  auto call = handlers::MakeCall(ctx, channel, msg, req);
  const HttpExchange exchange = call.exchange;
  if (!call.ok()) {
    std::string error = call.log.error;
    const std::string reason = exchange.error.empty() ? ErrorMessage(exchange.body) : "";
    if (!reason.empty()) error += ": " + reason;
    call.log.error = error;
    logs.push_back(std::move(call.log));
    return handlers::FailedAnswer(error, std::move(logs), exchange);
  }
  logs.push_back(std::move(call.log));
  return SendResult::Wired("", std::move(logs));
}

}  // namespace courier
