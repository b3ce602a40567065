// The Prometheus text of metrics/metrics.h: the catalog's names and help,
// label escaping, and a whole rendering from a real SQLite store, a real
// spool directory and control sockets answering as the daemons do.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "temp_dir.h"
#include "bus/bus.h"
#include "bus/endpoints.h"
#include "metrics/metrics.h"
#include "spool/spool.h"
#include "store/sqlite_store.h"

using namespace courier;

using courier::testing::ScratchDir;

namespace {

// The value of the one sample line `series` (name and labels as printed),
// or "absent".
std::string Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string found = "absent";
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) {
      found = line.substr(series.size() + 1);
      ++count;
    }
  }
  return count > 1 ? "repeated" : found;
}

TEST(MetricsCatalog, NamesFollowPrometheusConventions) {
  const std::regex name("courier_[a-z][a-z0-9_]*[a-z0-9]");
  std::set<std::string> seen;
  for (const auto& spec : MetricsCatalog()) {
    SCOPED_TRACE(spec.name);
    EXPECT_TRUE(std::regex_match(spec.name, name));
    EXPECT_TRUE(seen.insert(spec.name).second) << "listed twice";
    const bool total = spec.name.size() > 6 && spec.name.compare(spec.name.size() - 6, 6, "_total") == 0;
    if (spec.type == "counter") {
      EXPECT_TRUE(total) << "a counter's name ends in _total";
    } else {
      EXPECT_EQ(spec.type, "gauge");
      EXPECT_FALSE(total) << "_total is for counters";
    }
    // prometheus-cpp 1.0 writes HELP unescaped: these would break the text.
    EXPECT_EQ(spec.help.find('\\'), std::string::npos);
    EXPECT_EQ(spec.help.find('\n'), std::string::npos);
    EXPECT_FALSE(spec.help.empty());
    // Units in the name are base units: no word of it is another unit.
    std::istringstream words(spec.name);
    for (std::string word; std::getline(words, word, '_');) {
      for (const char* unit : {"ms", "milliseconds", "minutes", "hours", "kb", "mb", "kilobytes", "megabytes", "s"})
        EXPECT_NE(word, unit);
    }
  }
}

TEST(MetricsCatalog, EveryMetricIsInTheManPage) {
  std::ifstream in(std::string(COURIER_SOURCE_DIR) + "/man/courier-ctl.1");
  ASSERT_TRUE(in) << "man/courier-ctl.1";
  std::stringstream page;
  page << in.rdbuf();
  // groff escapes '-' but not '_': the names appear as they are.
  for (const auto& spec : MetricsCatalog()) EXPECT_NE(page.str().find(spec.name), std::string::npos) << spec.name;
}

MetricsInput DaemonsDown() {
  MetricsInput in;
  for (const auto& d : kMetricsDaemons) in.daemons.emplace_back(d.program, nullptr);
  return in;
}

TEST(FormatMetrics, EscapesLabelValuesAndWritesHelpAndType) {
  MetricsInput in = DaemonsDown();
  auto hook = json::NewObject();
  hook->set("id", 7);
  hook->set("uuid", std::string("a\"b\\c\nd"));  // nothing a daemon says can break the text
  hook->set("lag_events", 12);
  hook->set("oldest_undelivered_age_s", 3.5);
  hook->set("failures", 4);
  hook->set("paused", true);
  auto hooks = json::NewArray();
  hooks->add(hook);
  auto status = json::NewObject();
  status->set("program", std::string("courier-hook"));
  status->set("uptime_s", 42);
  status->set("hooks", hooks);
  in.daemons[3] = {"courier-hook", status};
  ASSERT_EQ(in.daemons[3].first, "courier-hook");

  auto text = FormatMetrics(in);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::string labels = "{id=\"7\",uuid=\"a\\\"b\\\\c\\nd\"}";
  EXPECT_EQ(Sample(*text, "courier_hook_lag_events" + labels), "12");
  EXPECT_EQ(Sample(*text, "courier_hook_oldest_undelivered_age_seconds" + labels), "3.5");
  EXPECT_EQ(Sample(*text, "courier_hook_failures" + labels), "4");
  EXPECT_EQ(Sample(*text, "courier_hook_paused" + labels), "1");
  EXPECT_EQ(Sample(*text, "courier_up{program=\"courier-hook\"}"), "1");
  EXPECT_EQ(Sample(*text, "courier_up{program=\"courier-recv\"}"), "0");
  EXPECT_EQ(Sample(*text, "courier_uptime_seconds{program=\"courier-hook\"}"), "42");
  EXPECT_NE(text->find("# HELP courier_hook_lag_events Events after the webhook's cursor"), std::string::npos);
  EXPECT_NE(text->find("# TYPE courier_hook_lag_events gauge\n"), std::string::npos);
  // Nothing said about a store that was not read: only that it is down.
  EXPECT_EQ(Sample(*text, "courier_store_up"), "0");
  EXPECT_EQ(text->find("courier_channel_"), std::string::npos);
  EXPECT_EQ(text->find("courier_store_size_bytes"), std::string::npos);
}

TEST(FormatMetrics, EveryLineIsCommentOrSampleOfACatalogMetric) {
  MetricsInput in = DaemonsDown();
  in.store_up = true;
  QueueSummary q;
  q.channel_uuid = "0b4d2b1e-5f0c-4e43-9d3a-2a7f3c8e9d10";
  q.channel_type = "EX";
  in.queue.push_back(q);
  in.spool = SpoolSummary{};
  auto text = FormatMetrics(in);
  ASSERT_TRUE(text.ok());
  std::set<std::string> names;
  for (const auto& spec : MetricsCatalog()) names.insert(spec.name);
  const std::regex sample(R"(([a-z_]+)(\{[^}]*\})? -?[0-9.e+]+)");
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, sample)) << line;
    EXPECT_TRUE(names.count(m[1].str())) << line;
  }
}

// A whole rendering: a real store and spool, and control sockets that
// answer with the daemons' status shapes (recv, send, hook); flush and
// api answer nothing.
class RenderMetricsTest : public ::testing::Test {
 protected:
  RenderMetricsTest() : clock_(Clock::System().Now()), db_(dir_.path() + "/courier.db") {}

  void SetUp() override {
    store_ = std::make_unique<SqliteStore>(db_, clock_);
    ASSERT_TRUE(store_->Open().ok());
    ASSERT_TRUE(store_->Migrate().ok());
    sources_.db = db_;
    sources_.spool_dir = dir_.path() + "/spool";
    sources_.run_dir = dir_.path() + "/run";
    sources_.daemon_timeout_ms = 100;
    sources_.clock = &clock_;
  }

  void Answer(const char* endpoint, const std::string& status) {
    servers_.push_back(std::make_unique<ControlServer>());
    ASSERT_TRUE(servers_.back()->Start(EndpointFor(sources_.run_dir, endpoint), [status](const std::string&) {
      return status;
    }).ok());
  }

  ScratchDir dir_;
  ManualClock clock_;
  std::string db_;
  std::unique_ptr<SqliteStore> store_;
  MetricsSources sources_;
  std::vector<std::unique_ptr<ControlServer>> servers_;
};

TEST_F(RenderMetricsTest, StoreSpoolAndDaemons) {
  Channel c;
  c.type = "EX";
  c.name = "metrics";
  c.address = "1234";
  c.country = "RW";
  c.schemes = {"tel"};
  auto channel = store_->AddChannel(c);
  ASSERT_TRUE(channel.ok());
  auto queue = [&](int n, Priority priority) {
    std::vector<Msg> msgs;
    for (int i = 0; i < n; ++i) {
      Msg m;
      m.channel_uuid = channel->uuid;
      m.direction = Direction::kOut;
      m.urn = "tel:+250788383383";
      m.text = "hi " + std::to_string(i);
      m.priority = priority;
      msgs.push_back(m);
    }
    ASSERT_TRUE(store_->QueueOutgoing(msgs).ok());
  };
  queue(3, Priority::kHigh);
  clock_.Advance(10 * kMicrosPerSecond);
  queue(2, Priority::kBulk);
  // The three high ones claimed: the first errors (retried later), the
  // second stays in flight, the third fails. Oldest waiting: a bulk one,
  // queued 10 s after the in-flight one that the age must not count.
  ClaimRequest claim;
  claim.worker = "host:1";
  claim.now = clock_.Now();
  claim.limit = 3;
  auto claimed = store_->ClaimQueued(claim);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  StatusUpdate errored;
  errored.channel_uuid = channel->uuid;
  errored.msg_id = (*claimed)[0].id;
  errored.status = MsgStatus::kErrored;
  errored.count_error = true;
  errored.next_attempt_on = clock_.Now() + 60 * kMicrosPerSecond;
  ASSERT_TRUE(store_->WriteStatus(errored).ok());
  StatusUpdate failed = errored;
  failed.msg_id = (*claimed)[2].id;
  failed.status = MsgStatus::kFailed;
  failed.next_attempt_on.reset();
  ASSERT_TRUE(store_->WriteStatus(failed).ok());
  clock_.Advance(5 * kMicrosPerSecond);

  SpoolDir spool(sources_.spool_dir);
  ASSERT_TRUE(spool.Ensure().ok());
  ASSERT_TRUE(spool.Write("{}", clock_.Now()).ok());
  auto doomed = spool.Write("{}", clock_.Now());
  ASSERT_TRUE(doomed.ok());
  ASSERT_TRUE(spool.Claim(*doomed).ok());
  ASSERT_TRUE(spool.Reject(*doomed, "cur", "test").ok());

  Answer(kRecvCtl, R"({"program":"courier-recv","pid":1,"uptime_s":30,"committed":5,"spooled":1,"batches":3,
    "requests":{"accepted":5,"ignored":2,"error":1,"unauthorized":2,"not_found":0,"too_large":0,"unavailable":1},
    "rejected_by_code":{"400":1,"401":2,"503":1},
    "refused":{"not_found":0,"unknown_channel":1,"unauthorized":2}})");
  Answer(kSendCtl, R"({"program":"courier-send","pid":2,"uptime_s":31,"sent":4,"errored":1,"failed":1,
    "throttled":0,"interrupted":2,"by_channel":{")" + channel->uuid +
                       R"(":{"sent":4,"errored":1,"failed":1,"throttled":0}}})");
  Answer(kHookCtl, R"({"program":"courier-hook","pid":3,"uptime_s":7,"hooks":[
    {"id":1,"uuid":"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f","url":"https://app.example/hook","paused":false,
     "cursor":10,"lag_events":3,"oldest_undelivered_age_s":12,"last_error":"500","next_retry_in_s":4,"failures":2,"delivered":9}]})");

  auto text = RenderMetrics(*store_, sources_);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  SCOPED_TRACE(*text);
  const std::string ch = "channel=\"" + channel->uuid + "\",channel_type=\"EX\"";
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"courier_up{program=\"courier-recv\"}", "1"},
      {"courier_up{program=\"courier-send\"}", "1"},
      {"courier_up{program=\"courier-hook\"}", "1"},
      {"courier_up{program=\"courier-flush\"}", "0"},
      {"courier_up{program=\"courier-api\"}", "0"},
      {"courier_uptime_seconds{program=\"courier-recv\"}", "30"},
      {"courier_uptime_seconds{program=\"courier-flush\"}", "absent"},
      {"courier_writes_committed_total{program=\"courier-recv\"}", "5"},
      {"courier_writes_spooled_total{program=\"courier-recv\"}", "1"},
      {"courier_recv_requests_total{outcome=\"accepted\"}", "5"},
      {"courier_recv_requests_total{outcome=\"ignored\"}", "2"},
      {"courier_recv_rejected_total{code=\"400\"}", "1"},
      {"courier_recv_rejected_total{code=\"401\"}", "2"},
      {"courier_recv_rejected_total{code=\"503\"}", "1"},
      {"courier_recv_refused_total{reason=\"unknown_channel\"}", "1"},
      {"courier_recv_refused_total{reason=\"not_found\"}", "0"},
      {"courier_sends_total{" + ch + ",outcome=\"sent\"}", "4"},
      {"courier_sends_total{" + ch + ",outcome=\"failed\"}", "1"},
      {"courier_sends_total{" + ch + ",outcome=\"throttled\"}", "0"},
      {"courier_sends_interrupted_total", "2"},
      {"courier_hook_lag_events{id=\"1\",uuid=\"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f\"}", "3"},
      {"courier_hook_oldest_undelivered_age_seconds{id=\"1\",uuid=\"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f\"}", "12"},
      {"courier_hook_failures{id=\"1\",uuid=\"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f\"}", "2"},
      {"courier_hook_paused{id=\"1\",uuid=\"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f\"}", "0"},
      {"courier_hook_delivered_total{id=\"1\",uuid=\"5e1c7a52-8d77-4c1e-9f0e-1a2b3c4d5e6f\"}", "9"},
      {"courier_channel_queued_msgs{" + ch + ",priority=\"high\"}", "0"},
      {"courier_channel_queued_msgs{" + ch + ",priority=\"bulk\"}", "2"},
      {"courier_channel_in_flight_msgs{" + ch + "}", "1"},
      {"courier_channel_errored_msgs{" + ch + "}", "1"},
      {"courier_channel_failed_msgs{" + ch + "}", "1"},
      {"courier_channel_interrupted_msgs{" + ch + "}", "0"},
      {"courier_channel_oldest_queued_age_seconds{" + ch + "}", "5"},
      {"courier_store_up", "1"},
      {"courier_spool_files{state=\"pending\"}", "1"},
      {"courier_spool_files{state=\"bad\"}", "1"},
      {"courier_spool_files{state=\"tmp\"}", "0"},
  };
  for (const auto& [series, value] : expected) EXPECT_EQ(Sample(*text, series), value) << series;
  // Queued msgs write events; the store and its file are measured.
  EXPECT_NE(Sample(*text, "courier_events_last_seq"), "absent");
  EXPECT_NE(Sample(*text, "courier_store_size_bytes"), "absent");
  EXPECT_NE(Sample(*text, "courier_store_filesystem_free_bytes"), "absent");
  EXPECT_NE(Sample(*text, "courier_spool_oldest_pending_age_seconds"), "absent");
}

TEST_F(RenderMetricsTest, WithoutStoreSaysStoreDown) {
  auto text = RenderMetricsWithoutStore(sources_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(Sample(*text, "courier_store_up"), "0");
  EXPECT_EQ(Sample(*text, "courier_up{program=\"courier-recv\"}"), "0");
  EXPECT_EQ(text->find("courier_channel_"), std::string::npos);
}

}  // namespace
