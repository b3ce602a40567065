// courier-ctl end to end, as a script would use it: a real binary, a real
// SQLite file in a temporary directory, exit codes and --json output.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "bus/endpoints.h"
#include "control_peers.h"
#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "postgres_server.h"
#include "store/schema.h"
#include "util/utf8.h"

using namespace courier;
using namespace courier::testing;

namespace {

class CtlFixture : public ::testing::Test {
 protected:
  // OnBothEngines' switch: a PostgreSQL database in place of the file.
  void UseEngine(Engine engine) {
    if (engine == Engine::kPostgreSQL) UsePostgresStore(&env_);
  }

  RunResult Ctl(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, input, env_);
  }

  std::string Init() {
    auto r = Ctl({"init"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  std::string AddChannel(const std::string& type = "EX", const std::string& country = "RW") {
    auto r = Ctl({"channel", "add", "--type", type, "--address", "+250788000001", "--country", country,
                  "--config", "send_url=http://127.0.0.1:9/send", "--config", "password=sekret"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = Lines(r.out);
    return lines.empty() ? "" : lines[0];
  }

  TempDir dir_;
  std::map<std::string, std::string> env_{{"COURIER_DB", dir_.File("courier.db")},
                                          {"COURIER_SPOOL_DIR", dir_.File("spool")},
                                          {"COURIER_RUN_DIR", dir_.File("run")}};
};

// Every test below runs on both engines (Engines/CtlTest.*/SQLite and .../PostgreSQL), except CtlTestSqlite.*: a
// store file made read-only for the user, and a copy from a SQLite file (to PostgreSQL).
using CtlTest = OnBothEngines<CtlFixture>;
COURIER_INSTANTIATE_ON_BOTH_ENGINES(CtlTest);
using CtlTestSqlite = CtlFixture;

// The argv prefix that runs a program as a user who may read the test's
// store but write neither it nor its directory (see MakeStoreReadOnly):
// nobody when the tests run as root, since root writes through file modes.
std::vector<std::string> AsReader() {
  if (::geteuid() != 0) return {};
  return {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
}

// Makes the store in `dir` readable but not writable for AsReader().
void MakeStoreReadOnly(const std::string& dir, const std::string& db) {
  const bool root = ::geteuid() == 0;
  ASSERT_EQ(::chmod(db.c_str(), root ? 0644 : 0444), 0);
  ASSERT_EQ(::chmod(dir.c_str(), root ? 0755 : 0555), 0);
}

std::set<std::string> FileNames(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// courier-ctl with its standard output on a pipe the test reads and may
// close, as `courier-ctl ... | head -1` does. SIGPIPE is left as a shell
// leaves it (default), so a write to the closed pipe would kill a program
// that did not handle it.
class PipedCtl {
 public:
  PipedCtl(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
           const std::string& err_path) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const ExecImage image(argv, env);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::signal(SIGPIPE, SIG_DFL);
      ::dup2(fds[1], 1);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(err, 2);
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      for (int fd : {fds[0], fds[1], err, devnull}) ::close(fd);
      image.Exec();
    }
    ::close(fds[1]);
    read_fd_ = fds[0];
  }
  ~PipedCtl() {
    CloseReader();
    if (exit_code_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // The next line, or "" when none comes within timeout_ms.
  std::string ReadLine(int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (buffer_.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{read_fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) return "";
      char chunk[4096];
      ssize_t n = ::read(read_fd_, chunk, sizeof chunk);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    std::string line = buffer_.substr(0, buffer_.find('\n'));
    buffer_.erase(0, line.size() + 1);
    return line;
  }

  // The reader goes away, as `head` does after its line.
  void CloseReader() {
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
  }

  // The exit status (128+N when killed by signal N) once the program has
  // ended within timeout_ms, else -1.
  int WaitExit(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (exit_code_ < 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_)
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_code_;
  }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  int exit_code_ = -1;
  std::string buffer_;
};

TEST_P(CtlTest, InitSendListQueue) {
  EXPECT_NE(Init().find("ready"), std::string::npos);
  std::string channel = AddChannel();
  ASSERT_EQ(channel.size(), 36u);

  auto sent = Ctl({"send", "--channel", channel, "--urn", "tel:0788383383", "--text", "Muraho"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto id_uuid = Lines(sent.out);
  ASSERT_EQ(id_uuid.size(), 1u);
  EXPECT_EQ(id_uuid[0].rfind("1 ", 0), 0u) << id_uuid[0];

  auto bulk = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383384", "--text", "bulk one",
                   "--priority", "bulk", "--attachment", "image/jpeg:https://example.com/a.jpg"});
  ASSERT_EQ(bulk.exit_code, 0) << bulk.err;

  auto list = Ctl({"msgs", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto msgs = JsonLines(list.out);
  ASSERT_EQ(msgs.size(), 2u);
  // newest first
  EXPECT_EQ(json::GetString(msgs[0], "text"), "bulk one");
  EXPECT_EQ(json::GetString(msgs[0], "priority"), "bulk");
  EXPECT_EQ(msgs[0]->getArray("attachments")->getElement<std::string>(0), "image/jpeg:https://example.com/a.jpg");
  EXPECT_EQ(json::GetString(msgs[1], "urn"), "tel:+250788383383");  // normalised with the channel's country
  EXPECT_EQ(json::GetString(msgs[1], "status"), "Q");
  EXPECT_EQ(json::GetString(msgs[1], "direction"), "out");
  EXPECT_EQ(json::GetString(msgs[1], "channel_uuid"), channel);
  EXPECT_EQ(json::GetString(msgs[1], "channel_type"), "EX");
  EXPECT_TRUE(msgs[1]->isNull("sent_on"));
  EXPECT_TRUE(json::GetString(msgs[1], "created_on").has_value());

  auto queue = Ctl({"queue", "--json"});
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  auto rows = JsonLines(queue.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(json::GetString(rows[0], "channel_uuid"), channel);
  EXPECT_EQ(json::GetInt(rows[0], "queued_high"), 1);
  EXPECT_EQ(json::GetInt(rows[0], "queued_bulk"), 1);
  EXPECT_EQ(json::GetInt(rows[0], "in_flight"), 0);

  auto human = Ctl({"queue"});
  EXPECT_NE(human.out.find("HIGH"), std::string::npos);
  EXPECT_NE(human.out.find(channel), std::string::npos);

  auto events = Ctl({"events", "--json"});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  auto evs = JsonLines(events.out);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(json::GetString(evs[0], "topic"), "msg.queued");
  EXPECT_EQ(json::GetInt(evs[0], "seq"), 1);
  EXPECT_EQ(json::GetInt(evs[1], "seq"), 2);
  auto later = Ctl({"events", "--after", "1", "--json"});
  EXPECT_EQ(JsonLines(later.out).size(), 1u);
}

TEST_P(CtlTest, CommandsBeforeInitSayHowToFixIt) {
  auto r = Ctl({"channel", "list"});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_NE(r.err.find("courier-ctl init"), std::string::npos);
}

TEST_P(CtlTest, BadInputGetsClearErrorsAndExitCodes) {
  Init();
  std::string channel = AddChannel();

  auto type = Ctl({"channel", "add", "--type", "ZZ", "--address", "1"});
  EXPECT_EQ(type.exit_code, 64);
  EXPECT_NE(type.err.find("unknown channel type 'ZZ'"), std::string::npos);

  auto unknown = Ctl({"send", "--channel", "0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10", "--urn", "tel:+250788383383",
                      "--text", "hi"});
  EXPECT_EQ(unknown.exit_code, 66);
  EXPECT_NE(unknown.err.find("channel not found"), std::string::npos);

  auto urn = Ctl({"send", "--channel", channel, "--urn", "bogus:123", "--text", "hi"});
  EXPECT_EQ(urn.exit_code, 65);
  EXPECT_NE(urn.err.find("invalid scheme"), std::string::npos);

  auto scheme = Ctl({"send", "--channel", channel, "--urn", "telegram:1234", "--text", "hi"});
  EXPECT_EQ(scheme.exit_code, 65);

  auto usage = Ctl({"send", "--channel", channel});
  EXPECT_EQ(usage.exit_code, 64);

  // Text that is not UTF-8 (a script reading a Latin-1 file) is refused,
  // so nothing ill-formed is stored or sent.
  auto latin1 = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "caf\xE9"});
  EXPECT_EQ(latin1.exit_code, 65);
  EXPECT_NE(latin1.err.find("text is not valid UTF-8"), std::string::npos) << latin1.err;
  auto quick = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "hi", "--quick-reply",
                    "n\xF3"});
  EXPECT_EQ(quick.exit_code, 65) << quick.err;

  // A setting that is not UTF-8 would make the channel's stored config
  // unreadable JSON: refused.
  auto config = Ctl({"channel", "add", "--type", "EX", "--address", "1", "--config", "send_url=http://h/caf\xE9"});
  EXPECT_EQ(config.exit_code, 64);
  EXPECT_NE(config.err.find("is not valid UTF-8"), std::string::npos) << config.err;

  auto nothing = Ctl({"frobnicate"});
  EXPECT_EQ(nothing.exit_code, 64);

  EXPECT_EQ(Ctl({"msgs", "list", "--json"}).out, "");  // nothing was queued by the failures
}

TEST_P(CtlTest, BulkSendIsAllOrNothingWithLineNumbers) {
  Init();
  std::string channel = AddChannel();
  std::string good = "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"one\"}\n";
  std::string bad = "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"two\"\n";

  auto r = Ctl({"send", "--jsonl", "-"}, good + "\n" + bad + good);
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.err.find("line 3"), std::string::npos) << r.err;
  EXPECT_EQ(Ctl({"msgs", "list", "--json"}).out, "");

  std::string many;
  for (int i = 0; i < 250; ++i)
    many += "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+25078838" + std::to_string(3000 + i) +
            "\",\"text\":\"msg " + std::to_string(i) + "\",\"priority\":\"bulk\"}\n";
  WriteFile(dir_.File("bulk.jsonl"), many);
  auto ok = Ctl({"send", "--jsonl", dir_.File("bulk.jsonl")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("queued 250"), std::string::npos);
  auto list = Ctl({"msgs", "list", "--limit", "1000", "--json"});
  EXPECT_EQ(Lines(list.out).size(), 250u);
}

TEST_P(CtlTest, ListJsonImportsIntoAnotherStore) {
  Init();
  std::string channel = AddChannel();
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "Amakuru? ✓"}).exit_code, 0);
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383384", "--text", "two"}).exit_code, 0);
  auto exported = Ctl({"msgs", "list", "--json"});
  ASSERT_EQ(exported.exit_code, 0);

  TempDir other;
  std::map<std::string, std::string> other_env = {{"COURIER_DB", other.File("courier.db")},
                                                  {"COURIER_SPOOL_DIR", other.File("spool")},
                                                  {"COURIER_RUN_DIR", other.File("run")}};
  ASSERT_EQ(RunProgram({Bin("courier-ctl"), "init"}, "", other_env).exit_code, 0);
  // Without the channel the import refuses, and writes nothing.
  auto refused = RunProgram({Bin("courier-ctl"), "msgs", "import", "--jsonl", "-"}, exported.out, other_env);
  EXPECT_NE(refused.exit_code, 0);
  ASSERT_EQ(RunProgram({Bin("courier-ctl"), "channel", "add", "--type", "EX", "--address", "1", "--uuid", channel,
                        "--config", "send_url=http://127.0.0.1:9/send"},
                       "", other_env)
                .exit_code,
            0);
  auto imported = RunProgram({Bin("courier-ctl"), "msgs", "import", "--jsonl", "-"}, exported.out, other_env);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("imported 2"), std::string::npos);
  auto again = RunProgram({Bin("courier-ctl"), "msgs", "import", "--jsonl", "-"}, exported.out, other_env);
  EXPECT_NE(again.out.find("imported 0"), std::string::npos);

  auto relisted = RunProgram({Bin("courier-ctl"), "msgs", "list", "--json"}, "", other_env);
  EXPECT_EQ(relisted.out, exported.out);
}

TEST_P(CtlTest, RetryAndFail) {
  Init();
  std::string channel = AddChannel();
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "x"}).exit_code, 0);
  auto fail = Ctl({"fail", "1"});
  EXPECT_EQ(fail.exit_code, 0) << fail.err;
  auto shown = Ctl({"msgs", "show", "1", "--json"});
  EXPECT_NE(shown.out.find("\"status\":\"F\""), std::string::npos) << shown.out;
  auto retry = Ctl({"retry", "1"});
  EXPECT_EQ(retry.exit_code, 0) << retry.err;
  shown = Ctl({"msgs", "show", "1", "--json"});
  EXPECT_NE(shown.out.find("\"status\":\"Q\""), std::string::npos) << shown.out;
  EXPECT_EQ(Ctl({"retry", "99"}).exit_code, 65);
  EXPECT_EQ(Ctl({"msgs", "show", "99"}).exit_code, 66);
}

TEST_P(CtlTest, ChannelsAndContacts) {
  Init();
  std::string channel = AddChannel();
  auto show = Ctl({"channel", "show", channel});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_EQ(show.out.find("sekret"), std::string::npos) << "secrets must be masked";
  EXPECT_NE(show.out.find("send_url=http://127.0.0.1:9/send"), std::string::npos);
  auto types = Ctl({"channel", "types"});
  EXPECT_NE(types.out.find("Kannel"), std::string::npos);
  // Every type, each with the routes courier-recv serves for it.
  auto types_json = JsonLines(Ctl({"channel", "types", "--json"}).out);
  EXPECT_GE(types_json.size(), 28u);  // v0.2.0 six + wave 1
  for (const auto& t : types_json)
    EXPECT_GT(t->getArray("routes")->size(), 0u) << json::GetString(t, "code").value_or("");
  EXPECT_NE(Ctl({"channel", "types", "--wide"}).out.find("GET|POST receive"), std::string::npos);

  EXPECT_EQ(Ctl({"contact", "stop", "tel:+250788383383"}).exit_code, 0);
  auto stopped = Ctl({"contact", "list", "--stopped", "--json"});
  EXPECT_NE(stopped.out.find("tel:+250788383383"), std::string::npos);
  EXPECT_EQ(Ctl({"contact", "unstop", "tel:+250788383383"}).exit_code, 0);
  EXPECT_EQ(Ctl({"contact", "list", "--stopped", "--json"}).out, "");

  EXPECT_EQ(Ctl({"channel", "rm", channel}).exit_code, 0);
  EXPECT_EQ(Ctl({"channel", "list", "--json"}).out, "");
  EXPECT_EQ(Ctl({"channel", "show", channel}).exit_code, 66);
}

// What a newcomer meets first: the types with their settings in 80
// columns, and a channel refused for the setting it lacks.
TEST_P(CtlTest, ChannelTypesListSettingsAndAddChecksThem) {
  Init();
  auto types = Ctl({"channel", "types"});
  ASSERT_EQ(types.exit_code, 0) << types.err;
  for (const auto& line : Lines(types.out)) EXPECT_LE(CodePoints(line), 80u) << line;
  for (const char* setting : {"auth_token*", "send_url*", "base_url", "app_secret+", "account_sid*|ACCOUNT_SID"})
    EXPECT_NE(types.out.find(setting), std::string::npos) << setting << " in\n" << types.out;
  auto wide = Ctl({"channel", "types", "--wide"});
  EXPECT_NE(wide.out.find("POST /c/wac/receive"), std::string::npos) << wide.out;
  const auto json = JsonLines(Ctl({"channel", "types", "--json"}).out);
  bool telegram = false;
  for (const auto& t : json) {
    if (json::GetStringOrEmpty(t, "code") != "TG") continue;
    telegram = true;
    const auto settings = json::Objects(json::GetArray(t, "settings"));
    ASSERT_FALSE(settings.empty());
    EXPECT_EQ(json::GetStringOrEmpty(settings[0], "name"), "auth_token");
    EXPECT_EQ(json::GetStringOrEmpty(settings[0], "needed"), "send");
    EXPECT_EQ(json::GetBool(settings[0], "secret"), true);
    EXPECT_EQ(json::GetBool(settings[0], "verifies_webhooks"), false);
    bool secret_token = false;
    for (const auto& setting : settings)
      if (json::GetStringOrEmpty(setting, "name") == "secret_token") {
        secret_token = true;
        EXPECT_EQ(json::GetBool(setting, "verifies_webhooks"), true);
      }
    EXPECT_TRUE(secret_token);
  }
  EXPECT_TRUE(telegram);

  auto no_token = Ctl({"channel", "add", "--type", "TG", "--address", "courierbot"});
  EXPECT_EQ(no_token.exit_code, 65);
  EXPECT_NE(no_token.err.find("needs the setting auth_token"), std::string::npos) << no_token.err;
  auto kannel = Ctl({"channel", "add", "--type", "KN", "--address", "1234", "--config", "username=u"});
  EXPECT_EQ(kannel.exit_code, 65);
  EXPECT_NE(kannel.err.find("needs the settings send_url, password"), std::string::npos) << kannel.err;
  auto wac = Ctl({"channel", "add", "--type", "WAC", "--address", "1234", "--config", "access_token=t"});
  EXPECT_EQ(wac.exit_code, 65);  // its webhooks could not be checked
  EXPECT_NE(wac.err.find("app_secret, verify_token or webhook_secret"), std::string::npos) << wac.err;
  EXPECT_EQ(Ctl({"channel", "list", "--json"}).out, "");

  // A misspelt setting is said, not refused.
  auto typo = Ctl({"channel", "add", "--type", "TG", "--address", "courierbot", "--config", "auth_token=t",
                   "--config", "authtoken=t"});
  ASSERT_EQ(typo.exit_code, 0) << typo.err;
  EXPECT_NE(typo.err.find("warning: TG channels do not read the setting 'authtoken'"), std::string::npos) << typo.err;
  const std::string channel = Lines(typo.out).at(0);

  // Removed, then added again under its uuid: the same channel, active.
  ASSERT_EQ(Ctl({"channel", "rm", channel}).exit_code, 0);
  auto again = Ctl({"channel", "add", "--type", "TG", "--address", "newbot", "--uuid", channel, "--config",
                    "auth_token=t2"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Lines(again.out).at(0), channel);
  auto shown = Ctl({"channel", "show", channel});
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_NE(shown.out.find("newbot"), std::string::npos);
  auto twice = Ctl({"channel", "add", "--type", "TG", "--address", "newbot", "--uuid", channel, "--config",
                    "auth_token=t2"});
  EXPECT_EQ(twice.exit_code, 65);
  EXPECT_NE(twice.err.find("exists already"), std::string::npos) << twice.err;
}

// A type that can check where its webhooks come from, added without the
// setting it checks them with, is said (still added, exit 0); the types
// and settings come from the handlers' declarations (verifies_webhooks).
TEST_P(CtlTest, ChannelAddWarnsWhenWebhooksWouldGoUnchecked) {
  Init();
  const std::string warning = "only with the setting ";
  struct Case {
    std::vector<std::string> args;
    std::string warns;  // the settings named, "" for no warning
  };
  for (const auto& c : std::vector<Case>{
           {{"--type", "TG", "--address", "bot1", "--config", "auth_token=t"}, "secret_token"},
           {{"--type", "TG", "--address", "bot2", "--config", "auth_token=t", "--config", "secret_token=s3"}, ""},
           {{"--type", "NX", "--address", "2020", "--config", "nexmo_api_key=k", "--config", "nexmo_api_secret=s"},
            "signature_secret"},
           {{"--type", "KN", "--address", "2021", "--config", "send_url=http://127.0.0.1:9/s", "--config",
             "username=u", "--config", "password=p"},
            "webhook_token"},
           {{"--type", "KN", "--address", "2022", "--config", "send_url=http://127.0.0.1:9/s", "--config",
             "username=u", "--config", "password=p", "--config", "webhook_token=w"},
            ""},
           // Twilio's auth_token is needed to send and checks signatures:
           // a TW channel cannot be added without it, so never unchecked.
           {{"--type", "TW", "--address", "+12065551212", "--config", "account_sid=AC1", "--config", "auth_token=t"},
            ""},
       }) {
    std::vector<std::string> args = {"channel", "add"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << c.args[1] << ": " << r.err;
    EXPECT_EQ(Lines(r.out).size(), 1u) << c.args[1];
    if (c.warns.empty()) {
      EXPECT_EQ(r.err.find("warning"), std::string::npos) << c.args[1] << ": " << r.err;
    } else {
      EXPECT_NE(r.err.find("courier-ctl: warning: " + c.args[1] + " channels check that webhooks come from"),
                std::string::npos)
          << r.err;
      EXPECT_NE(r.err.find(warning + c.warns + ","), std::string::npos) << r.err;
    }
  }
  auto listed = Ctl({"channel", "list", "--json"});
  EXPECT_EQ(Lines(listed.out).size(), 6u);
}

TEST_P(CtlTest, SpoolListsPendingAndBad) {
  Init();
  WriteFile(dir_.File("spool/new/0000001.json"), "{}");
  WriteFile(dir_.File("spool/bad/0000000.json"), "garbage");
  WriteFile(dir_.File("spool/bad/0000000.json.reason"), "not JSON\n");
  auto r = Ctl({"spool", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::GetString(lines[0], "state"), "pending");
  EXPECT_EQ(json::GetString(lines[1], "state"), "bad");
  EXPECT_EQ(json::GetString(lines[1], "reason"), "not JSON");
  EXPECT_NE(Ctl({"spool"}).out.find("1 pending (1 intakes), 1 bad"), std::string::npos);
}

TEST_P(CtlTest, StatusSaysWhatIsDown) {
  Init();
  AddChannel();
  WriteFile(dir_.File("spool/new/00000000000000000001-1-000000.json"), "x");
  WriteFile(dir_.File("spool/cur/00000000000000000002-1-000000-x5.json"), "x");  // a flusher's claim
  auto r = Ctl({"status", "--json"});
  EXPECT_EQ(r.exit_code, 69);  // no daemon answers
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  auto daemons = lines[0]->getObject("daemons");
  EXPECT_TRUE(daemons->isNull("courier-recv"));
  EXPECT_TRUE(daemons->isNull("courier-send"));
  EXPECT_EQ(json::GetString(lines[0]->getObject("store"), "state"), "ok");
  EXPECT_EQ(json::GetInt(lines[0]->getObject("store"), "schema_version"), schema::CurrentVersion());
  EXPECT_EQ(json::GetInt(lines[0]->getObject("spool"), "pending"), 2);
  EXPECT_EQ(json::GetInt(lines[0]->getObject("spool"), "pending_intakes"), 6);
  EXPECT_EQ(lines[0]->getArray("queue")->size(), 1u);
  auto human = Ctl({"status"});
  EXPECT_NE(human.out.find("not answering"), std::string::npos);
  EXPECT_NE(human.out.find("pending 2 (6 intakes)"), std::string::npos) << human.out;

  // With courier-recv running it answers with its pid.
  int port = FreePort();
  auto env = env_;
  env["COURIER_PORT"] = std::to_string(port);
  Daemon recv({Bin("courier-recv")}, env, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port)) << recv.log();
  auto up = JsonLines(Ctl({"status", "--json"}).out);
  ASSERT_EQ(up.size(), 1u);
  auto answer = up[0]->getObject("daemons")->getObject("courier-recv");
  ASSERT_TRUE(answer);
  EXPECT_EQ(json::GetInt(answer, "pid"), recv.pid());
}

// Every daemon is asked at once, each with its own timeout: the stale
// socket of a killed courier-send and a courier-flush that never answers
// cost one timeout together. Shown by structure: courier-recv and
// courier-hook answer only when both have been asked (each waits 3 s,
// past status's 1 s timeout), which asking one after another never does.
TEST_P(CtlTest, StatusAsksEveryDaemonAtOnce) {
  Init();
  const std::string run = dir_.File("run");
  ASSERT_TRUE(LeaveStaleSocket(EndpointFor(run, kSendCtl)));
  SilentControlPeer flush;
  ASSERT_TRUE(flush.Bind(EndpointFor(run, kFlushCtl)).ok());
  Rendezvous both({EndpointFor(run, kRecvCtl), EndpointFor(run, kHookCtl)}, R"({"pid":4242,"uptime_s":7})", 3000);
  ASSERT_TRUE(both.started());

  auto r = Ctl({"status", "--json"});
  EXPECT_EQ(r.exit_code, 69);  // send and flush are down
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  auto daemons = lines[0]->getObject("daemons");
  ASSERT_TRUE(daemons);
  EXPECT_TRUE(daemons->isNull("courier-send"));
  EXPECT_TRUE(daemons->isNull("courier-flush"));
  for (const char* program : {"courier-recv", "courier-hook"}) {
    auto answer = daemons->getObject(program);
    ASSERT_TRUE(answer) << program << " " << r.out;
    EXPECT_EQ(json::GetInt(answer, "pid"), 4242) << program;
  }

  // The table keeps its order, whatever order the answers came in.
  both.Reset();
  auto human = Ctl({"status"});
  std::vector<std::string> rows;
  for (const auto& line : Lines(human.out))
    if (line.rfind("courier-", 0) == 0) rows.push_back(line);
  ASSERT_EQ(rows.size(), 5u) << human.out;  // courier-api, optional, not shown when down
  const std::vector<std::pair<std::string, std::string>> expected = {{"courier-recv", "running"},
                                                                     {"courier-send", "not answering"},
                                                                     {"courier-flush", "not answering"},
                                                                     {"courier-hook", "running"},
                                                                     {"courier-fetch", "not answering"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(rows[i].rfind(expected[i].first, 0), 0u) << rows[i];
    EXPECT_NE(rows[i].find(expected[i].second), std::string::npos) << rows[i];
  }
}

TEST_P(CtlTest, QuickRepliesAreStoredWithTheMsg) {
  Init();
  std::string channel = AddChannel();
  auto quick = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--text", "Coming?",
                    "--quick-reply", "Yes", "--quick-reply", "No", "--json"});
  ASSERT_EQ(quick.exit_code, 0) << quick.err;
  EXPECT_NE(quick.out.find("\"quick_replies\":[\"Yes\",\"No\"]"), std::string::npos) << quick.out;
  auto shown = Ctl({"msgs", "show", "1", "--json"});
  EXPECT_NE(shown.out.find("\"quick_replies\":[\"Yes\",\"No\"]"), std::string::npos) << shown.out;
  std::string line = "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"?\",\"quick_replies\":[\"A\"]}\n";
  ASSERT_EQ(Ctl({"send", "--jsonl", "-"}, line).exit_code, 0);
  EXPECT_NE(Ctl({"msgs", "show", "2", "--json"}).out.find("\"quick_replies\":[\"A\"]"), std::string::npos);

  // Typed: a location request and a link, stored and shown as objects.
  auto typed = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--text", "Where?",
                    "--quick-reply-location", "Share location", "--quick-reply-url", "Map=https://map.example/?q=a=b",
                    "--quick-reply", "Home", "--json"});
  ASSERT_EQ(typed.exit_code, 0) << typed.err;
  const std::string want = R"("quick_replies":["Home",{"type":"location","text":"Share location"},)"
                           R"({"type":"url","text":"Map","url":"https://map.example/?q=a=b"}])";
  EXPECT_NE(Ctl({"msgs", "show", "3", "--json"}).out.find(want), std::string::npos);
  const std::string shown_typed = Ctl({"msgs", "show", "3"}).out;
  EXPECT_NE(shown_typed.find("quick_reply:     Home\nquick_reply:     Share location (location)\n"
                             "quick_reply:     Map (url: https://map.example/?q=a=b)\n"),
            std::string::npos)
      << shown_typed;
  auto bad_url = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--text", "x",
                      "--quick-reply-url", "no url here"});
  EXPECT_EQ(bad_url.exit_code, 64) << bad_url.err;
  EXPECT_NE(bad_url.err.find("TEXT=URL"), std::string::npos) << bad_url.err;
  std::string typed_line = "{\"channel\":\"" + channel + "\",\"urn\":\"tel:+250788383383\",\"text\":\"?\","
                           "\"quick_replies\":[{\"type\":\"teleport\",\"text\":\"x\"}]}\n";
  auto refused = Ctl({"send", "--jsonl", "-"}, typed_line);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("unknown quick reply type 'teleport'"), std::string::npos) << refused.err;
}

// courier-ctl send --template NAME --language xx --var ... queues a msg
// that is that template with its body's values; --locale gives any msg
// its language; msgs show --json shows both.
TEST_P(CtlTest, TemplatesAndLocaleAreStoredWithTheMsg) {
  Init();
  std::string channel = AddChannel();
  auto sent = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--template", "appointment_reminder",
                   "--language", "en_US", "--var", "Jane", "--var", "12 May", "--locale", "en-US", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto shown = Ctl({"msgs", "show", "1", "--json"});
  EXPECT_NE(shown.out.find(R"("template":{"name":"appointment_reminder","language":"en_US","components":[)"
                           R"({"type":"body","params":[{"type":"text","value":"Jane"},{"type":"text","value":"12 May"}]}]})"),
            std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find(R"("locale":"en-US")"), std::string::npos) << shown.out;

  auto lonely = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--text", "x", "--var", "Jane"});
  EXPECT_EQ(lonely.exit_code, 64) << lonely.err;
  EXPECT_NE(lonely.err.find("--language and --var go with --template"), std::string::npos) << lonely.err;
  auto empty = Ctl({"send", "--channel", channel, "--urn", "tel:+250788383385", "--template", "t", "--var", ""});
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.err.find("body param 1 has no value"), std::string::npos) << empty.err;
}

TEST_P(CtlTest, VersionAndHelp) {
  auto v = Ctl({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("courier-ctl"), std::string::npos);
  auto h = Ctl({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("channel"), std::string::npos);
}

TEST_P(CtlTest, UsageErrorsAreOneLineThatSaysWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases = {
      {{"frobnicate"},
       "courier-ctl: unknown command 'frobnicate'; the commands are init, channel, send, msgs, queue, logs, events, "
       "retry, fail, contact, spool, prune, media, hook, token, store, status, metrics\n"},
      {{"retry"}, "courier-ctl: retry needs msg ids (courier-ctl retry 12 13) or --status E (every errored msg)\n"},
      {{"msgs", "list", "--limit", "0"}, "courier-ctl: --limit must be a whole number from 1 to 2147483647, not '0'\n"},
      {{"msgs", "list", "--bogus"}, "courier-ctl: msgs list has no option --bogus (see courier-ctl msgs list --help)\n"},
  };
  for (const auto& c : cases) {
    auto r = Ctl(c.args);
    EXPECT_EQ(r.exit_code, 64) << c.args[0];
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
}

TEST_P(CtlTest, EventsForPeopleSayWhatHappenedInFull) {
  Init();
  std::string channel = AddChannel();
  const std::string text(200, 'm');
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", text}).exit_code, 0);
  ASSERT_EQ(Ctl({"fail", "1"}).exit_code, 0);
  auto r = Ctl({"events"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0].rfind("SEQ", 0), 0u);
  EXPECT_NE(lines[1].find("msg.queued"), std::string::npos);
  EXPECT_NE(lines[1].find("tel:+250788383383"), std::string::npos);
  EXPECT_NE(lines[1].find("text: " + text), std::string::npos) << "cut: " << lines[1];
  EXPECT_NE(lines[2].find("msg.failed"), std::string::npos);
  EXPECT_NE(lines[2].find("  F  "), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find("error: failed by operator"), std::string::npos) << lines[2];
}

TEST_P(CtlTest, FollowEndsWhenItsReaderGoesAway) {
  Init();
  std::string channel = AddChannel();
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "one"}).exit_code, 0);
  // Literally `courier-ctl events --follow | head -1`; the timeout only
  // bounds a failure.
  const auto started = std::chrono::steady_clock::now();
  auto piped = RunProgram({"/bin/sh", "-c", "timeout 20 " + Bin("courier-ctl") + " events --follow | head -1"}, "", env_);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out.rfind("SEQ", 0), 0u) << piped.out;

  // Nothing more to print: the follower notices the closed pipe by itself.
  {
    PipedCtl follow({Bin("courier-ctl"), "events", "--follow"}, env_, dir_.File("follow.err"));
    EXPECT_EQ(follow.ReadLine().rfind("SEQ", 0), 0u);
    follow.CloseReader();
    EXPECT_EQ(follow.WaitExit(3000), 0) << ReadFile(dir_.File("follow.err"));
  }
  // More events after the reader left: the write fails (EPIPE), and the
  // follower ends cleanly instead of dying of SIGPIPE.
  {
    PipedCtl follow({Bin("courier-ctl"), "events", "--follow", "--json"}, env_, dir_.File("follow.err"));
    EXPECT_NE(follow.ReadLine().find("\"seq\":1"), std::string::npos);
    follow.CloseReader();
    ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "more"}).exit_code, 0);
    EXPECT_EQ(follow.WaitExit(3000), 0) << ReadFile(dir_.File("follow.err"));
  }
}

TEST_F(CtlTestSqlite, ReadOnlyStoreServesTheCommandsThatRead) {
  Init();
  std::string channel = AddChannel();
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "Muraho"}).exit_code, 0);
  const std::string db = dir_.File("courier.db");
  MakeStoreReadOnly(dir_.path(), db);
  const std::string bytes = ReadFile(db);
  const std::set<std::string> names = FileNames(dir_.path());
  auto reader = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = AsReader();
    argv.push_back(Bin("courier-ctl"));
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, "", env_);
  };

  auto list = reader({"msgs", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto msgs = JsonLines(list.out);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(json::GetString(msgs[0], "text"), "Muraho");
  auto shown = reader({"msgs", "show", "1"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  auto queue = reader({"queue", "--json"});
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  ASSERT_EQ(JsonLines(queue.out).size(), 1u);
  EXPECT_EQ(json::GetInt(JsonLines(queue.out)[0], "queued_high"), 1);
  auto logs = reader({"logs"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out.rfind("ID", 0), 0u);
  auto events = reader({"events", "--json"});
  EXPECT_EQ(events.exit_code, 0) << events.err;
  EXPECT_EQ(Lines(events.out).size(), 1u);
  auto channels = reader({"channel", "list", "--json"});
  EXPECT_EQ(channels.exit_code, 0) << channels.err;
  auto status = reader({"status", "--json"});
  EXPECT_EQ(status.exit_code, 69);  // no daemon answers; the store itself is fine
  ASSERT_EQ(JsonLines(status.out).size(), 1u) << status.err;
  EXPECT_EQ(json::GetString(JsonLines(status.out)[0]->getObject("store"), "state"), "ok");

  // A command that writes is refused, in one line that says why and what
  // still works.
  auto send = reader({"send", "--channel", channel, "--urn", "tel:+250788383383", "--text", "x"});
  EXPECT_EQ(send.exit_code, 69);
  EXPECT_EQ(Lines(send.err).size(), 1u) << send.err;
  EXPECT_EQ(send.err.rfind("courier-ctl: store " + db + " is not writable by this user", 0), 0u) << send.err;

  // Nothing was written: no -wal or -shm beside the file, its bytes unchanged.
  EXPECT_EQ(FileNames(dir_.path()), names);
  EXPECT_EQ(ReadFile(db), bytes);

  // A reader following the events sees what the owner commits later.
  PipedCtl follow([&] {
    std::vector<std::string> argv = AsReader();
    argv.insert(argv.end(), {Bin("courier-ctl"), "events", "--follow", "--after", "1", "--json"});
    return argv;
  }(), env_, dir_.File("follow.err"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::chmod(db.c_str(), 0644);
  ::chmod(dir_.path().c_str(), 0755);
  ASSERT_EQ(Ctl({"send", "--channel", channel, "--urn", "tel:+250788383384", "--text", "later"}).exit_code, 0);
  std::string line = follow.ReadLine();
  EXPECT_NE(line.find("\"text\":\"later\""), std::string::npos) << line << ReadFile(dir_.File("follow.err"));
}

TEST_P(CtlTest, ImportErrorsNameTheLineAndExitAsSendDoes) {
  Init();
  std::string channel = AddChannel();
  const std::string unknown = "6a0ee8a4-04c2-4b9b-8a5c-0b5d1d0b7e3f";
  auto msg = [](const std::string& channel_uuid, const std::string& urn) {
    return "{\"channel_uuid\":\"" + channel_uuid + "\",\"urn\":\"" + urn +
           "\",\"text\":\"x\",\"direction\":\"out\",\"status\":\"Q\"}\n";
  };
  auto send_line = [](const std::string& channel_uuid, const std::string& urn) {
    return "{\"channel\":\"" + channel_uuid + "\",\"urn\":\"" + urn + "\",\"text\":\"x\"}\n";
  };
  struct Case {
    std::string name;
    std::string import_line, send_line;
    int exit_code;
    std::string err;  // the import's, after "courier-ctl: line 2: "
  };
  const std::vector<Case> cases = {
      {"unknown channel", msg(unknown, "tel:+250788383383"), send_line(unknown, "tel:+250788383383"), 66,
       "channel not found: " + unknown},
      {"malformed channel", msg("zz", "tel:+250788383383"), send_line("zz", "tel:+250788383383"), 65,
       "not a channel UUID: 'zz'"},
      {"bad URN", msg(channel, "bogus"), send_line(channel, "bogus"), 65, ""},
      {"not JSON", "{nope\n", "{nope\n", 65, "invalid JSON"},
  };
  const std::string good = msg(channel, "tel:+250788383383");
  const std::string good_send = send_line(channel, "tel:+250788383383");
  for (const auto& c : cases) {
    auto imported = Ctl({"msgs", "import", "--jsonl", "-"}, good + c.import_line);
    auto sent = Ctl({"send", "--jsonl", "-"}, good_send + c.send_line);
    EXPECT_EQ(imported.exit_code, c.exit_code) << c.name << ": " << imported.err;
    EXPECT_EQ(sent.exit_code, c.exit_code) << c.name << ": " << sent.err;
    EXPECT_EQ(imported.err.rfind("courier-ctl: line 2: " + c.err, 0), 0u) << c.name << ": " << imported.err;
    EXPECT_EQ(Lines(imported.err).size(), 1u) << imported.err;
  }
  EXPECT_EQ(Ctl({"msgs", "list", "--json"}).out, "");  // all or nothing
  auto missing = Ctl({"msgs", "import", "--jsonl", dir_.File("missing.jsonl")});
  EXPECT_EQ(missing.exit_code, 66);
  EXPECT_EQ(missing.err, "courier-ctl: cannot read " + dir_.File("missing.jsonl") + ": No such file or directory\n");
}

}  // namespace

namespace {

// `store copy` as an operator runs it: rows by table, the target's password
// never printed, a second copy into the same database refused (65) with
// the target left as it was, a wrong --to a usage error (64).
TEST_F(CtlTestSqlite, StoreCopyMovesTheStoreToPostgresAndNeverPrintsThePassword) {
  COURIER_REQUIRE_POSTGRES(server);
  Init();
  const std::string channel = AddChannel();
  for (int i = 0; i < 3; ++i) {
    auto sent = Ctl({"send", "--channel", channel, "--urn", "tel:+25078812300" + std::to_string(i), "--text", "hi"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
  }
  auto uri = server->CreateDatabase();
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  // The same database, named with a password the local server ignores
  // (trust authentication), so it is printed if anything prints the url.
  std::string with_password = *uri;
  const std::string user = "courier@";
  ASSERT_NE(with_password.find(user), std::string::npos) << with_password;
  with_password.replace(with_password.find(user), user.size(), "courier:hunter2@");

  auto copied = Ctl({"store", "copy", "--to", *uri, "--json"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  auto report = json::ParseObject(Lines(copied.out).at(0));
  ASSERT_TRUE(report.ok()) << copied.out;
  auto tables = json::GetObject(*report, "tables");
  ASSERT_TRUE(tables);
  EXPECT_EQ(json::GetInt(tables, "channels").value_or(-1), 1);
  EXPECT_EQ(json::GetInt(tables, "msgs").value_or(-1), 3);
  EXPECT_EQ(json::GetInt(tables, "contacts").value_or(-1), 3);
  EXPECT_GE(json::GetInt(tables, "events").value_or(-1), 3);

  auto again = Ctl({"store", "copy", "--to", with_password});
  EXPECT_EQ(again.exit_code, 65) << again.err;
  EXPECT_EQ(again.err,
            "courier-ctl: the target store is not empty (table channels has rows): copy into a new database\n");
  EXPECT_EQ((again.out + again.err).find("hunter2"), std::string::npos);

  auto wrong = Ctl({"store", "copy", "--to", "mysql://root:hunter2@db/courier"});
  EXPECT_EQ(wrong.exit_code, 64);
  EXPECT_EQ(wrong.err.find("hunter2"), std::string::npos) << wrong.err;
}

}  // namespace
