// Option layering: defaults < config file < COURIER_* environment < flags;
// the strict config file reader; --print-config's round trip.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

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

// A config file that is removed when the test ends.
class ConfigFile {
 public:
  explicit ConfigFile(const std::string& text) {
    char path[] = "/tmp/courier-options-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    close(fd);
    path_ = path;
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~ConfigFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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

Result<Options> LoadFile(const std::string& text) {
  ConfigFile file(text);
  return LoadWith({"--config", file.path()}, FakeEnv());
}

// Every field of Options but `config`, for comparing two whole option sets.
auto Settings(const Options& o) {
  return std::tie(o.db, o.spool_dir, o.run_dir, o.log_level, o.spool_reserve_mb, o.store_group, o.address, o.port,
                  o.base_url, o.max_body_bytes, o.channel_cache_ttl, o.spool_backlog_limit, o.health_min_free_mb,
                  o.include_channels, o.exclude_channels,
                  o.request_read_timeout, o.max_connections, o.max_connections_per_ip, o.duplicate_window,
                  o.max_workers, o.max_retries, o.retry_backoff, o.send_grace, o.heartbeat_timeout, o.host_name, o.http_timeout,
                  o.http_deadline, o.outbound_allow, o.outbound_ca_file, o.flush_interval, o.retain_logs_days,
                  o.retain_events_days, o.retain_msgs_days, o.hook_poll_interval, o.hook_timeout, o.api_address,
                  o.api_port, o.api_max_body_bytes, o.api_workers, o.api_max_long_polls, o.api_idempotency_hours,
                  o.fetch_workers, o.media_dir, o.media_url, o.media_max_mb, o.media_refused_types,
                  o.media_fetch_timeout, o.media_retry_backoff, o.media_max_attempts);
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
  EXPECT_EQ(o->media_dir, "var/media");
  EXPECT_EQ(o->EffectiveMediaUrl(), "http://127.0.0.1:8082/media");
}

TEST(OptionsTest, EachLayerWinsInTurn) {
  ConfigFile file("port = 9001\ndb = \"file.db\"\nspool_dir = \"file-spool\"\nmax_workers = 7\n");
  FakeEnv env;
  env.vars["COURIER_DB"] = "env.db";
  env.vars["COURIER_SPOOL_DIR"] = "env-spool";

  auto o = LoadWith({"--config", file.path(), "--spool-dir", "flag-spool"}, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->port, 9001);              // file over default
  EXPECT_EQ(o->max_workers, 7);          // file over default
  EXPECT_EQ(o->db, "env.db");            // env over file
  EXPECT_EQ(o->spool_dir, "flag-spool"); // flag over env and file
  EXPECT_EQ(o->run_dir, "var/run");      // default where nobody spoke
  EXPECT_EQ(o->config, file.path());
}

TEST(OptionsTest, ConfigFileFromEnvironmentAndCourierSection) {
  ConfigFile file("[courier]\nlog_level = \"debug\"\ninclude_channels = [\"KN\", \"TG\"]\n");
  FakeEnv env;
  env.vars["COURIER_CONFIG"] = file.path();
  auto o = LoadWith({}, env);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->include_channels, (std::vector<std::string>{"KN", "TG"}));
}

TEST(OptionsTest, EnvironmentListsAreCommaSeparated) {
  FakeEnv env;
  env.vars["COURIER_EXCLUDE_CHANNELS"] = "TW, T";
  auto o = LoadWith({}, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->exclude_channels, (std::vector<std::string>{"TW", "T"}));
}

// Files the strict reader takes, and what they set.
TEST(OptionsTest, GoodFiles) {
  struct Case {
    const char* name;
    const char* text;
    std::function<void(const Options&)> check;
  };
  const Case cases[] = {
      {"empty file", "", [](const Options& o) { EXPECT_EQ(o.port, 8080); }},
      {"comments and blank lines", "# a comment\n\n  # another\nport = 1 # after\n",
       [](const Options& o) { EXPECT_EQ(o.port, 1); }},
      {"# inside a string is text", "db = \"a#b.db\" # comment\n", [](const Options& o) { EXPECT_EQ(o.db, "a#b.db"); }},
      {"literal string", "db = 'C:\\dir\\x.db'\n", [](const Options& o) { EXPECT_EQ(o.db, "C:\\dir\\x.db"); }},
      {"escapes and unicode", "db = \"caf\\u00e9 \\\"q\\\" \\\\ ✓\"\n",
       [](const Options& o) { EXPECT_EQ(o.db, "café \"q\" \\ ✓"); }},
      {"keys under [courier]", "[courier]\nport = 2\ndb = \"c.db\"\n", [](const Options& o) {
         EXPECT_EQ(o.port, 2);
         EXPECT_EQ(o.db, "c.db");
       }},
      {"flat keys and [courier] together", "db = \"top.db\"\n[courier]\nport = 3\n", [](const Options& o) {
         EXPECT_EQ(o.db, "top.db");
         EXPECT_EQ(o.port, 3);
       }},
      {"dotted key", "courier.port = 4\n", [](const Options& o) { EXPECT_EQ(o.port, 4); }},
      {"multi-line array", "include_channels = [\n  \"KN\",\n  \"TG\",  # trailing comma\n]\n",
       [](const Options& o) { EXPECT_EQ(o.include_channels, (std::vector<std::string>{"KN", "TG"})); }},
      {"empty array", "exclude_channels = []\n", [](const Options& o) { EXPECT_TRUE(o.exclude_channels.empty()); }},
      {"TOML integer forms", "port = 8_081\nmax_body_bytes = 0x100000\n", [](const Options& o) {
         EXPECT_EQ(o.port, 8081);
         EXPECT_EQ(o.max_body_bytes, 1 << 20);
       }},
      {"long beyond int", "max_body_bytes = 4294967296\n",
       [](const Options& o) { EXPECT_EQ(o.max_body_bytes, 4294967296L); }},
      {"ranges' edges", "port = 0\nmax_workers = 4096\nhttp_timeout = 1\n", [](const Options& o) {
         EXPECT_EQ(o.port, 0);
         EXPECT_EQ(o.max_workers, 4096);
         EXPECT_EQ(o.http_timeout, 1);
       }},
      {"outbound allow-list", "outbound_allow = \"127.0.0.0/8, 10.1.2.0/24,::1\"\nhttp_deadline = 5\n",
       [](const Options& o) {
         EXPECT_EQ(o.outbound_allow, "127.0.0.0/8, 10.1.2.0/24,::1");
         EXPECT_EQ(o.http_deadline, 5);
       }},
      {"empty base_url is the default", "base_url = \"\"\n",
       [](const Options& o) { EXPECT_EQ(o.EffectiveBaseUrl(), "http://127.0.0.1:8080"); }},
      {"CRLF line ends", "port = 5\r\ndb = \"d.db\"\r\n", [](const Options& o) {
         EXPECT_EQ(o.port, 5);
         EXPECT_EQ(o.db, "d.db");
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto o = LoadFile(c.text);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    c.check(*o);
  }
}

// Files the strict reader refuses: each is a usage error (exit 64) whose
// message names the file, the line and the key (or table) at fault.
TEST(OptionsTest, BadFilesNameFileLineAndKey) {
  struct Case {
    const char* name;
    const char* text;
    int line;
    const char* expected;  // the message after "config file 'PATH', line N: "
  };
  const Case cases[] = {
      {"repeated key", "db = \"a.db\"\ndb = \"b.db\"\n", 2, "repeated key 'db' (first set on line 1)"},
      {"repeated key, top and [courier]", "port = 1\n[courier]\nport = 2\n", 3,
       "repeated key 'port' (first set on line 1)"},
      {"repeated table", "[courier]\nport = 1\n[courier]\ndb = \"x\"\n", 3, "repeated table [courier]"},
      {"unterminated string", "db = \"a.db\nport = 1\n", 1, "db: unterminated string (a closing quote is missing)"},
      {"unterminated literal string", "port = 1\ndb = 'a.db\n", 2,
       "db: unterminated string (a closing quote is missing)"},
      {"unterminated multi-line string", "port = 1\ndb = \"\"\"a\nb\n", 2,
       "db: unterminated string (a closing quote is missing)"},
      {"text after a value", "db = \"x\" y\n", 1, "db: syntax error at column 10: expected a comment or whitespace, saw 'y'"},
      {"bad escape", "db = \"x\\q\"\n", 1, "db: syntax error at column"},
      {"no value", "port =\n", 1, "port: syntax error at column"},
      {"no equals sign", "\nport 8080\n", 2, "syntax error at column"},
      {"unknown key", "prot = 80\n", 1, "unknown key 'prot'"},
      {"unknown key under [courier]", "[courier]\n\nprot = 80\n", 3, "unknown key 'prot'"},
      {"config is not a key", "config = \"other.toml\"\n", 1, "unknown key 'config'"},
      {"unknown table", "port = 1\n[server]\nport = 2\n", 2, "unknown table [server]"},
      {"unknown table under [courier]", "[courier.extra]\nport = 2\n", 1, "unknown table [courier.extra]"},
      {"array of tables", "[[courier]]\nport = 2\n", 1, "courier: must be a table ([courier]), not an array"},
      {"courier as a value", "courier = 1\n", 1, "courier: must be a table ([courier]), not an integer"},
      {"quoted integer", "port = \"8080\"\n", 1,
       "port: expected an integer, not a string (write port = 8080, without quotes)"},
      {"float for an integer", "port = 8080.0\n", 1, "port: expected an integer, not a float"},
      {"boolean for an integer", "max_workers = true\n", 1, "max_workers: expected an integer, not a boolean"},
      {"integer for a string", "address = 127\n", 1, "address: expected a string (in quotes), not an integer"},
      {"string for a list", "include_channels = \"KN,TG\"\n", 1,
       "include_channels: expected an array of strings such as [\"KN\", \"TG\"], not a string"},
      {"non-string in a list", "exclude_channels = [\"KN\", 3]\n", 1,
       "exclude_channels: item 2 is an integer, expected a string"},
      {"port out of range", "\n\nport = 70000\n", 3, "port: must be 0-65535, not 70000"},
      {"beyond int", "send_grace = 3000000000\n", 1, "send_grace: must be at most 2147483647, not 3000000000"},
      {"beyond 64 bits", "max_body_bytes = 99999999999999999999\n", 1, "max_body_bytes: syntax error at column"},
      {"negative", "max_retries = -1\n", 1, "max_retries: must be at least 0, not -1"},
      {"zero where at least 1", "flush_interval = 0\n", 1, "flush_interval: must be at least 1, not 0"},
      {"empty path", "spool_dir = \"\"\n", 1, "spool_dir: must not be empty"},
      {"bad log level", "log_level = \"loud\"\n", 1, "log_level: must be debug, info, warn or error, not 'loud'"},
      {"bad base_url", "base_url = \"courier.example.com\"\n", 1,
       "base_url: must start with http:// or https://, not 'courier.example.com'"},
      {"bad outbound_allow", "outbound_allow = \"127.0.0.0/8,10.1.2.0/33\"\n", 1,
       "outbound_allow: not an address or CIDR network: '10.1.2.0/33'"},
      {"zero deadline", "http_deadline = 0\n", 1, "http_deadline: must be at least 1, not 0"},
      {"invalid UTF-8", "db = \"caf\xe9\"\n", 1, "db: syntax error at column 9: Encountered invalid utf-8 sequence"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ConfigFile file(c.text);
    auto o = LoadWith({"--config", file.path()}, FakeEnv());
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), Status::Code::kUsage);
    EXPECT_EQ(o.status().ExitCode(), 64);
    std::string prefix = "config file '" + file.path() + "', line " + std::to_string(c.line) + ": ";
    EXPECT_EQ(o.status().message().substr(0, prefix.size() + std::string(c.expected).size()), prefix + c.expected)
        << o.status().message();
  }
}

TEST(OptionsTest, FileErrorsComeInFileOrder) {
  // toml++ keeps keys sorted; the first problem reported is still the
  // first in the file.
  auto o = LoadFile("zzz = 1\naaa = 2\n");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("line 1: unknown key 'zzz'"), std::string::npos) << o.status().message();
}

TEST(OptionsTest, UnreadableConfigFileIsAnError) {
  FakeEnv env;
  auto missing = LoadWith({"--config", "/nonexistent/courier.toml"}, env);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kUsage);
  EXPECT_EQ(missing.status().message(), "config file '/nonexistent/courier.toml': cannot be read: no such file");

  auto directory = LoadWith({"--config", "/tmp"}, env);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find("config file '/tmp': cannot be read"), std::string::npos);
}

TEST(OptionsTest, BadValuesNameTheirLayer) {
  struct Case {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    const char* message;
  };
  const Case cases[] = {
      {{}, {{"COURIER_PORT", "eighty"}}, "COURIER_PORT: not a number: 'eighty'"},
      {{}, {{"COURIER_PORT", ""}}, "COURIER_PORT: not a number: ''"},
      {{}, {{"COURIER_PORT", "70000"}}, "COURIER_PORT: must be 0-65535, not 70000"},
      {{}, {{"COURIER_DB", ""}}, "COURIER_DB: must not be empty"},
      {{}, {{"COURIER_DB", "caf\xe9.db"}}, "COURIER_DB: not valid UTF-8"},
      {{}, {{"COURIER_INCLUDE_CHANNELS", "KN,\xff"}}, "COURIER_INCLUDE_CHANNELS: not valid UTF-8"},
      {{"--port", "70000"}, {}, "--port: must be 0-65535, not 70000"},
      {{"--max-workers", "5000"}, {}, "--max-workers: must be 0-4096, not 5000"},
      {{"--log-level", "loud"}, {}, "--log-level: must be debug, info, warn or error, not 'loud'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    FakeEnv env;
    env.vars = c.env;
    auto o = LoadWith(c.args, env);
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), Status::Code::kUsage);
    EXPECT_EQ(o.status().message(), c.message);
  }
}

TEST(OptionsTest, EachLayerIsCheckedWhereItIsGiven) {
  // A bad file value is an error even when a later layer overrides it: the
  // same file serves programs that do not get that flag.
  ConfigFile file("port = 70000\n");
  auto o = LoadWith({"--config", file.path(), "--port", "8080"}, FakeEnv());
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("line 1: port: must be 0-65535"), std::string::npos);
}

TEST(OptionsTest, ToolFlagsAreOnlyThoseAsked) {
  CLI::App app{"test"};
  OptionLoader loader(app, {});
  std::vector<std::string> args = {"test", "--port", "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_THROW(app.parse(static_cast<int>(argv.size()), argv.data()), CLI::ParseError);
}

TEST(OptionsTest, AliasNamesTheSameOption) {
  CLI::App app{"test"};
  OptionLoader loader(app, {"flush_interval"}, {{"flush_interval", "--interval"}});
  std::vector<std::string> args = {"test", "--interval", "7"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  auto o = loader.Load(FakeEnv().Get());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->flush_interval, 7);
  EXPECT_NE(OptionLoader::Describe(*o).find("flush_interval = 7\n"), std::string::npos);
}

TEST(OptionsTest, DescribeListsEveryOption) {
  Options o;
  std::string text = OptionLoader::Describe(o);
  for (const auto& name : OptionNames()) EXPECT_NE(text.find(name + " = "), std::string::npos) << name;
}

// --print-config's promise: its output, read back as the config file, gives
// the same options, whatever the values hold.
TEST(OptionsTest, DescribeReadsBackToTheSameOptions) {
  FakeEnv env;
  env.vars = {
      {"COURIER_DB", "sqlite:/var/lib/\"courier\"/a#b\\c.db"},
      {"COURIER_SPOOL_DIR", "spool 'quoted' # not a comment"},
      {"COURIER_RUN_DIR", "/run/courier/ünïcødé ✓/\ttab"},
      {"COURIER_LOG_LEVEL", "debug"},
      {"COURIER_SPOOL_RESERVE_MB", "0"},
      {"COURIER_SQLITE_CACHE_MB", "3"},
      {"COURIER_STORE_GROUP", "courier readers"},
      {"COURIER_ADDRESS", "0.0.0.0"},
      {"COURIER_PORT", "0"},
      {"COURIER_BASE_URL", "https://courier.example.com/a?b=\"c\"&d=#e"},
      {"COURIER_MAX_BODY_BYTES", "4294967296"},
      {"COURIER_CHANNEL_CACHE_TTL", "0"},
      {"COURIER_SPOOL_BACKLOG_LIMIT", "2147483647"},
      {"COURIER_HEALTH_MIN_FREE_MB", "1"},
      {"COURIER_INCLUDE_CHANNELS", "KN, TG,\"Q\",a\\b,#"},
      {"COURIER_EXCLUDE_CHANNELS", "TW"},
      {"COURIER_REQUEST_READ_TIMEOUT", "0"},
      {"COURIER_MAX_CONNECTIONS", "1000000"},
      {"COURIER_MAX_CONNECTIONS_PER_IP", "7"},
      {"COURIER_DUPLICATE_WINDOW", "3600"},
      {"COURIER_MAX_WORKERS", "4096"},
      {"COURIER_MAX_RETRIES", "9"},
      {"COURIER_RETRY_BACKOFF", "1"},
      {"COURIER_SEND_GRACE", "2"},
      {"COURIER_HEARTBEAT_TIMEOUT", "86400"},
      {"COURIER_HOST_NAME", "send-b.example_2"},
      {"COURIER_HTTP_TIMEOUT", "3"},
      {"COURIER_HTTP_DEADLINE", "5"},
      {"COURIER_OUTBOUND_ALLOW", "127.0.0.0/8, fc00::/7"},
      {"COURIER_OUTBOUND_CA_FILE", "/etc/courier/ca \"gw\".pem"},
      {"COURIER_FLUSH_INTERVAL", "4"},
      {"COURIER_RETAIN_LOGS_DAYS", "0"},
      {"COURIER_RETAIN_EVENTS_DAYS", "36500"},
      {"COURIER_RETAIN_MSGS_DAYS", "90"},
      {"COURIER_HOOK_POLL_INTERVAL", "3600"},
      {"COURIER_HOOK_TIMEOUT", "7"},
      {"COURIER_API_ADDRESS", "::1"},
      {"COURIER_API_PORT", "0"},
      {"COURIER_API_MAX_BODY_BYTES", "1"},
      {"COURIER_API_WORKERS", "256"},
      {"COURIER_API_MAX_LONG_POLLS", "0"},
      {"COURIER_API_IDEMPOTENCY_HOURS", "8760"},
      {"COURIER_FETCH_WORKERS", "256"},
      {"COURIER_MEDIA_DIR", "/srv/media \"kept\""},
      {"COURIER_MEDIA_URL", "https://media.example.com/m"},
      {"COURIER_MEDIA_MAX_MB", "1024"},
      {"COURIER_MEDIA_REFUSED_TYPES", "video/*, application/x-dosexec"},
      {"COURIER_MEDIA_FETCH_TIMEOUT", "1"},
      {"COURIER_MEDIA_RETRY_BACKOFF", "3600"},
      {"COURIER_MEDIA_MAX_ATTEMPTS", "1"},
  };
  auto original = LoadWith({}, env);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  ASSERT_EQ(env.vars.size(), OptionNames().size()) << "a new option needs a value here";
  for (const auto& name : OptionNames()) {
    std::string variable = "COURIER_";
    for (char c : name) variable += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(env.vars.count(variable), 1u) << variable;
  }
  // Every value differs from the default, so a line lost in Describe fails.
  auto defaults = Options();
  EXPECT_NE(original->db, defaults.db);
  EXPECT_NE(original->flush_interval, defaults.flush_interval);

  std::string described = OptionLoader::Describe(*original);
  auto back = LoadFile(described);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << described;
  EXPECT_TRUE(Settings(*back) == Settings(*original)) << described;
  EXPECT_EQ(OptionLoader::Describe(*back), described);
  EXPECT_EQ(back->include_channels, (std::vector<std::string>{"KN", "TG", "\"Q\"", "a\\b", "#"}));
  EXPECT_EQ(back->run_dir, "/run/courier/ünïcødé ✓/\ttab");
}

TEST(OptionsTest, DescribeOfTheDefaultsReadsBack) {
  std::string described = OptionLoader::Describe(Options());
  auto back = LoadFile(described);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << described;
  EXPECT_TRUE(Settings(*back) == Settings(Options()));
  EXPECT_NE(described.find("db = \"var/courier.db\"\n"), std::string::npos) << described;
  EXPECT_NE(described.find("include_channels = []\n"), std::string::npos) << described;
}
