#pragma once
// ApiService: courier-api's HTTP service, the applications' API
// (courier-api(8); the routes are doc/openapi.json's, and a test holds the
// two to each other).
//
// Every route is a row of Routes(): method, path pattern ("{name}" matches
// one segment), the scope a token needs, and the member that serves it.
// A request goes through, in order:
//   1. on the server's event-loop thread, without the store: the route
//      (404, or 405 with Allow), the server's limits (413 body, 414 URI,
//      431 headers, 400 malformed), the content type of a body (415 but
//      application/json);
//   2. on one of `workers` threads, each with its own store connection:
//      the bearer token (401 without a valid one, 403 when its scopes
//      lack the route's), then the route's member, which answers JSON.
//      A POST /api/v1/msgs of one msg whose token and channel are cached
//      (ApiServiceOptions::cache_ttl) skips the worker: it is checked on
//      the loop thread and handed to the writer from there.
// Errors are {"error": "...", "field": "..."} (field only when one member
// of the request is at fault). A store that cannot be reached or is locked
// answers 503 with Retry-After, never a crash; nothing is written for a
// refused request, and a POST /api/v1/msgs is all or nothing (an array
// too; with an Idempotency-Key, the key's row is in the same transaction),
// answered after its commit: requests that come in together are committed
// together (queue_writer.h).
// An unknown channel in a msg is 422 (the request's URL exists; a member
// of its body is wrong); an unknown channel or msg in the URL is 404.
//
// Failed authentications are logged at warn without the token (the log's
// RepeatLimiter keeps a flood to a few lines), with the remote address.
//
// Thread-safety: Handle from any number of server threads; Stop once.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "api/long_polls.h"
#include "api/queue_writer.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/work_queue.h"
#include "http/http_server.h"
#include "metrics/metrics.h"
#include "store/store.h"

namespace courier {

struct ApiServiceOptions {
  std::string media_dir = "var/media";  // served at GET /media/<sha256>
  long max_body_bytes = 1 << 20;  // the server's limit too (its 413)
  int workers = 4;
  // Requests accepted but not yet served beyond which new ones get 503:
  // a store slower than the clients must not grow the queue without end.
  int max_queued = 4096;
  int max_wait_seconds = 60;  // the most a GET /api/v1/events may wait
  // Tokens and channels read from the store are reused for this long, so
  // that a request costs no store read for either. A token removed
  // (`courier-ctl token rm`) is refused at the latest this long after; a
  // channel's changed config is seen as late; a removed channel is
  // refused at once all the same (the write checks it). 0: no reuse.
  Micros cache_ttl = 2 * kMicrosPerSecond;
  // After a msg is queued or retried: wake courier-send (send-wake).
  std::function<void()> wake_sender;
  // After each commit that made events of `topic` (msgs queued or
  // retried, a contact stopped or unstopped): publish on api-events
  // (api_events.h), so courier-hook and followers read them at once.
  std::function<void(const std::string& topic)> events_committed;
  // The config keys a channel type declares secret (channel_types.h),
  // redacted from channels' config beside IsSecretConfigKey's.
  std::function<std::set<std::string>(const std::string& type)> secret_keys;
  // What GET /metrics reads besides the store (spool, control sockets).
  MetricsSources metrics;
};

class ApiService : public HttpService {
 public:
  // A request being served: what its member reads and how it answers.
  struct Call {
    HttpIn in;
    std::string path;
    std::map<std::string, std::string> query;   // decoded; the last of a repeated name
    std::map<std::string, std::string> params;  // from the pattern's {name}s
    std::string route;                          // "GET /api/v1/msgs/{uuid}", for the counters
    ApiToken token;
    Store* store = nullptr;  // null when served on the loop (ServeOnLoop)
    bool needs_store = false;  // set by a member that ran without a store and needs one
    HttpRespond respond;
  };
  using Member = HttpOut (ApiService::*)(Call&);

  // A route. scope: kApiScopeSend/Read/Admin, or "" for a route anyone may
  // call (GET /, a health check: 200 while the process serves), whose
  // Call::store is null when the store cannot be reached. A member that
  // answers later (a long poll) returns status 0 and calls Call::respond
  // itself.
  struct Route {
    const char* method;
    const char* pattern;
    const char* scope;
    Member member;
  };
  // The table.
  static const std::vector<Route>& Routes();

  ApiService(StoreOpener opener, LongPolls& long_polls, ApiServiceOptions options);
  ~ApiService() override;

  void Handle(const HttpIn& request, HttpRespond respond) override;

  // Serves what was accepted and stops the workers (call after the
  // server stopped taking requests).
  void Stop();

  // Requests by route and status code, for the control socket:
  // {"GET /api/v1/msgs": {"200": 12, "401": 1}, ...}; unmatched paths
  // count under "other".
  json::ObjectPtr Counts() const;

  // Members (the table's rows).
  HttpOut Index(Call& call);
  HttpOut GetMedia(Call& call);
  HttpOut PostMsgs(Call& call);
  HttpOut GetMsg(Call& call);
  HttpOut ListMsgs(Call& call);
  HttpOut RetryMsg(Call& call);
  HttpOut GetEvents(Call& call);
  HttpOut ListChannels(Call& call);
  HttpOut GetChannel(Call& call);
  HttpOut StopContact(Call& call);
  HttpOut UnstopContact(Call& call);
  HttpOut Metrics(Call& call);

 private:
  // Store connections for the workers: one each at most, reopened after
  // an error that may have broken it.
  class StorePool;

  void Serve(const Route& route, std::shared_ptr<Call> call);
  bool ServeOnLoop(Call& call);
  // The token or channel from the cache while fresh, else from the store
  // (then cached); NotFound without a store when not cached. Only what was
  // found is cached: a new token works at once.
  Result<ApiToken> FindToken(Store* store, const std::string& hash);
  Result<Channel> FindChannel(Store* store, const std::string& uuid);
  void Count(const std::string& route, int status);
  HttpOut ContactStop(Call& call, bool stop);

  StoreOpener opener_;
  LongPolls& long_polls_;
  ApiServiceOptions options_;
  std::unique_ptr<StorePool> stores_;
  std::atomic<int> queued_{0};
  mutable std::mutex counts_mu_;
  std::map<std::string, std::map<int, int64_t>> counts_;
  template <typename T>
  struct Cached {
    T value;
    Micros until = 0;
  };
  std::mutex cache_mu_;
  std::unordered_map<std::string, Cached<ApiToken>> tokens_;  // by the token's hash
  std::unordered_map<std::string, Cached<Channel>> channels_;  // by uuid
  std::mutex touch_mu_;
  std::map<int64_t, Micros> touched_;  // token id -> when its last_used_on was written
  std::unique_ptr<QueueWriter> writer_;  // before workers_, which submit to it
  std::unique_ptr<WorkQueue> workers_;
};

// Matches `path` against a route pattern; fills `params` on a match.
bool MatchApiPattern(const std::string& pattern, const std::string& path, std::map<std::string, std::string>& params);

}  // namespace courier
