#include "handlers/common.h"

#include <Poco/Base64Encoder.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "core/redact.h"

namespace courier::handlers {

std::optional<std::string> Fields::Get(const std::string& name) const {
  switch (source_) {
    case kForm: return request_.FormParam(name);
    case kQuery: return request_.QueryParam(name);
    case kFormOrQuery: return request_.Param(name);
  }
  return std::nullopt;
}

std::string Fields::Required(const std::string& name) {
  auto v = Get(name);
  if (!v || v->empty()) {
    errors_.push_back("field '" + name + "' required");
    return "";
  }
  return *v;
}

std::optional<std::string> Fields::Optional(const std::string& name) const { return Get(name); }

int64_t Fields::RequiredInt(const std::string& name) {
  auto v = Get(name);
  if (!v || v->empty()) {
    errors_.push_back("field '" + name + "' required");
    return 0;
  }
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (errno != 0 || *end != '\0') {
    errors_.push_back("field '" + name + "' must be an integer");
    return 0;
  }
  return n;
}

std::string Fields::error() const {
  std::string out;
  for (size_t i = 0; i < errors_.size(); ++i) out += (i ? "; " : "") + errors_[i];
  return out;
}

Result<json::ObjectPtr> ParseJsonBody(const WebhookRequest& request) {
  auto o = json::ParseObject(request.body);
  if (!o.ok()) return Status::InvalidArgument("unable to parse request JSON: " + o.status().message());
  return o;
}

std::optional<MsgStatus> MapStatus(const std::map<std::string, MsgStatus>& table, const std::string& value) {
  auto it = table.find(value);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

std::string UnknownStatusError(const std::string& value, const std::vector<std::string>& allowed) {
  std::string out = "unknown status '" + value + "', must be one of ";
  for (size_t i = 0; i < allowed.size(); ++i) {
    if (i) out += i + 1 == allowed.size() ? " or " : ", ";
    out += "'" + allowed[i] + "'";
  }
  return out;
}

Result<URN> TelURN(const std::string& number, const Channel& channel) { return URN::ForTel(number, channel.country); }

StatusUpdate StatusForId(const Channel& channel, int64_t msg_id, MsgStatus status) {
  StatusUpdate u;
  u.channel_uuid = channel.uuid;
  u.msg_id = msg_id;
  u.status = status;
  return u;
}

StatusUpdate StatusForExternalId(const Channel& channel, const std::string& external_id, MsgStatus status) {
  StatusUpdate u;
  u.channel_uuid = channel.uuid;
  u.external_id = external_id;
  u.status = status;
  return u;
}

Msg IncomingMsg(const Channel& channel, const URN& urn, const std::string& text) {
  Msg m;
  m.channel_id = channel.id;
  m.channel_uuid = channel.uuid;
  m.channel_type = channel.type;
  m.direction = Direction::kIn;
  m.status = MsgStatus::kPending;
  m.urn = urn.ToString();
  m.text = CleanIncomingText(text);
  return m;
}

namespace {

// POCO 1.11's SHA2Engine lacks the block and digest size HMACEngine needs.
struct Sha256Engine : Poco::SHA2Engine {
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256Engine() : Poco::SHA2Engine(Poco::SHA2Engine::SHA_256) {}
};

template <typename Engine>
std::string HmacDigest(const std::string& key, const std::string& data) {
  Poco::HMACEngine<Engine> hmac(key);
  hmac.update(data);
  const auto& d = hmac.digest();
  return std::string(d.begin(), d.end());
}

}  // namespace

std::string HmacSha1Base64(const std::string& key, const std::string& data) {
  std::string digest = HmacDigest<Poco::SHA1Engine>(key, data);
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << digest;
  enc.close();
  return out.str();
}

std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  std::string digest = HmacDigest<Sha256Engine>(key, data);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) out += hex[c >> 4], out += hex[c & 15];
  return out;
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string BaseUrl(const Channel& channel, const std::string& default_url) {
  std::string url = channel.ConfigOr(config_keys::kBaseUrl, default_url);
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

namespace {

// Authorization values carry credentials in encodings Redact cannot see
// (base64 of user:password), so the whole value goes.
std::string RedactAuthorization(std::string dump) {
  size_t pos = 0;
  while ((pos = dump.find("Authorization: ", pos)) != std::string::npos) {
    size_t start = pos + 15;
    size_t end = dump.find("\r\n", start);
    if (end == std::string::npos) end = dump.size();
    dump.replace(start, end - start, kRedacted);
    pos = start;
  }
  return dump;
}

}  // namespace

Call MakeCall(HandlerContext& ctx, const Channel& channel, const Msg& msg, const HttpRequestSpec& request,
              const std::string& description) {
  Call call;
  call.exchange = ctx.http.Do(request);
  const auto secrets = channel.SecretValues();
  ChannelLog& log = call.log;
  log.channel_id = channel.id;
  log.channel_uuid = channel.uuid;
  if (msg.id) log.msg_id = msg.id;
  log.description = description;
  log.method = request.method;
  log.url = Redact(request.url, secrets);
  log.status_code = call.exchange.status_code;
  log.request = Redact(RedactAuthorization(call.exchange.request_dump), secrets);
  log.response = Redact(call.exchange.response_dump, secrets);
  log.elapsed_ms = call.exchange.elapsed_ms;
  log.created_on = ctx.clock.Now();
  if (!call.exchange.error.empty()) log.error = Redact(call.exchange.error, secrets);
  else if (!call.exchange.ok()) log.error = "received non 200 status: " + std::to_string(call.exchange.status_code);
  return call;
}

ChannelLog ErrorLog(const Channel& channel, const Msg& msg, const std::string& error, Micros now) {
  ChannelLog log;
  log.channel_id = channel.id;
  log.channel_uuid = channel.uuid;
  if (msg.id) log.msg_id = msg.id;
  log.description = "Error";
  log.status_code = kNilStatusCode;
  log.error = Redact(error, channel.SecretValues());
  log.created_on = now;
  return log;
}

SendResult Wired(std::string external_id, std::vector<ChannelLog> logs) {
  SendResult r;
  r.status = MsgStatus::kWired;
  r.external_id = std::move(external_id);
  r.logs = std::move(logs);
  return r;
}

SendResult Errored(std::string error, std::vector<ChannelLog> logs) {
  SendResult r;
  r.status = MsgStatus::kErrored;
  r.error = std::move(error);
  r.logs = std::move(logs);
  return r;
}

SendResult Failed(std::string error, std::vector<ChannelLog> logs) {
  SendResult r = Errored(std::move(error), std::move(logs));
  r.status = MsgStatus::kFailed;
  return r;
}

std::vector<std::string> SplitText(const std::string& text, size_t max) {
  std::vector<std::string> parts;
  if (max == 0) return {text};
  // Byte offsets of each code point start.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  size_t cp = 0;
  while (cp < starts.size()) {
    size_t remaining = starts.size() - cp;
    if (remaining <= max) {
      parts.push_back(text.substr(starts[cp]));
      break;
    }
    // Break after the last whitespace within the limit, if any.
    size_t end = cp + max;  // code point index one past the part
    size_t brk = end;
    for (size_t j = end; j > cp; --j) {
      char c = text[starts[j - 1]];
      if (c == ' ' || c == '\n' || c == '\t') {
        brk = j;
        break;
      }
    }
    if (brk == cp) brk = end;
    std::string part = text.substr(starts[cp], starts[brk] - starts[cp]);
    while (!part.empty() && (part.back() == ' ' || part.back() == '\n' || part.back() == '\t')) part.pop_back();
    if (!part.empty()) parts.push_back(part);
    cp = brk;
    while (cp < starts.size() && (text[starts[cp]] == ' ' || text[starts[cp]] == '\n')) ++cp;
  }
  if (parts.empty()) parts.push_back("");
  return parts;
}

std::string NameFromParts(const std::string& first, const std::string& last, const std::string& username) {
  if (!first.empty() && !last.empty()) return first + " " + last;
  if (!first.empty()) return first;
  if (!last.empty()) return last;
  return username;
}

}  // namespace courier::handlers
