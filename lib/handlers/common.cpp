#include "handlers/common.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
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

std::string SkippedReason(const std::vector<std::string>& skipped, const std::string& none) {
  std::string reason;
  for (const auto& s : skipped)
    if (reason.find(s) == std::string::npos) reason += (reason.empty() ? "" : "; ") + s;
  return reason.empty() ? none : reason;
}

WebhookResult Collector::Finish() {
  if (result.msgs.empty() && result.statuses.empty()) {
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
    return Failed(std::move(error), std::move(logs));
  return ThrottledIf429(Errored(std::move(error), std::move(logs)), exchange);
}

SendResult AcceptedWithoutId(std::string error, std::vector<ChannelLog> logs) {
  return Failed(std::move(error), std::move(logs));
}

size_t MaxLength(const Channel& channel, size_t provider_limit) {
  const std::string value = channel.ConfigOr("max_length");
  char* end = nullptr;
  const long long n = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n <= 0) return provider_limit;
  return static_cast<size_t>(n);
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

std::optional<SendResult> MissingConfig(const Channel& channel, const Msg& msg,
                                        std::initializer_list<const char*> keys, Micros now) {
  for (const char* key : keys) {
    if (!channel.ConfigOr(key).empty()) continue;
    const std::string error = std::string("no ") + key + " set for " + channel.type + " channel";
    return Errored(error, {ErrorLog(channel, msg, error, now)});
  }
  return std::nullopt;
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

SendResult NothingToSend(const Channel& channel, const Msg& msg, Micros now) {
  const std::string error = "msg has no text or attachments";
  return Failed(error, {ErrorLog(channel, msg, error, now)});
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
    // A part that ends right before a space ends at a word boundary already.
    const char next = text[starts[end]];
    const bool boundary_after = next == ' ' || next == '\n' || next == '\t';
    for (size_t j = end; !boundary_after && j > cp; --j) {
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

std::string DecodePossibleBase64(const std::string& text) {
  std::string s;
  for (char c : text)
    if (c != '\r') s += c;
  const char* ws = " \t\n\v\f";
  size_t b = s.find_first_not_of(ws), e = s.find_last_not_of(ws);
  s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
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

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool DecodeUtf8(const std::string& text, std::u32string& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > text.size()) return false;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += n;
  }
  return true;
}

size_t CodePoints(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Truncate(const std::string& text, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (n == max) return text.substr(0, i);
      ++n;
    }
  }
  return text;
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

bool IsGsm7(const std::string& text) {
  // The default alphabet (less ESC) and the extension table.
  static const std::u32string kGsm7 =
      U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
      U"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
      U"^{}\\[~]|€\f";
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) return false;
  for (char32_t cp : cps)
    if (kGsm7.find(cp) == std::u32string::npos) return false;
  return true;
}

std::string ReplaceGsm7Substitutions(const std::string& text) {
  static const std::vector<std::pair<std::string, std::string>> kSubs = {
      {"\u2018", "'"}, {"\u2019", "'"}, {"\u201A", "'"}, {"\u201B", "'"}, {"\u2032", "'"},
      {"\u201C", "\""}, {"\u201D", "\""}, {"\u201E", "\""}, {"\u201F", "\""}, {"\u2033", "\""},
      {"\u00AB", "\""}, {"\u00BB", "\""},
      {"\u2010", "-"}, {"\u2011", "-"}, {"\u2012", "-"}, {"\u2013", "-"}, {"\u2014", "-"}, {"\u2015", "-"},
      {"\u2026", "..."}, {"\u00A0", " "}, {"\u2002", " "}, {"\u2003", " "}, {"\u2009", " "},
  };
  std::string out = text;
  for (const auto& [from, to] : kSubs) {
    size_t pos = 0;
    while ((pos = out.find(from, pos)) != std::string::npos) {
      out.replace(pos, from.size(), to);
      pos += to.size();
    }
  }
  return out;
}

std::string MimeTypeFromPath(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"png", "image/png"},       {"gif", "image/gif"},
      {"webp", "image/webp"}, {"mp4", "video/mp4"},   {"3gp", "video/3gpp"},      {"oga", "audio/ogg"},
      {"ogg", "audio/ogg"},   {"opus", "audio/ogg"},  {"mp3", "audio/mpeg"},      {"m4a", "audio/mp4"},
      {"amr", "audio/amr"},   {"wav", "audio/wav"},   {"pdf", "application/pdf"}, {"txt", "text/plain"},
  };
  std::string p = path.substr(0, path.find_first_of("?#"));
  size_t slash = p.rfind('/'), dot = p.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = p.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "" : it->second;
}

std::string HmacSha256Base64(const std::string& key, const std::string& data) {
  std::string digest = HmacDigest<Sha256Engine>(key, data);
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << digest;
  enc.close();
  return out.str();
}

std::optional<std::string> JsonScalarText(const Poco::Dynamic::Var& value) {
  try {
    if (value.isEmpty()) return std::nullopt;
    if (value.isString()) return value.extract<std::string>();
    if (value.isNumeric() || value.isBoolean()) return value.convert<std::string>();
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

std::optional<double> JsonNumber(const json::ObjectPtr& o, const std::string& key) {
  if (!o || !o->has(key) || o->isNull(key)) return std::nullopt;
  try {
    Poco::Dynamic::Var v = o->get(key);
    if (v.isNumeric()) return v.convert<double>();
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

std::optional<double> JsonNumberLoose(const json::ObjectPtr& o, const std::string& key) {
  if (auto n = JsonNumber(o, key)) return n;
  const auto s = json::GetString(o, key);
  if (!s || s->empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s->c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;
}

Result<std::map<std::string, std::string>> FlatParams(const WebhookRequest& request) {
  std::map<std::string, std::string> out;
  std::string type = request.Header("content-type");
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (type.find("json") != std::string::npos) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return body.status();
    for (const auto& [name, value] : **body)
      if (auto text = JsonScalarText(value)) out.emplace(name, *text);
  }
  for (const auto& [k, v] : request.form) out.emplace(k, v);
  for (const auto& [k, v] : request.query) out.emplace(k, v);
  return out;
}

size_t SmsLength(const std::string& text, bool ucs2) {
  static const std::u32string kExtension = U"^{}\\[~]|€\f";
  std::u32string cps;
  if (!DecodeUtf8(text, cps)) return CodePoints(text) * 2;  // not UTF-8: assume the worst
  size_t n = 0;
  for (char32_t cp : cps) {
    if (ucs2) n += cp >= 0x10000 ? 2 : 1;
    else n += kExtension.find(cp) != std::u32string::npos ? 2 : 1;
  }
  return n;
}

namespace {

std::string Latin1ToUtf8(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) AppendUtf8(out, c);
  return out;
}

std::string UpperAscii(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string DecodeCharset(const std::string& bytes, const std::string& charset) {
  std::string cs = UpperAscii(charset);
  if (cs == "UCS-2" || cs == "UCS2" || cs == "UCS-2BE") cs = "UTF-16BE";
  if (bytes.empty()) return bytes;
  std::u32string ignored;
  iconv_t cd = cs.empty() ? reinterpret_cast<iconv_t>(-1) : ::iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return DecodeUtf8(bytes, ignored) ? bytes : Latin1ToUtf8(bytes);
  // Where a malformed sequence is skipped: a whole code unit of the charset.
  const size_t unit = cs.find("16") != std::string::npos ? 2 : cs.find("32") != std::string::npos ? 4 : 1;
  std::string out;
  std::string in = bytes;
  char* src = in.data();
  size_t left = in.size();
  char buf[1024];
  while (left > 0) {
    char* dst = buf;
    size_t room = sizeof buf;
    const size_t r = ::iconv(cd, &src, &left, &dst, &room);
    out.append(buf, static_cast<size_t>(dst - buf));
    if (r != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL (cut short at the end): one replacement character.
    AppendUtf8(out, 0xFFFD);
    const size_t skip = std::min(unit, left);
    src += skip;
    left -= skip;
  }
  ::iconv_close(cd);
  return out;
}

}  // namespace courier::handlers
