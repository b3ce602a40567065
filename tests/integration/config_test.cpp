// The config file through the real programs: the shipped example loads, a
// broken file stops every tool with 64 and the line at fault before it
// does anything, and --print-config's output reads back to itself.
#include <gtest/gtest.h>

#include <unistd.h>

#include <regex>

#include "harness.h"

using namespace courier::testing;

namespace {

std::string Example() { return std::string(COURIER_SOURCE_DIR) + "/contrib/courier.toml.example"; }

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST(ConfigTest, ShippedExampleLoads) {
  auto r = RunProgram({Bin("courier-ctl"), "--config", Example(), "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("db = \"/var/lib/courier/courier.db\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("base_url = \"https://courier.example.org\"\n"), std::string::npos) << r.out;
}

TEST(ConfigTest, ShippedExampleNamesEveryOptionAndItsDefault) {
  // The defaults themselves: not the harness's loopback allow-list.
  auto defaults = RunProgram({Bin("courier-ctl"), "--print-config"}, "", {{"COURIER_OUTBOUND_ALLOW", ""}});
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  std::string example = ReadFile(Example());
  // Every option is there, set or commented out.
  for (const auto& line : Lines(defaults.out)) {
    std::string key = line.substr(0, line.find(" = "));
    EXPECT_TRUE(std::regex_search(example, std::regex("(^|\n)(# )?" + key + " +="))) << key;
  }
  // A commented-out one shows its default, as --print-config writes it.
  std::regex commented("(^|\n)# ([a-z_]+ = [^#\n]*[^#\n ])");
  int count = 0;
  for (std::sregex_iterator it(example.begin(), example.end(), commented), end; it != end; ++it, ++count)
    EXPECT_NE(defaults.out.find((*it)[2].str() + "\n"), std::string::npos) << (*it)[2];
  EXPECT_GE(count, 10);
}

TEST(ConfigTest, BrokenFileStopsEveryToolBeforeItStarts) {
  TempDir dir;
  std::string a = dir.File("a.db"), b = dir.File("b.db");
  WriteFile(dir.File("bad.toml"), "# two stores\ndb = \"" + a + "\"\ndb = \"" + b + "\"\n");
  std::string expected_tail = ": config file '" + dir.File("bad.toml") + "', line 3: repeated key 'db' (first set on line 2)\n";
  std::map<std::string, std::string> env = {{"COURIER_SPOOL_DIR", dir.File("spool")},
                                            {"COURIER_RUN_DIR", dir.File("run")},
                                            {"COURIER_PORT", std::to_string(FreePort())}};
  struct Case {
    std::vector<std::string> argv;
  };
  const Case cases[] = {
      {{"courier-ctl", "init"}},       {{"courier-ctl", "status"}}, {{"courier-recv"}},
      {{"courier-send"}},              {{"courier-flush", "--once"}}, {{"courier-hook"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.argv[0] + (c.argv.size() > 1 ? " " + c.argv[1] : ""));
    // (timeout: a daemon that did start would otherwise run on.)
    std::vector<std::string> argv = {"/usr/bin/timeout", "20", Bin(c.argv[0]), "--config", dir.File("bad.toml")};
    argv.insert(argv.end(), c.argv.begin() + 1, c.argv.end());
    auto r = RunProgram(argv, "", env);
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_EQ(r.err, c.argv[0] + expected_tail);
    EXPECT_EQ(r.out, "");
  }
  // Nothing was made from the values nobody meant: no "a.db,b.db", no store.
  EXPECT_FALSE(Exists(a));
  EXPECT_FALSE(Exists(b));
  EXPECT_FALSE(Exists(a + "," + b));
  EXPECT_FALSE(Exists(dir.File("spool")));
}

TEST(ConfigTest, PrintConfigReadsBackThroughEachTool) {
  TempDir dir;
  std::map<std::string, std::string> env = {
      {"COURIER_DB", dir.File("a \"quoted\" #hash\\back ✓.db")},
      {"COURIER_BASE_URL", "https://example.com/x?y=#z"},
      {"COURIER_INCLUDE_CHANNELS", "KN,TG"},
      {"COURIER_MAX_WORKERS", "7"},
  };
  for (const char* tool : {"courier-ctl", "courier-recv", "courier-send", "courier-flush", "courier-hook"}) {
    SCOPED_TRACE(tool);
    auto first = RunProgram({Bin(tool), "--print-config"}, "", env);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    WriteFile(dir.File("printed.toml"), first.out);
    auto again = RunProgram({Bin(tool), "--config", dir.File("printed.toml"), "--print-config"});
    ASSERT_EQ(again.exit_code, 0) << again.err << first.out;
    EXPECT_EQ(again.out, first.out);
    EXPECT_NE(first.out.find("max_workers = 7\n"), std::string::npos) << first.out;
  }
}
