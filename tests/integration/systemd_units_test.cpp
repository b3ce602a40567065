// contrib/systemd: one unit per daemon, each accepted by systemd's own
// checker (systemd-analyze verify: syntax, unknown keys, an ExecStart that
// exists and is executable) with its install paths pointed at this build,
// and its command line one the program accepts. supervisord.conf has a
// program for each daemon too (supervisor_test runs it).
#include <gtest/gtest.h>

#include <unistd.h>

#include <regex>

#include "harness.h"

using namespace courier::testing;

namespace {

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

TEST(SystemdUnitsTest, EveryDaemonHasAUnitSystemdAcceptsAndSupervisordRuns) {
  if (::access("/usr/bin/systemd-analyze", X_OK) != 0) GTEST_SKIP() << "systemd-analyze is not installed";
  const std::string supervisord = ReadFile(std::string(COURIER_SOURCE_DIR) + "/contrib/supervisord.conf");
  for (const std::string daemon : {"courier-recv", "courier-send", "courier-flush", "courier-hook", "courier-api",
                                   "courier-fetch"}) {
    SCOPED_TRACE(daemon);
    EXPECT_NE(supervisord.find("[program:" + daemon + "]"), std::string::npos);
    const std::string unit = ReadFile(std::string(COURIER_SOURCE_DIR) + "/contrib/systemd/" + daemon + ".service");
    ASSERT_FALSE(unit.empty());
    EXPECT_NE(unit.find("Documentation=man:" + daemon + "("), std::string::npos);
    TempDir dir;
    WriteFile(dir.File("courier.toml"), "db = \"" + dir.File("courier.db") + "\"\n");
    std::string local = ReplaceAll(unit, "/usr/local/bin", COURIER_BIN_DIR);
    local = ReplaceAll(local, "/etc/courier", dir.path());
    WriteFile(dir.File(daemon + ".service"), local);
    auto verified = RunProgram({"/usr/bin/systemd-analyze", "verify", "--man=no", dir.File(daemon + ".service")});
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_EQ(verified.err, "") << "systemd-analyze verify warns";
    // The unit's command line, as the program reads it.
    std::smatch exec;
    ASSERT_TRUE(std::regex_search(local, exec, std::regex("ExecStart=(\\S+) --config (\\S+)")));
    auto printed = RunProgram({exec[1].str(), "--config", exec[2].str(), "--print-config"});
    EXPECT_EQ(printed.exit_code, 0) << printed.err;
    EXPECT_NE(printed.out.find(dir.File("courier.db")), std::string::npos) << printed.out;
  }
}

}  // namespace
