#include "handlers/common.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <Poco/Exception.h>
#include <Poco/URI.h>

#include "core/redact.h"

namespace courier::handlers {

std::string Fields::Named(const std::string& name) const { return lower_case_errors_ ? ToLower(name) : name; }

std::optional<std::string> Fields::Optional(const std::string& name) const {
  if (params_) {
    auto it = params_->find(name);
    if (it == params_->end()) return std::nullopt;
    return it->second;
  }
  switch (source_) {
    case kForm: return request_->FormParam(name);
    case kQuery: return request_->QueryParam(name);
    case kFormOrQuery: return request_->Param(name);
  }
  return std::nullopt;
}

std::string Fields::Required(const std::string& name) {
  auto v = Optional(name);
  if (!v || v->empty()) {
    errors_.push_back("field '" + Named(name) + "' required");
    return "";
  }
  return *v;
}

std::string Fields::FirstOf(std::initializer_list<const char*> names) const {
  for (const char* name : names) {
    std::string v = Value(name);
    if (!v.empty()) return v;
  }
  return "";
}

int64_t Fields::RequiredInt(const std::string& name) {
  auto v = Optional(name);
  if (!v || v->empty()) {
    errors_.push_back("field '" + Named(name) + "' required");
    return 0;
  }
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (errno != 0 || *end != '\0') {
    errors_.push_back("field '" + Named(name) + "' must be an integer");
    return 0;
  }
  return n;
}

std::string Fields::error() const { return Join(errors_, "; "); }

WebhookResult ReceiveExternalStyle(const Route& route, const Channel& channel, const WebhookRequest& request,
                                   const ExternalStyle& style) {
  Fields f(request, style.source);
  if (route.kind == RouteKind::kStatus) {
    const int64_t id = f.RequiredInt("id");
    if (!f.ok()) return WebhookResult::Error(f.error());
    const MsgStatus status = route.action == "sent"        ? MsgStatus::kSent
                             : route.action == "delivered" ? MsgStatus::kDelivered
                                                           : MsgStatus::kFailed;
    WebhookResult r;
    r.statuses.push_back(StatusForId(channel, id, status));
    return r;
  }

  const std::string sender = f.FirstOf({"sender", "from"});
  if (sender.empty()) return WebhookResult::Error("must have one of 'sender' or 'from' set");
  const std::string scheme = channel.schemes.empty() ? "tel" : channel.schemes.front();
  auto urn = URN::FromParts(scheme, sender, channel.country);
  if (!urn.ok()) return WebhookResult::Error(urn.status().message());
  if (route.kind == RouteKind::kEvent) {
    WebhookResult r;
    r.stop_urns.push_back(urn->ToString());
    return r;
  }

  std::string text;
  for (const auto& name : style.text_fields) {
    text = f.Value(name);
    if (!text.empty()) break;
  }
  if (text.empty()) return WebhookResult::Error("field '" + style.text_fields.front() + "' required");
  Msg msg = IncomingMsg(channel, *urn, text);
  const std::string date = f.FirstOf({"date", "time"});
  if (!date.empty()) {
    auto t = ParseRfc3339(date);
    if (!t) return WebhookResult::Error("invalid date format, must be RFC 3339");
    msg.received_on = *t;
  }
  WebhookResult r;
  r.msgs.push_back(std::move(msg));
  return r;
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

StatusUpdate StatusForMsgUuid(const Channel& channel, const std::string& msg_uuid, MsgStatus status) {
  StatusUpdate u;
  u.channel_uuid = channel.uuid;
  u.msg_uuid = msg_uuid;
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

std::string SkippedReason(const std::vector<std::string>& skipped, const std::string& none) {
  std::string reason;
  for (const auto& s : skipped)
    if (reason.find(s) == std::string::npos) reason += (reason.empty() ? "" : "; ") + s;
  return reason.empty() ? none : reason;
}

WebhookResult Collector::Finish() {
  if (result.msgs.empty() && result.statuses.empty() && result.events.empty() && result.stop_urns.empty()) {
    WebhookResult r = WebhookResult::Ignored(SkippedReason(skipped, "no messages or statuses"));
    r.extra_logs = std::move(result.extra_logs);
    return r;
  }
  return std::move(result);
}

WebhookResult Collector::Fail(const std::string& error) {
  WebhookResult r = WebhookResult::Error(error);
  r.extra_logs = std::move(result.extra_logs);
  return r;
}

std::string BaseUrl(const Channel& channel, const std::string& default_url) {
  std::string url = channel.ConfigOr(config_keys::kBaseUrl, default_url);
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

namespace {

std::string HostOf(const std::string& url) {
  try {
    return ToLower(Poco::URI(url).getHost());
  } catch (const Poco::Exception&) {
    return "";
  }
}

}  // namespace

std::string UrlOrigin(const std::string& url) {
  try {
    Poco::URI uri(url);
    return ToLower(uri.getScheme() + "://" + uri.getAuthority());
  } catch (const Poco::Exception&) {
    return "";
  }
}

bool UrlOnHosts(const std::string& url, std::initializer_list<const char*> domains, const std::string& base_url) {
  const std::string host = HostOf(url);
  if (host.empty()) return false;
  if (!base_url.empty() && host == HostOf(base_url)) return true;
  for (const char* domain : domains) {
    const std::string d = domain;
    if (host == d || (host.size() > d.size() && host.compare(host.size() - d.size(), d.size(), d) == 0 &&
                      host[host.size() - d.size() - 1] == '.'))
      return true;
  }
  return false;
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
  log.url = MaskUrlCredentials(Redact(request.url, secrets));
  log.status_code = call.exchange.status_code;
  log.request = MaskUrlCredentials(Redact(RedactAuthorization(call.exchange.request_dump), secrets));
  log.response = Redact(call.exchange.response_dump, secrets);
  log.elapsed_ms = call.exchange.elapsed_ms;
  log.created_on = ctx.clock.Now();
  if (!call.exchange.error.empty()) log.error = Redact(call.exchange.error, secrets);
  else if (!call.exchange.ok()) log.error = "received non 200 status: " + std::to_string(call.exchange.status_code);
  return call;
}

int RetryAfterSeconds(const HttpExchange& exchange) {
  const std::string value = exchange.Header("retry-after");
  char* end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n <= 0) return 1;  // absent or an HTTP date
  return static_cast<int>(std::min<long>(n, 3600));
}

SendResult ThrottledIf429(SendResult result, const HttpExchange& exchange) {
  if (exchange.status_code == 429) result.throttled_for_seconds = RetryAfterSeconds(exchange);
  return result;
}

bool IsPermanentHttpStatus(int status_code) {
  if (status_code < 400 || status_code >= 500) return false;
  return status_code != 408 && status_code != 425 && status_code != 429;
}

SendResult FailedAnswer(std::string error, std::vector<ChannelLog> logs, const HttpExchange& exchange) {
  if (exchange.error.empty() && IsPermanentHttpStatus(exchange.status_code))
    return SendResult::Failed(std::move(error), std::move(logs));
  return ThrottledIf429(SendResult::Errored(std::move(error), std::move(logs)), exchange);
}

SendResult AcceptedWithoutId(std::string error, std::vector<ChannelLog> logs) {
  return SendResult::Failed(std::move(error), std::move(logs));
}

bool ConfigFlag(const Channel& channel, const std::string& key, bool fallback) {
  const std::string value = ToLower(channel.ConfigOr(key));
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return fallback;
}

size_t MaxLength(const Channel& channel, size_t provider_limit) {
  const std::string value = channel.ConfigOr("max_length");
  char* end = nullptr;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n <= 0) return provider_limit;
  return static_cast<size_t>(n);
}

std::optional<SendResult> MissingConfig(const ChannelTypeInfo& type, const Channel& channel, const Msg& msg,
                                        Micros now) {
  const auto missing = type.MissingKeys(channel.config, false);
  if (missing.empty()) return std::nullopt;
  const std::string error = "no " + missing.front() + " set for " + channel.type + " channel";
  return SendResult::Errored(error, {ErrorLog(channel, msg, error, now)});
}

ConfigKeyInfo BaseUrlKey(const std::string& default_url) {
  return {config_keys::kBaseUrl, ConfigNeed::kOptional, false,
          "the provider's API endpoint (a proxy, an on-premise install, a test server)", default_url};
}

std::string CallbackBase(const Channel& channel, const HandlerContext& ctx) {
  const std::string domain = channel.ConfigOr(kCallbackDomainKey);
  return domain.empty() ? ctx.base_url : "https://" + domain;
}

ConfigKeyInfo MaxLengthKey(size_t provider_limit) {
  return {"max_length", ConfigNeed::kOptional, false, "most characters in one part of a split text",
          std::to_string(provider_limit)};
}

SendResult NothingToSend(const Channel& channel, const Msg& msg, Micros now) {
  const std::string error = "msg has no text or attachments";
  return SendResult::Failed(error, {ErrorLog(channel, msg, error, now)});
}

std::string NameFromParts(const std::string& first, const std::string& last, const std::string& username) {
  if (!first.empty() && !last.empty()) return first + " " + last;
  if (!first.empty()) return first;
  if (!last.empty()) return last;
  return username;
}

namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64: whole quanta, '=' only as final padding, pad
// bits zero.
std::optional<std::string> DecodeStrictBase64(const std::string& s) {
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int pad = 0;
    if (last) pad = s[i + 3] == '=' ? (s[i + 2] == '=' ? 2 : 1) : 0;
    int v[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4 - pad; ++k)
      if ((v[k] = Base64Value(s[i + k])) < 0) return std::nullopt;
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (pad == 2 && (n & 0xFFFF) != 0) return std::nullopt;
    if (pad == 1 && (n & 0xFF) != 0) return std::nullopt;
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace

ConfigKeyInfo WebhookTokenKey() {
  return ConfigKeyInfo{kWebhookTokenKey, ConfigNeed::kOptional, true,
                       "set: webhooks must carry it (?webhook_token=, basic auth password or bearer token)"}
      .VerifiesWebhooks();
}

std::optional<WebhookResult> CheckWebhookToken(const Channel& channel, const WebhookRequest& request) {
  const std::string token = channel.ConfigOr(kWebhookTokenKey);
  if (token.empty()) return std::nullopt;
  std::vector<std::string> offered;
  if (auto query = request.QueryParam(kWebhookTokenKey)) offered.push_back(*query);
  const std::string authorization = Trim(request.Header("authorization"));
  const size_t space = authorization.find(' ');
  if (space != std::string::npos) {
    const std::string scheme = authorization.substr(0, space);
    const std::string credentials = Trim(authorization.substr(space + 1));
    if (EqualsIgnoreCase(scheme, "Bearer")) offered.push_back(credentials);
    if (EqualsIgnoreCase(scheme, "Basic")) {
      auto decoded = DecodeStrictBase64(credentials);
      if (decoded && decoded->find(':') != std::string::npos) offered.push_back(decoded->substr(decoded->find(':') + 1));
    }
  }
  if (offered.empty()) return WebhookResult::Unauthorized("missing webhook token");
  bool match = false;
  for (const auto& candidate : offered) match |= ConstantTimeEquals(candidate, token);
  if (!match) return WebhookResult::Unauthorized("invalid webhook token");
  return std::nullopt;
}

std::string WithWebhookToken(const Channel& channel, const std::string& url) {
  const std::string token = channel.ConfigOr(kWebhookTokenKey);
  if (token.empty()) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + kWebhookTokenKey + "=" + UrlEscape(token);
}

std::string DecodePossibleBase64(const std::string& text) {
  std::string without_cr;
  for (char c : text)
    if (c != '\r') without_cr += c;
  const std::string s = Trim(without_cr);
  if (s.size() < 60 || s.size() % 4 != 0) return text;
  for (size_t i = 0; i + 4 < s.size(); ++i)
    if (Base64Value(s[i]) < 0 && s[i] != '=') return text;
  auto decoded = DecodeStrictBase64(s);
  if (!decoded) return text;
  // Count characters as Go ranges over a string: a malformed byte is one
  // (non-ASCII) character.
  size_t total = 0, ascii = 0;
  const std::string& d = *decoded;
  for (size_t i = 0; i < d.size();) {
    unsigned char c = static_cast<unsigned char>(d[i]);
    ++total;
    if (c < 0x80) {
      ++ascii;
      ++i;
      continue;
    }
    size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    bool ok = n > 1 && i + n <= d.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(d[i + k]) & 0xC0) == 0x80;
    i += ok ? n : 1;
  }
  if (ascii * 2 < total) return text;
  return d;
}

std::string Coordinate(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

SharedLocation LocationMsg(double lat, double lng, const std::string& name, const std::string& address) {
  const std::string geo = Coordinate(lat) + "," + Coordinate(lng);
  SharedLocation out;
  out.text = name.empty() ? address : address.empty() ? name : name + ", " + address;
  if (out.text.empty()) out.text = geo;
  out.attachment = "geo:" + geo;
  return out;
}

Result<std::map<std::string, std::string>> FlatParams(const WebhookRequest& request) {
  std::map<std::string, std::string> out;
  if (ToLower(request.Header("content-type")).find("json") != std::string::npos) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return body.status();
    for (const auto& [name, value] : **body)
      if (auto text = json::ScalarText(value)) out.emplace(name, *text);
  }
  for (const auto& [k, v] : request.form) out.emplace(k, v);
  for (const auto& [k, v] : request.query) out.emplace(k, v);
  return out;
}

}  // namespace courier::handlers
