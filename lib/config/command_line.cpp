#include "config/command_line.h"

#include <iostream>
#include <variant>

#include "core/status.h"
#include "core/version.h"

namespace courier {

namespace {
bool print_config = false;
}

void SetUpApp(CLI::App& app, const std::string& description) {
  app.description(description);
  app.add_flag("--print-config", print_config, "print the effective options and exit");
  app.set_version_flag("--version", std::string(app.get_name()) + " " + kVersion);
  app.footer("Exit status: 0 ok, 64 usage (options and configuration), 65 bad data, 66 not found,\n"
             "69 unavailable, 70 internal error, 74 I/O error, 75 try again.");
}

std::variant<Options, int> ParseCommandLine(CLI::App& app, const OptionLoader& loader, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // `courier-ctl --print-config` names no subcommand, and needs none:
    // the options are all parsed by the time requirements are checked.
    if (!print_config) return app.exit(e) == 0 ? exit_code::kOk : exit_code::kUsage;
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? exit_code::kOk : exit_code::kUsage;
  }
  auto options = loader.Load();
  if (!options.ok()) {
    std::cerr << app.get_name() << ": " << options.status().message() << '\n';
    return exit_code::kUsage;
  }
  if (print_config) {
    std::cout << OptionLoader::Describe(*options);
    return exit_code::kOk;
  }
  return *options;
}

}  // namespace courier
