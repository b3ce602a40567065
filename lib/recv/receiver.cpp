#include "recv/receiver.h"

#include <chrono>

#include "core/json.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/uuid.h"
#include "core/version.h"
#include "spool/spool.h"

namespace courier {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpOut JsonOut(int status, const std::string& body) {
  HttpOut out;
  out.status = status;
  out.content_type = "application/json";
  out.body = body + "\n";
  return out;
}

json::ObjectPtr Envelope(const std::string& message, const json::ArrayPtr& data) {
  auto o = json::NewObject();
  o->set("message", message);
  o->set("data", data);
  return o;
}

std::string RequestDump(const HttpIn& in) {
  std::string dump = in.method + " " + in.uri + " HTTP/1.1\r\n";
  for (const auto& [k, v] : in.headers) dump += k + ": " + v + "\r\n";
  dump += "\r\n" + in.body;
  return dump;
}

std::string ResponseDump(const HttpOut& out) {
  return "HTTP/1.1 " + std::to_string(out.status) + "\r\nContent-Type: " + out.content_type + "\r\n\r\n" + out.body;
}

json::ObjectPtr MsgItem(const Msg& m) {
  auto o = json::NewObject();
  o->set("type", "msg");
  o->set("channel_uuid", m.channel_uuid);
  o->set("msg_uuid", m.uuid);
  o->set("text", m.text);
  o->set("urn", m.urn);
  if (!m.attachments.empty()) o->set("attachments", json::StringArray(m.attachments));
  if (!m.external_id.empty()) o->set("external_id", m.external_id);
  if (m.received_on) o->set("received_on", FormatRfc3339(*m.received_on));
  return o;
}

json::ObjectPtr StatusItem(const StatusUpdate& s) {
  auto o = json::NewObject();
  o->set("type", "status");
  o->set("channel_uuid", s.channel_uuid);
  o->set("status", MsgStatusString(s.status));
  if (s.msg_id) o->set("msg_id", *s.msg_id);
  if (!s.external_id.empty()) o->set("external_id", s.external_id);
  return o;
}

json::ObjectPtr StopItem(const std::string& channel_uuid, const std::string& urn) {
  auto o = json::NewObject();
  o->set("type", "event");
  o->set("channel_uuid", channel_uuid);
  o->set("event_type", "stop_contact");
  o->set("urn", urn);
  return o;
}

// The success answer for what a handler produced; `found[i]` false marks
// statuses for msgs the store does not have.
HttpOut SuccessOut(const WebhookResult& r, const std::vector<bool>& status_found, const std::string& channel_uuid) {
  auto data = json::NewArray();
  for (const auto& m : r.msgs) data->add(MsgItem(m));
  size_t found = 0;
  for (size_t i = 0; i < r.statuses.size(); ++i) {
    if (i < status_found.size() && !status_found[i]) continue;
    data->add(StatusItem(r.statuses[i]));
    ++found;
  }
  for (const auto& urn : r.stop_urns) data->add(StopItem(channel_uuid, urn));
  std::string message;
  if (!r.msgs.empty()) message = "Message Accepted";
  else if (found) message = "Status Update Accepted";
  else if (!r.stop_urns.empty()) message = "Event Accepted";
  else {
    auto info = json::NewObject();
    info->set("type", "info");
    info->set("info", r.statuses.empty() ? "nothing to do" : "msg not found, ignored");
    data->add(info);
    message = "Ignored";
  }
  if (r.response_body) {
    HttpOut out;
    out.status = 200;
    out.content_type = r.response_content_type.empty() ? "text/plain" : r.response_content_type;
    out.body = *r.response_body;
    return out;
  }
  return JsonOut(200, json::Stringify(Envelope(message, data)));
}

}  // namespace

std::string ErrorEnvelope(const std::string& message, const std::string& error) {
  auto data = json::NewArray();
  auto item = json::NewObject();
  item->set("type", "error");
  item->set("error", error);
  data->add(item);
  return json::Stringify(Envelope(message, data));
}

Receiver::Receiver(const HandlerRegistry& handlers, ChannelCache& channels, IntakeWriter& writer, HttpClient& http,
                   Clock& clock, ReceiverOptions options)
    : handlers_(handlers), channels_(channels), writer_(writer), http_(http), clock_(clock), options_(std::move(options)) {}

HttpOut Receiver::Handle(const HttpIn& in) {
  std::string path = in.uri.substr(0, in.uri.find('?'));
  if (path == "/" && (in.method == "GET" || in.method == "HEAD")) return Index();
  if (path == "/status" && (in.method == "GET" || in.method == "HEAD")) return Health();

  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // trailing slash
  if (parts.size() != 4 || parts[0] != "c") {
    counters_.not_found++;
    return JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri));
  }
  return ChannelRequest(in, parts[1], parts[2], parts[3]);
}

HttpOut Receiver::ChannelRequest(const HttpIn& in, const std::string& type, const std::string& uuid_text,
                                 const std::string& action) {
  const auto started = std::chrono::steady_clock::now();
  const ChannelHandler* handler = handlers_.Find(type);
  if (handler == nullptr || Lower(type) != type) {
    counters_.not_found++;
    return JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri));
  }
  const Route* route = nullptr;
  std::string allowed;
  const auto routes = handler->Routes();
  for (const auto& r : routes) {
    if (r.action != action) continue;
    allowed += (allowed.empty() ? "" : ", ") + r.method;
    if (r.method == in.method) route = &r;
  }
  if (allowed.empty()) {
    counters_.not_found++;
    return JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri));
  }
  if (route == nullptr) {
    counters_.not_found++;
    HttpOut out = JsonOut(405, ErrorEnvelope("Method Not Allowed", "method not allowed: " + in.method));
    out.headers["Allow"] = allowed;
    return out;
  }
  if (in.body_too_large) {
    counters_.too_large++;
    return JsonOut(413, ErrorEnvelope("Error", "request body too large"));
  }
  auto uuid = NormalizeUUID(uuid_text);
  if (!uuid) {
    counters_.errors++;
    return JsonOut(400, ErrorEnvelope("Error", "invalid channel uuid: " + uuid_text));
  }
  auto channel = channels_.Get(handler->Code(), *uuid);
  if (!channel.ok()) {
    if (channel.status().IsUnavailable()) {
      counters_.unavailable++;
      Log::Warn("channel lookup failed", {{"channel", *uuid}, {"error", channel.status().message()}});
      return JsonOut(503, ErrorEnvelope("Error", "store unavailable, try again"));
    }
    counters_.errors++;
    return JsonOut(400, ErrorEnvelope("Error", channel.status().message()));
  }

  WebhookRequest request =
      WebhookRequest::Build(in.method, in.uri, in.headers, in.body, options_.base_url, action);
  HandlerContext ctx{http_, clock_, options_.base_url};
  WebhookResult result;
  try {
    result = handler->Receive(*route, *channel, request, ctx);
  } catch (const std::exception& e) {
    Log::Error("handler failed", {{"channel", channel->uuid}, {"type", handler->Code()}, {"error", e.what()}});
    counters_.errors++;
    return JsonOut(500, ErrorEnvelope("Error", "internal error handling request"));
  }

  const auto secrets = channel->SecretValues();
  auto make_log = [&](const HttpOut& out, const std::string& description, const std::string& error) {
    ChannelLog log;
    log.channel_id = channel->id;
    log.channel_uuid = channel->uuid;
    log.description = description;
    log.method = in.method;
    log.url = Redact(request.url, secrets);
    log.status_code = out.status;
    log.error = Redact(error, secrets);
    log.request = Redact(RequestDump(in), secrets);
    log.response = Redact(ResponseDump(out), secrets);
    log.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log.created_on = clock_.Now();
    return log;
  };

  if (!result.error.empty()) {
    HttpOut out = JsonOut(result.unauthorized ? 401 : 400,
                          ErrorEnvelope(result.unauthorized ? "Unauthorized" : "Error", result.error));
    (result.unauthorized ? counters_.unauthorized : counters_.errors)++;
    Log::Info(result.unauthorized ? "unauthorized request" : "bad request",
              {{"channel", channel->uuid}, {"type", handler->Code()}, {"error", result.error}});
    Intake intake;
    intake.channel_uuid = channel->uuid;
    intake.logs = result.extra_logs;
    intake.logs.push_back(make_log(out, "Channel Error", result.error));
    writer_.WriteAsync(std::move(intake));
    return out;
  }
  if (!result.ignored.empty()) {
    auto data = json::NewArray();
    auto info = json::NewObject();
    info->set("type", "info");
    info->set("info", result.ignored);
    data->add(info);
    HttpOut out = JsonOut(200, json::Stringify(Envelope("Ignored", data)));
    counters_.ignored++;
    Intake intake;
    intake.channel_uuid = channel->uuid;
    intake.logs = result.extra_logs;
    intake.logs.push_back(make_log(out, "Request Ignored", ""));
    writer_.WriteAsync(std::move(intake));
    return out;
  }

  // The msgs get their uuids now: the answer promises them even if the
  // store is down and the intake goes to the spool.
  const Micros now = clock_.Now();
  for (auto& m : result.msgs) {
    m.uuid = NewUUID();
    m.channel_id = channel->id;
    m.channel_uuid = channel->uuid;
    m.channel_type = channel->type;
    if (!m.received_on) m.received_on = now;
  }
  for (auto& s : result.statuses) s.channel_uuid = channel->uuid;

  HttpOut planned = SuccessOut(result, {}, channel->uuid);
  Intake intake;
  intake.channel_uuid = channel->uuid;
  for (const auto& m : result.msgs) {
    intake.msgs.push_back(m);
    intake.msg_logs.push_back(make_log(planned, "Message Received", ""));
  }
  for (auto s : result.statuses) {
    s.logs.push_back(make_log(planned, "Status Updated", ""));
    intake.statuses.push_back(std::move(s));
  }
  intake.stop_urns = result.stop_urns;
  intake.logs = result.extra_logs;
  if (!result.stop_urns.empty() && result.msgs.empty() && result.statuses.empty())
    intake.logs.push_back(make_log(planned, "Event Received", ""));

  IntakeWrite written = writer_.Write(std::move(intake));
  if (written.kind == IntakeWrite::kFailed) {
    if (written.error.IsUnavailable() || written.error.code() == Status::Code::kInternal) {
      counters_.unavailable++;
      return JsonOut(503, ErrorEnvelope("Error", "store and spool unavailable, try again"));
    }
    counters_.errors++;
    return JsonOut(400, ErrorEnvelope("Error", written.error.message()));
  }
  counters_.accepted++;
  if (written.kind == IntakeWrite::kSpooled) {
    counters_.spooled++;
    return planned;
  }
  // Committed: duplicates answer with the uuid first given; statuses for
  // unknown msgs are ignored (providers retry anything else forever).
  bool changed = false;
  for (size_t i = 0; i < result.msgs.size() && i < written.outcome.msgs.size(); ++i) {
    if (written.outcome.msgs[i].msg_uuid != result.msgs[i].uuid) {
      result.msgs[i].uuid = written.outcome.msgs[i].msg_uuid;
      changed = true;
    }
  }
  std::vector<bool> found;
  for (const auto& s : written.outcome.statuses) {
    found.push_back(s.outcome != StatusOutcome::kNotFound);
    if (!found.back()) changed = true;
  }
  for (const auto& m : result.msgs) {
    Log::Info("msg received", {{"channel", channel->uuid}, {"msg_uuid", m.uuid}, {"urn", m.urn}});
  }
  return changed ? SuccessOut(result, found, channel->uuid) : planned;
}

HttpOut Receiver::Index() const {
  auto o = json::NewObject();
  o->set("component", "courier-recv");
  o->set("version", kVersion);
  auto routes = json::NewArray();
  for (const auto& h : handlers_.handlers()) {
    for (const auto& r : h->Routes()) {
      routes->add(r.method + " /c/" + Lower(h->Code()) + "/{uuid}/" + r.action + " - " + h->Name() + " " + r.action);
    }
  }
  o->set("routes", routes);
  return JsonOut(200, json::Stringify(o));
}

HttpOut Receiver::Health() {
  auto o = json::NewObject();
  Status store = channels_.Ping();
  auto pending = SpoolDir(options_.spool_dir).List("new");
  int64_t backlog = pending.ok() ? static_cast<int64_t>(pending->size()) : -1;
  bool healthy = store.ok() && pending.ok() && backlog <= options_.spool_backlog_limit;
  o->set("healthy", healthy);
  o->set("store", store.ok() ? std::string("ok") : store.message());
  o->set("spool_pending", backlog);
  o->set("spool_backlog_limit", options_.spool_backlog_limit);
  auto stats = writer_.stats();
  o->set("committed", stats.committed);
  o->set("spooled", stats.spooled);
  return JsonOut(healthy ? 200 : 503, json::Stringify(o));
}

}  // namespace courier
