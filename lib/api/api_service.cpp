#include "api/api_service.h"

#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <cerrno>
#include <cstdlib>

#include "core/channel_json.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/msg_json.h"
#include "core/msg_status.h"
#include "core/urn.h"
#include "core/version.h"
#include "media/media_store.h"
#include "core/uuid.h"
#include "model/api_token.h"
#include "model/outgoing.h"
#include "util/hmac.h"
#include "util/text.h"

namespace courier {
namespace {

constexpr int kDefaultListLimit = 100;
constexpr int kMaxListLimit = 1000;
constexpr size_t kMaxIdempotencyKey = 255;
// A token's last_used_on is written at most this often: authentication
// stays a read.
constexpr Micros kTouchEvery = 60 * kMicrosPerSecond;

HttpOut Json(int status, std::string body) {
  HttpOut out;
  out.status = status;
  out.body = std::move(body);
  return out;
}

HttpOut Error(int status, const std::string& error, const std::string& field = "") {
  JsonWriter w;
  w.BeginObject().Field("error", error);
  if (!field.empty()) w.Field("field", field);
  w.EndObject();
  return Json(status, w.Take());
}

// The store could not serve the request now: the client tries again.
HttpOut Unavailable(const Status& status) {
  Log::Warn("store unavailable", {{"error", status.message()}});
  HttpOut out = Error(503, "store unavailable, try again: " + status.message());
  out.headers["Retry-After"] = "1";
  return out;
}

// A store error as the answer it deserves.
HttpOut StoreError(const Status& status, const std::string& field = "") {
  if (status.IsUnavailable()) return Unavailable(status);
  switch (status.code()) {
    case Status::Code::kNotFound: return Error(404, status.message(), field);
    case Status::Code::kInvalidArgument: return Error(422, status.message(), field);
    case Status::Code::kConflict: return Error(409, status.message(), field);
    default: return Error(500, status.message());
  }
}

std::string Decode(const std::string& text) {
  std::string plus = text;
  for (char& c : plus) c = c == '+' ? ' ' : c;
  std::string out;
  try {
    Poco::URI::decode(plus, out);
  } catch (const Poco::Exception&) {
    return plus;
  }
  return out;
}

void SplitUri(const std::string& uri, std::string& path, std::map<std::string, std::string>& query) {
  const auto q = uri.find('?');
  path = uri.substr(0, q);
  if (q == std::string::npos) return;
  size_t start = q + 1;
  while (start <= uri.size()) {
    size_t end = uri.find('&', start);
    if (end == std::string::npos) end = uri.size();
    std::string pair = uri.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    query[Decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
  }
}

// A whole number within [min, max] from a query parameter; nullopt when
// absent, an error answer when malformed.
struct IntParam {
  std::optional<int64_t> value;
  std::optional<HttpOut> error;
};
IntParam ParseIntParam(const std::map<std::string, std::string>& query, const std::string& name, int64_t min,
                       int64_t max) {
  auto it = query.find(name);
  if (it == query.end()) return {};
  const std::string& text = it->second;
  errno = 0;
  char* end = nullptr;
  long long v = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < min || v > max)
    return {std::nullopt, Error(400, name + " must be a whole number from " + std::to_string(min) + " to " +
                                         std::to_string(max) + ", not '" + text + "'",
                                name)};
  return {v, std::nullopt};
}

bool IsJsonContentType(const HttpIn& in) {
  auto it = in.headers.find("content-type");
  if (it == in.headers.end()) return false;
  std::string type = ToLower(Trim(it->second.substr(0, it->second.find(';'))));
  return type == "application/json";
}

// The body as JSON (an object or an array); 400 when it is not JSON.
Result<Poco::Dynamic::Var> ParseBody(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(body);
  } catch (const Poco::Exception& e) {
    return Status::InvalidArgument("malformed JSON: " + e.message());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed JSON: ") + e.what());
  }
}

std::string MsgRef(const Msg& m) {
  JsonWriter w;
  w.BeginObject().Field("id", m.id).Field("uuid", m.uuid).EndObject();
  return w.Take();
}

}  // namespace

bool MatchApiPattern(const std::string& pattern, const std::string& path,
                     std::map<std::string, std::string>& params) {
  std::map<std::string, std::string> found;
  size_t p = 0, s = 0;
  while (p < pattern.size() && s <= path.size()) {
    if (pattern[p] == '{') {
      const size_t close = pattern.find('}', p);
      const std::string name = pattern.substr(p + 1, close - p - 1);
      size_t seg_end = path.find('/', s);
      if (seg_end == std::string::npos) seg_end = path.size();
      if (seg_end == s) return false;  // an empty segment is no value
      found[name] = Decode(path.substr(s, seg_end - s));
      p = close + 1;
      s = seg_end;
      continue;
    }
    if (s >= path.size() || pattern[p] != path[s]) return false;
    ++p;
    ++s;
  }
  if (p != pattern.size() || s != path.size()) return false;
  params = std::move(found);
  return true;
}

class ApiService::StorePool {
 public:
  explicit StorePool(StoreOpener opener) : opener_(std::move(opener)) {}
  Result<std::unique_ptr<Store>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto store = std::move(idle_.back());
        idle_.pop_back();
        return store;
      }
    }
    return opener_();
  }
  void Give(std::unique_ptr<Store> store) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(store));
  }

 private:
  StoreOpener opener_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Store>> idle_;
};

const std::vector<ApiService::Route>& ApiService::Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/", "", &ApiService::Index},
      {"POST", "/api/v1/msgs", kApiScopeSend, &ApiService::PostMsgs},
      {"GET", "/api/v1/msgs", kApiScopeRead, &ApiService::ListMsgs},
      {"GET", "/api/v1/msgs/{uuid}", kApiScopeRead, &ApiService::GetMsg},
      {"POST", "/api/v1/msgs/{uuid}/retry", kApiScopeSend, &ApiService::RetryMsg},
      {"GET", "/api/v1/events", kApiScopeRead, &ApiService::GetEvents},
      {"GET", "/api/v1/channels", kApiScopeRead, &ApiService::ListChannels},
      {"GET", "/api/v1/channels/{uuid}", kApiScopeRead, &ApiService::GetChannel},
      {"POST", "/api/v1/contacts/stop", kApiScopeAdmin, &ApiService::StopContact},
      {"POST", "/api/v1/contacts/unstop", kApiScopeAdmin, &ApiService::UnstopContact},
      {"GET", "/metrics", kApiScopeRead, &ApiService::Metrics},
      // The media store's files by digest: a capability URL anyone holding
      // it may fetch (a provider fetching an outgoing attachment has no
      // token), as media_url names them (courier-fetch(8)).
      {"GET", "/media/{file}", "", &ApiService::GetMedia},
  };
  return routes;
}

ApiService::ApiService(StoreOpener opener, LongPolls& long_polls, ApiServiceOptions options)
    : opener_(std::move(opener)),
      long_polls_(long_polls),
      options_(std::move(options)),
      stores_(std::make_unique<StorePool>(opener_)),
      writer_(std::make_unique<QueueWriter>(opener_,
                                            [this] {
                                              if (options_.wake_sender) options_.wake_sender();
                                              if (options_.events_committed) options_.events_committed("msg.queued");
                                              long_polls_.Poke();
                                            })),
      workers_(std::make_unique<WorkQueue>(options_.workers)) {
  writer_->Start();
}

ApiService::~ApiService() { Stop(); }

void ApiService::Stop() {
  workers_.reset();  // serves what was accepted (some submit to the writer)
  if (writer_) writer_->Stop();
}

void ApiService::Count(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  counts_[route][status]++;
}

json::ObjectPtr ApiService::Counts() const {
  auto o = json::NewObject();
  std::lock_guard<std::mutex> lock(counts_mu_);
  for (const auto& [route, codes] : counts_) {
    auto by_code = json::NewObject();
    for (const auto& [code, n] : codes) by_code->set(std::to_string(code), n);
    o->set(route, by_code);
  }
  return o;
}

void ApiService::Handle(const HttpIn& in, HttpRespond respond) {
  auto call = std::make_shared<Call>();
  SplitUri(in.uri, call->path, call->query);
  auto answer = [this, call, &respond](const std::string& route, HttpOut out) {
    Count(route, out.status);
    respond([out = std::move(out)]() { return out; });
  };
  if (!in.malformed.empty()) return answer("other", Error(400, "malformed request: " + in.malformed));
  if (in.uri_too_long) return answer("other", Error(414, "request URI too long"));
  if (in.headers_too_large) return answer("other", Error(431, "request headers too large"));

  const Route* route = nullptr;
  std::vector<std::string> allowed;
  for (const Route& r : Routes()) {
    std::map<std::string, std::string> params;
    if (!MatchApiPattern(r.pattern, call->path, params)) continue;
    if (in.method == r.method || (in.method == "HEAD" && std::string(r.method) == "GET")) {
      route = &r;
      call->params = std::move(params);
      break;
    }
    allowed.push_back(r.method);
  }
  if (route == nullptr) {
    if (allowed.empty()) return answer("other", Error(404, "no such route: " + call->path));
    HttpOut out = Error(405, "method " + in.method + " not allowed here");
    out.headers["Allow"] = Join(allowed, ", ");
    return answer("other", out);
  }
  call->route = std::string(route->method) + " " + route->pattern;
  if (in.body_too_large)
    return answer(call->route,
                  Error(413, "body over " + std::to_string(options_.max_body_bytes) + " bytes (api_max_body_bytes)"));
  if (!in.body.empty() && !IsJsonContentType(in))
    return answer(call->route, Error(415, "the body must be application/json"));
  if (queued_.load() >= options_.max_queued) {
    HttpOut out = Error(503, "too many requests in progress, try again");
    out.headers["Retry-After"] = "1";
    return answer(call->route, out);
  }
  call->in = in;
  call->respond = std::move(respond);
  if (route->member == &ApiService::PostMsgs && ServeOnLoop(*call)) return;
  ++queued_;
  workers_->Submit([this, route, call]() {
    --queued_;
    Serve(*route, call);
  });
}

// Served here, on the server's loop thread, when nothing needs the store
// before the write: a token and channels known fresh from the caches, no
// last_used_on due, one msg (an object: a large array's checks would
// hold the loop). The hop to a worker (a thread woken, a context switch
// each way) cost as much as the checks themselves. Anything else goes to
// a worker, which also logs and answers the refusals of authentication.
bool ApiService::ServeOnLoop(Call& call) {
  const size_t first = call.in.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || call.in.body[first] != '{') return false;
  auto header = call.in.headers.find("authorization");
  if (header == call.in.headers.end() || ToLower(header->second.substr(0, 7)) != "bearer ") return false;
  const std::string token = Trim(header->second.substr(7));
  if (token.empty()) return false;
  auto found = FindToken(nullptr, ApiTokenHash(token));
  if (!found.ok() || !ApiScopeAllows(found->scopes, kApiScopeSend)) return false;
  {
    std::lock_guard<std::mutex> lock(touch_mu_);
    auto last = touched_.find(found->id);
    if (last == touched_.end() || Clock::System().Now() - last->second >= kTouchEvery) return false;
  }
  call.token = std::move(*found);
  call.store = nullptr;
  call.needs_store = false;
  HttpOut out = PostMsgs(call);
  if (call.needs_store) return false;  // nothing was written: a worker serves it again
  if (out.status == 0) return true;    // answered after the commit
  Count(call.route, out.status);
  call.respond([out = std::move(out)]() { return out; });
  return true;
}

void ApiService::Serve(const Route& route, std::shared_ptr<Call> call) {
  auto answer = [&](HttpOut out) {
    Count(call->route, out.status);
    call->respond([out = std::move(out)]() { return out; });
  };
  const bool is_public = route.scope[0] == '\0';
  auto taken = stores_->Take();
  if (!taken.ok() && !is_public) return answer(Unavailable(taken.status()));
  std::unique_ptr<Store> store = taken.ok() ? std::move(taken.value()) : nullptr;
  bool store_ok = store != nullptr;
  HttpOut out;
  [&] {
    if (!is_public) {
      const std::string header = call->in.headers.count("authorization") ? call->in.headers.at("authorization") : "";
      const std::string scheme = ToLower(header.substr(0, 7));
      const std::string token = scheme == "bearer " ? Trim(header.substr(7)) : "";
      if (token.empty()) {
        Log::Warn("api request without a bearer token", {{"remote", call->in.remote_address}, {"route", call->route}});
        out = Error(401, "an Authorization: Bearer token is required");
        out.headers["WWW-Authenticate"] = "Bearer realm=\"courier-api\"";
        return;
      }
      auto found = FindToken(store.get(), ApiTokenHash(token));
      if (!found.ok()) {
        if (found.status().IsUnavailable()) {
          store_ok = false;
          out = Unavailable(found.status());
          return;
        }
        Log::Warn("api request with an unknown token", {{"remote", call->in.remote_address}, {"route", call->route}});
        out = Error(401, "invalid token");
        out.headers["WWW-Authenticate"] = "Bearer realm=\"courier-api\", error=\"invalid_token\"";
        return;
      }
      call->token = std::move(*found);
      if (!ApiScopeAllows(call->token.scopes, route.scope)) {
        Log::Warn("api token lacks the scope",
                  {{"remote", call->in.remote_address}, {"route", call->route}, {"token", call->token.name},
                   {"needs", route.scope}});
        out = Error(403, "token '" + call->token.name + "' lacks the scope " + route.scope);
        return;
      }
      // Recording the use is best effort: a request is not refused for it.
      const Micros now = Clock::System().Now();
      bool touch = false;
      {
        std::lock_guard<std::mutex> lock(touch_mu_);
        Micros& last = touched_[call->token.id];
        if (now - last >= kTouchEvery) {
          last = now;
          touch = true;
        }
      }
      if (touch) {
        Status st = store->TouchApiToken(call->token.id, now);
        if (!st.ok()) Log::Debug("token use not recorded", {{"error", st.message()}});
      }
    }
    call->store = store.get();
    out = (this->*route.member)(*call);
    call->store = nullptr;
    if (out.status == 503) store_ok = false;
  }();
  if (store_ok) stores_->Give(std::move(store));
  if (out.status == 0) return;  // the member answers later (a long poll)
  if (call->in.method == "HEAD") out.body.clear();
  answer(std::move(out));
}

namespace {
// Entries kept at most; a full cache is emptied (tokens and channels are few).
constexpr size_t kMaxCached = 1024;

// The value under key while fresh, else load(store) (then cached for ttl);
// NotFound without a store when not cached. Only what was found is cached.
template <typename Cache, typename Load>
auto CachedOrLoad(std::mutex& mu, Cache& cache, Micros ttl, const std::string& key, Store* store, Load load)
    -> decltype(load(*store)) {
  const Micros now = Clock::System().Now();
  if (ttl > 0) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end() && now < it->second.until) return it->second.value;
  }
  if (store == nullptr) return Status::NotFound("not cached");
  auto found = load(*store);
  if (found.ok() && ttl > 0) {
    std::lock_guard<std::mutex> lock(mu);
    if (cache.size() >= kMaxCached) cache.clear();
    cache[key] = {*found, now + ttl};
  }
  return found;
}
}  // namespace

Result<ApiToken> ApiService::FindToken(Store* store, const std::string& hash) {
  return CachedOrLoad(cache_mu_, tokens_, options_.cache_ttl, hash, store,
                      [&](Store& s) { return s.FindApiToken(hash); });
}

Result<Channel> ApiService::FindChannel(Store* store, const std::string& uuid) {
  return CachedOrLoad(cache_mu_, channels_, options_.cache_ttl, uuid, store,
                      [&](Store& s) { return s.GetChannel(uuid); });
}

HttpOut ApiService::GetMedia(Call& call) {
  const std::string& file = call.params["file"];
  const std::string sha = file.substr(0, file.find('.'));
  if (!IsSha256Hex(sha)) return Error(404, "no such media");
  if (call.store == nullptr) return Unavailable(Status::Unavailable("store unavailable"));
  auto media = call.store->GetMedia(sha);
  if (!media.ok()) return media.status().IsNotFound() ? Error(404, "no such media") : Unavailable(media.status());
  auto bytes = MediaStore(options_.media_dir).Read(sha);
  if (!bytes.ok()) {
    if (!bytes.status().IsNotFound()) Log::Warn("media not readable", {{"sha256", sha}, {"error", bytes.status().ToString()}});
    return Error(404, "no such media");
  }
  HttpOut out;
  out.status = 200;
  out.content_type = media->content_type;
  out.body = std::move(*bytes);
  // The same name is the same bytes for ever.
  out.headers["Cache-Control"] = "public, max-age=31536000, immutable";
  out.headers["X-Content-Type-Options"] = "nosniff";
  return out;
}

HttpOut ApiService::Index(Call&) {
  JsonWriter w;
  w.BeginObject().Field("program", "courier-api").Field("version", kVersion).Field("api", "/api/v1").EndObject();
  return Json(200, w.Take());
}

// The whole pipeline for Prometheus (lib/metrics). Its control-socket
// questions can take up to their timeout, which is why it runs here, on a
// worker, and not on the server's event loop.
HttpOut ApiService::Metrics(Call& call) {
  auto text = RenderMetrics(*call.store, options_.metrics);
  if (!text.ok()) return Error(500, text.status().message());
  HttpOut out;
  out.content_type = kMetricsContentType;
  out.body = std::move(*text);
  return out;
}

// --- msgs ----------------------------------------------------------------------

HttpOut ApiService::PostMsgs(Call& call) {
  auto parsed = ParseBody(call.in.body);
  if (!parsed.ok()) return Error(400, parsed.status().message());
  std::vector<json::ObjectPtr> objects;
  bool is_array = false;
  if (parsed->type() == typeid(json::ObjectPtr)) {
    objects.push_back(parsed->extract<json::ObjectPtr>());
  } else if (parsed->type() == typeid(json::ArrayPtr)) {
    is_array = true;
    auto array = parsed->extract<json::ArrayPtr>();
    for (size_t i = 0; i < array->size(); ++i) {
      auto element = array->get(static_cast<unsigned>(i));
      if (element.type() != typeid(json::ObjectPtr))
        return Error(422, "msg " + std::to_string(i) + " is not a JSON object", "[" + std::to_string(i) + "]");
      objects.push_back(element.extract<json::ObjectPtr>());
    }
    if (objects.empty()) return Error(422, "the array holds no msgs");
  } else {
    return Error(400, "the body must be a JSON object (one msg) or an array of them");
  }

  std::string key;
  if (auto it = call.in.headers.find("idempotency-key"); it != call.in.headers.end()) {
    key = it->second;
    bool printable = !key.empty() && key.size() <= kMaxIdempotencyKey;
    for (char c : key) printable = printable && c >= 0x21 && c <= 0x7e;
    if (!printable)
      return Error(400, "Idempotency-Key must be 1 to 255 printable ASCII characters", "Idempotency-Key");
  }

  // Everything is checked before anything is written: all or nothing.
  std::map<std::string, Channel> channels;
  std::vector<Msg> msgs;
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string prefix = is_array ? "msg " + std::to_string(i) + ": " : "";
    auto where = [&](const std::string& field) { return is_array ? "[" + std::to_string(i) + "]." + field : field; };
    std::string field;
    auto request = OutgoingRequestFromJson(objects[i], &field);
    if (!request.ok()) return Error(422, prefix + request.status().message(), where(field));
    auto uuid = OutgoingChannelUuid(*request);
    if (!uuid.ok()) return Error(422, prefix + uuid.status().message(), where("channel"));
    auto known = channels.find(*uuid);
    if (known == channels.end()) {
      auto channel = FindChannel(call.store, *uuid);
      if (!channel.ok() && call.store == nullptr) {
        call.needs_store = true;
        return Error(503, "no store here");
      }
      if (!channel.ok()) {
        if (channel.status().IsNotFound())
          return Error(422, prefix + "channel not found: " + *uuid, where("channel"));
        return StoreError(channel.status());
      }
      known = channels.emplace(*uuid, *channel).first;
    }
    auto msg = BuildOutgoingMsg(known->second, *request, &field);
    if (!msg.ok()) return Error(422, prefix + msg.status().message(), where(field));
    msgs.push_back(std::move(*msg));
  }

  QueueRequest request;
  request.token_id = call.token.id;
  request.msgs = std::move(msgs);
  if (!key.empty()) {
    // The same key with the same request (method, path, body) is the same
    // request again; anything else under that key is a client's mistake.
    request.key = key;
    request.request_hash = HexEncode(Digest(DigestAlgorithm::kSha256, call.route + "\n" + call.in.body));
  }
  // Answered after the commit that holds it (QueueWriter's group commit).
  auto respond = call.respond;
  const std::string route = call.route;
  writer_->Submit(std::move(request), [this, respond, route, is_array](Result<IdempotentQueue> queued) {
    HttpOut out;
    if (!queued.ok()) {
      if (queued.status().code() == Status::Code::kConflict) out = Error(409, queued.status().message(), "Idempotency-Key");
      else if (queued.status().IsNotFound()) out = Error(422, queued.status().message(), "channel");
      else out = StoreError(queued.status());
    } else {
      std::string body;
      if (is_array) {
        JsonWriter w;
        w.BeginObject().Key("msgs").BeginArray();
        for (const auto& m : queued->msgs) w.Raw(MsgRef(m));
        w.EndArray().EndObject();
        body = w.Take();
      } else {
        body = MsgRef(queued->msgs.front());
      }
      out = Json(201, std::move(body));
      if (queued->replayed) out.headers["Idempotent-Replayed"] = "true";
    }
    Count(route, out.status);
    respond([out = std::move(out)]() { return out; });
  });
  HttpOut later;
  later.status = 0;
  return later;
}

HttpOut ApiService::GetMsg(Call& call) {
  auto uuid = NormalizeUUID(call.params["uuid"]);
  if (!uuid) return Error(404, "msg not found: '" + call.params["uuid"] + "' is not a UUID");
  auto msg = call.store->GetMsgByUUID(*uuid);
  if (!msg.ok()) return StoreError(msg.status());
  return Json(200, MsgToJson(*msg));
}

HttpOut ApiService::ListMsgs(Call& call) {
  MsgFilter filter;
  const auto& q = call.query;
  if (auto it = q.find("direction"); it != q.end()) {
    if (it->second != "in" && it->second != "out")
      return Error(400, "direction must be in or out, not '" + it->second + "'", "direction");
    filter.direction = it->second == "in" ? Direction::kIn : Direction::kOut;
  }
  if (auto it = q.find("status"); it != q.end()) {
    filter.status = ParseMsgStatus(it->second);
    if (!filter.status)
      return Error(400, "status must be a msg status (P Q W S D R E F, or its name), not '" + it->second + "'",
                   "status");
  }
  if (auto it = q.find("channel"); it != q.end()) {
    auto uuid = NormalizeUUID(it->second);
    if (!uuid) return Error(422, "not a channel UUID: '" + it->second + "'", "channel");
    filter.channel_uuid = *uuid;
  }
  if (auto it = q.find("urn"); it != q.end()) {
    auto urn = URN::Parse(it->second);
    if (!urn.ok()) return Error(422, urn.status().message(), "urn");
    filter.urn = urn->ToString();
  }
  auto after = ParseIntParam(q, "after_id", 0, INT64_MAX);
  if (after.error) return *after.error;
  filter.after_id = after.value;
  auto limit = ParseIntParam(q, "limit", 1, kMaxListLimit);
  if (limit.error) return *limit.error;
  filter.limit = static_cast<int>(limit.value.value_or(kDefaultListLimit));
  auto msgs = call.store->ListMsgs(filter);
  if (!msgs.ok()) {
    if (msgs.status().IsNotFound()) return Error(422, "channel not found: " + filter.channel_uuid, "channel");
    return StoreError(msgs.status());
  }
  JsonWriter w;
  w.BeginObject().Key("msgs").BeginArray();
  for (const auto& m : *msgs) w.Raw(MsgToJson(m));
  w.EndArray();
  // The cursor: ascending pages (after_id given) go on after the last id
  // while a page comes back full.
  w.Key("next_after_id");
  if (filter.after_id && static_cast<int>(msgs->size()) == filter.limit) w.Int(msgs->back().id);
  else w.Null();
  w.EndObject();
  return Json(200, w.Take());
}

HttpOut ApiService::RetryMsg(Call& call) {
  auto uuid = NormalizeUUID(call.params["uuid"]);
  if (!uuid) return Error(404, "msg not found: '" + call.params["uuid"] + "' is not a UUID");
  auto msg = call.store->GetMsgByUUID(*uuid);
  if (!msg.ok()) return StoreError(msg.status());
  if (msg->direction != Direction::kOut) return Error(409, "msg " + msg->uuid + " is incoming: nothing to retry");
  auto changed = call.store->RetryMsgs({msg->id});
  if (!changed.ok()) return StoreError(changed.status());
  if (changed->empty())
    return Error(409, "msg " + msg->uuid + " is " + MsgStatusName(msg->status) + ": only errored or failed msgs are retried");
  if (options_.wake_sender) options_.wake_sender();
  if (options_.events_committed) options_.events_committed("msg.retried");
  long_polls_.Poke();
  auto after = call.store->GetMsgByUUID(*uuid);
  if (!after.ok()) return StoreError(after.status());
  return Json(200, MsgToJson(*after));
}

// --- events --------------------------------------------------------------------

HttpOut ApiService::GetEvents(Call& call) {
  auto after = ParseIntParam(call.query, "after", 0, INT64_MAX);
  if (after.error) return *after.error;
  auto limit = ParseIntParam(call.query, "limit", 1, kMaxListLimit);
  if (limit.error) return *limit.error;
  auto wait = ParseIntParam(call.query, "wait", 0, options_.max_wait_seconds);
  if (wait.error) return *wait.error;
  const int64_t cursor = after.value.value_or(0);
  const int max = static_cast<int>(limit.value.value_or(kDefaultListLimit));
  auto oldest = call.store->OldestEventSeq();
  if (!oldest.ok()) return StoreError(oldest.status());
  // Events retention removed are named, so a consumer knows it missed them.
  const int64_t pruned_before = cursor + 1 < *oldest ? *oldest : 0;
  auto render = [cursor, pruned_before](const std::vector<Event>& events) {
    JsonWriter w;
    w.BeginObject().Key("events").BeginArray();
    for (const auto& e : events) w.Raw(e.payload);
    w.EndArray();
    w.Field("next_after", events.empty() ? cursor : events.back().seq);
    if (pruned_before > 0) w.Field("pruned_before", pruned_before);
    w.EndObject();
    return Json(200, w.Take());
  };
  auto events = call.store->EventsAfter(cursor, max);
  if (!events.ok()) return StoreError(events.status());
  if (!events->empty() || wait.value.value_or(0) == 0) return render(*events);

  // Nothing yet: the connection waits, suspended, for LongPolls to answer.
  auto respond = call.respond;
  const std::string route = call.route;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(*wait.value);
  const bool head = call.in.method == "HEAD";
  const bool parked = long_polls_.Park(cursor, max, deadline, [this, respond, route, render, head](
                                                                    Result<std::vector<Event>> found) {
    HttpOut out = found.ok() ? render(*found) : StoreError(found.status());
    if (head) out.body.clear();
    Count(route, out.status);
    respond([out = std::move(out)]() { return out; });
  });
  if (!parked) {
    HttpOut out = Error(503, "too many long polls waiting (api_max_long_polls), try again");
    out.headers["Retry-After"] = "1";
    return out;
  }
  HttpOut later;
  later.status = 0;
  return later;
}

// --- channels and contacts -----------------------------------------------------

HttpOut ApiService::ListChannels(Call& call) {
  auto channels = call.store->ListChannels();
  if (!channels.ok()) return StoreError(channels.status());
  auto array = json::NewArray();
  for (const auto& c : *channels)
    array->add(ChannelToJson(c, options_.secret_keys ? options_.secret_keys(c.type) : std::set<std::string>{}));
  auto o = json::NewObject();
  o->set("channels", array);
  return Json(200, json::Stringify(o));
}

HttpOut ApiService::GetChannel(Call& call) {
  auto uuid = NormalizeUUID(call.params["uuid"]);
  if (!uuid) return Error(404, "channel not found: '" + call.params["uuid"] + "' is not a UUID");
  auto channel = call.store->GetChannel(*uuid);
  if (!channel.ok()) return StoreError(channel.status());
  return Json(200, json::Stringify(ChannelToJson(
                       *channel, options_.secret_keys ? options_.secret_keys(channel->type) : std::set<std::string>{})));
}

HttpOut ApiService::StopContact(Call& call) { return ContactStop(call, true); }
HttpOut ApiService::UnstopContact(Call& call) { return ContactStop(call, false); }

HttpOut ApiService::ContactStop(Call& call, bool stop) {
  auto body = json::ParseObject(call.in.body);
  if (!body.ok()) {
    auto any = ParseBody(call.in.body);
    if (!any.ok()) return Error(400, any.status().message());
    return Error(400, "the body must be a JSON object: {\"urn\": \"tel:+250788383383\"}");
  }
  if ((*body)->has("urn") && !(*body)->isNull("urn") && !json::GetString(*body, "urn"))
    return Error(422, "field 'urn' must be a string", "urn");
  auto text = json::GetString(*body, "urn");
  if (!text) return Error(422, "field 'urn' required", "urn");
  auto urn = URN::Parse(*text);
  if (!urn.ok()) return Error(422, urn.status().message(), "urn");
  auto contact = call.store->SetContactStopped(urn->ToString(), stop, "");
  if (!contact.ok()) return StoreError(contact.status(), "urn");
  if (options_.events_committed) options_.events_committed(stop ? "contact.stopped" : "contact.unstopped");
  long_polls_.Poke();
  JsonWriter w;
  w.BeginObject()
      .Field("urn", urn->ToString())
      .Field("contact_uuid", contact->uuid)
      .Field("stopped", contact->stopped)
      .EndObject();
  return Json(200, w.Take());
}

}  // namespace courier
