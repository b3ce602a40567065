#pragma once
// Options: the one option set every courier program shares, and how it is
// assembled: defaults < config file (TOML, --config) < COURIER_* environment
// < command-line flags. The same snake_case name is the TOML key, the env
// name upper-cased with a COURIER_ prefix, and the flag with dashes:
// spool_dir = COURIER_SPOOL_DIR = --spool-dir.
//
// Every program accepts every key in the file and the environment (one file
// serves the whole pipeline); each program offers as flags the shared ones
// plus those it uses.
//
// The file is read strictly (courier.conf(5)): a TOML syntax error, a key
// set twice, an unknown key or table, a value of the wrong TOML type or out
// of range stops the program with a message naming the file, the line and
// the key, so a broken file never runs with values nobody wrote. Every value
// from any layer is checked where it is given, and must be representable in
// TOML (valid UTF-8), so that Describe() can always print it back.

#include <functional>
#include <map>
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
  int spool_reserve_mb = 64;        // the spool refuses writes that would leave less free (MB)
  int sqlite_cache_mb = 32;         // page cache SQLite may keep per store connection (MB)
  std::string store_group;          // group that may read the store (mode 0640); "": owner only (0600)
  // courier-recv
  std::string address = "127.0.0.1";
  int port = 8080;
  std::string base_url;             // where providers reach courier-recv; default http://address:port
  long max_body_bytes = 1 << 20;
  int channel_cache_ttl = 60;       // seconds
  int spool_backlog_limit = 10000;  // /status turns 503 above this many intakes spooled
  int health_min_free_mb = 64;      // /status turns 503 when the store's file system has less free (MB)
  std::vector<std::string> include_channels;  // type codes; empty: all
  std::vector<std::string> exclude_channels;
  int request_read_timeout = 30;    // seconds for a request's line, headers and body to come in; 0: none
  int max_connections = 4000;       // open at once, all clients
  int max_connections_per_ip = 256; // open at once from one address; 0: no limit
  int duplicate_window = 4;         // seconds: an identical msg without a provider id this close is a retry; 0: never
  // courier-send
  int max_workers = 32;
  int max_retries = 3;              // errors before F
  int retry_backoff = 60;           // seconds before the first retry; doubles each time
  int send_grace = 30;              // seconds SIGTERM waits for in-flight sends
  int heartbeat_timeout = 30;       // seconds of silence after which another host's sender is taken for dead
  std::string host_name;            // this host's name in the store's worker names; "" the system's
  int http_timeout = 30;            // seconds, each connect, write and read
  // Requests made on a channel's behalf (courier-send, courier-recv):
  int http_deadline = 30;           // seconds for a whole request, connect to last byte
  std::string outbound_allow;       // CIDRs opened in the outbound policy: "127.0.0.0/8,10.1.2.0/24"
  std::string outbound_ca_file;     // PEM CAs trusted beside the system's; "" none
  // courier-flush
  int flush_interval = 5;           // seconds between spool scans
  // Retention, applied by courier-flush: days kept (0: forever).
  int retain_logs_days = 7;         // channel logs
  int retain_events_days = 30;      // events
  int retain_msgs_days = 0;         // finished msgs (never queued or errored ones)
  // courier-hook
  int hook_poll_interval = 1;       // seconds between looks at the store without a wake
  int hook_timeout = 10;            // seconds for a whole POST to an application
  // courier-api
  std::string api_address = "127.0.0.1";  // never courier-recv's internet-facing listener
  int api_port = 8082;
  long api_max_body_bytes = 1 << 20;
  int api_workers = 4;              // threads serving requests that touch the store
  int api_max_long_polls = 256;     // GET /api/v1/events requests waiting at once
  int api_idempotency_hours = 24;   // an Idempotency-Key is remembered this long (pruned by courier-flush)
  // courier-fetch and the media store
  int fetch_workers = 4;            // downloads at once
  std::string media_dir = "var/media";
  std::string media_url;            // where stored copies are served; default http://api_address:api_port/media
  int media_max_mb = 32;            // the largest attachment kept (MB)
  std::vector<std::string> media_refused_types;  // "video/*", "application/x-dosexec": never kept
  int media_fetch_timeout = 120;    // seconds for a whole download
  int media_retry_backoff = 30;     // seconds before the first retry of a download, doubling
  int media_max_attempts = 8;       // downloads before a fetch fails

  // "http://127.0.0.1:8082/media" unless media_url was set.
  std::string EffectiveMediaUrl() const;
  // courier-api's own /media URL, from api_address and api_port: what an
  // unset media_url means, and where msgs written before it was set point.
  std::string DefaultMediaUrl() const;

  // host_name, or the system's when it is "": the first part of the
  // store's worker names ("host:pid").
  std::string EffectiveHostName() const;

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
  // `aliases` gives an option's flag a second name: {"flush_interval",
  // "--interval"}.
  OptionLoader(CLI::App& app, const std::vector<std::string>& tool_flags,
               const std::map<std::string, std::string>& aliases = {});
  ~OptionLoader();
  OptionLoader(const OptionLoader&) = delete;
  OptionLoader& operator=(const OptionLoader&) = delete;

  // Applies the layers, checking each value as it is given. Usage errors
  // (bad value, unknown key, unreadable or malformed config file) come back
  // as Status::Usage with a message that starts with where the value came
  // from: "COURIER_PORT: not a number: 'x'", "--port: must be 0-65535, not
  // 70000", "config file 'c.toml', line 3: repeated key 'db' (first set on
  // line 2)".
  Result<Options> Load(const GetEnv& getenv = GetEnv()) const;

  // The effective options as a TOML config file, one `key = value` line
  // each, for --print-config: read back as --config (with no environment or
  // flags), it gives the same Options.
  static std::string Describe(const Options& options);

 private:
  struct Impl;
  Impl* impl_;
};

// The snake_case names of every option, in declaration order.
const std::vector<std::string>& OptionNames();

}  // namespace courier
