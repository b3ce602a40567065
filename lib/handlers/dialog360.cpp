#include "handlers/dialog360.h"

#include <Poco/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

#include "core/redact.h"
#include "handlers/common.h"
#include "handlers/meta.h"

namespace courier {
namespace {

const char* kDefaultUrl = "https://waba-v2.360dialog.io";
const char* kApiKeyHeader = "D360-API-KEY";
const char* kDefaultMime = "application/octet-stream";




// A number given as a JSON number or a numeric string (the Cloud API
// sends timestamps as strings).
std::optional<double> GetNumber(const json::ObjectPtr& o, const std::string& key) {
  if (!o || !o->has(key) || o->isNull(key)) return std::nullopt;
  try {
    Poco::Dynamic::Var v = o->get(key);
    if (v.isNumeric()) return v.convert<double>();
    if (v.isString()) {
      const std::string s = v.extract<std::string>();
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && *end == '\0') return d;
    }
  } catch (const Poco::Exception&) {
  }
  return std::nullopt;
}

std::string Coordinate(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

std::string ApiKey(const Channel& channel) {
  return channel.ConfigOr(config_keys::kApiKey, channel.ConfigOr(config_keys::kAuthToken));
}

// "audio/ogg; codecs=opus" -> "audio/ogg"
std::string BareMime(const std::string& mime) {
  std::string m = mime.substr(0, mime.find(';'));
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

// Meta's media URL fetched through 360Dialog's host: its path and query
// on the channel's base URL (360Dialog docs: "Download media from a media
// URL", GET waba-v2.360dialog.io/whatsapp_business/attachments/?mid=...).
std::string ThroughDialog(const Channel& channel, const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto path = url.find('/', scheme + 3);
  return handlers::BaseUrl(channel, kDefaultUrl) + (path == std::string::npos ? "/" : url.substr(path));
}

Result<std::string> ResolveMedia(HandlerContext& ctx, const Channel& channel, const std::string& media_id,
                                 const std::string& mime_hint, std::vector<ChannelLog>& logs) {
  const std::string key = ApiKey(channel);
  if (key.empty()) return Status::InvalidArgument("no api_key set for D3C channel");
  HttpRequestSpec req;
  req.method = "GET";
  req.url = handlers::BaseUrl(channel, kDefaultUrl) + "/" + UrlEscape(media_id);
  req.headers.push_back({kApiKeyHeader, key});
  Msg none;
  auto call = handlers::MakeCall(ctx, channel, none, req, "Media Lookup");
  std::string error = call.log.error;
  logs.push_back(call.log);
  if (!call.ok()) return Status::Unavailable(error);
  auto body = json::ParseObject(call.exchange.body);
  std::string url = body.ok() ? json::GetStringOrEmpty(*body, "url") : "";
  if (url.empty()) return Status::InvalidArgument("no 'url' in media lookup response");
  std::string mime = body.ok() ? BareMime(json::GetStringOrEmpty(*body, "mime_type")) : "";
  if (mime.empty()) mime = BareMime(mime_hint);
  if (mime.empty()) mime = kDefaultMime;
  return mime + ":" + ThroughDialog(channel, url);
}

const std::map<std::string, MsgStatus>& Statuses() {
  static const std::map<std::string, MsgStatus> table = {
      {"sent", MsgStatus::kSent},
      {"delivered", MsgStatus::kDelivered},
      {"read", MsgStatus::kRead},
      {"failed", MsgStatus::kFailed},
  };
  return table;
}

std::string ContactsText(const json::ObjectPtr& m) {
  std::string out;
  for (const auto& c : json::GetObjects(m, "contacts")) {
    std::string name = json::GetStringOrEmpty(json::GetObject(c, "name"), "formatted_name");
    std::string phones;
    for (const auto& p : json::GetObjects(c, "phones")) {
      std::string phone = json::GetStringOrEmpty(p, "phone");
      if (phone.empty()) phone = json::GetStringOrEmpty(p, "wa_id");
      if (!phone.empty()) phones += (phones.empty() ? "" : ", ") + phone;
    }
    std::string one = name.empty() ? phones : phones.empty() ? name : name + " (" + phones + ")";
    if (!one.empty()) out += (out.empty() ? "" : "\n") + one;
  }
  return out;
}

WebhookResult Fail(std::vector<ChannelLog>& logs, const std::string& error) {
  WebhookResult r = WebhookResult::Error(error);
  r.extra_logs = std::move(logs);
  return r;
}

}  // namespace

std::vector<Route> Dialog360Handler::Routes() const { return {{"POST", "receive", RouteKind::kReceive}}; }

WebhookResult Dialog360Handler::Receive(const Route&, const Channel& channel, const WebhookRequest& request,
                                        HandlerContext& ctx) const {
  auto parsed = handlers::ParseJsonBody(request);
  if (!parsed.ok()) return WebhookResult::Error(parsed.status().message());
  const std::string object = json::GetStringOrEmpty(*parsed, "object");
  if (object.empty()) return WebhookResult::Error("field 'object' required");
  if (object != "whatsapp_business_account")
    return WebhookResult::Ignored("ignoring object '" + object + "', expected 'whatsapp_business_account'");
  if (!(*parsed)->has("entry") || !(*parsed)->getArray("entry")) return WebhookResult::Error("field 'entry' required");

  WebhookResult result;
  std::vector<std::string> skipped;
  for (const auto& entry : json::GetObjects(*parsed, "entry")) {
    for (const auto& change : json::GetObjects(entry, "changes")) {
      const std::string field = json::GetStringOrEmpty(change, "field");
      if (field != "messages") {
        skipped.push_back("ignoring change of field '" + field + "'");
        continue;
      }
      json::ObjectPtr value = json::GetObject(change, "value");
      std::map<std::string, std::string> names;
      for (const auto& contact : json::GetObjects(value, "contacts"))
        names[json::GetStringOrEmpty(contact, "wa_id")] = json::GetStringOrEmpty(json::GetObject(contact, "profile"), "name");

      for (const auto& m : json::GetObjects(value, "messages")) {
        const std::string from = json::GetStringOrEmpty(m, "from"), id = json::GetStringOrEmpty(m, "id"), type = json::GetStringOrEmpty(m, "type");
        if (from.empty()) return Fail(result.extra_logs, "field 'messages.from' required");
        if (id.empty()) return Fail(result.extra_logs, "field 'messages.id' required");
        auto urn = URN::FromParts("whatsapp", from);
        if (!urn.ok()) return Fail(result.extra_logs, urn.status().message());

        std::string text, media_id, media_mime;
        std::vector<std::string> attachments;
        if (type == "text") {
          text = json::GetStringOrEmpty(json::GetObject(m, "text"), "body");
        } else if (type == "image" || type == "video" || type == "audio" || type == "voice" || type == "document" ||
                   type == "sticker") {
          json::ObjectPtr media = json::GetObject(m, type);
          media_id = json::GetStringOrEmpty(media, "id");
          if (media_id.empty()) return Fail(result.extra_logs, "field 'messages." + type + ".id' required");
          media_mime = json::GetStringOrEmpty(media, "mime_type");
          text = json::GetStringOrEmpty(media, "caption");
        } else if (type == "location") {
          json::ObjectPtr where = json::GetObject(m, "location");
          auto lat = GetNumber(where, "latitude"), lng = GetNumber(where, "longitude");
          if (!lat || !lng) return Fail(result.extra_logs, "field 'messages.location.latitude' required");
          const std::string geo = Coordinate(*lat) + "," + Coordinate(*lng);
          const std::string name = json::GetStringOrEmpty(where, "name"), address = json::GetStringOrEmpty(where, "address");
          text = name.empty() ? address : address.empty() ? name : name + ", " + address;
          if (text.empty()) text = geo;
          attachments.push_back("geo:" + geo);
        } else if (type == "button") {
          text = json::GetStringOrEmpty(json::GetObject(m, "button"), "text");
          if (text.empty()) text = json::GetStringOrEmpty(json::GetObject(m, "button"), "payload");
        } else if (type == "interactive") {
          json::ObjectPtr interactive = json::GetObject(m, "interactive");
          const std::string itype = json::GetStringOrEmpty(interactive, "type");
          if (itype != "button_reply" && itype != "list_reply") {
            skipped.push_back("ignoring interactive reply of type '" + itype + "'");
            continue;
          }
          text = json::GetStringOrEmpty(json::GetObject(interactive, itype), "title");
        } else if (type == "contacts") {
          text = ContactsText(m);
        } else {
          skipped.push_back("ignoring message of type '" + type + "'");
          continue;
        }
        if (!media_id.empty()) {
          auto media = ResolveMedia(ctx, channel, media_id, media_mime, result.extra_logs);
          if (!media.ok()) return Fail(result.extra_logs, "error retrieving media: " + media.status().message());
          attachments.push_back(*media);
        }
        Msg msg = handlers::IncomingMsg(channel, *urn, text);
        msg.external_id = id;
        msg.attachments = std::move(attachments);
        if (auto it = names.find(from); it != names.end()) msg.contact_name = it->second;
        if (auto ts = GetNumber(m, "timestamp"); ts && *ts > 0)
          msg.received_on = static_cast<int64_t>(*ts) * kMicrosPerSecond;
        result.msgs.push_back(std::move(msg));
      }

      for (const auto& s : json::GetObjects(value, "statuses")) {
        const std::string id = json::GetStringOrEmpty(s, "id"), status = json::GetStringOrEmpty(s, "status");
        if (id.empty()) return Fail(result.extra_logs, "field 'statuses.id' required");
        if (status.empty()) return Fail(result.extra_logs, "field 'statuses.status' required");
        auto mapped = handlers::MapStatus(Statuses(), status);
        if (!mapped)
          return Fail(result.extra_logs,
                      handlers::UnknownStatusError(status, {"sent", "delivered", "read", "failed"}));
        result.statuses.push_back(handlers::StatusForExternalId(channel, id, *mapped));
      }
    }
  }
  if (result.msgs.empty() && result.statuses.empty()) {
    std::string reason;
    for (const auto& s : skipped)
      if (reason.find(s) == std::string::npos) reason += (reason.empty() ? "" : "; ") + s;
    WebhookResult r = WebhookResult::Ignored(reason.empty() ? "no messages or statuses" : reason);
    r.extra_logs = std::move(result.extra_logs);
    return r;
  }
  return result;
}

SendResult Dialog360Handler::Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const {
  const std::string key = ApiKey(channel);
  if (key.empty()) {
    const std::string error = "no api_key set for D3C channel";
    return handlers::Errored(error, {handlers::ErrorLog(channel, msg, error, ctx.clock.Now())});
  }
  const std::string recipient = msg.urn.substr(msg.urn.find(':') + 1);
  // 360Dialog takes the Cloud API message bodies unchanged.
  static const MetaHandler kCloud(MetaHandler::Kind::kWhatsApp);
  const auto payloads = kCloud.Payloads(recipient, msg.text, msg.attachments, msg.quick_replies);
  if (payloads.empty()) {
    const std::string error = "msg has no text or attachments";
    return handlers::Failed(error, {handlers::ErrorLog(channel, msg, error, ctx.clock.Now())});
  }

  const auto secrets = channel.SecretValues();
  std::vector<ChannelLog> logs;
  std::string external_id;
  for (const auto& payload : payloads) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = handlers::BaseUrl(channel, kDefaultUrl) + "/messages";
    req.headers.push_back({"Content-Type", "application/json"});
    req.headers.push_back({kApiKeyHeader, key});
    req.body = payload;
    auto call = handlers::MakeCall(ctx, channel, msg, req);
    if (!call.exchange.error.empty()) {
      std::string error = call.log.error;
      logs.push_back(std::move(call.log));
      return handlers::Errored(error, std::move(logs));
    }
    auto body = json::ParseObject(call.exchange.body);
    json::ObjectPtr answer = body.ok() ? *body : nullptr;
    if (call.ok()) {
      auto messages = json::GetObjects(answer, "messages");
      std::string id = messages.empty() ? "" : json::GetStringOrEmpty(messages[0], "id");
      if (id.empty()) {
        call.log.error = "no 'messages[0].id' in response";
        std::string error = call.log.error;
        logs.push_back(std::move(call.log));
        return handlers::Errored(error, std::move(logs));
      }
      if (external_id.empty()) external_id = id;
      logs.push_back(std::move(call.log));
      continue;
    }

    // 360Dialog relays Meta's error shape {"error":{"code","message",
    // "error_data":{"details"}}}; its own answers (bad key) come as
    // {"meta":{"developer_message",...}}.
    int64_t code = 0;
    std::string error = call.log.error;
    if (json::ObjectPtr err = json::GetObject(answer, "error")) {
      code = static_cast<int64_t>(GetNumber(err, "code").value_or(0));
      std::string text = json::GetStringOrEmpty(err, "message");
      const std::string details = json::GetStringOrEmpty(json::GetObject(err, "error_data"), "details");
      if (!details.empty()) text += (text.empty() ? "" : ": ") + details;
      error = Redact("received error from 360dialog: " + text + " (code " + std::to_string(code) + ")", secrets);
      call.log.error = error;
    } else if (json::ObjectPtr meta = json::GetObject(answer, "meta")) {
      const std::string text = json::GetStringOrEmpty(meta, "developer_message");
      if (!text.empty()) {
        error = Redact("received error from 360dialog: " + text, secrets);
        call.log.error = error;
      }
    }
    const int http_status = call.exchange.status_code;
    logs.push_back(std::move(call.log));
    // Throttling: HTTP 429, Meta's 130429 (throughput), 131056 (pair rate
    // limit: one message every 6 seconds) and 4/80007 (app/business limits).
    if (http_status == 429 || code == 130429 || code == 131056 || code == 4 || code == 80007) {
      SendResult r = handlers::Errored(error, std::move(logs));
      const auto& exchange = call.exchange;
      r.throttled_for_seconds = !exchange.Header("retry-after").empty() ? handlers::RetryAfterSeconds(exchange)
                                : code == 131056                        ? 6
                                : code == 4 || code == 80007            ? 60
                                                                        : 1;
      return r;
    }
    // 131050: the user stopped marketing messages from this business.
    if (code == 131050) {
      SendResult r = handlers::Failed(error, std::move(logs));
      r.stop_contact = true;
      return r;
    }
    // 131047: outside the 24 hour window; 131026: undeliverable.
    if (code == 131047 || code == 131026) return handlers::Failed(error, std::move(logs));
    return handlers::Errored(error, std::move(logs));
  }
  return handlers::Wired(external_id, std::move(logs));
}

}  // namespace courier
