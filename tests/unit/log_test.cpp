// Log's rate limit of repeated lines, on a clock the test moves.
#include "core/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier {
namespace {

constexpr Micros kStart = 1700000000 * kMicrosPerSecond;

int Count(const std::vector<std::string>& lines, const std::string& needle) {
  int n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

class LogRepeatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Log::Init("courier-test", "debug");
    Log::SetSinkForTest([this](const std::string& line) { lines.push_back(line); });
    Log::SetRepeatLimitForTest(clock, 10 * kMicrosPerSecond, 3);
  }
  void TearDown() override {
    Log::ResetForTest();
    Log::Init("courier", "info");
  }
  ManualClock clock{kStart};
  std::vector<std::string> lines;
};

TEST(RepeatLimiter, PrintsTheBurstThenCountsUntilTheWindowEnds) {
  ManualClock clock(kStart);
  RepeatLimiter limiter(clock, 10 * kMicrosPerSecond, 2);
  struct Step {
    Micros advance;
    const char* key;
    bool print;
    int64_t suppressed;
  };
  const std::vector<Step> steps = {
      {0, "a", true, 0},                       // window of a starts
      {kMicrosPerSecond, "a", true, 0},        // second of the burst
      {kMicrosPerSecond, "a", false, 0},       // suppressed
      {0, "b", true, 0},                       // another key is not limited by a
      {kMicrosPerSecond, "a", false, 0},       // suppressed
      {7 * kMicrosPerSecond, "a", true, 2},    // 10 s after a's first line: new window, carries the count
      {kMicrosPerSecond, "a", true, 0},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    clock.Advance(steps[i].advance);
    auto v = limiter.Admit(steps[i].key);
    EXPECT_EQ(steps[i].print, v.print) << "step " << i;
    EXPECT_EQ(steps[i].suppressed, v.suppressed) << "step " << i;
  }
}

TEST(RepeatLimiter, ReportsSuppressedCountsOnceTheWindowIsOver) {
  ManualClock clock(kStart);
  RepeatLimiter limiter(clock, 10 * kMicrosPerSecond, 1);
  for (int i = 0; i < 5; ++i) limiter.Admit("disk full");
  EXPECT_TRUE(limiter.TakeSuppressed().empty()) << "the window is not over yet";
  clock.Advance(10 * kMicrosPerSecond);
  auto taken = limiter.TakeSuppressed();
  ASSERT_EQ(1u, taken.size());
  EXPECT_EQ("disk full", taken[0].first);
  EXPECT_EQ(4, taken[0].second);
  EXPECT_TRUE(limiter.TakeSuppressed().empty()) << "reported once";
  EXPECT_EQ(0, limiter.Admit("disk full").suppressed) << "already reported, not carried again";
}

TEST(RepeatLimiter, AllTakesCountsBeforeTheWindowEnds) {
  ManualClock clock(kStart);
  RepeatLimiter limiter(clock, 10 * kMicrosPerSecond, 1);
  for (int i = 0; i < 3; ++i) limiter.Admit("k");
  auto taken = limiter.TakeSuppressed(true);
  ASSERT_EQ(1u, taken.size());
  EXPECT_EQ(2, taken[0].second);
}

TEST_F(LogRepeatTest, AThousandRefusalsCostTheBurstAndOneCountLine) {
  for (int i = 0; i < 1000; ++i) Log::Error("spool write failed", {{"error", "No space left on device"}});
  EXPECT_EQ(3u, lines.size());
  clock.Advance(10 * kMicrosPerSecond);
  Log::Info("store available again");  // any later line prints the count
  ASSERT_EQ(5u, lines.size());
  EXPECT_NE(std::string::npos, lines[3].find("level=error")) << lines[3];
  EXPECT_NE(std::string::npos, lines[3].find("msg=\"spool write failed\" suppressed=997 window_s=10")) << lines[3];
  EXPECT_NE(std::string::npos, lines[4].find("store available again"));
}

TEST_F(LogRepeatTest, AnExpiredCountIsPrintedBeforeTheNextLine) {
  for (int i = 0; i < 5; ++i) Log::Warn("store unavailable, spooling", {{"error", "disk I/O error"}});
  clock.Advance(10 * kMicrosPerSecond);
  lines.clear();
  // The sweep runs first (once a second at most) and reports the count on
  // its own line; so the repeated key's next line starts a clean window.
  Log::Warn("store unavailable, spooling", {{"error", "disk I/O error"}});
  ASSERT_EQ(2u, lines.size());
  EXPECT_NE(std::string::npos, lines[0].find("suppressed=2 window_s=10")) << lines[0];
  EXPECT_EQ(std::string::npos, lines[1].find("suppressed=")) << lines[1];
}

TEST_F(LogRepeatTest, CountWithinASweepSecondGoesOnTheLineItself) {
  Log::Info("other");                    // sweeps at t0; the next sweep is due at t0+1s
  for (int i = 0; i < 4; ++i) Log::Warn("w");  // 3 printed, 1 suppressed
  clock.Advance(9 * kMicrosPerSecond + kMicrosPerSecond / 2);
  Log::Warn("w");  // sweeps (window not over: nothing); suppressed, 2 now; next sweep at t0+10.5s
  clock.Advance(kMicrosPerSecond / 2);
  lines.clear();
  Log::Warn("w", {{"k", "v"}});  // t0+10s: no sweep due, the window is over: printed with the count
  ASSERT_EQ(1u, lines.size());
  EXPECT_NE(std::string::npos, lines[0].find("msg=w k=v suppressed=2")) << lines[0];
}

TEST_F(LogRepeatTest, KeysAreLevelAndMessageNotFields) {
  for (int i = 0; i < 5; ++i) Log::Error("spool write failed", {{"file", std::to_string(i)}});
  for (int i = 0; i < 5; ++i) Log::Warn("spool write failed", {{"file", std::to_string(i)}});
  EXPECT_EQ(3, Count(lines, "level=error"));
  EXPECT_EQ(3, Count(lines, "level=warn"));
}

TEST_F(LogRepeatTest, DebugLinesAreNeverSuppressed) {
  for (int i = 0; i < 50; ++i) Log::Debug("spool batch flushed");
  EXPECT_EQ(50u, lines.size());
}

TEST_F(LogRepeatTest, UnlimitedLinesAreNeverSuppressed) {
  for (int i = 0; i < 50; ++i) Log::Unlimited(LogLevel::kInfo, "request refused", {{"path", std::to_string(i)}});
  EXPECT_EQ(50u, lines.size());
}

TEST_F(LogRepeatTest, FlushSuppressedReportsOpenWindows) {
  for (int i = 0; i < 10; ++i) Log::Error("e");
  Log::FlushSuppressed();
  ASSERT_EQ(4u, lines.size());
  EXPECT_NE(std::string::npos, lines[3].find("suppressed=7")) << lines[3];
}

}  // namespace
}  // namespace courier
