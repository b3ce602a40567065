#pragma once
// Receiver: courier-recv's request handling. It routes
// /c/{type}/{uuid}/{action}[/] to the channel type's handler, writes what
// the handler yields through the IntakeWriter, and answers with the JSON
// envelope of DESIGN.md (or the handler's own body: TwiML, plain text).
// /c/{type}/{action}[/] (no uuid) serves the app-level webhooks of types
// that have them (ChannelHandler::AppLevel, Meta's): each share of the
// webhook goes to the channel its routing key names, is written as that
// channel's intake, and gets its own data items in the one answer (see
// ReceiveApp). GET / lists version and routes; GET /status reports
// health: 503 with the reasons in "problems" when the store cannot be
// read, the spool backlog is over its limit, a write was refused by both
// store and spool in the last kWriteFailureWindow with none made durable
// since, or the store's or the spool's file system is short of space.
//
// Answers: unknown route 404, wrong method 405, body over the limit 413,
// URI over the limit 414, headers over the limit 431, malformed uuid /
// unknown channel / wrong type / bad request 400, failed signature 401, store and spool both unavailable or a handler's passing
// failure (a media lookup) 503 (the provider retries). Every 2xx is
// durable before it is written (IntakeWriter), for every channel an
// app-level webhook touched. Each of those refusals (4xx) is counted by
// reason and logged with its path and remote address, rate-limited (see
// RefusalLog).
//
// Thread-safety: Handle() is called concurrently by the HTTP server's
// event-loop threads and never blocks on the store: the answer follows
// the group commit (IntakeWriter::WriteAsync). Handlers that make HTTP
// requests of their own run on a WorkQueue instead.
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "handlers/registry.h"
#include "http/http_server.h"
#include "core/work_queue.h"
#include "recv/channel_cache.h"
#include "intake/intake_writer.h"
#include "recv/refusal_log.h"

namespace courier {

struct ReceiverOptions {
  std::string base_url;          // what providers call, for signatures and logs
  std::string spool_dir;
  int spool_backlog_limit = 10000;
  RefusalLog::Options refusal_log;
  // Write health (GET /status): the store file ("" when it has none), the
  // free space its file system must keep, and the spool's reserve; free
  // space is read through `env` (tests fake a full disk).
  std::string store_path;
  int health_min_free_mb = 64;
  int spool_reserve_mb = 64;
  // Each intake's window for content duplicates (Intake::duplicate_window).
  Micros duplicate_window = 0;
  Env* env = &Env::Default();
};

// How long a refused write makes GET /status unhealthy when nothing was
// written since: long enough for a load balancer's checks to see it, short
// enough that it sends traffic again soon after the disk has room.
inline constexpr Micros kWriteFailureWindow = 30 * kMicrosPerSecond;

struct ReceiverCounters {
  std::atomic<int64_t> accepted{0};     // msgs/statuses/events written or spooled
  std::atomic<int64_t> ignored{0};
  std::atomic<int64_t> errors{0};       // 400
  std::atomic<int64_t> unauthorized{0}; // 401
  std::atomic<int64_t> not_found{0};    // 404/405
  std::atomic<int64_t> too_large{0};    // 413/414/431
  std::atomic<int64_t> unavailable{0};  // 503
  std::atomic<int64_t> spooled{0};      // requests answered from the spool
  // Every webhook answered 4xx or 5xx, by the code it got (index: code -
  // 400), whichever path refused it: the same count the provider sees.
  // GET / and GET /status are not webhooks and are not counted.
  static constexpr int kFirstRejectedCode = 400;
  std::array<std::atomic<int64_t>, 200> rejected_by_code{};
  void CountAnswer(int code) {
    if (code >= kFirstRejectedCode && code < kFirstRejectedCode + static_cast<int>(rejected_by_code.size()))
      rejected_by_code[static_cast<size_t>(code - kFirstRejectedCode)].fetch_add(1, std::memory_order_relaxed);
  }
};

class Receiver : public HttpService {
 public:
  Receiver(const HandlerRegistry& handlers, ChannelCache& channels, IntakeWriter& writer, HttpClient& http,
           Clock& clock, ReceiverOptions options);

  void Handle(const HttpIn& request, HttpRespond respond) override;

  const ReceiverCounters& counters() const { return counters_; }
  const RefusalLog& refusals() const { return refusals_; }

 private:
  // What a webhook's answer needs once its intake is written.
  struct PendingAnswer {
    WebhookResult result;
    HttpOut planned;  // the answer if nothing changes at the commit
    std::string channel_uuid;
    std::string uri, remote;  // for the refusal log
  };
  HttpOut Finish(PendingAnswer& pending, const IntakeWrite& written);
  struct LogBase;
  struct AppShare;
  struct AppPending;

  // Counts and logs a refused request and answers it with `out`.
  void Refuse(const HttpIn& in, const HttpRespond& respond, RefusalReason reason, HttpOut out,
              const std::string& error, const std::string& channel_uuid = "");
  // Counts and logs a refusal whose answer is built elsewhere.
  void NoteRefusal(const std::string& uri, const std::string& remote, RefusalReason reason, int status,
                   const std::string& error, const std::string& channel_uuid = "");

  HttpOut Index() const;
  HttpOut Health();
  void ChannelRequest(const HttpIn& in, const std::string& type, const std::string& uuid,
                      const std::string& action, const HttpRespond& respond);
  // The handler's part and the write, once the route and channel are known.
  void Receive(const HttpIn& in, const ChannelHandler& handler, const Route& route, const Channel& channel,
               std::chrono::steady_clock::time_point started, const HttpRespond& respond);
  void AppRequest(const HttpIn& in, const std::string& type, const std::string& action, const HttpRespond& respond);
  void ReceiveApp(const HttpIn& in, const ChannelHandler& handler, const Route& route,
                  std::chrono::steady_clock::time_point started, const HttpRespond& respond);
  // The one answer for every share, once each awaited intake is written.
  HttpOut FinishApp(AppPending& pending);
  // A successful result on `channel` made ready to write: msgs stamped
  // (uuid, channel), the channel's answer planned into `planned`, and the
  // intake with the logs. Takes result.extra_logs.
  Intake Accept(WebhookResult& result, const Channel& channel, const LogBase& logs, HttpOut& planned);
  // Writes logs of a request that yielded no data, without waiting.
  void WriteLogsOnly(const std::string& channel_uuid, std::vector<ChannelLog> logs, ChannelLog log);

  const HandlerRegistry& handlers_;
  // Each handler's routes, read once: Routes() builds a new vector.
  std::map<const ChannelHandler*, std::vector<Route>> routes_;
  std::map<const ChannelHandler*, std::vector<Route>> app_routes_;  // of types with app-level webhooks
  ChannelCache& channels_;
  IntakeWriter& writer_;
  HttpClient& http_;
  Clock& clock_;
  ReceiverOptions options_;
  ReceiverCounters counters_;
  RefusalLog refusals_;
  WorkQueue calling_out_{16};
};

// {"message": M, "data": [{"type":"error","error": E}]}
std::string ErrorEnvelope(const std::string& message, const std::string& error);

}  // namespace courier
