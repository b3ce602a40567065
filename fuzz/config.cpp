// Fuzz target: the TOML config file reader (lib/config/options), as every
// program reads --config / COURIER_CONFIG. Any file is taken or refused
// with a Usage status, never an exception; one that is taken prints
// (--print-config) as a file that reads back to the same options.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "config/options.h"
#include "fuzz_check.h"

namespace {

// One file per process, rewritten for each input: the reader takes a path.
const std::string& ConfigPath() {
  static const std::string path = [] {
    char dir[] = "/tmp/courier-fuzz-config-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    return std::string(dir) + "/courier.toml";
  }();
  return path;
}

courier::Result<courier::Options> LoadFrom(const std::string& text) {
  { std::ofstream(ConfigPath(), std::ios::binary | std::ios::trunc) << text; }
  CLI::App app{"courier-fuzz"};
  courier::OptionLoader loader(app, {});
  const char* argv[] = {"courier-fuzz"};
  app.parse(1, argv);
  return loader.Load([](const char* name) -> const char* {
    return std::strcmp(name, "COURIER_CONFIG") == 0 ? ConfigPath().c_str() : nullptr;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto options = LoadFrom(std::string(reinterpret_cast<const char*>(data), size));
  if (!options.ok()) return 0;
  const std::string described = courier::OptionLoader::Describe(*options);
  auto again = LoadFrom(described);
  FUZZ_CHECK(again.ok(), "--print-config output refused: " + again.status().message() + "\n" + described);
  const std::string described_again = courier::OptionLoader::Describe(*again);
  FUZZ_CHECK(described_again == described, "first:\n" + described + "\nsecond:\n" + described_again);
  return 0;
}
