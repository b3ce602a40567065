#pragma once
// The fixed start of every courier tool: parse the command line with CLI11,
// then assemble Options. Usage errors print CLI11's message and map to
// exit 64; --help and --version exit 0.
#include <CLI/CLI.hpp>

#include <optional>
#include <variant>

#include "config/options.h"

namespace courier {

// Sets --version and the sysexits footer on `app`.
void SetUpApp(CLI::App& app, const std::string& description);

// Parses argv and loads options. Returns the options, or the exit code the
// tool should return right away (help, version, usage error).
std::variant<Options, int> ParseCommandLine(CLI::App& app, const OptionLoader& loader, int argc, char** argv);

}  // namespace courier
