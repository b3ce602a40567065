// The sender's decisions, on a fake store (tests/support/fake_store.h) and
// a scripted HTTP client behind the real EX handler: what status a send
// result becomes (retry with backoff, give up at max_retries, throttle,
// permanent failure), that a stopped contact costs no request, what a
// stop releases, and how an outage and dead senders are handled.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "count_occurrences.h"
#include "fake_http_client.h"
#include "fake_store.h"
#include "core/log.h"
#include "handlers/registry.h"
#include "send/sender.h"

using namespace courier;
using courier::testing::CountOccurrences;
using courier::testing::FakeHttpClient;
using courier::testing::FakeStoreState;

namespace {

constexpr Micros kNow = 1'700'000'000LL * kMicrosPerSecond;
constexpr int64_t kChannelId = 7;
constexpr const char* kChannelUUID = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
constexpr int kMaxRetries = 3;
constexpr int kBackoffSeconds = 60;

// One sender's world: a fake store holding one EX channel, a scripted
// provider, and a real IntakeWriter (spooling to a temporary directory)
// between the sender and the store.
class SenderWorld {
 public:
  SenderWorld() {
    char tmpl[] = "/tmp/courier-sender-XXXXXX";
    root_ = mkdtemp(tmpl);
    EXPECT_TRUE(SpoolDir(root_ + "/spool").Ensure().ok());
    Channel channel;
    channel.id = kChannelId;
    channel.uuid = kChannelUUID;
    channel.type = "EX";
    channel.address = "1234";
    channel.config[config_keys::kSendUrl] = "http://provider.test/send";
    store.AddChannel(channel);
    // No backoff in the writer: the clock stands still, and a writer that
    // waited "two seconds" after an outage would wait for ever.
    writer_ = std::make_unique<IntakeWriter>(store.Opener(), SpoolDir(root_ + "/spool"), clock_,
                                             [](const std::vector<Event>&) {}, [] {}, 512, 0);
    writer_->Start();
  }
  ~SenderWorld() {
    writer_->Stop();
    std::filesystem::remove_all(root_);
  }

  static SenderOptions Options() {
    SenderOptions o;
    o.worker = "testhost:" + std::to_string(::getpid());
    o.max_workers = 4;
    o.max_retries = kMaxRetries;
    o.retry_backoff_s = kBackoffSeconds;
    o.db = "fake";
    return o;
  }

  static Msg Queued(int64_t id, int error_count = 0, bool contact_stopped = false) {
    Msg m;
    m.id = id;
    m.uuid = "00000000-0000-4000-8000-" + std::to_string(100000000000 + id);
    m.channel_id = kChannelId;
    m.channel_uuid = kChannelUUID;
    m.channel_type = "EX";
    m.urn = "tel:+250788383383";
    m.text = "hello";
    m.error_count = error_count;
    m.error_reason = error_count ? "an earlier error" : "";
    m.contact_stopped = contact_stopped;
    return m;
  }

  // Runs a sender until `done` holds (or 10 s pass), then stops it and
  // returns its counters once Run has returned.
  SenderSnapshot RunUntil(const std::function<bool()>& done, const SenderOptions& options = Options()) {
    return RunUntilSender([&](const Sender&) { return done(); }, options);
  }
  // As RunUntil, `done` seeing the running sender.
  SenderSnapshot RunUntilSender(const std::function<bool(const Sender&)>& done,
                                const SenderOptions& options = Options()) {
    Sender sender(store.Opener(), handlers_, *writer_, http, clock_, options);
    WakeReceiver wake;  // unbound: the sender polls
    std::thread run([&] { EXPECT_TRUE(sender.Run(stop, wake).ok()); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done(sender) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop.RequestStop();
    run.join();
    return sender.Snapshot();
  }

  FakeStoreState store;
  FakeHttpClient http;
  StopToken stop;
  ManualClock& clock() { return clock_; }

 private:
  std::string root_;
  ManualClock clock_{kNow};
  HandlerRegistry handlers_ = HandlerRegistry::Build({"EX"});
  std::unique_ptr<IntakeWriter> writer_;
};

// What one claimed msg becomes.
struct DecisionCase {
  std::string label;
  int error_count = 0;  // of the msg when claimed
  bool contact_stopped = false;
  int provider_status = 200;
  std::map<std::string, std::string> provider_headers;
  // expected
  size_t requests = 1;
  MsgStatus status = MsgStatus::kWired;
  bool count_error = false;
  // Seconds after now the next attempt is due, inclusive range; absent:
  // no next attempt.
  std::optional<std::pair<double, double>> next_attempt_s;
  std::string reason;  // substring of the error reason; "" for none
  int64_t SenderSnapshot::*counter = &SenderSnapshot::sent;
};

TEST(Sender, DecidesWhatEachSendResultBecomes) {
  const std::vector<DecisionCase> cases = {
      {.label = "accepted: W",
       .status = MsgStatus::kWired,
       .counter = &SenderSnapshot::sent},
      {.label = "first error: E, due after the backoff with jitter",
       .provider_status = 500,
       .status = MsgStatus::kErrored,
       .count_error = true,
       .next_attempt_s = std::pair{0.9 * kBackoffSeconds, 1.1 * kBackoffSeconds},
       .counter = &SenderSnapshot::errored},
      {.label = "second error: the backoff doubles",
       .error_count = 1,
       .provider_status = 503,
       .status = MsgStatus::kErrored,
       .count_error = true,
       .next_attempt_s = std::pair{1.8 * kBackoffSeconds, 2.2 * kBackoffSeconds},
       .counter = &SenderSnapshot::errored},
      {.label = "error number max_retries: F, given up",
       .error_count = kMaxRetries - 1,
       .provider_status = 500,
       .status = MsgStatus::kFailed,
       .count_error = true,
       .reason = "gave up after 3 attempts",
       .counter = &SenderSnapshot::failed},
      {.label = "throttled: back to Q after Retry-After, no error counted",
       .provider_status = 429,
       .provider_headers = {{"retry-after", "7"}},
       .status = MsgStatus::kQueued,
       .count_error = false,
       .next_attempt_s = std::pair{7.0, 7.0},
       .counter = &SenderSnapshot::throttled},
      {.label = "refused for good by the provider: F at once",
       .provider_status = 400,
       .status = MsgStatus::kFailed,
       .count_error = true,
       .counter = &SenderSnapshot::failed},
      {.label = "stopped contact: F without a request",
       .contact_stopped = true,
       .requests = 0,
       .status = MsgStatus::kFailed,
       .reason = "contact stopped",
       .counter = &SenderSnapshot::failed},
      {.label = "retries used up by a delivery report: F without a request",
       .error_count = kMaxRetries,
       .requests = 0,
       .status = MsgStatus::kFailed,
       .reason = "gave up after 3 attempts",
       .counter = &SenderSnapshot::failed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    SenderWorld w;
    w.store.Queue(SenderWorld::Queued(1, c.error_count, c.contact_stopped));
    w.http.Answer(c.provider_status, c.provider_headers);
    SenderSnapshot snap = w.RunUntil([&] { return !w.store.statuses().empty(); });

    EXPECT_EQ(w.http.requests().size(), c.requests);
    auto statuses = w.store.statuses();
    ASSERT_EQ(statuses.size(), 1u);
    const StatusUpdate& u = statuses[0];
    EXPECT_EQ(u.msg_id, 1);
    EXPECT_EQ(u.channel_uuid, kChannelUUID);
    EXPECT_EQ(u.status, c.status) << MsgStatusString(u.status);
    EXPECT_EQ(u.count_error, c.count_error);
    if (c.next_attempt_s) {
      ASSERT_TRUE(u.next_attempt_on.has_value());
      EXPECT_GE(*u.next_attempt_on, kNow + static_cast<Micros>(c.next_attempt_s->first * kMicrosPerSecond));
      EXPECT_LE(*u.next_attempt_on, kNow + static_cast<Micros>(c.next_attempt_s->second * kMicrosPerSecond));
    } else {
      EXPECT_FALSE(u.next_attempt_on.has_value());
    }
    if (c.reason.empty()) EXPECT_TRUE(c.status != MsgStatus::kWired || u.error_reason.empty()) << u.error_reason;
    else EXPECT_NE(u.error_reason.find(c.reason), std::string::npos) << u.error_reason;
    EXPECT_EQ(snap.*(c.counter), 1);
    EXPECT_EQ(snap.sent + snap.errored + snap.failed + snap.throttled, 1);
  }
}

TEST(Sender, ThrottledChannelIsNotClaimedFromUntilRetryAfter) {
  SenderWorld w;
  w.store.Queue(SenderWorld::Queued(1));
  w.http.Answer(429, {{"retry-after", "30"}});
  auto paused = [](const ClaimRequest& r) {
    auto cap = r.channel_caps.find(kChannelId);
    return cap != r.channel_caps.end() && cap->second == 0;
  };
  // Once the claims ask nothing of the channel (the clock stands before
  // its Retry-After), a second msg is queued: two claims later, it is
  // still not sent.
  bool second_queued = false;
  size_t claims_then = 0;
  w.RunUntil([&] {
    auto claims = w.store.claims();
    if (!second_queued) {
      if (claims.empty() || !paused(claims.back())) return false;
      w.store.Queue(SenderWorld::Queued(2));
      second_queued = true;
      claims_then = claims.size();
      return false;
    }
    return claims.size() >= claims_then + 2;
  });
  ASSERT_TRUE(second_queued);
  auto claims = w.store.claims();
  EXPECT_FALSE(paused(claims.front()));
  for (size_t i = claims_then; i < claims.size(); ++i) EXPECT_TRUE(paused(claims[i])) << "claim " << i;
  EXPECT_EQ(w.http.requests().size(), 1u);
  ASSERT_EQ(w.store.statuses().size(), 1u);
  EXPECT_EQ(w.store.statuses()[0].status, MsgStatus::kQueued);
}

// Sender threads are made as claimed msgs need them, never more than
// max_workers, and end once idle: none before the first msg, four for six
// msgs held at the provider, none again a second after the last send.
TEST(Sender, StartsThreadsAsSendsNeedThemAndEndsIdleOnes) {
  SenderWorld w;
  SenderOptions options = SenderWorld::Options();  // max_workers 4
  options.worker_idle_s = 1;
  enum { kBeforeMsgs, kHeld, kSent, kIdle } step = kBeforeMsgs;
  int threads_before = -1, threads_held = -1, threads_sent = -1;
  int waiting_held = -1;
  auto snap = w.RunUntilSender(
      [&](const Sender& sender) {
        const SenderSnapshot now = sender.Snapshot();
        switch (step) {
          case kBeforeMsgs:
            if (w.store.claims().size() < 2) return false;
            threads_before = now.threads;
            w.http.Hold();
            for (int64_t id = 1; id <= 6; ++id) w.store.Queue(SenderWorld::Queued(id));
            step = kHeld;
            return false;
          case kHeld:
            if (w.http.waiting() < 4) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a fifth would show by now
            waiting_held = w.http.waiting();
            threads_held = sender.Snapshot().threads;
            w.http.Release();
            step = kSent;
            return false;
          case kSent:
            if (now.sent < 6) return false;
            threads_sent = now.threads;
            step = kIdle;
            return false;
          case kIdle:
            return now.threads == 0;
        }
        return true;
      },
      options);
  EXPECT_EQ(threads_before, 0);
  EXPECT_EQ(waiting_held, 4);
  EXPECT_EQ(threads_held, 4);
  EXPECT_GE(threads_sent, 1);
  EXPECT_LE(threads_sent, 4);
  EXPECT_EQ(step, kIdle);
  EXPECT_EQ(snap.threads, 0) << "idle threads did not end";
  EXPECT_EQ(snap.sent, 6);
  EXPECT_EQ(w.http.requests().size(), 6u);
}

TEST(Sender, ClaimThatEndsAfterTheStopIsReleasedUnsent) {
  SenderWorld w;
  for (int64_t id = 1; id <= 3; ++id) w.store.Queue(SenderWorld::Queued(id));
  // The stop arrives while the claim is in the store.
  w.store.OnClaim([&w] { w.stop.RequestStop(); });
  w.RunUntil([&w] { return w.stop.stop_requested(); });
  EXPECT_TRUE(w.http.requests().empty());
  auto statuses = w.store.statuses();
  ASSERT_EQ(statuses.size(), 3u);
  for (const auto& u : statuses) {
    EXPECT_EQ(u.status, MsgStatus::kQueued);
    EXPECT_FALSE(u.count_error);
    EXPECT_EQ(u.next_attempt_on, kNow);  // due again at once, for the next sender
    EXPECT_TRUE(u.error_reason.empty());
  }
}

TEST(Sender, StoreOutageIsLoggedOnceAndSendingResumesAfterIt) {
  SenderWorld w;
  Log::Init("sender_test", "info");
  Log::ResetForTest();  // an earlier test's repeats must not suppress the lines counted here
  w.store.SetUnavailable(true);
  w.store.Queue(SenderWorld::Queued(1));
  ::testing::internal::CaptureStderr();
  w.RunUntil([&] {
    // Three failed tries (one a second), then the store is back.
    if (w.store.opens() >= 3) w.store.SetUnavailable(false);
    return !w.store.statuses().empty();
  });
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(w.store.statuses().size(), 1u);
  EXPECT_EQ(w.store.statuses()[0].status, MsgStatus::kWired);
  EXPECT_EQ(CountOccurrences(log, "msg=\"store unavailable\" db=fake"), 1u) << log;
  EXPECT_EQ(CountOccurrences(log, "msg=\"store available again\" db=fake"), 1u) << log;
}

TEST(Sender, OpenAttemptsOfDeadSendersOnThisHostAreInterrupted) {
  SenderWorld w;
  // A pid no process has (above any pid_max), a live one, another host's.
  const std::string dead = "testhost:2147483646";
  const std::string live = "testhost:" + std::to_string(::getppid());
  const std::string elsewhere = "otherhost:1";  // judged by its silence: it just claimed
  w.store.AddOpenAttempt(dead, 11);
  w.store.AddOpenAttempt(dead, 12);
  w.store.AddOpenAttempt(live, 13);
  w.store.AddOpenAttempt(elsewhere, 14, kNow);
  SenderSnapshot snap = w.RunUntil([&] { return !w.store.interrupted_workers().empty() && !w.store.claims().empty(); });
  EXPECT_EQ(w.store.interrupted_workers(), std::vector<std::string>{dead});
  EXPECT_EQ(snap.interrupted, 2);
}

// Senders on other hosts cannot be checked by pid: one silent for longer
// than heartbeat_timeout (30 s) is dead. Its last sign of life is its
// heartbeat, or with no heartbeat row its newest open attempt. The sender
// beats before its first claim, removes a dead sender's idle heartbeat,
// and its own on a clean stop.
TEST(Sender, OpenAttemptsOfSendersElsewhereAreInterruptedWhenTheirHeartbeatExpired) {
  SenderWorld w;
  const std::string silent = "hostb:10";         // last beat 31 s ago
  const std::string beating = "hostc:20";        // 29 s ago
  const std::string no_beat_recent = "hostd:30"; // no row, an attempt started 10 s ago
  const std::string idle_dead = "hoste:40";      // expired, nothing in flight
  const std::string no_beat_old = "hostf:50";    // no row, its newest attempt 40 s old
  w.store.AddOpenAttempt(silent, 11);
  w.store.AddOpenAttempt(beating, 12);
  w.store.AddOpenAttempt(no_beat_recent, 13, kNow - 10 * kMicrosPerSecond);
  w.store.AddOpenAttempt(no_beat_old, 14, kNow - 50 * kMicrosPerSecond);
  w.store.AddOpenAttempt(no_beat_old, 15, kNow - 40 * kMicrosPerSecond);
  w.store.SetHeartbeat(silent, kNow - 31 * kMicrosPerSecond);
  w.store.SetHeartbeat(beating, kNow - 29 * kMicrosPerSecond);
  w.store.SetHeartbeat(idle_dead, kNow - 60 * kMicrosPerSecond);
  const std::string self = "testhost:" + std::to_string(::getpid());
  bool beat_before_claim = false;
  w.store.OnClaim([&] { beat_before_claim = w.store.heartbeats().count(self) == 1; });
  SenderSnapshot snap = w.RunUntil([&] { return w.store.interrupted_workers().size() >= 2 && !w.store.claims().empty(); });
  EXPECT_EQ(w.store.interrupted_workers(), (std::vector<std::string>{silent, no_beat_old}));
  EXPECT_EQ(snap.interrupted, 3);
  EXPECT_TRUE(beat_before_claim);
  const auto beats = w.store.heartbeats();
  EXPECT_EQ(beats.count(silent), 0u);
  EXPECT_EQ(beats.count(idle_dead), 0u);
  EXPECT_EQ(beats.count(beating), 1u);
  // RunUntil stopped the sender cleanly: its own heartbeat is gone.
  EXPECT_EQ(beats.count(self), 0u);
}

// Through a store outage no sender can beat. A sender that regains the
// store does not judge the others on the silence it could not see: it
// gives them heartbeat_timeout from its own return, and then judges.
TEST(Sender, SilenceDuringAStoreOutageIsNotHeldAgainstOtherSenders) {
  SenderWorld w;
  const std::string elsewhere = "hostb:10";
  w.store.AddOpenAttempt(elsewhere, 11, kNow - 40 * kMicrosPerSecond);
  w.store.SetHeartbeat(elsewhere, kNow - 40 * kMicrosPerSecond);
  w.store.SetUnavailable(true);
  int phase = 0;
  size_t claims_when_back = 0;
  w.RunUntil([&] {
    if (phase == 0 && w.store.opens() >= 2) {
      w.store.SetUnavailable(false);
      phase = 1;
    }
    if (phase == 1 && w.store.claims().size() >= 2) {
      // Back, beaten and judged (the claim comes after the judgement).
      EXPECT_TRUE(w.store.interrupted_workers().empty());
      EXPECT_EQ(w.store.heartbeats().count(elsewhere), 1u);
      claims_when_back = w.store.claims().size();
      w.clock().Advance(25 * kMicrosPerSecond);
      phase = 2;
    }
    if (phase == 2 && w.store.claims().size() >= claims_when_back + 2) {
      EXPECT_TRUE(w.store.interrupted_workers().empty()) << "judged 25 s after the store came back";
      w.clock().Advance(6 * kMicrosPerSecond);
      phase = 3;
    }
    return phase == 3 && !w.store.interrupted_workers().empty();
  });
  EXPECT_EQ(phase, 3);
  EXPECT_EQ(w.store.interrupted_workers(), std::vector<std::string>{elsewhere});
}

TEST(RetryDelay, DoublesWithEachErrorWithinTenPercent) {
  const struct {
    int errors;
    double base_multiple;
  } cases[] = {{1, 1}, {2, 2}, {3, 4}, {5, 16}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.errors);
    for (uint32_t random : {0u, 1000u, 2000u, 123456u}) {
      const Micros d = RetryDelay(10, c.errors, random);
      EXPECT_GE(d, static_cast<Micros>(0.9 * 10 * c.base_multiple * kMicrosPerSecond));
      EXPECT_LE(d, static_cast<Micros>(1.1 * 10 * c.base_multiple * kMicrosPerSecond));
    }
  }
  EXPECT_EQ(RetryDelay(10, 1, 1000), 10 * kMicrosPerSecond);  // the middle of the jitter
}

}  // namespace
