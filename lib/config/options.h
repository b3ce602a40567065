#pragma once
// Options: the one option set every courier program shares, and how it is
// assembled: defaults < config file (TOML, --config) < COURIER_* environment
// < command-line flags. The same snake_case name is the TOML key, the env
// name upper-cased with a COURIER_ prefix, and the flag with dashes:
// spool_dir = COURIER_SPOOL_DIR = --spool-dir.
//
// Every program accepts every key in the file and the environment (one file
// serves the whole pipeline); each program offers as flags the shared ones
// plus those it uses. Unknown keys in the file are errors, so a typo does
// not silently leave a default in place.

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace CLI { class App; }

namespace courier {

struct Options {
  // shared by every program
  std::string config;               // the file these came from, "" if none
  std::string db = "var/courier.db";
  std::string spool_dir = "var/spool";
  std::string run_dir = "var/run";
  std::string log_level = "info";   // debug, info, warn, error
  // courier-recv
  std::string address = "127.0.0.1";
  int port = 8080;
  std::string base_url;             // where providers reach courier-recv; default http://address:port
  long max_body_bytes = 1 << 20;
  int channel_cache_ttl = 60;       // seconds
  int spool_backlog_limit = 10000;  // /status turns 503 above this many pending files
  std::vector<std::string> include_channels;  // type codes; empty: all
  std::vector<std::string> exclude_channels;
  // courier-send
  int max_workers = 32;
  int max_retries = 3;              // errors before F
  int retry_backoff = 60;           // seconds before the first retry; doubles each time
  int send_grace = 30;              // seconds SIGTERM waits for in-flight sends
  int http_timeout = 30;            // seconds, connect + read
  // courier-flush
  int flush_interval = 5;           // seconds between spool scans

  // "http://127.0.0.1:8080" unless base_url was set.
  std::string EffectiveBaseUrl() const;
};

// Where environment values come from; tests pass their own.
using GetEnv = std::function<const char*(const char*)>;

// Registers options on a CLI11 app and, after parsing, assembles Options.
//
//   CLI::App app{"courier-recv"};
//   OptionLoader loader(app, {"address", "port", "base_url"});
//   CLI11_PARSE(app, argc, argv);
//   auto options = loader.Load();
class OptionLoader {
 public:
  // `tool_flags` names options beyond the shared ones that get a flag.
  OptionLoader(CLI::App& app, const std::vector<std::string>& tool_flags);
  ~OptionLoader();
  OptionLoader(const OptionLoader&) = delete;
  OptionLoader& operator=(const OptionLoader&) = delete;

  // Applies the layers and validates. Usage errors (bad value, unknown key,
  // unreadable config file) come back as Status::Usage with a message that
  // names the layer, e.g. "COURIER_PORT: not a number: 'x'".
  Result<Options> Load(const GetEnv& getenv = GetEnv()) const;

  // key = value lines of the effective options, for --print-config.
  static std::string Describe(const Options& options);

 private:
  struct Impl;
  Impl* impl_;
};

// The snake_case names of every option, in declaration order.
const std::vector<std::string>& OptionNames();

}  // namespace courier
