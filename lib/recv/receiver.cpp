#include "recv/receiver.h"

#include <chrono>

#include "core/json.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/uuid.h"
#include "core/version.h"
#include "spool/spool.h"
#include "util/text.h"

namespace courier {
namespace {

HttpOut JsonOut(int status, const std::string& body) {
  HttpOut out;
  out.status = status;
  out.content_type = "application/json";
  out.body = body + "\n";
  return out;
}

// The request as a channel log shows it; `body` is the channel's share of
// it (all of it but for an app-level webhook that spans channels).
std::string RequestDump(const HttpIn& in, const std::string& body) {
  std::string dump = in.method + " " + in.uri + " HTTP/1.1\r\n";
  for (const auto& [k, v] : in.headers) dump += k + ": " + v + "\r\n";
  dump += "\r\n" + body;
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
  if (!s.msg_uuid.empty()) w.Field("msg_uuid", s.msg_uuid);
  if (!s.external_id.empty()) w.Field("external_id", s.external_id);
  w.EndObject();
}

// What the answer's message depends on: how many items of each kind
// a handler's result makes, `found[i]` false marking statuses for msgs the
// store does not have (they get no item).
struct ItemCounts {
  size_t msgs = 0, statuses = 0, events = 0;
  ItemCounts& operator+=(const ItemCounts& o) {
    msgs += o.msgs, statuses += o.statuses, events += o.events;
    return *this;
  }
};
ItemCounts CountItems(const WebhookResult& r, const std::vector<bool>& status_found) {
  ItemCounts n;
  n.msgs = r.msgs.size();
  for (size_t i = 0; i < r.statuses.size(); ++i) n.statuses += i >= status_found.size() || status_found[i];
  n.events = r.stop_urns.size() + r.urn_auths.size() + r.events.size();
  return n;
}

// The data items for what a handler produced on one channel.
void WriteResultItems(JsonWriter& w, const WebhookResult& r, const std::vector<bool>& status_found,
                      const std::string& channel_uuid) {
  for (const auto& m : r.msgs) WriteMsgItem(w, m);
  for (size_t i = 0; i < r.statuses.size(); ++i) {
    if (i < status_found.size() && !status_found[i]) continue;
    WriteStatusItem(w, r.statuses[i]);
  }
  for (const auto& urn : r.stop_urns) {
    w.BeginObject().Field("type", "event").Field("channel_uuid", channel_uuid);
    w.Field("event_type", "stop_contact").Field("urn", urn).EndObject();
  }
  for (const auto& event : r.events) {
    w.BeginObject().Field("type", "event").Field("channel_uuid", channel_uuid);
    w.Field("event_uuid", event.uuid).Field("event_type", ChannelEventTypeName(event.type)).Field("urn", event.urn);
    if (event.occurred_on) w.Key("received_on").Time(event.occurred_on);
    if (!event.extra.empty()) {
      w.Key("extra").BeginObject();
      for (const auto& [key, value] : event.extra) w.Field(key, value);
      w.EndObject();
    }
    w.EndObject();
  }
}

std::string AcceptedMessage(const ItemCounts& n) {
  if (n.msgs) return "Message Accepted";
  if (n.statuses) return "Status Update Accepted";
  if (n.events) return "Event Accepted";
  return "Ignored";
}

// The success answer for what a handler produced on one channel.
HttpOut SuccessOut(const WebhookResult& r, const std::vector<bool>& status_found, const std::string& channel_uuid) {
  if (r.response_body) {
    HttpOut out;
    out.status = 200;
    out.content_type = r.response_content_type.empty() ? "text/plain" : r.response_content_type;
    out.body = *r.response_body;
    return out;
  }
  const std::string message = AcceptedMessage(CountItems(r, status_found));
  JsonWriter w;
  w.BeginObject().Field("message", message).Key("data").BeginArray();
  WriteResultItems(w, r, status_found, channel_uuid);
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
    : handlers_(handlers),
      channels_(channels),
      writer_(writer),
      http_(http),
      clock_(clock),
      options_(std::move(options)),
      refusals_(clock, options_.refusal_log) {
  for (const auto& h : handlers_.handlers()) {
    routes_[h.get()] = h->Routes();
    if (const AppWebhooks* app = h->AppLevel()) app_routes_[h.get()] = app->AppRoutes();
  }
}

namespace {

// Answers now (every answer that needs no store write).
void Answer(const HttpRespond& respond, HttpOut out) {
  respond([out = std::move(out)]() { return out; });
}

HttpOut NotFoundOut(const HttpIn& in) { return JsonOut(404, ErrorEnvelope("Not Found", "not found: " + in.uri)); }

// The route for the request's method and `action` among `routes`, or the
// 404 (no such action) or 405 (not with this method) to answer.
struct RouteMatch {
  std::optional<Route> route;
  HttpOut refusal;
};
RouteMatch MatchRoute(const std::vector<Route>& routes, const HttpIn& in, const std::string& action) {
  RouteMatch match;
  std::string allowed;
  for (const auto& r : routes) {
    if (r.action != action) continue;
    allowed += (allowed.empty() ? "" : ", ") + r.method;
    if (r.method == in.method) match.route = r;
  }
  if (match.route) return match;
  if (allowed.empty()) {
    match.refusal = NotFoundOut(in);
  } else {
    match.refusal = JsonOut(405, ErrorEnvelope("Method Not Allowed", "method not allowed: " + in.method));
    match.refusal.headers["Allow"] = allowed;
  }
  return match;
}

// The answer to a handler's error: 400, 401 when unauthorized, 503 when
// it may pass (the provider sends the webhook again).
HttpOut ErrorOut(const WebhookResult& r) {
  if (r.unauthorized) return JsonOut(401, ErrorEnvelope("Unauthorized", r.error));
  return JsonOut(r.temporary ? 503 : 400, ErrorEnvelope("Error", r.error));
}

HttpOut IgnoredOut(const std::string& reason) {
  JsonWriter w;
  w.BeginObject().Field("message", "Ignored").Key("data").BeginArray();
  w.BeginObject().Field("type", "info").Field("info", reason).EndObject();
  w.EndArray().EndObject();
  return JsonOut(200, w.Take());
}

// Applies what the commit said to a result: a duplicate msg keeps the uuid
// first given; found[i] is false for a status whose msg the store does not
// have. True when the answer differs from the one planned.
bool ApplyOutcome(WebhookResult& result, const IntakeOutcome& outcome, std::vector<bool>& found) {
  bool changed = false;
  for (size_t i = 0; i < result.msgs.size() && i < outcome.msgs.size(); ++i) {
    if (outcome.msgs[i].msg_uuid != result.msgs[i].uuid) {
      result.msgs[i].uuid = outcome.msgs[i].msg_uuid;
      changed = true;
    }
  }
  for (const auto& s : outcome.statuses) {
    found.push_back(s.outcome != StatusOutcome::kNotFound);
    if (!found.back()) changed = true;
  }
  return changed;
}

}  // namespace

// What the channel logs of one channel's share of a webhook have in
// common, secrets redacted once.
struct Receiver::LogBase {
  LogBase(const HttpIn& in, const WebhookRequest& request, const std::string& body, const Channel& channel,
          std::chrono::steady_clock::time_point started)
      : method(in.method), channel_id(channel.id), channel_uuid(channel.uuid), started(started) {
    const auto secrets = channel.SecretValues();
    url = MaskUrlCredentials(Redact(request.url, secrets));
    dump = MaskUrlCredentials(Redact(RequestDump(in, body), secrets));
    this->secrets = secrets;
  }
  ChannelLog Make(const HttpOut& out, const std::string& description, const std::string& error, Micros now) const {
    ChannelLog log;
    log.channel_id = channel_id;
    log.channel_uuid = channel_uuid;
    log.description = description;
    log.method = method;
    log.url = url;
    log.status_code = out.status;
    log.error = Redact(error, secrets);
    log.request = dump;
    log.response = Redact(ResponseDump(out), secrets);
    log.elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    log.created_on = now;
    return log;
  }
  std::string method;
  int64_t channel_id;
  std::string channel_uuid;
  std::string url;
  std::string dump;
  std::vector<std::string> secrets;
  std::chrono::steady_clock::time_point started;
};

void Receiver::Refuse(const HttpIn& in, const HttpRespond& respond, RefusalReason reason, HttpOut out,
                      const std::string& error, const std::string& channel_uuid) {
  NoteRefusal(in.uri, in.remote_address, reason, out.status, error, channel_uuid);
  Answer(respond, std::move(out));
}

void Receiver::NoteRefusal(const std::string& uri, const std::string& remote, RefusalReason reason, int status,
                           const std::string& error, const std::string& channel_uuid) {
  switch (status) {
    case 401: counters_.unauthorized++; break;
    case 404: case 405: counters_.not_found++; break;
    case 413: case 414: case 431: counters_.too_large++; break;
    default: counters_.errors++; break;
  }
  refusals_.Note({reason, status, uri, remote, error, channel_uuid});
}

void Receiver::Handle(const HttpIn& in, HttpRespond answer) {
  std::string path = in.uri.substr(0, in.uri.find('?'));
  const bool readable = in.malformed.empty() && !in.uri_too_long && !in.headers_too_large;
  if (readable && (in.method == "GET" || in.method == "HEAD")) {
    if (path == "/") return Answer(answer, Index());
    if (path == "/status") return Answer(answer, Health());
  }
  // Every other answer is a webhook's: counted by its code when refused,
  // at the one place each path's answer passes.
  HttpRespond respond = [this, answer = std::move(answer)](std::function<HttpOut()> finish) {
    answer([this, finish = std::move(finish)]() {
      HttpOut out = finish();
      counters_.CountAnswer(out.status);
      return out;
    });
  };
  // Before routing: the server kept only part of such a request.
  if (!in.malformed.empty()) {
    return Refuse(in, respond, RefusalReason::kMalformed, JsonOut(400, ErrorEnvelope("Error", in.malformed)),
                  in.malformed);
  }
  if (in.uri_too_long) {
    return Refuse(in, respond, RefusalReason::kUriTooLong,
                  JsonOut(414, ErrorEnvelope("Error", "request URI too long")), "request URI too long");
  }
  if (in.headers_too_large) {
    return Refuse(in, respond, RefusalReason::kHeadersTooLarge,
                  JsonOut(431, ErrorEnvelope("Error", "request headers too large")), "request headers too large");
  }

  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // trailing slash
  if (parts.size() == 4 && parts[0] == "c") return ChannelRequest(in, parts[1], parts[2], parts[3], respond);
  // /c/<type>/<uuid> is the channel's root (no action); an app-level
  // action is never a uuid.
  if (parts.size() == 3 && parts[0] == "c" && NormalizeUUID(parts[2]))
    return ChannelRequest(in, parts[1], parts[2], "", respond);
  if (parts.size() == 3 && parts[0] == "c") return AppRequest(in, parts[1], parts[2], respond);
  return Refuse(in, respond, RefusalReason::kNotFound, NotFoundOut(in), "no such route");
}

// The refusal of a request whose route (type and action) is unknown, or
// known for other methods.
namespace {
RefusalReason RouteRefusalReason(const HttpOut& refusal) {
  return refusal.status == 405 ? RefusalReason::kMethodNotAllowed : RefusalReason::kNotFound;
}
const char* RouteRefusalError(const HttpOut& refusal) {
  return refusal.status == 405 ? "method not allowed" : "no such route";
}
}  // namespace

void Receiver::ChannelRequest(const HttpIn& in, const std::string& type, const std::string& uuid_text,
                              const std::string& action, const HttpRespond& respond) {
  const auto started = std::chrono::steady_clock::now();
  const ChannelHandler* handler = handlers_.Find(type);
  if (handler == nullptr || ToLower(type) != type)
    return Refuse(in, respond, RefusalReason::kNotFound, NotFoundOut(in), "no such channel type");
  RouteMatch match = MatchRoute(routes_.at(handler), in, action);
  if (!match.route) {
    const RefusalReason reason = RouteRefusalReason(match.refusal);
    const char* error = RouteRefusalError(match.refusal);
    return Refuse(in, respond, reason, std::move(match.refusal), error);
  }
  if (in.body_too_large) {
    return Refuse(in, respond, RefusalReason::kBodyTooLarge,
                  JsonOut(413, ErrorEnvelope("Error", "request body too large")), "request body too large");
  }
  auto uuid = NormalizeUUID(uuid_text);
  if (!uuid) {
    return Refuse(in, respond, RefusalReason::kInvalidUuid,
                  JsonOut(400, ErrorEnvelope("Error", "invalid channel uuid: " + uuid_text)), "invalid channel uuid");
  }
  auto channel = channels_.Get(handler->Code(), *uuid);
  if (!channel.ok()) {
    if (channel.status().IsUnavailable()) {
      counters_.unavailable++;
      Log::Warn("channel lookup failed", {{"channel", *uuid}, {"error", channel.status().message()}});
      return Answer(respond, JsonOut(503, ErrorEnvelope("Error", "store unavailable, try again")));
    }
    // NotFound "channel not found" or InvalidArgument "channel type wrong".
    const RefusalReason reason =
        channel.status().IsNotFound() ? RefusalReason::kUnknownChannel : RefusalReason::kWrongType;
    return Refuse(in, respond, reason, JsonOut(400, ErrorEnvelope("Error", channel.status().message())),
                  channel.status().message(), *uuid);
  }
  const Route route = *match.route;
  if (!handler->ReceiveMayCallOut(route)) return Receive(in, *handler, route, **channel, started, respond);
  // Off the event loop: the handler's own requests may take seconds.
  calling_out_.Submit([this, in, handler, route, channel = *channel, started, respond]() {
    try {
      Receive(in, *handler, route, *channel, started, respond);
    } catch (const std::exception& e) {
      Log::Error("receive failed", {{"channel", channel->uuid}, {"error", e.what()}});
      Answer(respond, JsonOut(500, ErrorEnvelope("Error", "internal error handling request")));
    }
  });
}

void Receiver::WriteLogsOnly(const std::string& channel_uuid, std::vector<ChannelLog> logs, ChannelLog log) {
  Intake intake;
  intake.channel_uuid = channel_uuid;
  intake.logs = std::move(logs);
  intake.logs.push_back(std::move(log));
  writer_.WriteAsync(std::move(intake));
}

Intake Receiver::Accept(WebhookResult& result, const Channel& channel, const LogBase& logs, HttpOut& planned) {
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
  for (auto& event : result.events) {
    event.uuid = NewUUID();
    if (!event.occurred_on) event.occurred_on = now;
  }

  planned = SuccessOut(result, {}, channel.uuid);
  Intake intake;
  intake.channel_uuid = channel.uuid;
  intake.duplicate_window = options_.duplicate_window;
  if (!result.msgs.empty()) {
    const ChannelLog received = logs.Make(planned, "Message Received", "", now);
    for (const auto& m : result.msgs) {
      intake.msgs.push_back(m);
      intake.msg_logs.push_back(received);
    }
  }
  for (auto s : result.statuses) {
    s.logs.push_back(logs.Make(planned, "Status Updated", "", now));
    intake.statuses.push_back(std::move(s));
  }
  intake.stop_urns = result.stop_urns;
  intake.urn_auths = result.urn_auths;
  intake.channel_events = result.events;
  intake.logs = std::move(result.extra_logs);
  if ((!result.stop_urns.empty() || !result.urn_auths.empty() || !result.events.empty()) && result.msgs.empty() &&
      result.statuses.empty())
    intake.logs.push_back(logs.Make(planned, "Event Received", "", now));
  return intake;
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
  const LogBase logs(in, request, in.body, channel, started);

  if (!result.error.empty()) {
    HttpOut out = ErrorOut(result);
    WriteLogsOnly(channel.uuid, std::move(result.extra_logs), logs.Make(out, "Channel Error", result.error, clock_.Now()));
    if (result.temporary) {
      // Not refused: the provider sends it again and it may pass then.
      counters_.unavailable++;
      Log::Warn("request not taken, may pass later",
                {{"channel", channel.uuid}, {"type", handler.Code()}, {"error", Redact(result.error, logs.secrets)}});
      return Answer(respond, std::move(out));
    }
    return Refuse(in, respond, result.unauthorized ? RefusalReason::kUnauthorized : RefusalReason::kBadRequest,
                  std::move(out), Redact(result.error, logs.secrets), channel.uuid);
  }
  if (!result.ignored.empty()) {
    HttpOut out;
    std::string description = "Request Ignored";
    if (result.response_body) {
      // The provider needs its own answer even for what we ignore (Jasmin
      // re-sends anything not answered "ACK/Jasmin"); the reason, which
      // that answer cannot carry, goes in the log's description.
      out.status = 200;
      out.content_type = result.response_content_type.empty() ? "text/plain" : result.response_content_type;
      out.body = *result.response_body;
      description += ": " + Redact(result.ignored, logs.secrets);
    } else {
      out = IgnoredOut(result.ignored);
    }
    counters_.ignored++;
    WriteLogsOnly(channel.uuid, std::move(result.extra_logs), logs.Make(out, description, "", clock_.Now()));
    return Answer(respond, std::move(out));
  }

  auto pending = std::make_shared<PendingAnswer>();
  Intake intake = Accept(result, channel, logs, pending->planned);
  pending->result = std::move(result);
  pending->channel_uuid = channel.uuid;
  pending->uri = in.uri;
  pending->remote = in.remote_address;
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
    // The store refused the data (a msg it cannot take).
    NoteRefusal(pending.uri, pending.remote, RefusalReason::kBadRequest, 400, written.error.message(),
                pending.channel_uuid);
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
  std::vector<bool> found;
  const bool changed = ApplyOutcome(result, written.outcome, found);
  for (const auto& m : result.msgs) {
    Log::Info("msg received", {{"channel", pending.channel_uuid}, {"msg_uuid", m.uuid}, {"urn", m.urn}});
  }
  return changed ? SuccessOut(result, found, pending.channel_uuid) : std::move(pending.planned);
}

// ---- app-level webhooks ----------------------------------------------------

// One routing key's share of an app-level webhook.
struct Receiver::AppShare {
  std::string key;
  std::string body;
  std::shared_ptr<const Channel> channel;  // null: no channel of the type has the key
  WebhookResult result;                    // the handler's, or why the share was refused
  bool awaited = false;                    // its intake is being written
  HttpOut planned;                         // the channel's own answer, for its logs
  IntakeWrite written;
};

struct Receiver::AppPending {
  std::string type;  // the channel type code
  std::string uri, remote;  // for the refusal log
  std::vector<AppShare> shares;
  std::vector<std::string> skipped;
  std::atomic<size_t> writing{0};
};

void Receiver::AppRequest(const HttpIn& in, const std::string& type, const std::string& action,
                          const HttpRespond& respond) {
  const auto started = std::chrono::steady_clock::now();
  const ChannelHandler* handler = handlers_.Find(type);
  auto routes = handler ? app_routes_.find(handler) : app_routes_.end();
  if (routes == app_routes_.end() || ToLower(type) != type)
    return Refuse(in, respond, RefusalReason::kNotFound, NotFoundOut(in), "no such route");
  RouteMatch match = MatchRoute(routes->second, in, action);
  if (!match.route) {
    const RefusalReason reason = RouteRefusalReason(match.refusal);
    const char* error = RouteRefusalError(match.refusal);
    return Refuse(in, respond, reason, std::move(match.refusal), error);
  }
  if (in.body_too_large) {
    return Refuse(in, respond, RefusalReason::kBodyTooLarge,
                  JsonOut(413, ErrorEnvelope("Error", "request body too large")), "request body too large");
  }
  const Route route = *match.route;
  if (!handler->ReceiveMayCallOut(route)) return ReceiveApp(in, *handler, route, started, respond);
  calling_out_.Submit([this, in, handler, route, started, respond]() {
    try {
      ReceiveApp(in, *handler, route, started, respond);
    } catch (const std::exception& e) {
      Log::Error("receive failed", {{"type", handler->Code()}, {"error", e.what()}});
      Answer(respond, JsonOut(500, ErrorEnvelope("Error", "internal error handling request")));
    }
  });
}

// A webhook that names several channels is taken channel by channel: a
// share for an unknown channel, a share whose channel's secret does not
// verify it and a share its handler refuses are answered with an item of
// their own while the others are written, one intake per channel, and the
// answer waits until every one of those is durable (invariant 1). The
// provider sends the whole webhook again after any non-2xx, so a share
// whose write failed (store and spool both), or whose refusal may pass (a
// media lookup), answers 503 for all: what was written is then written
// again, which the store takes as duplicates (msgs by channel and external
// id; a status already applied is unchanged). A refusal that cannot pass
// (bad data) does not hold the others back: the answer is 2xx as long as
// any share was taken or ignored, 4xx only when all were refused.
void Receiver::ReceiveApp(const HttpIn& in, const ChannelHandler& handler, const Route& route,
                          std::chrono::steady_clock::time_point started, const HttpRespond& respond) {
  const AppWebhooks& app = *handler.AppLevel();
  const WebhookRequest request =
      WebhookRequest::Build(in.method, in.uri, in.headers, in.body, options_.base_url, route.action);
  const ChannelCache::KeyOf key_of = [&app](const Channel& c) { return app.RoutingKey(c); };
  auto lookup_failed = [&](const Status& status) {
    if (status.IsUnavailable()) {
      counters_.unavailable++;
      Log::Warn("channel lookup failed", {{"type", handler.Code()}, {"error", status.message()}});
      return JsonOut(503, ErrorEnvelope("Error", "store unavailable, try again"));
    }
    NoteRefusal(in.uri, in.remote_address, RefusalReason::kBadRequest, 400, status.message());
    return JsonOut(400, ErrorEnvelope("Error", status.message()));
  };

  if (route.method == "GET") {
    auto index = channels_.OfType(handler.Code(), key_of);
    if (!index.ok()) return Answer(respond, lookup_failed(index.status()));
    std::vector<const Channel*> channels;
    for (const auto& c : (*index)->channels) channels.push_back(c.get());
    WebhookResult verified = app.Verify(channels, request);
    if (!verified.error.empty()) {
      return Refuse(in, respond, verified.unauthorized ? RefusalReason::kUnauthorized : RefusalReason::kBadRequest,
                    ErrorOut(verified), "app webhook verification refused: " + verified.error);
    }
    Log::Info("app webhook verified", {{"type", handler.Code()}});
    return Answer(respond, SuccessOut(verified, {}, ""));
  }

  AppWebhookSplit split = app.Split(request);
  if (!split.error.empty()) {
    return Refuse(in, respond, RefusalReason::kBadRequest, JsonOut(400, ErrorEnvelope("Error", split.error)),
                  split.error);
  }
  if (!split.ignored.empty()) {
    counters_.ignored++;
    return Answer(respond, IgnoredOut(split.ignored));
  }
  std::vector<std::string> keys;
  for (const auto& part : split.parts) keys.push_back(part.routing_key);
  auto index = channels_.OfType(handler.Code(), key_of, keys);
  if (!index.ok()) return Answer(respond, lookup_failed(index.status()));

  auto pending = std::make_shared<AppPending>();
  pending->type = handler.Code();
  pending->uri = in.uri;
  pending->remote = in.remote_address;
  pending->skipped = std::move(split.skipped);
  // The signature covers the whole body: each channel the webhook names
  // must find it authentic with its own secret.
  std::optional<WebhookResult> refusal;  // the first, should none be authentic
  bool routed = false, authentic = false;
  for (auto& part : split.parts) {
    AppShare share;
    share.key = std::move(part.routing_key);
    share.body = std::move(part.body);
    if (auto it = (*index)->by_key.find(share.key); it != (*index)->by_key.end()) {
      share.channel = it->second;
      routed = true;
      if (auto failed = app.Authenticate(*share.channel, request)) {
        share.result = std::move(*failed);
        if (!refusal) refusal = share.result;
      } else {
        authentic = true;
      }
    }
    pending->shares.push_back(std::move(share));
  }
  if (!routed) {
    // Not something a retry fixes (a page or number this host does not
    // serve): answered 200 Ignored, the reason in the process log.
    std::string names;
    for (const auto& k : keys) names += (names.empty() ? "" : ",") + k;
    Log::Info("app webhook for no channel", {{"type", handler.Code()}, {"keys", names}});
    return Answer(respond, FinishApp(*pending));
  }
  if (!authentic) {
    for (auto& share : pending->shares) {
      if (!share.channel) continue;
      const LogBase logs(in, request, share.body, *share.channel, started);
      WriteLogsOnly(share.channel->uuid, {}, logs.Make(ErrorOut(share.result), "Channel Error", share.result.error,
                                                        clock_.Now()));
    }
    return Refuse(in, respond, refusal->unauthorized ? RefusalReason::kUnauthorized : RefusalReason::kBadRequest,
                  ErrorOut(*refusal), refusal->error);
  }

  HandlerContext ctx{http_, clock_, options_.base_url};
  std::vector<Intake> intakes;
  for (auto& share : pending->shares) {
    if (!share.channel) continue;
    const Channel& channel = *share.channel;
    const LogBase logs(in, request, share.body, channel, started);
    if (share.result.error.empty()) {  // authentic: the handler reads its part
      WebhookRequest part = request;
      part.body = share.body;
      try {
        share.result = app.ReceivePart(channel, part, ctx);
      } catch (const std::exception& e) {
        Log::Error("handler failed", {{"channel", channel.uuid}, {"type", handler.Code()}, {"error", e.what()}});
        share.result = WebhookResult::Error("internal error handling request");
      }
    }
    if (!share.result.error.empty()) {
      Log::Info(share.result.unauthorized ? "unauthorized request" : "bad request",
                {{"channel", channel.uuid}, {"type", handler.Code()}, {"error", Redact(share.result.error, logs.secrets)}});
      WriteLogsOnly(channel.uuid, std::move(share.result.extra_logs),
                    logs.Make(ErrorOut(share.result), "Channel Error", share.result.error, clock_.Now()));
      continue;
    }
    if (!share.result.ignored.empty()) {
      WriteLogsOnly(channel.uuid, std::move(share.result.extra_logs),
                    logs.Make(IgnoredOut(share.result.ignored), "Request Ignored", "", clock_.Now()));
      continue;
    }
    intakes.push_back(Accept(share.result, channel, logs, share.planned));
    share.awaited = true;
  }
  if (intakes.empty()) return Answer(respond, FinishApp(*pending));

  pending->writing = intakes.size();
  size_t i = 0;
  for (auto& share : pending->shares) {
    if (!share.awaited) continue;
    AppShare* slot = &share;  // shares do not move from here on
    writer_.WriteAsync(std::move(intakes[i++]), [this, pending, slot, respond](const IntakeWrite& written) {
      slot->written = written;
      if (pending->writing.fetch_sub(1, std::memory_order_acq_rel) == 1)
        respond([this, pending]() { return FinishApp(*pending); });
    });
  }
}

HttpOut Receiver::FinishApp(AppPending& pending) {
  for (const auto& share : pending.shares) {
    if (!share.awaited || share.written.kind != IntakeWrite::kFailed) continue;
    const Status& error = share.written.error;
    if (error.IsUnavailable() || error.code() == Status::Code::kInternal) {
      counters_.unavailable++;
      return JsonOut(503, ErrorEnvelope("Error", "store and spool unavailable, try again"));
    }
  }
  for (const auto& share : pending.shares) {
    if (share.channel && share.result.temporary) {
      counters_.unavailable++;
      return JsonOut(503, ErrorEnvelope("Error", share.result.error));
    }
  }

  // What the store said, and what the answer's message depends on.
  ItemCounts counts;
  bool taken = !pending.skipped.empty(), spooled = false;
  std::vector<std::vector<bool>> found(pending.shares.size());
  for (size_t i = 0; i < pending.shares.size(); ++i) {
    AppShare& share = pending.shares[i];
    if (!share.channel || (share.result.error.empty() && !share.awaited)) {
      taken = true;  // no channel has the key, or the handler ignored it
      continue;
    }
    if (!share.awaited || share.written.kind == IntakeWrite::kFailed) continue;
    taken = true;
    spooled = spooled || share.written.kind == IntakeWrite::kSpooled;
    if (share.written.kind == IntakeWrite::kCommitted) ApplyOutcome(share.result, share.written.outcome, found[i]);
    counts += CountItems(share.result, found[i]);
    for (const auto& m : share.result.msgs)
      Log::Info("msg received", {{"channel", share.channel->uuid}, {"msg_uuid", m.uuid}, {"urn", m.urn}});
  }

  const bool any = counts.msgs || counts.statuses || counts.events;
  if (any) {
    counters_.accepted++;
  } else if (taken) {
    counters_.ignored++;
  } else {
    // Every share refused: the whole webhook is.
    NoteRefusal(pending.uri, pending.remote, RefusalReason::kBadRequest, 400, "every entry refused");
  }
  if (spooled) counters_.spooled++;
  JsonWriter w;
  w.BeginObject().Field("message", taken ? AcceptedMessage(counts) : "Error").Key("data").BeginArray();
  for (size_t i = 0; i < pending.shares.size(); ++i) {
    const AppShare& share = pending.shares[i];
    if (!share.channel) {
      w.BeginObject().Field("type", "info");
      w.Field("info", "no " + pending.type + " channel for '" + share.key + "', ignored").EndObject();
    } else if (share.awaited && share.written.kind == IntakeWrite::kFailed) {
      w.BeginObject().Field("type", "error").Field("channel_uuid", share.channel->uuid);
      w.Field("error", share.written.error.message()).EndObject();
    } else if (!share.result.error.empty()) {
      w.BeginObject().Field("type", "error").Field("channel_uuid", share.channel->uuid);
      w.Field("error", share.result.error).EndObject();
    } else if (!share.awaited) {
      w.BeginObject().Field("type", "info").Field("channel_uuid", share.channel->uuid);
      w.Field("info", share.result.ignored).EndObject();
    } else {
      WriteResultItems(w, share.result, found[i], share.channel->uuid);
      const ItemCounts n = CountItems(share.result, found[i]);
      if (!n.msgs && !n.statuses && !n.events) {
        w.BeginObject().Field("type", "info").Field("channel_uuid", share.channel->uuid);
        w.Field("info", "msg not found, ignored").EndObject();
      }
    }
  }
  for (const auto& reason : pending.skipped) w.BeginObject().Field("type", "info").Field("info", reason).EndObject();
  w.EndArray().EndObject();
  return JsonOut(taken ? 200 : 400, w.Take());
}

HttpOut Receiver::Index() const {
  auto o = json::NewObject();
  o->set("component", "courier-recv");
  o->set("version", kVersion);
  auto routes = json::NewArray();
  for (const auto& h : handlers_.handlers()) {
    for (const auto& r : h->Routes()) {
      const std::string path = "/c/" + ToLower(h->Code()) + "/{uuid}" + (r.action.empty() ? "" : "/" + r.action);
      routes->add(r.method + " " + path + " - " + h->Name() + " " + (r.action.empty() ? "channel root" : r.action));
    }
    if (const AppWebhooks* app = h->AppLevel()) {
      for (const auto& r : app->AppRoutes()) {
        routes->add(r.method + " /c/" + ToLower(h->Code()) + "/" + r.action + " - " + h->Name() + " " + r.action +
                    ", every channel of the app");
      }
    }
  }
  o->set("routes", routes);
  return JsonOut(200, json::Stringify(o));
}

HttpOut Receiver::Health() {
  auto o = json::NewObject();
  auto problems = json::NewArray();
  const Micros now = clock_.Now();
  constexpr int64_t kMiB = 1024 * 1024;

  Status store = channels_.Ping();
  if (!store.ok()) problems->add("store: " + store.message());
  const SpoolSummary spool = SpoolDir(options_.spool_dir).Summarize();
  // Intakes, not files: a file holds a writer's batch.
  const int64_t backlog = spool.read.ok() ? spool.pending_intakes : -1;
  if (!spool.read.ok()) problems->add("spool: " + spool.read.message());
  else if (backlog > options_.spool_backlog_limit)
    problems->add("spool backlog " + std::to_string(backlog) + " above spool_backlog_limit " +
                  std::to_string(options_.spool_backlog_limit));

  // Reading the store says nothing of writing it: a full disk refuses
  // every write while reads go on. So the writer's recent refusals count.
  auto stats = writer_.stats();
  auto writes = json::NewObject();
  auto recent = [&](Micros on) { return on > 0 && now - on < kWriteFailureWindow; };
  auto failure = [&](const char* name, Micros on, const std::string& error) {
    if (!recent(on)) {
      writes->set(name, "ok");
      return;
    }
    auto f = json::NewObject();
    f->set("failed_s_ago", (now - on) / kMicrosPerSecond);
    f->set("error", error);
    writes->set(name, f);
  };
  failure("store", stats.store_failed_on, stats.store_error);
  failure("spool", stats.spool_failed_on, stats.spool_error);
  // The store failing alone is an outage the spool absorbs; both failing
  // is webhooks answered 503.
  if (recent(stats.spool_failed_on) && stats.spool_failed_on >= stats.durable_on)
    problems->add("writes refused by store and spool: " + stats.spool_error);
  o->set("writes", writes);

  auto disk = json::NewObject();
  // Unhealthy a little before a write would fail: the store's file system
  // below health_min_free_mb, the spool's below its reserve (where it
  // refuses) plus health_min_free_mb.
  auto space = [&](const char* name, const std::string& path, int64_t keep_mb, const std::string& setting) {
    if (path.empty()) return;
    auto d = json::NewObject();
    d->set("path", path);
    auto free = options_.env->FreeSpace(path);
    if (!free.ok()) {
      d->set("error", free.status().message());
    } else {
      const int64_t free_mb = free->available_bytes / kMiB;
      d->set("free_mb", free_mb);
      d->set("min_free_mb", keep_mb);
      if (free->available_bytes < keep_mb * kMiB)
        problems->add(std::string(name) + " file system has " + std::to_string(free_mb) + " MB free, below " +
                      std::to_string(keep_mb) + " MB (" + setting + ")");
    }
    disk->set(name, d);
  };
  std::string store_dir = options_.store_path;
  if (!store_dir.empty()) {
    auto slash = store_dir.find_last_of('/');
    store_dir = slash == std::string::npos ? "." : slash == 0 ? "/" : store_dir.substr(0, slash);
  }
  space("store", store_dir, options_.health_min_free_mb, "health_min_free_mb");
  space("spool", options_.spool_dir, options_.spool_reserve_mb + options_.health_min_free_mb,
        "spool_reserve_mb + health_min_free_mb");
  o->set("disk", disk);

  const bool healthy = problems->size() == 0;
  o->set("healthy", healthy);
  o->set("problems", problems);
  o->set("store", store.ok() ? std::string("ok") : store.message());
  o->set("spool_pending", backlog);
  o->set("spool_backlog_limit", options_.spool_backlog_limit);
  o->set("committed", stats.committed);
  o->set("spooled", stats.spooled);
  return JsonOut(healthy ? 200 : 503, json::Stringify(o));
}

}  // namespace courier
