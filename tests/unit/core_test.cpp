// Small core value types: clock and RFC 3339, UUIDs, msg helpers, channel
// config secrets.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/channel.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/uuid.h"

namespace courier {
namespace {

// ---------------------------------------------------------------- clock

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

// ---------------------------------------------------------------- uuid

bool LooksLikeV7(const std::string& u) {
  if (u.size() != 36) return false;
  for (size_t i = 0; i < u.size(); ++i) {
    char c = u[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return u[14] == '7' && std::string("89ab").find(u[19]) != std::string::npos;
}

TEST(CoreUuid, NewIsV7LowerCase) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUUID();
    ASSERT_TRUE(LooksLikeV7(u)) << u;
    EXPECT_EQ(u, NormalizeUUID(u));
    seen.insert(u);
  }
  EXPECT_EQ(1000u, seen.size());
}

TEST(CoreUuid, RandomIsV4) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewRandomUUID();
    ASSERT_EQ(u[14], '4') << u;
    ASSERT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    seen.insert(u.substr(0, 8));
  }
  EXPECT_GT(seen.size(), 990u);  // the leading digits tell them apart
}

TEST(CoreUuid, NewSortsByCreationTime) {
  std::string first = NewUUID();
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  std::string second = NewUUID();
  EXPECT_LT(first, second);
  // The leading 48 bits are the Unix time in milliseconds.
  auto ms_of = [](const std::string& u) {
    return std::stoull(u.substr(0, 8) + u.substr(9, 4), nullptr, 16);
  };
  const auto now_ms = static_cast<unsigned long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  EXPECT_LE(ms_of(second), now_ms);
  EXPECT_GT(ms_of(second) + 10000, now_ms);
}

TEST(CoreUuid, NewIsThreadSafe) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 500; ++i) out.push_back(NewUUID());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : per_thread) {
    for (const auto& u : v) {
      EXPECT_TRUE(LooksLikeV7(u)) << u;
      all.insert(u);
    }
  }
  EXPECT_EQ(2000u, all.size());
}

TEST(CoreUuid, Normalize) {
  EXPECT_EQ("8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
            NormalizeUUID("8eb23e93-5ecb-45ba-b726-3b064e0c56ab"));
  EXPECT_EQ("8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
            NormalizeUUID("8EB23E93-5ECB-45BA-B726-3B064E0C56AB"));
  // Any version passes: only the textual form is checked.
  EXPECT_EQ("00000000-0000-0000-0000-000000000000",
            NormalizeUUID("00000000-0000-0000-0000-000000000000"));
  const char* bad[] = {
      "",
      "8eb23e93",
      "8eb23e935ecb45bab7263b064e0c56ab",        // no dashes
      "8eb23e93-5ecb-45ba-b726-3b064e0c56a",     // short
      "8eb23e93-5ecb-45ba-b726-3b064e0c56abc",   // long
      "8eb23e93-5ecb-45ba-b7263-b064e0c56ab",    // dash misplaced
      "8eb23e93_5ecb_45ba_b726_3b064e0c56ab",
      "8eb23e93-5ecb-45ba-b726-3b064e0c56ag",    // non-hex
      "{8eb23e93-5ecb-45ba-b726-3b064e0c56ab}",
      " 8eb23e93-5ecb-45ba-b726-3b064e0c56ab",
      "8eb23e93-5ecb-45ba-b726-3b064e0c56a ",
  };
  for (const char* b : bad) EXPECT_FALSE(NormalizeUUID(b).has_value()) << "'" << b << "'";
}

// ---------------------------------------------------------------- msg

TEST(CoreMsg, SplitAttachment) {
  EXPECT_EQ(std::make_pair(std::string("image/jpeg"), std::string("https://x/y.jpg")),
            SplitAttachment("image/jpeg:https://x/y.jpg"));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("noscheme")), SplitAttachment("noscheme"));
  // Untyped bare URL splits at its scheme (the reference's behaviour).
  EXPECT_EQ(std::make_pair(std::string("https"), std::string("//host/a.png")),
            SplitAttachment("https://host/a.png"));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("")), SplitAttachment(""));
  EXPECT_EQ(std::make_pair(std::string(""), std::string("https://x")),
            SplitAttachment(":https://x"));
}

TEST(CoreMsg, TextAndAttachments) {
  Msg m;
  m.text = "hello";
  EXPECT_EQ("hello", TextAndAttachments(m));
  m.attachments = {"image/jpeg:https://x/a.jpg", "audio/mp3:https://x/b.mp3"};
  EXPECT_EQ("hello\nhttps://x/a.jpg\nhttps://x/b.mp3", TextAndAttachments(m));
  m.text = "";
  EXPECT_EQ("\nhttps://x/a.jpg\nhttps://x/b.mp3", TextAndAttachments(m));
  m.attachments.clear();
  EXPECT_EQ("", TextAndAttachments(m));
}

TEST(CoreMsg, CleanIncomingText) {
  EXPECT_EQ("hello world", CleanIncomingText("hello world"));
  EXPECT_EQ("tab\tlf\ncr\r", CleanIncomingText("tab\tlf\ncr\r"));
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  EXPECT_EQ("\t\n\r", CleanIncomingText(all_controls));
  EXPECT_EQ("ab", CleanIncomingText(std::string("a\0b", 3)));
  EXPECT_EQ("ab", CleanIncomingText("a\x0b\x0c\x1f" "b"));
  EXPECT_EQ("a\x7f" "b", CleanIncomingText("a\x7f" "b"));  // DEL is not stripped
  // Multi-byte UTF-8 passes through intact around stripped bytes.
  EXPECT_EQ("caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac",
            CleanIncomingText("caf\xc3\xa9\x01 \xf0\x9f\x98\x80\x02 \xe2\x82\xac\x1b"));
  EXPECT_EQ("", CleanIncomingText(""));
}

TEST(CoreMsg, DirectionAndPriority) {
  EXPECT_STREQ("in", DirectionName(Direction::kIn));
  EXPECT_STREQ("out", DirectionName(Direction::kOut));
  EXPECT_STREQ("bulk", PriorityName(Priority::kBulk));
  EXPECT_STREQ("high", PriorityName(Priority::kHigh));
  EXPECT_EQ(Priority::kHigh, ParsePriority("high"));
  EXPECT_EQ(Priority::kBulk, ParsePriority("bulk"));
  EXPECT_EQ(Priority::kHigh, ParsePriority("normal"));
  EXPECT_EQ(Priority::kHigh, ParsePriority("default"));
  EXPECT_EQ(Priority::kBulk, ParsePriority("BULK"));
  EXPECT_FALSE(ParsePriority("").has_value());
  EXPECT_FALSE(ParsePriority("low").has_value());
  EXPECT_FALSE(ParsePriority("1").has_value());

  Msg m;  // defaults
  EXPECT_EQ(Direction::kIn, m.direction);
  EXPECT_EQ(MsgStatus::kPending, m.status);
  EXPECT_EQ(Priority::kHigh, m.priority);
}

// ---------------------------------------------------------------- channel

TEST(CoreChannel, ConfigOr) {
  Channel c;
  c.config = {{"send_url", "https://example.com/send"}, {"empty", ""}};
  EXPECT_EQ("https://example.com/send", c.ConfigOr(config_keys::kSendUrl));
  EXPECT_EQ("https://example.com/send", c.ConfigOr("send_url", "fallback"));
  EXPECT_EQ("fallback", c.ConfigOr("empty", "fallback"));
  EXPECT_EQ("fallback", c.ConfigOr("missing", "fallback"));
  EXPECT_EQ("", c.ConfigOr("missing"));
}

TEST(CoreChannel, IsSecretConfigKey) {
  for (const char* k : {"auth_token", "password", "api_key", "secret", "key", "AUTH_TOKEN",
                        "Api_Key", "access_token", "app_secret", "private_key", "webhook_secret",
                        "bot_token", "ACCOUNT_TOKEN", "encoding_key", "PASSWORD", "FCM_CREDENTIALS_JSON",
                        "credentials"}) {
    EXPECT_TRUE(IsSecretConfigKey(k)) << k;
  }
  for (const char* k : {"send_url", "base_url", "SEND_URL", "username", "send_body", "send_method",
                        "content_type", "use_national", "encoding", "verify_ssl", "ACCOUNT_SID",
                        "messaging_service_sid", ""}) {
    EXPECT_FALSE(IsSecretConfigKey(k)) << k;
  }
}

TEST(CoreChannel, SecretValues) {
  Channel c;
  c.config = {
      {"auth_token", "tok-123"},       {"password", "hunter2"},
      {"api_key", ""},                 {"username", "admin"},
      {"send_url", "https://x/send"},  {"webhook_secret", "s3cr3t"},
      {"base_url", "https://x"},
  };
  std::vector<std::string> got = c.SecretValues();
  std::sort(got.begin(), got.end());
  EXPECT_EQ((std::vector<std::string>{"hunter2", "s3cr3t", "tok-123"}), got);

  Channel none;
  none.config = {{"username", "admin"}};
  EXPECT_TRUE(none.SecretValues().empty());
}

}  // namespace
}  // namespace courier

#include "handlers/channel_types.h"
#include "handlers/registry.h"

// `channel add` validates against ChannelTypes(); courier-recv and
// courier-send serve what the registry holds: the two lists must agree.
TEST(ChannelTypesTest, EveryRegisteredHandlerHasATypeEntryAndBack) {
  auto registry = courier::HandlerRegistry::Build();
  for (const auto& h : registry.handlers()) EXPECT_NE(courier::FindChannelType(h->Code()), nullptr) << h->Code();
  for (const auto& t : courier::ChannelTypes()) EXPECT_NE(registry.Find(t.code), nullptr) << t.code;
}

#include <atomic>
#include <mutex>

#include "core/parallel_for.h"

TEST(ParallelForTest, RunsEveryIndexOnceOnUpToTheThreadsAsked) {
  for (size_t n : {0u, 1u, 3u, 64u}) {
    std::vector<std::atomic<int>> runs(n);
    std::mutex mu;
    std::set<std::thread::id> threads;
    courier::ParallelFor(n, 4, [&](size_t i) {
      runs[i]++;
      std::lock_guard<std::mutex> lock(mu);
      threads.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "n=" << n << " i=" << i;
    EXPECT_EQ(threads.size(), std::min<size_t>(n, 4)) << "n=" << n;
  }
  // Zero threads asked means the caller's alone.
  int sum = 0;
  courier::ParallelFor(10, 0, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum, 45);
}

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

// When no thread can be started, ParallelFor runs everything on the
// caller's thread. In a child process where a seccomp filter makes
// clone fail with EAGAIN, as a process limit would.
TEST(ParallelForTest, WithoutThreadsTheCallerDoesAllOfIt) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_filter no_threads[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAGAIN & SECCOMP_RET_DATA)),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof no_threads / sizeof no_threads[0]), no_threads};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
      _exit(2);
    std::vector<int> runs(64, 0);
    std::set<std::thread::id> threads;
    courier::ParallelFor(runs.size(), 4, [&](size_t i) {
      runs[i]++;
      threads.insert(std::this_thread::get_id());
    });
    for (int r : runs)
      if (r != 1) _exit(3);
    _exit(threads.size() == 1 && *threads.begin() == std::this_thread::get_id() ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died (an exception escaped?)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: no seccomp, 3: an index not run once, 4: ran on other threads";
}
