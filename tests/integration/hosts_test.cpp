// contrib/hosts: the files for several hosts sharing one PostgreSQL store,
// one set per role (receive host, send host). Each role's supervisord file
// runs exactly the role's programs, each as contrib/supervisord.conf runs
// it; each role's systemd target wants exactly those units of
// contrib/systemd and passes systemd-analyze verify with them; each role's
// TOML example is accepted by each of its programs as the role's files
// start them; and the two roles, each under its own real supervisord with
// its own spool and run dir, work as one pipeline on one PostgreSQL server,
// the receive host spooling while the server is down and replaying after.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/json.h"
#include "harness.h"
#include "http/http_client.h"
#include "mock_provider.h"
#include "postgres_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

struct Role {
  std::string name;                   // receive, send: the files' names
  std::set<std::string> programs;     // what runs on a host of this role
};

const Role kRoles[] = {
    {"receive", {"courier-recv", "courier-flush"}},
    {"send", {"courier-send", "courier-flush"}},
};

std::string Contrib(const std::string& path) { return std::string(COURIER_SOURCE_DIR) + "/contrib/" + path; }

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// An INI file as supervisord reads one: section -> key -> value, ';'
// comment lines left out, blanks around '=' trimmed.
using Ini = std::map<std::string, std::map<std::string, std::string>>;

std::string Trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t"), end = s.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : s.substr(begin, end - begin + 1);
}

Ini ParseIni(const std::string& text) {
  Ini ini;
  std::string section;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line = Trim(line);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      ini[section];
    } else if (size_t eq = line.find('='); eq != std::string::npos) {
      ini[section][Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
    } else {
      ini[section][line] = "<not a key=value line>";
    }
  }
  return ini;
}

std::set<std::string> ProgramsOf(const Ini& ini) {
  std::set<std::string> programs;
  for (const auto& [section, keys] : ini)
    if (section.rfind("program:", 0) == 0) programs.insert(section.substr(8));
  return programs;
}

// The values of every `key=` line of a unit file, split on blanks.
std::set<std::string> UnitValues(const std::string& unit, const std::string& key) {
  std::set<std::string> values;
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + "=", 0) != 0) continue;
    std::istringstream words(line.substr(key.size() + 1));
    for (std::string word; words >> word;) values.insert(word);
  }
  return values;
}

TEST(HostsTest, EachRoleRunsExactlyItsProgramsAsOneHostRunsThem) {
  const Ini one_host = ParseIni(ReadFile(Contrib("supervisord.conf")));
  ASSERT_EQ(ProgramsOf(one_host).size(), 6u);  // the parse found them all
  for (const auto& role : kRoles) {
    SCOPED_TRACE(role.name);
    const Ini ini = ParseIni(ReadFile(Contrib("hosts/supervisord-" + role.name + ".conf")));
    EXPECT_EQ(ProgramsOf(ini), role.programs);
    // Every section (programs and supervisord's own) is the one-host
    // file's, key for key: a role changes which programs run, not how.
    for (const auto& [section, keys] : ini) {
      SCOPED_TRACE(section);
      ASSERT_EQ(one_host.count(section), 1u);
      EXPECT_EQ(keys, one_host.at(section));
    }
    for (const auto& program : role.programs) {
      ASSERT_EQ(ini.count("program:" + program), 1u);
      const auto& keys = ini.at("program:" + program);
      ASSERT_EQ(keys.count("command"), 1u);
      EXPECT_EQ(keys.at("command"), "/usr/local/bin/" + program + " --config /etc/courier/courier.toml");
      EXPECT_EQ(keys.count("stopwaitsecs"), 1u);
      EXPECT_EQ(keys.count("stopsignal"), 1u);
    }
  }
}

TEST(HostsTest, EachRoleTargetWantsItsUnitsAndSystemdAcceptsThem) {
  if (::access("/usr/bin/systemd-analyze", X_OK) != 0) GTEST_SKIP() << "systemd-analyze is not installed";
  for (const auto& role : kRoles) {
    SCOPED_TRACE(role.name);
    const std::string target_name = "courier-" + role.name + "-host.target";
    const std::string target = ReadFile(Contrib("hosts/" + target_name));
    ASSERT_FALSE(target.empty());
    std::set<std::string> services;
    for (const auto& program : role.programs) services.insert(program + ".service");
    // (systemd-analyze verify does not complain of a wanted unit that does
    // not exist: the names are checked here.)
    EXPECT_EQ(UnitValues(target, "Wants"), services);
    EXPECT_EQ(UnitValues(target, "WantedBy"), std::set<std::string>{"multi-user.target"});
    // The target and its units side by side, as installed in
    // /etc/systemd/system, with the units' paths pointed at this build.
    TempDir dir;
    WriteFile(dir.File("courier.toml"), "db = \"" + dir.File("courier.db") + "\"\n");
    WriteFile(dir.File(target_name), target);
    std::vector<std::string> verify = {"/usr/bin/systemd-analyze", "verify", "--man=no", dir.File(target_name)};
    for (const auto& service : services) {
      std::string unit = ReadFile(Contrib("systemd/" + service));
      ASSERT_FALSE(unit.empty()) << service;
      unit = ReplaceAll(ReplaceAll(unit, "/usr/local/bin", COURIER_BIN_DIR), "/etc/courier", dir.path());
      WriteFile(dir.File(service), unit);
      verify.push_back(dir.File(service));
    }
    auto verified = RunProgram(verify);
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    EXPECT_EQ(verified.err, "") << "systemd-analyze verify warns";
  }
}

TEST(HostsTest, EachRoleConfigIsAcceptedByItsProgramsAndKeepsThePasswordOut) {
  for (const auto& role : kRoles) {
    SCOPED_TRACE(role.name);
    const std::string example = Contrib("hosts/" + role.name + ".toml.example");
    const std::string text = ReadFile(example);
    ASSERT_FALSE(text.empty());
    // A user and no password in the URI, nor a password= parameter.
    std::smatch db;
    ASSERT_TRUE(std::regex_search(text, db, std::regex("\ndb = \"(postgresql://[^\"]*)\"")));
    EXPECT_TRUE(std::regex_match(db[1].str(), std::regex("postgresql://[a-z_]+@[^:/@]+:[0-9]+/[a-z_]+(\\?.*)?")))
        << db[1];
    EXPECT_EQ(db[1].str().find("password"), std::string::npos);
    // As the role's supervisord file starts each of its programs, with the
    // example in place of /etc/courier/courier.toml.
    const Ini ini = ParseIni(ReadFile(Contrib("hosts/supervisord-" + role.name + ".conf")));
    std::set<std::string> run;
    for (const auto& program : ProgramsOf(ini)) {
      SCOPED_TRACE(program);
      std::string command = ini.at("program:" + program).at("command");
      command = ReplaceAll(command, "/usr/local/bin", COURIER_BIN_DIR);
      command = ReplaceAll(command, "/etc/courier/courier.toml", example);
      std::vector<std::string> argv;
      std::istringstream words(command);
      for (std::string word; words >> word;) argv.push_back(word);
      argv.push_back("--print-config");
      // The file alone: no COURIER_* of the harness's (outbound_allow).
      auto printed = RunProgram(argv, "", {{"COURIER_OUTBOUND_ALLOW", ""}});
      EXPECT_EQ(printed.exit_code, 0) << printed.err;
      EXPECT_NE(printed.out.find("db = \"" + db[1].str() + "\"\n"), std::string::npos) << printed.out;
      EXPECT_NE(printed.out.find("spool_dir = \"/var/lib/courier/spool\"\n"), std::string::npos) << printed.out;
      EXPECT_NE(printed.out.find("run_dir = \"/run/courier\"\n"), std::string::npos) << printed.out;
      if (role.name == "send") {
        EXPECT_NE(printed.out.find("heartbeat_timeout = 30\n"), std::string::npos) << printed.out;
        EXPECT_NE(printed.out.find("host_name = \"\"\n"), std::string::npos) << printed.out;  // commented out
      }
      run.insert(program);
    }
    EXPECT_EQ(run, role.programs);
    // And courier-ctl, which the README runs with it (init, the check).
    auto ctl = RunProgram({Bin("courier-ctl"), "--config", example, "--print-config"}, "", {{"COURIER_OUTBOUND_ALLOW", ""}});
    EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
    EXPECT_NE(ctl.out.find("db = \"" + db[1].str() + "\"\n"), std::string::npos) << ctl.out;
    if (role.name == "send") {
      EXPECT_TRUE(std::regex_search(text, std::regex("\n# host_name = \"[^\"]+\"")));
      EXPECT_TRUE(std::regex_search(text, std::regex("\nheartbeat_timeout = [0-9]+\n")));
    }
  }
}

// pid of `program` in `supervisorctl status` output, or 0 unless RUNNING.
int RunningPid(const std::string& status, const std::string& program) {
  std::smatch m;
  return std::regex_search(status, m, std::regex(program + R"(\s+RUNNING\s+pid (\d+))")) ? std::stoi(m[1]) : 0;
}

// One host of a role: its directory standing for /etc/courier,
// /var/lib/courier, /var/log/courier and /run/courier, the role's TOML
// example there as courier.toml with the store and port of this test, and
// the role's supervisord file under a real supervisord.
struct Host {
  Host(const Role& role, const std::string& db, int port) : role(role) {
    std::string toml = ReadFile(Contrib("hosts/" + role.name + ".toml.example"));
    // The shipped URI's parameters (passfile) kept, on this test's server.
    std::smatch shipped;
    EXPECT_TRUE(std::regex_search(toml, shipped, std::regex("\ndb = \"postgresql://[^?\"]*(\\?[^\"]*)?\"")));
    toml = std::regex_replace(toml, std::regex("\ndb = \"[^\"]*\""),
                              "\ndb = \"" + db + ReplaceAll(shipped[1].str(), "/etc/courier", dir.path()) + "\"");
    toml = ReplaceAll(toml, "/var/lib/courier", dir.path());
    toml = ReplaceAll(toml, "/run/courier", dir.File("run"));
    toml = ReplaceAll(toml, "address = \"0.0.0.0\"", "address = \"127.0.0.1\"");
    toml = std::regex_replace(toml, std::regex("\nport = [0-9]+"), "\nport = " + std::to_string(port));
    toml = ReplaceAll(toml, "log_level = \"info\"", "log_level = \"warn\"");
    if (role.name == "send") toml = ReplaceAll(toml, "# host_name = ", "host_name = ");
    WriteFile(config(), toml);
    std::string conf = ReadFile(Contrib("hosts/supervisord-" + role.name + ".conf"));
    conf = ReplaceAll(conf, "/usr/local/bin", COURIER_BIN_DIR);
    for (const char* dir_path : {"/etc/courier", "/var/log/courier", "/run/courier"})
      conf = ReplaceAll(conf, dir_path, dir.path());
    WriteFile(dir.File("supervisord.conf"), conf);
  }
  std::string config() const { return dir.File("courier.toml"); }
  void Start() {
    supervisord = std::make_unique<Daemon>(std::vector<std::string>{"/usr/bin/supervisord", "-n", "-c",
                                                                    dir.File("supervisord.conf")},
                                           std::map<std::string, std::string>{}, dir.File("sd.out"));
  }
  std::string Status() const {
    return RunProgram({"/usr/bin/supervisorctl", "-c", dir.File("supervisord.conf"), "status"}).out;
  }
  bool AllRunning() const {
    std::string s = Status();
    for (const auto& program : role.programs)
      if (!RunningPid(s, program)) return false;
    return true;
  }
  RunResult Ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {Bin("courier-ctl"), "--config", config()});
    return RunProgram(args);
  }
  std::string Log(const std::string& program) const { return ReadFile(dir.File(program + ".log")); }

  const Role& role;
  TempDir dir;
  std::unique_ptr<Daemon> supervisord;
};

size_t FilesIn(const std::string& path) {
  size_t n = 0;
  if (DIR* d = ::opendir(path.c_str())) {
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
  }
  return n;
}

TEST(HostsTest, ReceiveAndSendHostsWorkAsOnePipelineOnOnePostgreSQL) {
  COURIER_REQUIRE_POSTGRES(server);
  auto db = server->CreateDatabase();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const int port = FreePort();
  Host receive(kRoles[0], *db, port), send(kRoles[1], *db, FreePort());
  MockProvider provider;

  // courier-ctl init once, from either host.
  ASSERT_EQ(send.Ctl({"init"}).exit_code, 0);
  auto added = receive.Ctl({"channel", "add", "--type", "EX", "--address", "1234", "--country", "RW", "--config",
                            "send_url=" + provider.url() + "/send"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string channel = added.out.substr(0, 36);

  receive.Start();
  send.Start();
  ASSERT_TRUE(Eventually([&] { return receive.AllRunning(); })) << receive.Status() << receive.supervisord->log();
  ASSERT_TRUE(Eventually([&] { return send.AllRunning(); })) << send.Status() << send.supervisord->log();
  // Each runs its role's programs and nothing else.
  EXPECT_EQ(receive.Status().find("courier-send"), std::string::npos) << receive.Status();
  EXPECT_EQ(send.Status().find("courier-recv"), std::string::npos) << send.Status();

  auto http = NewLoopbackHttpClient();
  auto webhook = [&](const std::string& text) {
    HttpRequestSpec req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(port) + "/c/ex/" + channel + "/receive";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = "from=0788383383&text=" + text;
    return http->Do(req).status_code;
  };
  auto incoming = [&] { return Lines(send.Ctl({"msgs", "list", "--direction", "in", "--json"}).out).size(); };

  // A webhook into the receive host is in the store the send host reads.
  ASSERT_TRUE(Eventually([&] { return webhook("first") == 200; }));
  ASSERT_TRUE(Eventually([&] { return incoming() == 1; })) << receive.Log("courier-recv");

  // A msg queued from the receive host goes out through the send host.
  auto queued = receive.Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "reply"});
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  ASSERT_TRUE(Eventually([&] { return provider.count() == 1; })) << send.Log("courier-send");
  EXPECT_EQ(provider.requests()[0].form.at("text"), "reply");

  // PostgreSQL down: the receive host still answers 200, into its own
  // spool, and its courier-flush replays it when the server is back.
  ASSERT_TRUE(server->Stop().ok());
  EXPECT_EQ(webhook("while%20down"), 200);
  // (Eventually: courier-flush's failing pass moves the file from new/ to
  // cur/ and back while this looks.)
  EXPECT_TRUE(Eventually([&] {
    return FilesIn(receive.dir.File("spool/new")) + FilesIn(receive.dir.File("spool/cur")) == 1;
  }, std::chrono::seconds(5)));
  EXPECT_EQ(FilesIn(send.dir.File("spool/new")), 0u);
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(Eventually([&] { return incoming() == 2; }, std::chrono::seconds(60))) << receive.Log("courier-flush");
  EXPECT_TRUE(Eventually([&] { return FilesIn(receive.dir.File("spool/new")) == 0; }));
  bool replayed = false;
  for (const auto& line : Lines(send.Ctl({"msgs", "list", "--direction", "in", "--json"}).out))
    replayed |= json::GetString(*json::ParseObject(line), "text") == "while down";
  EXPECT_TRUE(replayed);

  EXPECT_EQ(receive.supervisord->Stop(), 0);
  EXPECT_EQ(send.supervisord->Stop(), 0);
  EXPECT_EQ(send.Log("courier-send").find("exiting now"), std::string::npos);
}

}  // namespace
