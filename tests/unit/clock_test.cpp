// Clock: RFC 3339 formatting and parsing, the system and manual clocks.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>

#include <chrono>
#include <string>
#include <thread>

#include "core/clock.h"

namespace courier {
namespace {

// 2017-07-04T10:32:11Z
constexpr Micros kJuly4 = 1499164331LL * kMicrosPerSecond;

TEST(CoreClock, FormatAlwaysHasSixFractionDigitsAndZ) {
  EXPECT_EQ("1970-01-01T00:00:00.000000Z", FormatRfc3339(0));
  EXPECT_EQ("2017-07-04T10:32:11.000000Z", FormatRfc3339(kJuly4));
  EXPECT_EQ("2017-07-04T10:32:11.123456Z", FormatRfc3339(kJuly4 + 123456));
  EXPECT_EQ("2017-07-04T10:32:11.000001Z", FormatRfc3339(kJuly4 + 1));
  EXPECT_EQ("2000-02-29T23:59:59.999999Z", FormatRfc3339(951868799LL * kMicrosPerSecond + 999999));
  // Before the epoch the fraction still counts forward from the second.
  EXPECT_EQ("1969-12-31T23:59:59.500000Z", FormatRfc3339(-500000));
}

TEST(CoreClock, ParseCases) {
  struct Case {
    const char* text;
    Micros want;
  };
  const Case cases[] = {
      {"2017-07-04T10:32:11Z", kJuly4},
      {"2017-07-04t10:32:11z", kJuly4},
      {"2017-07-04T10:32:11.1Z", kJuly4 + 100000},
      {"2017-07-04T10:32:11.12Z", kJuly4 + 120000},
      {"2017-07-04T10:32:11.123456Z", kJuly4 + 123456},
      {"2017-07-04T10:32:11.1234567Z", kJuly4 + 123456},    // truncated, not rounded
      {"2017-07-04T10:32:11.123456789Z", kJuly4 + 123456},  // nanoseconds
      {"2017-07-04T10:32:11.999999999Z", kJuly4 + 999999},
      {"2017-07-04T12:32:11+02:00", kJuly4},
      {"2017-07-04T05:02:11-05:30", kJuly4},
      {"2017-07-04T10:32:11+00:00", kJuly4},
      {"2017-07-04T10:32:11-00:00", kJuly4},
      {"2017-07-05T01:32:11.5+15:00", kJuly4 + 500000},
      {"2017-07-03T23:32:11-11:00", kJuly4},
      {"1970-01-01T00:00:00Z", 0},
      {"2000-02-29T23:59:59.999999Z", 951868799LL * kMicrosPerSecond + 999999},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::optional<Micros> got = ParseRfc3339(c.text);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(c.want, *got);
  }
}

TEST(CoreClock, ParseRejectsGarbage) {
  const char* cases[] = {
      "",
      "garbage",
      "2017-07-04",
      "2017-07-04T10:32:11",          // no zone
      "2017-07-04 10:32:11Z",         // space separator
      "2017-07-04T10:32Z",            // no seconds
      "2017-07-04T10:32:11.Z",        // empty fraction
      "2017-07-04T10:32:11.1234567890Z",  // 10 fraction digits
      "2017-07-04T10:32:11+0200",     // offset without colon
      "2017-07-04T10:32:11+02",
      "2017-07-04T10:32:11+24:00",
      "2017-07-04T10:32:11+02:60",
      "2017-07-04T10:32:11ZZ",
      "2017-07-04T10:32:11Z ",
      " 2017-07-04T10:32:11Z",
      "2017-13-04T10:32:11Z",
      "2017-00-04T10:32:11Z",
      "2017-02-29T10:32:11Z",         // not a leap year
      "2017-04-31T10:32:11Z",
      "2017-07-00T10:32:11Z",
      "2017-07-04T24:00:00Z",
      "2017-07-04T10:60:11Z",
      "2017-07-04T10:32:61Z",
      "17-07-04T10:32:11Z",
      "2017-7-4T10:32:11Z",
      "2017/07/04T10:32:11Z",
      "2017-07-04T10:32:1aZ",
      "+017-07-04T10:32:11Z",
  };
  for (const char* c : cases) EXPECT_FALSE(ParseRfc3339(c).has_value()) << "'" << c << "'";
}

TEST(CoreClock, Roundtrip) {
  const Micros values[] = {0,
                           1,
                           999999,
                           kJuly4,
                           kJuly4 + 123456,
                           951868799LL * kMicrosPerSecond + 999999,
                           4102444800LL * kMicrosPerSecond - 1,  // 2099-12-31T23:59:59.999999
                           -1,
                           -86400LL * kMicrosPerSecond * 365};
  for (Micros v : values) {
    std::string text = FormatRfc3339(v);
    std::optional<Micros> back = ParseRfc3339(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(v, *back) << text;
  }
}

TEST(CoreClock, FormatAgreesWithGmtimeEverywhere) {
  // Every day from 1600 to 2400 at a second that moves through the day,
  // and each of the last and first seconds around a day's turn.
  for (int64_t days = -135140; days < 157054; days += 1) {
    const int64_t secs = days * 86400 + (days * 7919) % 86400;
    for (int64_t s : {secs, days * 86400, days * 86400 - 1}) {
      std::time_t tt = static_cast<std::time_t>(s);
      std::tm tm{};
      ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
      char want[64];
      std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(days % 1000 < 0 ? 0 : days % 1000));
      ASSERT_EQ(FormatRfc3339(s * kMicrosPerSecond + (days % 1000 < 0 ? 0 : days % 1000)), want) << s;
    }
  }
  // Outside four-digit years the text is still a time, not garbage.
  EXPECT_EQ(FormatRfc3339(253402300800LL * kMicrosPerSecond), "10000-01-01T00:00:00.000000Z");
}

TEST(CoreClock, SystemClockIsNowAndManualClockMoves) {
  Micros before = Clock::System().Now();
  // Sanity: after 2020-01-01 and before 2100-01-01.
  EXPECT_GT(before, 1577836800LL * kMicrosPerSecond);
  EXPECT_LT(before, 4102444800LL * kMicrosPerSecond);
  EXPECT_LE(before, Clock::System().Now());
  EXPECT_EQ(&Clock::System(), &Clock::System());

  ManualClock m(kJuly4);
  EXPECT_EQ(kJuly4, m.Now());
  m.Advance(5 * kMicrosPerSecond);
  EXPECT_EQ("2017-07-04T10:32:16.000000Z", FormatRfc3339(m.Now()));
  m.Set(0);
  EXPECT_EQ(0, m.Now());
}

}  // namespace
}  // namespace courier
