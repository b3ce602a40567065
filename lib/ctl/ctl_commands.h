#pragma once
// courier-ctl's command line: the table of subcommands with their options,
// the checks of their form (numbers within a range, msg ids, one of a set,
// what goes together), and the text of a usage error. The tool's main is
// one call of RunCourierCtl(); tests build a CtlCommandLine and parse with
// it, so the validation is tested without starting a process.
//
// A usage error prints one line on standard error, "courier-ctl: what is
// wrong", and exits 64: an unknown command names itself and lists the valid
// ones, a missing argument says what the command needs, a number out of
// range gives the range as "from 1 to 2147483647".
//
// Thread-safety: none; one per process (or per test).
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "config/options.h"
#include "core/status.h"

namespace courier {

class Ctl;

class CtlCommandLine {
 public:
  CtlCommandLine();
  ~CtlCommandLine();
  CtlCommandLine(const CtlCommandLine&) = delete;
  CtlCommandLine& operator=(const CtlCommandLine&) = delete;

  // Parses argv (argv[0] is the program's name) and loads the options
  // (configuration file, environment, flags). Returns the options, or the
  // exit status to return at once: 0 after --help, --version or
  // --print-config, 64 after a usage error (printed on standard error).
  std::variant<Options, int> Parse(int argc, char** argv);

  // Parses `args` (without the program's name) and loads no options. OK, or
  // Usage with the text printed after "courier-ctl: ".
  Status ParseArgs(const std::vector<std::string>& args);

  // After a successful parse: the command's name ("msgs list"), whether it
  // is `events --follow`, and running it.
  const std::string& command() const;
  bool following() const;
  int Run(Ctl& ctl) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// courier-ctl itself: parses the command line, runs the command on standard
// input and output, and returns the exit status.
int RunCourierCtl(int argc, char** argv);

}  // namespace courier
