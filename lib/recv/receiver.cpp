#include "recv/receiver.h"

#include <chrono>

#include "core/json.h"
#include "core/json_writer.h"
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

std::string RequestDump(const HttpIn& in) {
  std::string dump = in.method + " " + in.uri + " HTTP/1.1\r\n";
  for (const auto& [k, v] : in.headers) dump += k + ": " + v + "\r\n";
  dump += "\r\n" + in.body;
  return dump;
}

std::string ResponseDump(const HttpOut& out) {
  return "HTTP/1.1 " + std::to_string(out.status) + "\r\nContent-Type: " + out.content_type + "\r\n\r\n" + out.body;
}

void WriteMsgItem(JsonWriter& w, const Msg& m) {
  w.BeginObject();
  w.Field("type", "msg");
  w.Field("channel_uuid", m.channel_uuid);
  w.Field("msg_uuid", m.uuid);
  w.Field("text", m.text);
  w.Field("urn", m.urn);
  if (!m.attachments.empty()) w.Field("attachments", m.attachments);
  if (!m.external_id.empty()) w.Field("external_id", m.external_id);
  if (m.received_on) w.Key("received_on").Time(m.received_on);
  w.EndObject();
}

void WriteStatusItem(JsonWriter& w, const StatusUpdate& s) {
  w.BeginObject();
  w.Field("type", "status");
  w.Field("channel_uuid", s.channel_uuid);
  w.Field("status", MsgStatusString(s.status));
  if (s.msg_id) w.Field("msg_id", *s.msg_id);
  if (!s.external_id.empty()) w.Field("external_id", s.external_id);
  w.EndObject();
}

// The success answer for what a handler produced; `found[i]` false marks
// statuses for msgs the store does not have.
HttpOut SuccessOut(const WebhookResult& r, const std::vector<bool>& status_found, const std::string& channel_uuid) {
  if (r.response_body) {
    HttpOut out;
    out.status = 200;
    out.content_type = r.response_content_type.empty() ? "text/plain" : r.response_content_type;
    out.body = *r.response_body;
    return out;
  }
  size_t found = 0;
  for (size_t i = 0; i < r.statuses.size(); ++i) {
    if (i >= status_found.size() || status_found[i]) ++found;
  }
  std::string message;
  if (!r.msgs.empty()) message = "Message Accepted";
  else if (found) message = "Status Update Accepted";
  else if (!r.stop_urns.empty() || !r.urn_auths.empty()) message = "Event Accepted";
  else message = "Ignored";
  JsonWriter w;
  w.BeginObject().Field("message", message).Key("data").BeginArray();
  for (const auto& m : r.msgs) WriteMsgItem(w, m);
  for (size_t i = 0; i < r.statuses.size(); ++i) {
    if (i < status_found.size() && !status_found[i]) continue;
    WriteStatusItem(w, r.statuses[i]);
  }
  for (const auto& urn : r.stop_urns) {
    w.BeginObject().Field("type", "event").Field("channel_uuid", channel_uuid);
    w.Field("event_type", "stop_contact").Field("urn", urn).EndObject();
  }
  if (message == "Ignored") {
    w.BeginObject().Field("type", "info");
    w.Field("info", r.statuses.empty() ? "nothing to do" : "msg not found, ignored").EndObject();
  }
  w.EndArray().EndObject();
  return JsonOut(200, w.Take());
}

}  // namespace

std::string ErrorEnvelope(const std::string& message, const std::string& error) {
  JsonWriter w;
  w.BeginObject().Field("message", message).Key("data").BeginArray();
  w.BeginObject().Field("type", "error").Field("error", error).EndObject();
  w.EndArray().EndObject();
  return w.Take();
}

Receiver::Receiver(const HandlerRegistry& handlers, ChannelCache& channels, IntakeWriter& writer, HttpClient& http,
                   Clock& clock, ReceiverOptions options)
    : handlers_(handlers), channels_(channels), writer_(writer), http_(http), clock_(clock), options_(std::move(options)) {
  for (const auto& h : handlers_.handlers()) routes_[h.get()] = h->Routes();
}

namespace {

// Answers now (every answer that needs no store write).
void Answer(const HttpRespond& respond, HttpOut out) {
  respond([out = std::move(out)]() { return out; });
}

}  // namespace

void Receiver::Handle(const HttpIn& in, HttpRespond respond) {
  std::string path = in.uri.substr(0, in.uri.find('?'));
  if (path == "/" && (in.method == "GET" || in.method == "HEAD")) return Answer(respond, Index());
  if (path == "/status" && (in.method == "GET" || in.method == "HEAD")) return Answer(respond, Health());

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
    return Answer(respond, JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri)));
  }
  ChannelRequest(in, parts[1], parts[2], parts[3], respond);
}

void Receiver::ChannelRequest(const HttpIn& in, const std::string& type, const std::string& uuid_text,
                              const std::string& action, const HttpRespond& respond) {
  const auto started = std::chrono::steady_clock::now();
  const ChannelHandler* handler = handlers_.Find(type);
  if (handler == nullptr || Lower(type) != type) {
    counters_.not_found++;
    return Answer(respond, JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri)));
  }
  std::optional<Route> route;
  std::string allowed;
  for (const auto& r : routes_.at(handler)) {
    if (r.action != action) continue;
    allowed += (allowed.empty() ? "" : ", ") + r.method;
    if (r.method == in.method) route = r;
  }
  if (allowed.empty()) {
    counters_.not_found++;
    return Answer(respond, JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri)));
  }
  if (!route) {
    counters_.not_found++;
    HttpOut out = JsonOut(405, ErrorEnvelope("Method Not Allowed", "method not allowed: " + in.method));
    out.headers["Allow"] = allowed;
    return Answer(respond, std::move(out));
  }
  if (in.body_too_large) {
    counters_.too_large++;
    return Answer(respond, JsonOut(413, ErrorEnvelope("Error", "request body too large")));
  }
  auto uuid = NormalizeUUID(uuid_text);
  if (!uuid) {
    counters_.errors++;
    return Answer(respond, JsonOut(400, ErrorEnvelope("Error", "invalid channel uuid: " + uuid_text)));
  }
  auto channel = channels_.Get(handler->Code(), *uuid);
  if (!channel.ok()) {
    if (channel.status().IsUnavailable()) {
      counters_.unavailable++;
      Log::Warn("channel lookup failed", {{"channel", *uuid}, {"error", channel.status().message()}});
      return Answer(respond, JsonOut(503, ErrorEnvelope("Error", "store unavailable, try again")));
    }
    counters_.errors++;
    return Answer(respond, JsonOut(400, ErrorEnvelope("Error", channel.status().message())));
  }
  if (!handler->ReceiveMayCallOut()) return Receive(in, *handler, *route, **channel, started, respond);
  // Off the event loop: the handler's own requests may take seconds.
  calling_out_.Submit([this, in, handler, route = *route, channel = *channel, started, respond]() {
    try {
      Receive(in, *handler, route, *channel, started, respond);
    } catch (const std::exception& e) {
      Log::Error("receive failed", {{"channel", channel->uuid}, {"error", e.what()}});
      Answer(respond, JsonOut(500, ErrorEnvelope("Error", "internal error handling request")));
    }
  });
}

void Receiver::Receive(const HttpIn& in, const ChannelHandler& handler, const Route& route, const Channel& channel,
                       std::chrono::steady_clock::time_point started, const HttpRespond& respond) {
  WebhookRequest request =
      WebhookRequest::Build(in.method, in.uri, in.headers, in.body, options_.base_url, route.action);
  HandlerContext ctx{http_, clock_, options_.base_url};
  WebhookResult result;
  try {
    result = handler.Receive(route, channel, request, ctx);
  } catch (const std::exception& e) {
    Log::Error("handler failed", {{"channel", channel.uuid}, {"type", handler.Code()}, {"error", e.what()}});
    counters_.errors++;
    return Answer(respond, JsonOut(500, ErrorEnvelope("Error", "internal error handling request")));
  }

  const auto secrets = channel.SecretValues();
  auto make_log = [&](const HttpOut& out, const std::string& description, const std::string& error) {
    ChannelLog log;
    log.channel_id = channel.id;
    log.channel_uuid = channel.uuid;
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
              {{"channel", channel.uuid}, {"type", handler.Code()}, {"error", result.error}});
    Intake intake;
    intake.channel_uuid = channel.uuid;
    intake.logs = result.extra_logs;
    intake.logs.push_back(make_log(out, "Channel Error", result.error));
    writer_.WriteAsync(std::move(intake));
    return Answer(respond, std::move(out));
  }
  if (!result.ignored.empty()) {
    JsonWriter w;
    w.BeginObject().Field("message", "Ignored").Key("data").BeginArray();
    w.BeginObject().Field("type", "info").Field("info", result.ignored).EndObject();
    w.EndArray().EndObject();
    HttpOut out = JsonOut(200, w.Take());
    counters_.ignored++;
    Intake intake;
    intake.channel_uuid = channel.uuid;
    intake.logs = result.extra_logs;
    intake.logs.push_back(make_log(out, "Request Ignored", ""));
    writer_.WriteAsync(std::move(intake));
    return Answer(respond, std::move(out));
  }

  // The msgs get their uuids now: the answer promises them even if the
  // store is down and the intake goes to the spool.
  const Micros now = clock_.Now();
  for (auto& m : result.msgs) {
    m.uuid = NewUUID();
    m.channel_id = channel.id;
    m.channel_uuid = channel.uuid;
    m.channel_type = channel.type;
    if (!m.received_on) m.received_on = now;
  }
  for (auto& s : result.statuses) s.channel_uuid = channel.uuid;

  auto pending = std::make_shared<PendingAnswer>();
  pending->planned = SuccessOut(result, {}, channel.uuid);
  Intake intake;
  intake.channel_uuid = channel.uuid;
  for (const auto& m : result.msgs) {
    intake.msgs.push_back(m);
    intake.msg_logs.push_back(make_log(pending->planned, "Message Received", ""));
  }
  for (auto s : result.statuses) {
    s.logs.push_back(make_log(pending->planned, "Status Updated", ""));
    intake.statuses.push_back(std::move(s));
  }
  intake.stop_urns = result.stop_urns;
  intake.urn_auths = result.urn_auths;
  intake.logs = std::move(result.extra_logs);
  if ((!result.stop_urns.empty() || !result.urn_auths.empty()) && result.msgs.empty() && result.statuses.empty())
    intake.logs.push_back(make_log(pending->planned, "Event Received", ""));
  pending->result = std::move(result);
  pending->channel_uuid = channel.uuid;

  // The writer thread only hands the outcome over; the answer is built on
  // the server's thread for this connection.
  writer_.WriteAsync(std::move(intake), [this, pending, respond](const IntakeWrite& written) {
    respond([this, pending, written]() { return Finish(*pending, written); });
  });
}

HttpOut Receiver::Finish(PendingAnswer& pending, const IntakeWrite& written) {
  WebhookResult& result = pending.result;
  if (written.kind == IntakeWrite::kFailed) {
    if (written.error.IsUnavailable() || written.error.code() == Status::Code::kInternal) {
      counters_.unavailable++;
      return JsonOut(503, ErrorEnvelope("Error", "store and spool unavailable, try again"));
    }
    counters_.errors++;
    return JsonOut(400, ErrorEnvelope("Error", written.error.message()));
  }
  if (result.answer_from_store) {
    // The answer names what only the store knows; a spooled intake is
    // kept, but its answer would be a guess.
    if (written.kind == IntakeWrite::kSpooled) {
      counters_.spooled++;
      counters_.unavailable++;
      return JsonOut(503, ErrorEnvelope("Error", "store unavailable: request saved, try again for its answer"));
    }
    counters_.accepted++;
    return JsonOut(200, result.answer_from_store(written.outcome));
  }
  counters_.accepted++;
  if (written.kind == IntakeWrite::kSpooled) {
    counters_.spooled++;
    return std::move(pending.planned);
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
    Log::Info("msg received", {{"channel", pending.channel_uuid}, {"msg_uuid", m.uuid}, {"urn", m.urn}});
  }
  return changed ? SuccessOut(result, found, pending.channel_uuid) : std::move(pending.planned);
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
