#include "send/sender.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <random>
#include <system_error>

#include "core/log.h"
#include "daemon/store_outage.h"
#include "handlers/handler.h"
#include "model/media_reference.h"

namespace courier {
namespace {

constexpr Micros kChannelRefresh = 10 * kMicrosPerSecond;
// The heartbeat, and the look for dead senders that goes with it: a dead
// sender on another host is found within heartbeat_timeout + this.
constexpr Micros kHeartbeatInterval = 5 * kMicrosPerSecond;

// "host:pid" of a worker on this host whose process is gone.
// Whether `worker` ("host:pid") runs on this sender's host.
bool OnThisHost(const std::string& worker, const std::string& self) {
  auto colon = worker.rfind(':');
  return colon != std::string::npos && worker.substr(0, colon) == self.substr(0, self.rfind(':'));
}

bool IsDeadLocalWorker(const std::string& worker, const std::string& self) {
  auto colon = worker.rfind(':');
  if (colon == std::string::npos || worker == self) return false;
  if (!OnThisHost(worker, self)) return false;
  char* end = nullptr;
  long pid = std::strtol(worker.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// The sender's client as one send sees it: remembers whether the outbound
// policy refused any of the send's requests (the send itself, a token
// fetch, a media download), so the send fails for that reason.
class PolicyWatchingClient : public HttpClient {
 public:
  explicit PolicyWatchingClient(HttpClient& inner) : inner_(inner) {}
  HttpExchange Do(const HttpRequestSpec& request) override {
    HttpExchange ex = inner_.Do(request);
    if (ex.refused && refusal_.empty()) refusal_ = ex.error;
    return ex;
  }
  void Abort() override { inner_.Abort(); }
  const std::string& refusal() const { return refusal_; }

 private:
  HttpClient& inner_;
  std::string refusal_;
};

}  // namespace

Micros RetryDelay(int retry_backoff_s, int error_count, uint32_t random) {
  int shift = std::min(std::max(error_count - 1, 0), 16);
  double seconds = static_cast<double>(retry_backoff_s) * static_cast<double>(1 << shift);
  double jitter = ((random % 2001) / 1000.0 - 1.0) * 0.1;  // -10% .. +10%
  return static_cast<Micros>(seconds * (1.0 + jitter) * kMicrosPerSecond);
}

Sender::Sender(StoreOpener open, const HandlerRegistry& handlers, IntakeWriter& writer, HttpClient& http, Clock& clock,
               SenderOptions options)
    : open_(std::move(open)), handlers_(handlers), writer_(writer), http_(http), clock_(clock), options_(std::move(options)) {}

Sender::~Sender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  JoinWorkers(true);
}

void Sender::StartWorkerIfNeeded() {
  if (stopping_ || idle_workers_ >= static_cast<int>(work_.size())) return;
  if (live_workers_ >= options_.max_workers) return;
  workers_.emplace_back();
  Worker* worker = &workers_.back();
  try {
    worker->thread = std::thread([this, worker] { Work(worker); });
    live_workers_++;
  } catch (const std::system_error& e) {
    // The msg waits for a thread that exists, or is released at the stop.
    workers_.pop_back();
    Log::Error("cannot start a sender thread", {{"error", e.what()}, {"threads", std::to_string(workers_.size())}});
  }
}

void Sender::JoinWorkers(bool all) {
  // A thread that has not exited still writes its Worker (`exited`) on
  // its way out: its node is erased only after the join.
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->exited) {
        done.push_back(std::move(it->thread));
        it = workers_.erase(it);
      } else {
        if (all) done.push_back(std::move(it->thread));
        ++it;
      }
    }
  }
  for (auto& t : done)
    if (t.joinable()) t.join();
  if (all) {
    std::lock_guard<std::mutex> lock(mu_);
    workers_.clear();
  }
}

SenderSnapshot Sender::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  SenderSnapshot s = counters_;
  s.threads = live_workers_;
  for (const auto& [id, state] : channels_)
    if (state.in_flight) s.in_flight[state.channel.uuid] = state.in_flight;
  return s;
}

Status Sender::RefreshChannels(Store& store) {
  auto channels = store.ListChannels();
  if (!channels.ok()) return channels.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : *channels) channels_[c.id].channel = c;
  channels_loaded_ = clock_.Now();
  return Status::OK();
}

std::map<int64_t, int> Sender::ChannelCaps(Micros now, bool* tps_limited) {
  std::map<int64_t, int> caps;
  const Micros second = now / kMicrosPerSecond;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, state] : channels_) {
    // Types this sender does not handle (exclude_channels) stay queued for
    // a sender that does.
    if (handlers_.Find(state.channel.type) == nullptr) {
      caps[id] = 0;
      continue;
    }
    if (state.paused_until > now) {
      caps[id] = 0;
      continue;
    }
    if (state.channel.tps > 0) {
      if (state.second != second) {
        state.second = second;
        state.sent_in_second = 0;
      }
      int left = state.channel.tps - state.sent_in_second;
      caps[id] = std::max(left, 0);
      if (left <= 0) *tps_limited = true;
    }
  }
  return caps;
}

Status Sender::Run(StopToken& stop, WakeReceiver& wake) {
  // Outages are short and sends wait: the foreman tries again every
  // second rather than backing off.
  StoreConnection connection(open_, StoreOutage(options_.db, std::chrono::seconds(1), std::chrono::seconds(1)));
  bool recovered = false;
  Micros last_recovery = 0;
  // When this sender last regained the store after an outage: others'
  // heartbeats missed during it are not held against them.
  Micros judging_since = 0;
  // Each claim's `now` is its own (the claimed_on of what it takes), and
  // the first one whose answer was lost starts the claims in doubt
  // (ClaimRequest::in_doubt_since) until a claim is answered again.
  Micros last_claim_on = 0;
  Micros in_doubt_since = 0;

  while (!stop.stop_requested()) {
    Store* store = connection.Get(stop);
    if (store == nullptr) continue;
    // Before the first claim, and every few seconds after: the heartbeat
    // (so senders on other hosts know this one lives), then attempts a
    // dead sender left open, which are not resent; an operator decides
    // (courier-ctl retry / fail).
    Micros now = clock_.Now();
    if (!recovered || now - last_recovery >= kHeartbeatInterval || connection.outage_ongoing()) {
      Status r = store->Heartbeat(options_.worker, now);
      if (r.ok() && connection.outage_ongoing()) judging_since = now;
      if (r.ok()) r = RecoverDeadWorkers(*store, judging_since);
      if (!r.ok()) {
        connection.Failed(r, stop);
        continue;
      }
      recovered = true;
      last_recovery = now;
      connection.Worked();
    }

    if (now - channels_loaded_ > kChannelRefresh) (void)RefreshChannels(*store);
    JoinWorkers(false);
    int free = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      free = options_.max_workers - busy_;
    }
    bool tps_limited = false;
    bool full = false;
    if (free > 0) {
      ClaimRequest req;
      req.worker = options_.worker;
      req.now = std::max(now, last_claim_on + 1);
      last_claim_on = req.now;
      req.in_doubt_since = in_doubt_since;
      req.limit = free;
      req.channel_caps = ChannelCaps(now, &tps_limited);
      req.default_max_workers = options_.max_workers;
      for (const auto& h : handlers_.handlers())
        if (h->SendsToUrnAuth()) req.urn_auth_types.insert(h->Code());
      // Through the writer: the claim shares a commit with the statuses
      // of the sends that just finished.
      auto claimed = writer_.Claim(req);
      if (!claimed.ok()) {
        // A failed COMMIT, or a failed sync after one, may still have
        // claimed msgs in this sender's name: the next claim takes them.
        if (in_doubt_since == 0) in_doubt_since = req.now;
        connection.Failed(claimed.status(), stop);
        continue;
      }
      in_doubt_since = 0;
      connection.Worked();
      if (stop.stop_requested()) {
        // Stopped while claiming: nothing new is started after a stop.
        Release(*claimed);
        break;
      }
      for (auto& msg : *claimed) HandOut(*store, std::move(msg));
      full = static_cast<int>(claimed->size()) == free;
    }
    if (full) continue;  // there may be more waiting right now
    if (free <= 0) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return busy_ < options_.max_workers; });
      continue;
    }
    // Idle: a wake (courier-ctl send) or the one-second poll, whichever
    // comes first; a TPS-capped channel is looked at again next second.
    const auto idle = tps_limited ? std::chrono::milliseconds(1000 - (clock_.Now() / 1000) % 1000)
                                  : std::chrono::milliseconds(1000);
    WaitForWork(wake, stop, idle);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  {
    // Sends in progress may finish within the grace; after it their
    // requests are aborted, so a tarpit cannot hold the stop until the
    // supervisor's kill (which would leave the attempts open).
    std::mutex joined_mu;
    std::condition_variable joined_cv;
    bool joined = false;
    std::thread aborter([&] {
      std::unique_lock<std::mutex> lock(joined_mu);
      if (joined_cv.wait_for(lock, std::chrono::seconds(options_.send_grace_s), [&] { return joined; })) return;
      Log::Warn("sends still in progress after the grace: aborting their requests",
                {{"grace_s", std::to_string(options_.send_grace_s)}});
      http_.Abort();
    });
    JoinWorkers(true);
    {
      std::lock_guard<std::mutex> lock(joined_mu);
      joined = true;
    }
    joined_cv.notify_all();
    aborter.join();
  }
  // Handed out but not picked up by a sender thread before the stop.
  std::vector<Msg> unstarted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    unstarted.assign(std::make_move_iterator(work_.begin()), std::make_move_iterator(work_.end()));
    work_.clear();
  }
  Release(unstarted);
  // Stopped cleanly, attempts closed: no one need wait for this sender's
  // heartbeat to expire. (If the store is down the row stays; a live
  // sender removes it once it has expired.)
  if (auto store = open_(); store.ok()) (void)(*store)->EndHeartbeat(options_.worker);
  return Status::OK();
}

void Sender::HandOut(Store& store, Msg msg) {
  bool known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    known = channels_.count(msg.channel_id) > 0;
  }
  if (!known) (void)RefreshChannels(store);
  // A stopped contact is not sent to: F, and no request is made (the
  // claim read the contact's opt-out in its own transaction).
  if (msg.contact_stopped) {
    FailUnsent(msg, "contact stopped");
    Log::Info("not sent: contact stopped", {{"msg_id", std::to_string(msg.id)}, {"urn", msg.urn}});
    return;
  }
  // Files of courier's media store get the URL providers fetch them from;
  // a msg whose file cannot be given one fails before any request.
  auto attachments = ResolveLocalMedia(msg.attachments, options_.media,
                                       [&store](const std::string& sha) { return store.GetMedia(sha); });
  if (!attachments.ok()) {
    const Status& why = attachments.status();
    if (!why.IsInvalidArgument() && !why.IsNotFound()) {
      Log::Warn("media lookup failed, msg put back", {{"msg_id", std::to_string(msg.id)}, {"error", why.ToString()}});
      Release({msg});
      return;
    }
    FailUnsent(msg, why.message());
    Log::Info("not sent: attachment", {{"msg_id", std::to_string(msg.id)}, {"error", why.message()}});
    return;
  }
  msg.attachments = std::move(*attachments);
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_++;
    auto& state = channels_[msg.channel_id];
    state.in_flight++;
    state.sent_in_second++;
    work_.push_back(std::move(msg));
    StartWorkerIfNeeded();
  }
  work_cv_.notify_one();
}

void Sender::FailUnsent(const Msg& msg, const std::string& reason) {
  StatusUpdate u;
  u.channel_uuid = msg.channel_uuid;
  u.msg_id = msg.id;
  u.status = MsgStatus::kFailed;
  u.error_reason = reason;
  Intake intake;
  intake.channel_uuid = msg.channel_uuid;
  intake.statuses.push_back(std::move(u));
  (void)writer_.Write(std::move(intake));
  std::lock_guard<std::mutex> lock(mu_);
  counters_.failed++;
  counters_.by_channel[msg.channel_uuid].failed++;
}

Status Sender::RecoverDeadWorkers(Store& store, Micros judging_since) {
  auto open = store.OpenAttemptWorkers();
  if (!open.ok()) return open.status();
  auto beats = store.Heartbeats();
  if (!beats.ok()) return beats.status();
  const Micros now = clock_.Now();
  const Micros timeout = static_cast<Micros>(options_.heartbeat_timeout_s) * kMicrosPerSecond;
  const auto beat_of = [&](const std::string& worker) -> Micros {
    auto beat = beats->find(worker);
    return beat == beats->end() ? 0 : beat->second;
  };
  // A sender's last sign of life is its heartbeat, or the start of its
  // newest open attempt (it claims only after it has beaten, so a sender
  // with attempts and no row lost the row to a stale judgement). Silence
  // from before this sender could see the store is not held against
  // anyone: through a store outage no sender could beat.
  const auto silent = [&](const std::string& worker, Micros newest_attempt) {
    return now - std::max({beat_of(worker), newest_attempt, judging_since}) > timeout;
  };
  const auto fail = [&](const std::string& worker) -> Status {
    auto interrupted = store.FailInterruptedAttempts(worker, beat_of(worker));
    if (!interrupted.ok()) return interrupted.status();
    if (interrupted->empty()) return Status::OK();
    Log::Warn("interrupted sends marked errored, not resent",
              {{"worker", worker}, {"count", std::to_string(interrupted->size())}});
    std::lock_guard<std::mutex> lock(mu_);
    counters_.interrupted += static_cast<int64_t>(interrupted->size());
    return Status::OK();
  };
  // On this host the pid says it; on another, the silence.
  const auto dead = [&](const std::string& worker, Micros newest_attempt) {
    return OnThisHost(worker, options_.worker) ? IsDeadLocalWorker(worker, options_.worker)
                                               : silent(worker, newest_attempt);
  };
  for (const auto& [worker, newest_attempt] : *open) {
    if (worker == options_.worker || !dead(worker, newest_attempt)) continue;
    if (Status s = fail(worker); !s.ok()) return s;
  }
  // Senders that died with nothing in flight leave only a heartbeat.
  for (const auto& [worker, beat_on] : *beats) {
    if (worker == options_.worker || open->count(worker) > 0 || !dead(worker, 0)) continue;
    if (Status s = fail(worker); !s.ok()) return s;
  }
  return Status::OK();
}

void Sender::Release(const std::vector<Msg>& msgs) {
  if (msgs.empty()) return;
  // Claimed but never handed to a provider: back to the queue, no error.
  Intake intake;
  for (const auto& msg : msgs) {
    StatusUpdate u;
    u.channel_uuid = msg.channel_uuid;
    u.msg_id = msg.id;
    u.status = MsgStatus::kQueued;
    u.next_attempt_on = clock_.Now();
    intake.channel_uuid = msg.channel_uuid;
    intake.statuses.push_back(std::move(u));
  }
  auto w = writer_.Write(std::move(intake));
  Log::Info("released unstarted msgs", {{"count", std::to_string(msgs.size())},
                                        {"written", w.kind == IntakeWrite::kFailed ? "no" : "yes"}});
}

void Sender::Work(Worker* self) {
  while (true) {
    Msg msg;
    {
      std::unique_lock<std::mutex> lock(mu_);
      idle_workers_++;
      const bool woken = work_cv_.wait_for(lock, std::chrono::seconds(options_.worker_idle_s),
                                           [this] { return stopping_ || !work_.empty(); });
      idle_workers_--;
      if (stopping_ || !woken) {
        self->exited = true;
        live_workers_--;
        return;
      }
      msg = std::move(work_.front());
      work_.pop_front();
    }
    try {
      SendOne(msg);
    } catch (const std::exception& e) {
      Log::Error("send failed unexpectedly", {{"msg_id", std::to_string(msg.id)}, {"error", e.what()}});
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_--;
      auto it = channels_.find(msg.channel_id);
      if (it != channels_.end() && it->second.in_flight > 0) it->second.in_flight--;
    }
    done_cv_.notify_all();
  }
}

void Sender::SendOne(const Msg& msg) {
  Channel channel;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(msg.channel_id);
    if (it != channels_.end()) channel = it->second.channel;
  }
  const Micros started = clock_.Now();
  SendResult result;
  const ChannelHandler* handler = channel.id ? handlers_.Find(channel.type) : nullptr;
  // A delivery report may send a msg back for a retry (E with a next
  // attempt, its error counted: Twilio's transient error codes); those
  // retries end at max_retries like the sender's own, without sending.
  const bool exhausted = msg.error_count > 0 && msg.error_count >= options_.max_retries;
  if (exhausted) {
    std::string error = msg.error_reason + " (gave up after " + std::to_string(msg.error_count) + " attempts)";
    result = SendResult::Failed(error, {ErrorLog(channel, msg, error, started)});
  } else if (handler == nullptr) {
    std::string error = channel.id ? "no handler for channel type " + channel.type : "channel not found";
    result = SendResult::Failed(error, {ErrorLog(channel, msg, error, started)});
  } else {
    PolicyWatchingClient http(http_);
    try {
      HandlerContext ctx{http, clock_, options_.base_url};
      result = handler->Send(channel, msg, ctx);
    } catch (const std::exception& e) {
      result = SendResult::Errored(std::string("handler error: ") + e.what(),
                                   {ErrorLog(channel, msg, e.what(), clock_.Now())});
    }
    if (!http.refusal().empty() && (result.status == MsgStatus::kErrored || result.status == MsgStatus::kFailed)) {
      // Permanent until the channel's URL or outbound_allow changes; the
      // handler's logs already carry the refused request.
      result = SendResult::Failed(http.refusal(), std::move(result.logs));
    }
  }

  const Micros now = clock_.Now();
  StatusUpdate u;
  u.channel_uuid = msg.channel_uuid;
  u.msg_id = msg.id;
  u.new_external_id = result.external_id;
  u.logs = std::move(result.logs);
  const char* outcome = "sent";
  if (result.throttled_for_seconds) {
    // The provider asked us to slow down: back to the queue without
    // counting an error, and the channel pauses as long as asked.
    int wait = std::max(*result.throttled_for_seconds, 1);
    u.status = MsgStatus::kQueued;
    u.next_attempt_on = now + static_cast<Micros>(wait) * kMicrosPerSecond;
    outcome = "throttled";
    std::lock_guard<std::mutex> lock(mu_);
    channels_[msg.channel_id].paused_until = *u.next_attempt_on;
    counters_.throttled++;
    counters_.by_channel[msg.channel_uuid].throttled++;
  } else if (result.status == MsgStatus::kErrored) {
    const int errors = msg.error_count + 1;
    u.count_error = true;
    u.error_reason = result.error;
    if (errors >= options_.max_retries) {
      u.status = MsgStatus::kFailed;
      u.error_reason = result.error + " (gave up after " + std::to_string(errors) + " attempts)";
      outcome = "failed";
    } else {
      u.status = MsgStatus::kErrored;
      static thread_local std::mt19937 rng(std::random_device{}());
      u.next_attempt_on = now + RetryDelay(options_.retry_backoff_s, errors, rng());
      outcome = "errored";
    }
  } else if (result.status == MsgStatus::kFailed) {
    u.status = MsgStatus::kFailed;
    u.count_error = !exhausted;  // no attempt was made
    u.error_reason = result.error;
    outcome = "failed";
  } else {
    u.status = result.status;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    SendOutcomes& channel_counts = counters_.by_channel[msg.channel_uuid];
    if (u.status == MsgStatus::kFailed) {
      counters_.failed++;
      channel_counts.failed++;
    } else if (u.status == MsgStatus::kErrored) {
      counters_.errored++;
      channel_counts.errored++;
    } else if (u.status != MsgStatus::kQueued) {
      counters_.sent++;
      channel_counts.sent++;
    }
  }

  Intake intake;
  intake.channel_uuid = msg.channel_uuid;
  intake.statuses.push_back(std::move(u));
  if (result.stop_contact) intake.stop_urns.push_back(msg.urn);
  // Not waiting for the commit frees this sender for the next msg at once:
  // the writer, not the senders' count, then bounds the rate. At most once
  // still holds: the msg's attempt stays open until the status commits, so
  // a crash before that reports it interrupted instead of sending again;
  // and the claim, which counts claimed msgs in the store, never gives a
  // channel more than max_workers msgs whose outcome is not yet written.
  const int64_t msg_id = msg.id;
  writer_.WriteAsync(std::move(intake), [msg_id](const IntakeWrite& written) {
    if (written.kind == IntakeWrite::kFailed) {
      // The attempt stays open: the next start reports it as interrupted.
      Log::Error("status not written", {{"msg_id", std::to_string(msg_id)}, {"error", written.error.message()}});
    }
  });
  Log::Info("msg " + std::string(outcome),
            {{"msg_id", std::to_string(msg.id)}, {"channel", msg.channel_uuid}, {"status", MsgStatusString(result.status)},
             {"elapsed_ms", std::to_string((now - started) / 1000)}, {"error", result.error}});
}

}  // namespace courier
