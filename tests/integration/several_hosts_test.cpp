// Several hosts sharing one PostgreSQL store. Two "hosts" on this machine,
// each with its own spool, run dir, port and host_name, each running
// courier-recv, courier-send and courier-flush against one server of the
// test's own (never the shared one: the test restarts it). Under a load of
// 10,000 webhooks spread over both receivers and 10,000 msgs over 20
// channels, PostgreSQL is restarted (pg_ctl stop -m fast, then start) and
// one sender is killed with SIGKILL; the counts must come out exact:
// every acknowledged webhook stored once, every msg sent at most once and
// each one the store says was sent sent exactly once, the dead sender's
// sends in flight marked interrupted by the live one after the heartbeat
// timeout; and fairness, priority, max_workers and tps held by the two
// senders together.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"
#include "postgres_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

constexpr int kChannels = 20;
// The 10,000 webhooks and 10,000 msgs in the release build. The
// Sanitize build runs every test again with each process several times
// slower, to find memory errors, not to prove counts at scale: 4,000 of
// each still put the restart and the kill in the middle of the load and
// leave the fairness window (the first 2,000 sends) inside the backlog.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COURIER_SEVERAL_HOSTS_LOAD 4000
#endif
#endif
#ifndef COURIER_SEVERAL_HOSTS_LOAD
#define COURIER_SEVERAL_HOSTS_LOAD 10000
#endif
constexpr int kWebhooks = COURIER_SEVERAL_HOSTS_LOAD;
constexpr int kMsgs = COURIER_SEVERAL_HOSTS_LOAD;
// Channel 18 allows two sends in flight to a provider that answers in
// 20 ms; channel 19 allows 40 sends a second. Each has kLimitedMsgs; the
// other 18 channels share the rest of kMsgs.
constexpr int kNarrowChannel = 18, kTpsChannel = 19;
constexpr int kNarrowWorkers = 2, kTps = 40;
constexpr int kLimitedMsgs = kMsgs * 11 / 400;  // 275 of 10,000: less than the 500 a channel would get
constexpr int kHighMsgs = 100;  // queued on channel 0 while its bulk waits
// After the restart, msgs to a provider that answers in 20 s are queued on
// a channel of their own, a few at a time, until host-a has one in flight:
// the kill then always leaves an open attempt for host-b to mark (a sender
// backing off after the restart, or one between fast sends, may hold none).
// Under the senders' 30 s HTTP timeout, so no stalled send is retried.
constexpr int kStallingChannel = kChannels;
constexpr int kStallMs = 20000;
// Queued after the kill: host-b must send them all (the backlog may be
// gone by then in the Sanitize build's smaller load).
constexpr int kAfterKillMsgs = 20;
constexpr int kHeartbeatTimeoutSeconds = 10;
// A deadline against a hung test, not a timing claim.
// Under CTest's 300 s timeout, so a hung step fails with the logs.
constexpr std::chrono::seconds kDeadline(240);

// One host: what its programs read from the environment, and the programs.
struct Host {
  std::string name;
  int port = 0;
  std::map<std::string, std::string> env;
  std::unique_ptr<Daemon> recv, send, flush;
};

class SeveralHostsTest : public CourierFixture {
 protected:
  void SetUp() override {
    UseOwnPostgresServer();
    if (IsSkipped() || HasFatalFailure()) return;
    InitStore();
    for (const char* name : {"host-a", "host-b"}) hosts_.push_back(MakeHost(name));
  }

  Host MakeHost(const std::string& name) {
    Host host;
    host.name = name;
    host.port = FreePort();
    host.env = env_;
    ::mkdir(dir_.File(name).c_str(), 0700);
    host.env["COURIER_SPOOL_DIR"] = dir_.File(name + "/spool");
    host.env["COURIER_RUN_DIR"] = dir_.File(name + "/run");
    host.env["COURIER_PORT"] = std::to_string(host.port);
    host.env["COURIER_HOST_NAME"] = name;
    host.env["COURIER_HEARTBEAT_TIMEOUT"] = std::to_string(kHeartbeatTimeoutSeconds);
    host.env["COURIER_FLUSH_INTERVAL"] = "1";
    return host;
  }

  std::unique_ptr<Daemon> StartOn(const Host& host, const std::string& program) {
    return std::make_unique<Daemon>(std::vector<std::string>{Bin(program)}, host.env,
                                    dir_.File(host.name + "/" + program + ".log"));
  }

  std::string Logs() {
    std::string logs;
    for (const auto& host : hosts_)
      for (const auto* daemon : {host.recv.get(), host.send.get(), host.flush.get()})
        if (daemon != nullptr) logs += host.name + ": " + daemon->log() + "\n";
    return logs;
  }

  // Files waiting in a host's spool (new and cur).
  size_t Pending(const Host& host) {
    size_t n = 0;
    auto listed = RunProgram({Bin("courier-ctl"), "spool", "--json"}, "", host.env);
    for (const auto& line : Lines(listed.out)) {
      auto file = json::ParseObject(line);
      const std::string dir = file.ok() ? json::GetStringOrEmpty(*file, "dir") : "";
      n += dir == "new" || dir == "cur";
      EXPECT_NE(dir, "bad") << line;
    }
    return n;
  }

  int64_t Count(const std::string& where) {
    return StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM msgs WHERE " + where);
  }

  // The outgoing msgs by status, who holds claims and attempts: one line,
  // printed in the timeline's format so that .ci/failed-tests shows it.
  std::string OutgoingState() {
    std::string state;
    for (const std::string status : {"Q", "P", "W", "E", "F"})
      state += status + " " + std::to_string(Count("direction = 'O' AND status = '" + status + "'")) + ", ";
    for (const std::string host : {"host-a", "host-b"}) {
      state += "claimed by " + host + " " + std::to_string(Count("claimed_by LIKE '" + host + ":%'")) + ", ";
      state += "attempts open by " + host + " " +
               std::to_string(StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM attempts WHERE finished_on IS NULL "
                                                      "AND worker LIKE '" + host + ":%'")) + ", ";
    }
    return state + "workers beating " + std::to_string(StoreScalar(StoreUrl(), "SELECT COUNT(*) FROM workers"));
  }

  // Posts webhook-N for N in [0, kWebhooks) from `threads` threads, even
  // Ns to host-a's receiver and odd ones to host-b's, over the EX
  // channels in turn; the Ns answered 200 go to `ok`, the rest to `refused`.
  void PostWebhooks(const std::vector<std::string>& channels, int threads, std::set<int>* ok,
                    std::vector<int>* refused, std::atomic<int>* acknowledged, const std::atomic<bool>* abandon) {
    std::mutex mu;
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        auto http = NewLoopbackHttpClient(HttpClientOptions{10});
        for (int n = next++; n < kWebhooks && !*abandon; n = next++) {
          const Host& host = hosts_[n % 2];
          HttpRequestSpec req;
          req.method = "POST";
          req.url = "http://127.0.0.1:" + std::to_string(host.port) + "/c/ex/" + channels[n % channels.size()] +
                    "/receive";
          req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
          req.body = "from=0788383383&text=webhook-" + std::to_string(n);
          const bool answered = http->Do(req).status_code == 200;
          std::lock_guard<std::mutex> lock(mu);
          (answered ? static_cast<void>(ok->insert(n)) : refused->push_back(n));
          if (answered) ++*acknowledged;
        }
      });
    }
    for (auto& t : pool) t.join();
  }

  std::vector<Host> hosts_;
};

std::string SendLine(const std::string& channel, const std::string& text, const char* priority) {
  return "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"" + text + "\",\"priority\":\"" +
         priority + "\"}\n";
}

int ChannelOf(const RecordedRequest& r) { return std::stoi(r.path.substr(r.path.rfind('/') + 1)); }

TEST_F(SeveralHostsTest, TwoHostsUnderLoadWithARestartAndAKilledSender) {
  MockProvider provider, slow, stalling;
  provider.SetDefault({.status = 200, .body = "ok"});
  slow.SetDefault({.status = 200, .body = "ok", .delay_ms = 20});
  stalling.SetDefault({.status = 200, .body = "ok", .delay_ms = kStallMs});
  std::vector<std::string> channels;
  for (int i = 0; i < kChannels; ++i) {
    const std::string base = (i == kNarrowChannel ? slow : provider).url();
    std::vector<std::string> limits;
    if (i == kNarrowChannel) limits = {"--max-workers", std::to_string(kNarrowWorkers)};
    if (i == kTpsChannel) limits = {"--tps", std::to_string(kTps)};
    channels.push_back(AddChannel("EX", {"send_url=" + base + "/send/" + std::to_string(i)}, "1234", limits));
    ASSERT_FALSE(channels.back().empty());
  }
  const std::string stalling_channel =
      AddChannel("EX", {"send_url=" + stalling.url() + "/send/" + std::to_string(kStallingChannel)}, "1234");
  ASSERT_FALSE(stalling_channel.empty());
  // Bulk msgs, every channel's in turn, so each has a backlog from the start.
  std::string bulk;
  std::map<int, int> queued_on;  // channel -> msgs
  for (int i = 0; i < kMsgs; ++i) {
    int channel = i % kChannels;
    if ((channel == kNarrowChannel || channel == kTpsChannel) && queued_on[channel] == kLimitedMsgs)
      channel = i % (kChannels - 2);
    queued_on[channel]++;
    bulk += SendLine(channels[channel], "out-" + std::to_string(i), "bulk");
  }
  ASSERT_EQ(queued_on[kTpsChannel], kLimitedMsgs);
  auto queued = Ctl({"send", "--jsonl", "-"}, bulk);
  ASSERT_EQ(queued.exit_code, 0) << queued.err;

  for (auto& host : hosts_) {
    host.recv = StartOn(host, "courier-recv");
    host.flush = StartOn(host, "courier-flush");
    host.send = StartOn(host, "courier-send");
  }
  for (auto& host : hosts_) ASSERT_TRUE(host.recv->WaitForHttp(host.port)) << host.recv->log();

  std::set<int> acknowledged;
  std::vector<int> refused;
  std::atomic<int> acknowledged_count{0};
  auto sent = [&] { return provider.count() + slow.count() + stalling.count(); };
  std::atomic<bool> abandon_webhooks{false};
  std::thread webhooks(
      [&] { PostWebhooks(channels, 8, &acknowledged, &refused, &acknowledged_count, &abandon_webhooks); });
  // A failed ASSERT returns early: a thread left joinable would end the
  // process in std::terminate, before the fixture stops the daemons.
  struct JoinOnExit {
    std::thread& thread;
    std::atomic<bool>& abandon;
    ~JoinOnExit() {
      abandon = true;
      if (thread.joinable()) thread.join();
    }
  } join_webhooks{webhooks, abandon_webhooks};

  // The timeline, each step once its condition holds: high-priority msgs
  // once sending is under way; the restart once webhooks flow; the kill
  // of host-a's sender once the restart is over and sends flow again.
  const auto begun = std::chrono::steady_clock::now();
  const auto deadline = begun + kDeadline;
  // The timeline on stderr, for reading a failure.
  auto mark = [&](const char* what) {
    std::fprintf(stderr, "%6.2f s %s: sent %zu acknowledged %d\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count(), what, sent(),
                 acknowledged_count.load());
  };
  auto wait_for = [&](const std::function<bool()>& condition) {
    while (!condition() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a Count connects anew
    return condition();
  };
  // Each step's threshold is a share of the load (1,000 sends, 2,000
  // webhooks, 500 sends at 10,000), so the restart and the kill fall in
  // the middle of it at either size.
  ASSERT_TRUE(wait_for([&] { return sent() >= static_cast<size_t>(kMsgs / 10); })) << Logs();
  std::string high;
  for (int i = 0; i < kHighMsgs; ++i) high += SendLine(channels[0], "high-" + std::to_string(i), "high");
  mark("queueing channel 0's high-priority msgs");
  auto queued_high = Ctl({"send", "--jsonl", "-"}, high);
  ASSERT_EQ(queued_high.exit_code, 0) << queued_high.err;

  const bool webhooks_flowing = wait_for([&] { return acknowledged_count >= kWebhooks / 5; });
  mark("stopping PostgreSQL");
  Status stopped = own_server().Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.ToString();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int acknowledged_while_down = acknowledged_count;
  mark("starting PostgreSQL");
  Status started = own_server().Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto host_a_stalled = [&] {
    return StoreScalar(StoreUrl(),
                       "SELECT COUNT(*) FROM attempts AS a JOIN msgs AS m ON m.id = a.msg_id "
                       "JOIN channels AS c ON c.id = m.channel_id WHERE a.finished_on IS NULL "
                       "AND a.worker LIKE 'host-a:%' AND c.uuid = '" + stalling_channel + "'") > 0;
  };
  int stall_msgs = 0;
  while (!host_a_stalled() && std::chrono::steady_clock::now() < deadline) {
    std::string stall;
    for (int i = 0; i < 2; ++i) stall += SendLine(stalling_channel, "stall-" + std::to_string(stall_msgs++), "high");
    ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, stall).exit_code, 0);
    const auto round_ends = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!host_a_stalled() && std::chrono::steady_clock::now() < round_ends)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(host_a_stalled()) << Logs();
  std::fprintf(stderr, "%d msgs queued to the stalling provider\n", stall_msgs);
  // Sends flowing again, but for no longer than a third of the stall: the
  // kill must find host-a's stalled send still open (host-a claiming it
  // after the restart already shows its sender is back).
  const size_t sent_after_restart = sent();
  const auto stall_seen = std::chrono::steady_clock::now();
  while (sent() < sent_after_restart + kMsgs / 20 && sent() < static_cast<size_t>(kMsgs + kHighMsgs) &&
         std::chrono::steady_clock::now() < stall_seen + std::chrono::milliseconds(kStallMs / 3))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Still open: the provider holds it for kStallMs.
  ASSERT_TRUE(host_a_stalled()) << Logs();
  mark("killing host-a's courier-send");
  ASSERT_EQ(hosts_[0].send->Stop(9), 128 + 9);
  const Micros killed_on = Clock::System().Now();
  std::string after_kill;
  for (int i = 0; i < kAfterKillMsgs; ++i) after_kill += SendLine(channels[1 + i % 17], "after-kill-" + std::to_string(i), "high");
  ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, after_kill).exit_code, 0);

  mark("posting the last webhooks");
  webhooks.join();
  EXPECT_TRUE(webhooks_flowing);
  EXPECT_GT(acknowledged_while_down, 0);
  EXPECT_TRUE(refused.empty()) << refused.size() << " webhooks refused, the first " << refused.front();

  // Every acknowledged webhook stored once, the spools of both hosts empty.
  ASSERT_TRUE(wait_for([&] { return Count("direction = 'I'") >= kWebhooks; })) << Logs();
  mark("webhooks stored");
  ASSERT_TRUE(wait_for([&] { return Pending(hosts_[0]) + Pending(hosts_[1]) == 0; })) << Logs();
  // Every msg W or E, none claimed: the live sender finished the queue and
  // marked the dead one's sends in flight interrupted.
  const bool all_sent_or_errored = wait_for([&] {
    return Count("direction = 'O' AND status IN ('W', 'E') AND claimed_by IS NULL") ==
           kMsgs + kHighMsgs + stall_msgs + kAfterKillMsgs;
  });
  if (!all_sent_or_errored) mark(("msgs not all W or E; " + OutgoingState()).c_str());
  ASSERT_TRUE(all_sent_or_errored) << Logs();

  mark("msgs all W or E");
  std::map<std::string, int> stored;
  for (const auto& msg : ListMsgs({"--direction", "in"})) stored[json::GetStringOrEmpty(msg, "text")]++;
  EXPECT_EQ(stored.size(), static_cast<size_t>(kWebhooks));
  for (int n : acknowledged) EXPECT_EQ(stored["webhook-" + std::to_string(n)], 1) << "webhook-" << n;
  for (const auto& [text, count] : stored) EXPECT_EQ(count, 1) << text;

  // Sends: none twice; each msg W was sent; each E is an interrupted send
  // of host-a's, marked by host-b after host-a's heartbeat expired.
  std::vector<RecordedRequest> requests = provider.requests();
  for (const auto& r : slow.requests()) requests.push_back(r);
  for (const auto& r : stalling.requests()) requests.push_back(r);
  std::map<std::string, int> sent_texts;
  for (const auto& r : requests) sent_texts[r.form.at("text")]++;
  for (const auto& [text, count] : sent_texts) EXPECT_EQ(count, 1) << text << " sent " << count << " times";
  const auto wired = OutgoingMsgs("W");
  const auto interrupted = OutgoingMsgs("E");
  EXPECT_EQ(wired.size() + interrupted.size(), static_cast<size_t>(kMsgs + kHighMsgs + stall_msgs + kAfterKillMsgs));
  for (const auto& msg : wired) EXPECT_EQ(sent_texts.count(json::GetStringOrEmpty(msg, "text")), 1u);
  EXPECT_GT(interrupted.size(), 0u) << "host-a had nothing in flight when it was killed";
  for (const auto& msg : interrupted) {
    EXPECT_NE(json::GetStringOrEmpty(msg, "error_reason").find("interrupted"), std::string::npos) << json::Stringify(msg);
  }
  // Marked no sooner than the heartbeat allows: host-a beat at most 5 s
  // before it died, and host-b waits kHeartbeatTimeoutSeconds after that.
  const int64_t first_marked = StoreScalar(StoreUrl(), "SELECT MIN(modified_on) FROM msgs WHERE status = 'E'");
  EXPECT_GE(first_marked, killed_on + (kHeartbeatTimeoutSeconds - 5) * kMicrosPerSecond);
  EXPECT_LE(requests.size(), wired.size() + interrupted.size());
  EXPECT_GE(requests.size(), wired.size());
  // host-b carried on: what was queued after the kill went out, once each.
  for (int i = 0; i < kAfterKillMsgs; ++i)
    EXPECT_EQ(sent_texts["after-kill-" + std::to_string(i)], 1) << "host-b did not carry on: after-kill-" << i;

  // max_workers and tps held by both senders together.
  EXPECT_LE(slow.MaxInFlight("/send/" + std::to_string(kNarrowChannel)), kNarrowWorkers);
  std::vector<std::chrono::steady_clock::time_point> tps_times;
  for (const auto& r : requests)
    if (ChannelOf(r) == kTpsChannel) tps_times.push_back(r.received_at);
  std::sort(tps_times.begin(), tps_times.end());
  ASSERT_FALSE(tps_times.empty());
  const double seconds = std::chrono::duration<double>(tps_times.back() - tps_times.front()).count();
  EXPECT_LE(static_cast<double>(tps_times.size()), kTps * (seconds + 2))
      << tps_times.size() << " sends in " << seconds << " s";

  // Priority: channel 0's high msgs went before its bulk; only the bulk
  // already claimed when they were queued (at most a sender's default
  // max_workers, 32, for the channel) may have reached the provider later.
  // Between the first and the last high msg sent: one that host-a had in
  // flight when it was killed is never sent (interrupted).
  std::vector<RecordedRequest> ordered = requests;
  std::sort(ordered.begin(), ordered.end(),
            [](const RecordedRequest& a, const RecordedRequest& b) { return a.received_at < b.received_at; });
  const auto is_high = [](const RecordedRequest& r) { return r.form.at("text").rfind("high-", 0) == 0; };
  const int high_sent = static_cast<int>(
      std::count_if(ordered.begin(), ordered.end(), [&](const RecordedRequest& r) { return is_high(r); }));
  int high_seen = 0, bulk_between = 0;
  for (const auto& r : ordered) {
    if (ChannelOf(r) != 0) continue;
    if (is_high(r)) ++high_seen;
    else if (high_seen > 0 && high_seen < high_sent) ++bulk_between;
  }
  EXPECT_GT(high_sent, kHighMsgs / 2);
  EXPECT_LE(bulk_between, 32) << "bulk msgs sent while channel 0's high ones waited (" << high_sent << " of "
                              << kHighMsgs << " high msgs sent)";

  // Fairness: in the first 2,000 sends every unlimited channel got its
  // share (about 2000 / 20, more where the two limited channels fell behind).
  std::map<int, int> early;
  for (size_t i = 0; i < std::min<size_t>(2000, ordered.size()); ++i) early[ChannelOf(ordered[i])]++;
  for (int channel = 0; channel < kChannels; ++channel) {
    if (channel == kNarrowChannel || channel == kTpsChannel) continue;
    EXPECT_GE(early[channel], 50) << "channel " << channel << " starved";
    EXPECT_LE(early[channel], 200) << "channel " << channel << " favoured";
  }

  for (auto& host : hosts_) {
    EXPECT_EQ(host.recv->Stop(), 0) << host.recv->log();
    EXPECT_EQ(host.flush->Stop(), 0) << host.flush->log();
  }
  EXPECT_EQ(hosts_[1].send->Stop(), 0) << hosts_[1].send->log();
}

}  // namespace
