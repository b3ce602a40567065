// Option layering: defaults < config file < COURIER_* environment < flags.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "config/options.h"

using namespace courier;

namespace {

struct FakeEnv {
  std::map<std::string, std::string> vars;
  GetEnv Get() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

std::string WriteConfig(const std::string& text) {
  char path[] = "/tmp/courier-options-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::ofstream(path) << text;
  close(fd);
  return path;
}

Result<Options> LoadWith(std::vector<std::string> args, const FakeEnv& env,
                         const std::vector<std::string>& tool_flags = {"port", "address", "max_workers"}) {
  CLI::App app{"test"};
  OptionLoader loader(app, tool_flags);
  args.insert(args.begin(), "test");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return loader.Load(env.Get());
}

}  // namespace

TEST(OptionsTest, DefaultsWhenNothingIsGiven) {
  FakeEnv env;
  auto o = LoadWith({}, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->db, "var/courier.db");
  EXPECT_EQ(o->spool_dir, "var/spool");
  EXPECT_EQ(o->port, 8080);
  EXPECT_EQ(o->address, "127.0.0.1");
  EXPECT_EQ(o->max_workers, 32);
  EXPECT_EQ(o->max_body_bytes, 1 << 20);
  EXPECT_EQ(o->EffectiveBaseUrl(), "http://127.0.0.1:8080");
}

TEST(OptionsTest, EachLayerWinsInTurn) {
  std::string file = WriteConfig("port = 9001\ndb = \"file.db\"\nspool_dir = \"file-spool\"\nmax_workers = 7\n");
  FakeEnv env;
  env.vars["COURIER_DB"] = "env.db";
  env.vars["COURIER_SPOOL_DIR"] = "env-spool";

  auto o = LoadWith({"--config", file, "--spool-dir", "flag-spool"}, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->port, 9001);              // file over default
  EXPECT_EQ(o->max_workers, 7);          // file over default
  EXPECT_EQ(o->db, "env.db");            // env over file
  EXPECT_EQ(o->spool_dir, "flag-spool"); // flag over env and file
  EXPECT_EQ(o->run_dir, "var/run");      // default where nobody spoke
  EXPECT_EQ(o->config, file);
  std::remove(file.c_str());
}

TEST(OptionsTest, ConfigFileFromEnvironmentAndCourierSection) {
  std::string file = WriteConfig("[courier]\nlog_level = \"debug\"\ninclude_channels = [\"KN\", \"TG\"]\n");
  FakeEnv env;
  env.vars["COURIER_CONFIG"] = file;
  auto o = LoadWith({}, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->include_channels, (std::vector<std::string>{"KN", "TG"}));
  std::remove(file.c_str());
}

TEST(OptionsTest, EnvironmentListsAreCommaSeparated) {
  FakeEnv env;
  env.vars["COURIER_EXCLUDE_CHANNELS"] = "TW, T";
  auto o = LoadWith({}, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->exclude_channels, (std::vector<std::string>{"TW", "T"}));
}

TEST(OptionsTest, BadValuesNameTheirLayer) {
  FakeEnv env;
  env.vars["COURIER_PORT"] = "eighty";
  auto o = LoadWith({}, env);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), Status::Code::kUsage);
  EXPECT_NE(o.status().message().find("COURIER_PORT"), std::string::npos);

  FakeEnv clean;
  auto flag = LoadWith({"--port", "70000"}, clean);
  ASSERT_FALSE(flag.ok());
  EXPECT_NE(flag.status().message().find("port"), std::string::npos);

  auto level = LoadWith({"--log-level", "loud"}, clean);
  ASSERT_FALSE(level.ok());
  EXPECT_NE(level.status().message().find("log_level"), std::string::npos);
}

TEST(OptionsTest, UnknownKeyInFileIsAnError) {
  std::string file = WriteConfig("prot = 80\n");
  FakeEnv env;
  auto o = LoadWith({"--config", file}, env);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("unknown option 'prot'"), std::string::npos);
  std::remove(file.c_str());
}

TEST(OptionsTest, MissingConfigFileIsAnError) {
  FakeEnv env;
  auto o = LoadWith({"--config", "/nonexistent/courier.toml"}, env);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("cannot be read"), std::string::npos);
}

TEST(OptionsTest, ToolFlagsAreOnlyThoseAsked) {
  CLI::App app{"test"};
  OptionLoader loader(app, {});
  std::vector<std::string> args = {"test", "--port", "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_THROW(app.parse(static_cast<int>(argv.size()), argv.data()), CLI::ParseError);
}

TEST(OptionsTest, DescribeListsEveryOption) {
  Options o;
  std::string text = OptionLoader::Describe(o);
  for (const auto& name : OptionNames()) EXPECT_NE(text.find(name + " = "), std::string::npos) << name;
}
