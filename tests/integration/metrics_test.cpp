// `courier-ctl metrics` against the real daemons: courier-recv taking
// webhooks (accepted and refused), courier-send sending to a mock provider
// (sent and failed), courier-flush moving a garbage spool file to bad/,
// courier-hook delivering to one application and failing at another.
// The counts in the text are exact; promtool (Debian's prometheus) checks
// the text; a stopped daemon and a killed one show as courier_up 0.
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kPromtool = "/usr/bin/promtool";  // package prometheus

// The value of the sample line `series` (name and labels as printed), or
// "absent".
std::string Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  return "absent";
}

class MetricsFixture : public CourierFixture {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(kPromtool, X_OK), 0)
        << kPromtool << " is missing: scripts/install-deps.sh installs it (Debian package prometheus)";
    InitStore();
    good_ = AddChannel("EX", {"send_url=" + provider_.url() + "/good"});
    bad_ = AddChannel("EX", {"send_url=" + provider_.url() + "/bad"}, "5678");
    ASSERT_FALSE(good_.empty());
    ASSERT_FALSE(bad_.empty());
  }

  int Post(const std::string& path, const std::string& body) { return PostForm(path, body).status_code; }

  std::string Metrics() {
    auto r = Ctl({"metrics"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // promtool's lint of the text: "" when it finds nothing, else what it said.
  std::string Promtool(const std::string& text) {
    auto r = RunProgram({kPromtool, "check", "metrics"}, text);
    if (r.exit_code == 0 && r.out.empty() && r.err.empty()) return "";
    return "exit " + std::to_string(r.exit_code) + ": " + r.out + r.err;
  }

  MockProvider provider_;
  std::string good_, bad_;
};

// Every test below runs on both engines (Engines/MetricsTest.*/SQLite and .../PostgreSQL), except
// MetricsTestSqlite.*: the store file is unlinked under the daemons.
using MetricsTest = OnBothEngines<MetricsFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(MetricsTest);
using MetricsTestSqlite = MetricsFixture;

TEST_P(MetricsTest, CountsOfTheRealPipelinePassPromtool) {
  provider_.On("/bad", MockResponse{.status = 400, .body = "{\"error\":\"no such number\"}"});
  StartRecv();
  auto send = Start("courier-send");
  // The garbage file is there before courier-flush starts: its first pass
  // moves it to bad/.
  WriteFile(dir_.File("spool/new/00000000000000000001-1-000001.json"), "this is not a spool file\n");
  auto flush = Start("courier-flush");

  // Webhooks: 3 accepted, 1 for an unknown channel (400), 1 unknown route
  // (404), 2 with a malformed channel uuid (400).
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(Post("/c/ex/" + good_ + "/receive", "from=0788383383&text=hello" + std::to_string(i)), 200);
  ASSERT_EQ(Post("/c/ex/0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10/receive", "from=1&text=x"), 400);
  ASSERT_EQ(Post("/c/zz/" + good_ + "/receive", ""), 404);
  ASSERT_EQ(Post("/c/ex/not-a-uuid/receive", "from=1&text=x"), 400);
  ASSERT_EQ(Post("/c/ex/not-a-uuid-either/receive", "from=1&text=x"), 400);

  // Sends: 2 delivered to the provider, 1 refused by it for good (F).
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(Ctl({"send", "--channel", good_, "--urn", "tel:+250788383383", "--text", "ok"}).exit_code, 0);
  ASSERT_EQ(Ctl({"send", "--channel", bad_, "--urn", "tel:+250788383384", "--text", "no"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] {
    const std::string text = Metrics();
    const std::string sent_good = "courier_sends_total{channel=\"" + good_ + "\",channel_type=\"EX\",outcome=\"sent\"}";
    const std::string failed_bad = "courier_sends_total{channel=\"" + bad_ + "\",channel_type=\"EX\",outcome=\"failed\"}";
    return Sample(text, sent_good) == "2" && Sample(text, failed_bad) == "1" &&
           Sample(text, "courier_flush_files_total{outcome=\"rejected\"}") == "1";
  })) << Metrics() << send->log() << flush->log();

  const std::string text = Metrics();
  SCOPED_TRACE(text);
  EXPECT_EQ(Promtool(text), "");
  const std::string good = "channel=\"" + good_ + "\",channel_type=\"EX\"";
  const std::string bad = "channel=\"" + bad_ + "\",channel_type=\"EX\"";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"courier_up{program=\"courier-recv\"}", "1"},
      {"courier_up{program=\"courier-send\"}", "1"},
      {"courier_up{program=\"courier-flush\"}", "1"},
      {"courier_up{program=\"courier-hook\"}", "0"},
      {"courier_up{program=\"courier-api\"}", "0"},
      {"courier_recv_requests_total{outcome=\"accepted\"}", "3"},
      {"courier_recv_requests_total{outcome=\"ignored\"}", "0"},
      {"courier_recv_rejected_total{code=\"400\"}", "3"},
      {"courier_recv_rejected_total{code=\"404\"}", "1"},
      {"courier_recv_rejected_total{code=\"503\"}", "absent"},
      {"courier_recv_refused_total{reason=\"unknown_channel\"}", "1"},
      {"courier_recv_refused_total{reason=\"invalid_uuid\"}", "2"},
      {"courier_recv_refused_total{reason=\"not_found\"}", "1"},
      {"courier_recv_refused_total{reason=\"unauthorized\"}", "0"},
      {"courier_writes_committed_total{program=\"courier-recv\"}", "3"},
      {"courier_writes_spooled_total{program=\"courier-recv\"}", "0"},
      {"courier_sends_total{" + good + ",outcome=\"sent\"}", "2"},
      {"courier_sends_total{" + good + ",outcome=\"failed\"}", "0"},
      {"courier_sends_total{" + bad + ",outcome=\"failed\"}", "1"},
      {"courier_sends_total{" + bad + ",outcome=\"sent\"}", "0"},
      {"courier_sends_interrupted_total", "0"},
      {"courier_flush_files_total{outcome=\"rejected\"}", "1"},
      {"courier_flush_files_total{outcome=\"flushed\"}", "0"},
      {"courier_spool_files{state=\"pending\"}", "0"},
      {"courier_spool_files{state=\"bad\"}", "1"},
      {"courier_store_up", "1"},
      {"courier_channel_queued_msgs{" + good + ",priority=\"high\"}", "0"},
      {"courier_channel_in_flight_msgs{" + good + "}", "0"},
      {"courier_channel_failed_msgs{" + bad + "}", "1"},
      {"courier_channel_failed_msgs{" + good + "}", "0"},
      {"courier_channel_errored_msgs{" + good + "}", "0"},
      {"courier_channel_oldest_queued_age_seconds{" + good + "}", "0"},
  };
  for (const auto& [series, value] : expected) EXPECT_EQ(Sample(text, series), value) << series;
  EXPECT_EQ(provider_.count(), 3u);

  // A stopped daemon and a killed one are down; the others still answer.
  EXPECT_EQ(send->Stop(), 0);
  flush->Stop(9);
  const std::string after = Metrics();
  EXPECT_EQ(Sample(after, "courier_up{program=\"courier-send\"}"), "0") << after;
  EXPECT_EQ(Sample(after, "courier_up{program=\"courier-flush\"}"), "0") << after;
  EXPECT_EQ(Sample(after, "courier_up{program=\"courier-recv\"}"), "1") << after;
  EXPECT_EQ(Sample(after, "courier_sends_total{" + good + ",outcome=\"sent\"}"), "absent") << after;
  EXPECT_EQ(Sample(after, "courier_recv_requests_total{outcome=\"accepted\"}"), "3") << after;
  EXPECT_EQ(Promtool(after), "");
}

TEST_F(MetricsTestSqlite, QueuedMsgsWithEveryDaemonDown) {
  // Nothing runs: the store and spool are still measured.
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(Ctl({"send", "--channel", good_, "--urn", "tel:+250788383383", "--text", "wait", "--priority", "bulk"})
                  .exit_code,
              0);
  // Two spool files waiting, one of a writer's batch of three: counted
  // from their names, never read.
  WriteFile(dir_.File("spool/new/00000000000000000001-1-000001.json"), "x");
  WriteFile(dir_.File("spool/new/00000000000000000002-1-000002-x3.json"), "x");
  const std::string text = Metrics();
  SCOPED_TRACE(text);
  EXPECT_EQ(Promtool(text), "");
  EXPECT_EQ(Sample(text, "courier_spool_files{state=\"pending\"}"), "2");
  EXPECT_EQ(Sample(text, "courier_spool_pending_intakes"), "4");
  for (const char* program : {"courier-recv", "courier-send", "courier-flush", "courier-hook", "courier-api"})
    EXPECT_EQ(Sample(text, std::string("courier_up{program=\"") + program + "\"}"), "0") << program;
  const std::string good = "channel=\"" + good_ + "\",channel_type=\"EX\"";
  EXPECT_EQ(Sample(text, "courier_channel_queued_msgs{" + good + ",priority=\"bulk\"}"), "4");
  EXPECT_EQ(Sample(text, "courier_channel_queued_msgs{" + good + ",priority=\"high\"}"), "0");
  EXPECT_NE(Sample(text, "courier_channel_oldest_queued_age_seconds{" + good + "}"), "absent");
  EXPECT_EQ(Sample(text, "courier_recv_requests_total{outcome=\"accepted\"}"), "absent");

  // A store that is gone: still printed, exit 0, the store said down.
  ASSERT_EQ(::unlink(dir_.File("courier.db").c_str()), 0);
  auto gone = Ctl({"metrics"});
  EXPECT_EQ(gone.exit_code, 0) << gone.err;
  EXPECT_EQ(Sample(gone.out, "courier_store_up"), "0") << gone.out;
  EXPECT_NE(gone.err.find("does not exist"), std::string::npos) << gone.err;
  EXPECT_EQ(Promtool(gone.out), "");
}

// courier-hook's per-hook numbers, from the real daemon's control socket:
// one hook whose application answers 500 (its events pile up) and one whose
// application takes everything, then is paused.
TEST_P(MetricsTest, HookLagFromTheRealCourierHook) {
  MockProvider failing, healthy;
  failing.SetDefault(MockResponse{.status = 500, .body = "{\"error\":\"db down\"}"});
  auto add_hook = [&](const std::string& url) -> std::pair<std::string, std::string> {
    auto added = Ctl({"hook", "add", "--url", url, "--events", "msg.received", "--json"});
    auto o = json::ParseObject(added.out);
    EXPECT_TRUE(o.ok()) << added.out << added.err;
    if (!o.ok()) return {};
    return {std::to_string(json::GetInt(*o, "id").value_or(0)), json::GetStringOrEmpty(*o, "uuid")};
  };
  const auto [down_id, down_uuid] = add_hook(failing.url() + "/events");
  const auto [up_id, up_uuid] = add_hook(healthy.url() + "/events");
  ASSERT_FALSE(down_uuid.empty());
  ASSERT_FALSE(up_uuid.empty());
  StartRecv();
  auto hook = Start("courier-hook");
  constexpr int kMsgs = 3;
  for (int i = 0; i < kMsgs; ++i)
    ASSERT_EQ(Post("/c/ex/" + good_ + "/receive", "from=0788383383&text=hook" + std::to_string(i)), 200);

  const std::string down = "{id=\"" + down_id + "\",uuid=\"" + down_uuid + "\"}";
  const std::string up = "{id=\"" + up_id + "\",uuid=\"" + up_uuid + "\"}";
  ASSERT_TRUE(Eventually([&] {
    const std::string text = Metrics();
    return Sample(text, "courier_hook_delivered_total" + up) == std::to_string(kMsgs) &&
           Sample(text, "courier_hook_lag_events" + up) == "0" &&
           std::atoi(Sample(text, "courier_hook_failures" + down).c_str()) >= 1;
  })) << Metrics() << hook->log();

  const std::string text = Metrics();
  SCOPED_TRACE(text);
  EXPECT_EQ(Promtool(text), "");
  EXPECT_EQ(Sample(text, "courier_up{program=\"courier-hook\"}"), "1");
  // The failing application's hook holds every event, none delivered.
  EXPECT_EQ(Sample(text, "courier_hook_lag_events" + down), std::to_string(kMsgs));
  EXPECT_EQ(Sample(text, "courier_hook_delivered_total" + down), "0");
  EXPECT_EQ(Sample(text, "courier_hook_paused" + down), "0");
  EXPECT_NE(Sample(text, "courier_hook_oldest_undelivered_age_seconds" + down), "absent");
  // The healthy one caught up.
  EXPECT_EQ(Sample(text, "courier_hook_failures" + up), "0");
  EXPECT_EQ(Sample(text, "courier_hook_oldest_undelivered_age_seconds" + up), "0");
  EXPECT_EQ(Sample(text, "courier_hook_paused" + up), "0");
  EXPECT_EQ(healthy.count(), static_cast<size_t>(kMsgs));

  // Paused by the operator: courier-hook reports it.
  ASSERT_EQ(Ctl({"hook", "pause", up_uuid}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return Sample(Metrics(), "courier_hook_paused" + up) == "1"; }))
      << Metrics() << hook->log();
  EXPECT_EQ(Promtool(Metrics()), "");
  EXPECT_EQ(hook->Stop(), 0) << hook->log();
}

}  // namespace
