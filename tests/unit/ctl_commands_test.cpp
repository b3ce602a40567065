// courier-ctl's command table, driven in process: what each command line
// chooses, and the one-line usage error for each kind of mistake.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "ctl/ctl.h"
#include "ctl/ctl_commands.h"

using namespace courier;

namespace {

struct Case {
  std::vector<std::string> args;
  std::string command;  // chosen when the line is valid
  std::string error;    // else the text after "courier-ctl: "
};

const std::string kCommands = "init, channel, send, msgs, queue, logs, events, retry, fail, contact, spool, prune, media, hook, token, store, status, metrics";

class CtlCommandsTest : public ::testing::TestWithParam<Case> {};

TEST_P(CtlCommandsTest, ChoosesTheCommandOrSaysWhatIsWrong) {
  const Case& c = GetParam();
  CtlCommandLine command_line;
  Status parsed = command_line.ParseArgs(c.args);
  if (c.error.empty()) {
    ASSERT_TRUE(parsed.ok()) << parsed.message();
    EXPECT_EQ(command_line.command(), c.command);
  } else {
    ASSERT_FALSE(parsed.ok()) << "chose " << command_line.command();
    EXPECT_EQ(parsed.code(), Status::Code::kUsage);
    EXPECT_EQ(parsed.ExitCode(), 64);
    EXPECT_EQ(parsed.message(), c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lines, CtlCommandsTest,
    ::testing::Values(
        // Valid lines, shared options before or after the command.
        Case{{"init"}, "init"},
        Case{{"--db", "x.db", "queue", "--json"}, "queue"},
        Case{{"queue", "--db", "x.db"}, "queue"},
        Case{{"channel", "add", "--type", "EX", "--address", "1", "--max-workers", "4096"}, "channel add"},
        Case{{"msgs", "list", "--limit", "1", "--after-id", "0", "--direction", "in", "--status", "errored"},
             "msgs list"},
        Case{{"msgs", "show", "12"}, "msgs show"},
        Case{{"events", "--after", "7", "--follow"}, "events"},
        Case{{"retry", "1", "2"}, "retry"},
        Case{{"retry", "--status", "E"}, "retry"},
        Case{{"fail", "3"}, "fail"},
        Case{{"send", "--jsonl", "-"}, "send"},
        Case{{"contact", "list", "--stopped"}, "contact list"},
        Case{{"prune", "--older-than", "30", "--dry-run"}, "prune"},
        Case{{"prune", "--msgs-older-than", "90", "--vacuum"}, "prune"},
        Case{{"hook", "add", "--url", "https://app.example.com/courier", "--events", "msg.received", "--batch", "50",
              "--from", "now"},
             "hook add"},
        Case{{"hook", "add", "--url", "https://rp.example.com/handle", "--format", "rapidpro", "--token", "t"},
             "hook add"},
        Case{{"hook", "replay", "3", "--from", "1"}, "hook replay"},
        Case{{"hook", "pause", "3", "--reason", "maintenance"}, "hook pause"},
        Case{{"hook", "resume", "0190f3c2-9a6e-7c41-8d1e-5b7a2f3c4d5e"}, "hook resume"},
        Case{{"token", "add", "--name", "crm", "--scope", "send,read"}, "token add"},
        Case{{"token", "list", "--json"}, "token list"},
        Case{{"token", "rm", "crm"}, "token rm"},
        Case{{"store", "copy", "--to", "postgresql://courier@db1/courier", "--json"}, "store copy"},
        // Unknown and missing commands name themselves and the valid ones.
        Case{{}, "", "no command given; the commands are " + kCommands},
        Case{{"frobnicate"}, "", "unknown command 'frobnicate'; the commands are " + kCommands},
        Case{{"msgs", "frob"}, "", "unknown msgs command 'frob'; the msgs commands are list, show, import"},
        Case{{"channel"}, "", "channel needs a command; the channel commands are add, list, show, rm, types"},
        Case{{"--bogus"}, "", "unknown option --bogus (see courier-ctl --help)"},
        Case{{"queue", "--bogus"}, "", "queue has no option --bogus (see courier-ctl queue --help)"},
        Case{{"queue", "extra"}, "", "queue takes no argument 'extra'"},
        // What a command needs.
        Case{{"retry"}, "", "retry needs msg ids (courier-ctl retry 12 13) or --status E (every errored msg)"},
        Case{{"retry", "1", "--status", "E"}, "", "retry takes msg ids or --status E, not both"},
        Case{{"fail"}, "", "fail needs msg ids (courier-ctl fail 12 13)"},
        Case{{"send"}, "", "send needs --channel and --urn (or --jsonl FILE)"},
        Case{{"send", "--jsonl", "-", "--urn", "tel:1"}, "",
             "send --jsonl cannot be combined with --channel, --urn or --text"},
        Case{{"msgs", "show"}, "", "msgs show needs ID|UUID"},
        Case{{"prune"}, "", "prune needs --older-than DAYS or --logs-, --events- or --msgs-older-than DAYS"},
        Case{{"token", "add"}, "", "token add needs --name"},
        Case{{"token", "rm"}, "", "token rm needs NAME"},
        Case{{"store", "copy"}, "", "store copy needs --to"},
        Case{{"store"}, "", "store needs a command; the store commands are copy"},
        Case{{"prune", "--older-than", "7", "--dry-run", "--vacuum"}, "", "prune --dry-run and --vacuum do not go together"},
        Case{{"prune", "--events-older-than", "0"}, "", "--events-older-than must be a whole number from 1 to 36500, not '0'"},
        Case{{"channel", "add", "--type", "EX"}, "", "channel add needs --address"},
        Case{{"msgs", "list", "--limit"}, "", "--limit needs a value"},
        // Ranges as a person writes them.
        Case{{"msgs", "list", "--limit", "0"}, "", "--limit must be a whole number from 1 to 2147483647, not '0'"},
        Case{{"msgs", "list", "--limit", "99999999999"}, "",
             "--limit must be a whole number from 1 to 2147483647, not '99999999999'"},
        Case{{"logs", "--limit", "x"}, "", "--limit must be a whole number from 1 to 2147483647, not 'x'"},
        Case{{"channel", "add", "--type", "EX", "--address", "1", "--max-workers", "5000"}, "",
             "--max-workers must be a whole number from 0 to 4096, not '5000'"},
        Case{{"channel", "add", "--type", "EX", "--address", "1", "--tps", "-1"}, "",
             "--tps must be a whole number from 0 to 2147483647, not '-1'"},
        Case{{"events", "--after", "-1"}, "", "--after must be a whole number of 0 or more, not '-1'"},
        Case{{"retry", "0"}, "", "ID must be a whole number of 1 or more, not '0'"},
        Case{{"fail", "12x"}, "", "ID must be a whole number of 1 or more, not '12x'"},
        Case{{"logs", "--msg", " 5"}, "", "--msg must be a whole number of 1 or more, not ' 5'"},
        // One of a set.
        Case{{"msgs", "list", "--direction", "sideways"}, "", "--direction must be in or out, not 'sideways'"},
        Case{{"msgs", "list", "--status", "Z"}, "",
             "--status must be a msg status (P Q W S D R E F, or its name), not 'Z'"},
        Case{{"retry", "--status", "Q"}, "", "--status must be E (errored msgs), not 'Q'"},
        Case{{"hook", "add"}, "", "hook add needs --url"},
        Case{{"hook", "add", "--url", "http://a", "--format", "xml"}, "", "--format must be json or rapidpro, not 'xml'"},
        Case{{"hook", "add", "--url", "http://a", "--batch", "0"}, "",
             "--batch must be a whole number from 1 to 1000, not '0'"},
        Case{{"hook", "replay", "3"}, "", "hook replay needs --from"},
        Case{{"hook", "replay", "3", "--from", "0"}, "",
             "--from must be a whole number of 1 or more, not '0'"}));

// The parsed arguments reach the command: run against a real store.
class CtlRunTest : public ::testing::Test {
 protected:
  CtlRunTest() {
    char tmpl[] = "/tmp/courier-ctl-commands-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    options_.db = dir_ + "/courier.db";
    options_.spool_dir = dir_ + "/spool";
    options_.run_dir = dir_ + "/run";
  }
  ~CtlRunTest() override { std::filesystem::remove_all(dir_); }

  int Run(const std::vector<std::string>& args) {
    CtlCommandLine command_line;
    Status parsed = command_line.ParseArgs(args);
    EXPECT_TRUE(parsed.ok()) << parsed.message();
    out_.str("");
    err_.str("");
    Ctl ctl(options_, out_, err_, in_);
    return command_line.Run(ctl);
  }

  std::string dir_;
  Options options_;
  std::ostringstream out_, err_;
  std::istringstream in_;
};

TEST_F(CtlRunTest, ParsedArgumentsReachTheCommand) {
  ASSERT_EQ(Run({"init"}), 0) << err_.str();
  // Ids as numbers: none of these msgs exists, so none is changed (65).
  EXPECT_EQ(Run({"retry", "5", "6"}), 65);
  EXPECT_EQ(out_.str(), "requeued 0 msgs\n");
  EXPECT_EQ(err_.str(), "courier-ctl: 2 msgs not requeued (unknown, incoming, or not errored/failed)\n");
  EXPECT_EQ(Run({"retry", "--status", "errored"}), 0);
  EXPECT_EQ(Run({"fail", "7"}), 65);
  EXPECT_EQ(out_.str(), "failed 0 msgs\n");
  EXPECT_EQ(Run({"queue", "--json"}), 0);
  EXPECT_EQ(out_.str(), "");  // no channels: no rows, and no table header
  EXPECT_EQ(Run({"queue"}), 0);
  EXPECT_EQ(out_.str().rfind("CHANNEL", 0), 0u);
}

}  // namespace
