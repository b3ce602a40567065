#include "config/options.h"

#include <CLI/CLI.hpp>
#include <unistd.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <sstream>
#include <variant>

#include "core/env.h"
#include "util/ip_network.h"
#include "util/text.h"

namespace courier {
namespace {

// Kind is the TOML type an option takes in the file, and how its text is
// read from the environment and flags (kList: comma-separated).
enum class Kind { kString, kInt, kList };

// Where the value lives in Options; its alternative matches the Kind
// (kInt: int or long).
using Field = std::variant<std::string Options::*, int Options::*, long Options::*,
                           std::vector<std::string> Options::*>;

// What a string value must also be; returns "" when it is fine, else
// what is wrong with it ("must not be empty").
using TextCheck = std::string (*)(const std::string&);

std::string NotEmpty(const std::string& v) { return v.empty() ? "must not be empty" : ""; }

std::string LogLevel(const std::string& v) {
  if (v == "debug" || v == "info" || v == "warn" || v == "error") return "";
  return "must be debug, info, warn or error, not '" + v + "'";
}

std::string HttpUrlOrEmpty(const std::string& v) {
  if (v.empty() || StartsWith(v, "http://") || StartsWith(v, "https://")) return "";
  return "must start with http:// or https://, not '" + v + "'";
}

// A name that keeps HOST:PID worker names readable and unambiguous.
std::string HostNameOrEmpty(const std::string& v) {
  for (unsigned char c : v)
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_')
      return "must be letters, digits, '-', '.' or '_', not '" + v + "'";
  return "";
}

std::string IpNetworkList(const std::string& v) {
  std::string error;
  return ParseIpNetworks(v, &error) ? "" : error;
}

struct Spec {
  const char* name;
  Kind kind;
  const char* help;
  Field field;
  TextCheck check = nullptr;      // kString
  int64_t min = 0, max = INT_MAX;  // kInt
};

// One row per option. Order is the order of --help and Describe().
const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"db", Kind::kString, "store: a SQLite file path (or sqlite:PATH), or a postgresql:// URI", &Options::db, NotEmpty},
      {"spool_dir", Kind::kString, "spool directory for data the store could not take", &Options::spool_dir, NotEmpty},
      {"run_dir", Kind::kString, "directory for the ZeroMQ ipc sockets", &Options::run_dir, NotEmpty},
      {"log_level", Kind::kString, "debug, info, warn or error", &Options::log_level, LogLevel},
      {"spool_reserve_mb", Kind::kInt, "MB the spool leaves free on its file system (refusing writes, 503)", &Options::spool_reserve_mb},
      {"sqlite_cache_mb", Kind::kInt, "MB of page cache a SQLite store connection may keep (each daemon has a few)", &Options::sqlite_cache_mb, nullptr, 1, 4096},
      {"store_group", Kind::kString, "group that may read the store (created 0640); empty: owner only (0600)", &Options::store_group},
      {"address", Kind::kString, "address courier-recv listens on", &Options::address},
      {"port", Kind::kInt, "port courier-recv listens on", &Options::port, nullptr, 0, 65535},
      {"base_url", Kind::kString, "URL where providers reach courier-recv (callback URLs, logs)", &Options::base_url, HttpUrlOrEmpty},
      {"max_body_bytes", Kind::kInt, "largest webhook body accepted (bytes)", &Options::max_body_bytes, nullptr, 1, LONG_MAX},
      {"channel_cache_ttl", Kind::kInt, "seconds a looked-up channel is cached", &Options::channel_cache_ttl},
      {"spool_backlog_limit", Kind::kInt, "intakes waiting in the spool above which /status is unhealthy", &Options::spool_backlog_limit},
      {"health_min_free_mb", Kind::kInt, "MB free on the store's file system below which /status is unhealthy", &Options::health_min_free_mb},
      {"include_channels", Kind::kList, "channel type codes to enable (comma-separated; empty: all)", &Options::include_channels},
      {"exclude_channels", Kind::kList, "channel type codes to disable (comma-separated)", &Options::exclude_channels},
      {"request_read_timeout", Kind::kInt, "seconds a request's line, headers and body may take to come in (0: no limit)", &Options::request_read_timeout},
      {"max_connections", Kind::kInt, "connections courier-recv keeps open at once", &Options::max_connections, nullptr, 1, 1000000},
      {"max_connections_per_ip", Kind::kInt, "connections courier-recv keeps open from one address (0: no limit)", &Options::max_connections_per_ip},
      {"duplicate_window", Kind::kInt, "seconds within which a msg without a provider id that repeats the URN's last one on its channel is taken for a retry (0: never)", &Options::duplicate_window, nullptr, 0, 3600},
      {"max_workers", Kind::kInt, "sender threads", &Options::max_workers, nullptr, 0, 4096},
      {"max_retries", Kind::kInt, "send errors before a msg is failed", &Options::max_retries},
      {"retry_backoff", Kind::kInt, "seconds before the first retry; doubles per error", &Options::retry_backoff},
      {"send_grace", Kind::kInt, "seconds SIGTERM waits for in-flight sends", &Options::send_grace},
      {"heartbeat_timeout", Kind::kInt, "seconds without a heartbeat before a sender on another host is taken for dead", &Options::heartbeat_timeout, nullptr, 10, 86400},
      {"host_name", Kind::kString, "this host's name in sender heartbeats and attempts (empty: the system's host name)", &Options::host_name, HostNameOrEmpty},
      {"http_timeout", Kind::kInt, "seconds for each connect, write and read of a provider request", &Options::http_timeout, nullptr, 1},
      {"http_deadline", Kind::kInt, "seconds for a whole provider request, connect to last byte", &Options::http_deadline, nullptr, 1},
      {"outbound_allow", Kind::kString, "networks (CIDRs, comma-separated) opened to provider requests", &Options::outbound_allow, IpNetworkList},
      {"outbound_ca_file", Kind::kString, "PEM file of CAs trusted for https beside the system's", &Options::outbound_ca_file},
      {"flush_interval", Kind::kInt, "seconds between spool scans", &Options::flush_interval, nullptr, 1},
      {"retain_logs_days", Kind::kInt, "days courier-flush keeps channel logs (0: forever)", &Options::retain_logs_days, nullptr, 0, 36500},
      {"retain_events_days", Kind::kInt, "days courier-flush keeps events (0: forever)", &Options::retain_events_days, nullptr, 0, 36500},
      {"retain_msgs_days", Kind::kInt, "days courier-flush keeps finished msgs (0: forever)", &Options::retain_msgs_days, nullptr, 0, 36500},
      {"hook_poll_interval", Kind::kInt, "seconds courier-hook waits at most before looking at the store again", &Options::hook_poll_interval, nullptr, 1, 3600},
      {"hook_timeout", Kind::kInt, "seconds for a whole POST to an application, connect to last byte", &Options::hook_timeout, nullptr, 1, 3600},
      {"api_address", Kind::kString, "address courier-api listens on", &Options::api_address, NotEmpty},
      {"api_port", Kind::kInt, "port courier-api listens on (not courier-recv's)", &Options::api_port, nullptr, 0, 65535},
      {"api_max_body_bytes", Kind::kInt, "largest request body courier-api accepts (bytes)", &Options::api_max_body_bytes, nullptr, 1, LONG_MAX},
      {"api_workers", Kind::kInt, "courier-api threads serving requests that read or write the store", &Options::api_workers, nullptr, 1, 256},
      {"api_max_long_polls", Kind::kInt, "GET /api/v1/events long polls courier-api keeps waiting at once", &Options::api_max_long_polls, nullptr, 0, 100000},
      {"api_idempotency_hours", Kind::kInt, "hours an Idempotency-Key is remembered (pruned by courier-flush)", &Options::api_idempotency_hours, nullptr, 1, 8760},
      {"fetch_workers", Kind::kInt, "attachments courier-fetch downloads at once", &Options::fetch_workers, nullptr, 1, 256},
      {"media_dir", Kind::kString, "directory of the media store (fetched attachments)", &Options::media_dir, NotEmpty},
      {"media_url", Kind::kString, "URL the media store is served at (empty: courier-api's, http://api_address:api_port/media)", &Options::media_url, HttpUrlOrEmpty},
      {"media_max_mb", Kind::kInt, "MB above which an attachment is not kept", &Options::media_max_mb, nullptr, 1, 1024},
      {"media_refused_types", Kind::kList, "media types never kept (comma-separated; \"video/*\" for a family)", &Options::media_refused_types},
      {"media_fetch_timeout", Kind::kInt, "seconds for a whole attachment download, connect to last byte", &Options::media_fetch_timeout, nullptr, 1, 3600},
      {"media_retry_backoff", Kind::kInt, "seconds before a failed download is tried again, doubling each time (at most an hour)", &Options::media_retry_backoff, nullptr, 1, 3600},
      {"media_max_attempts", Kind::kInt, "downloads of an attachment before its fetch fails", &Options::media_max_attempts, nullptr, 1, 100},
  };
  return specs;
}

const char* kSharedFlags[] = {"db", "spool_dir", "run_dir", "log_level"};

std::string Kebab(std::string name) {
  for (char& c : name) if (c == '_') c = '-';
  return name;
}

std::string EnvName(const std::string& name) {
  return "COURIER_" + ToUpper(name);
}

const Spec* FindSpec(const std::string& name) {
  for (const auto& s : Specs())
    if (name == s.name) return &s;
  return nullptr;
}

// ---- Values, whichever layer they come from ----

// A value read from a layer, before it is checked and stored.
using Value = std::variant<std::string, int64_t, std::vector<std::string>>;

// A string as TOML writes it: double-quoted, escaped, on one line.
std::string TomlString(const std::string& text) {
  std::ostringstream out;
  out << toml::toml_formatter{toml::value<std::string>(text), toml::format_flags::allow_unicode_strings};
  return out.str();
}

// Whether `text` survives being written to a config file and read back.
// TOML files are UTF-8, so a value from the environment or a flag that is
// not (a Latin-1 path) could not be printed by --print-config faithfully.
bool FitsInToml(const std::string& text) {
  try {
    auto table = toml::parse("v = " + TomlString(text));
    return table["v"].value<std::string>() == text;
  } catch (const toml::parse_error&) {
    return false;
  }
}

// Checks `value` against `spec` and stores it; the error says only what is
// wrong ("must be 0-65535, not 70000"): the caller says where it came from.
Status Store(const Spec& spec, const Value& value, Options& options) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    if (!FitsInToml(*text)) return Status::Usage("not valid UTF-8");
    if (spec.check != nullptr) {
      std::string problem = spec.check(*text);
      if (!problem.empty()) return Status::Usage(problem);
    }
    options.*std::get<std::string Options::*>(spec.field) = *text;
    return Status::OK();
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    for (const auto& item : *list)
      if (!FitsInToml(item)) return Status::Usage("not valid UTF-8");
    options.*std::get<std::vector<std::string> Options::*>(spec.field) = *list;
    return Status::OK();
  }
  int64_t n = std::get<int64_t>(value);
  if (n < spec.min || n > spec.max) {
    // An int or long option without a stated maximum is bounded by its type.
    bool open_ended = spec.max == INT_MAX || spec.max == LONG_MAX;
    std::string range = !open_ended  ? std::to_string(spec.min) + "-" + std::to_string(spec.max)
                        : n < spec.min ? "at least " + std::to_string(spec.min)
                                       : "at most " + std::to_string(spec.max);
    return Status::Usage("must be " + range + ", not " + std::to_string(n));
  }
  if (auto* as_long = std::get_if<long Options::*>(&spec.field)) options.**as_long = static_cast<long>(n);
  else options.*std::get<int Options::*>(spec.field) = static_cast<int>(n);
  return Status::OK();
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// Sets one option from the text of an environment variable or a flag;
// `where` ("COURIER_PORT", "--port") starts the error message.
Status ApplyText(const Spec& spec, Options& options, const std::string& text, const std::string& where) {
  Value value;
  switch (spec.kind) {
    case Kind::kString: value = text; break;
    case Kind::kList: value = SplitList(text); break;
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long long n = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || errno != 0 || *end != '\0') return Status::Usage(where + ": not a number: '" + text + "'");
      value = static_cast<int64_t>(n);
      break;
    }
  }
  Status s = Store(spec, value, options);
  if (!s.ok()) return Status::Usage(where + ": " + s.message());
  return Status::OK();
}

// ---- The config file ----

// Reads and checks the file with toml++ (a complete TOML 1.0 parser, so a
// syntax error, a repeated key or table, or a string left open is an error
// rather than a strange value). Then every setting must be a known option,
// at the top level or under [courier], of the option's TOML type.
class ConfigFile {
 public:
  explicit ConfigFile(std::string path) : path_(std::move(path)) {}

  Status ApplyTo(Options& options) {
    auto content = Env::Default().ReadFile(path_);
    if (!content.ok())
      return Status::Usage(At(0) + "cannot be read: " +
                           (content.status().IsNotFound() ? "no such file" : content.status().message()));
    text_ = *content;

    toml::table root;
    try {
      root = toml::parse(text_, path_);
    } catch (const toml::parse_error& e) {
      return SyntaxError(e);
    }

    // Both levels, in file order, so the first problem reported is the
    // first in the file and a key set twice is caught at its second line.
    struct Setting {
      const toml::key* key;
      const toml::node* node;
    };
    std::vector<Setting> settings;
    for (const auto& [key, node] : root) {
      if (key.str() != "courier") {
        if (node.is_table() || node.is_array_of_tables())
          return Status::Usage(At(Line(key)) + "unknown table [" + std::string(key.str()) + "]");
        settings.push_back({&key, &node});
        continue;
      }
      const toml::table* courier = node.as_table();
      if (courier == nullptr)
        return Status::Usage(At(Line(key)) + "courier: must be a table ([courier]), not " + TypeName(node));
      for (const auto& [inner_key, inner] : *courier) {
        if (inner.is_table() || inner.is_array_of_tables())
          return Status::Usage(At(Line(inner_key)) + "unknown table [courier." + std::string(inner_key.str()) + "]");
        settings.push_back({&inner_key, &inner});
      }
    }
    std::sort(settings.begin(), settings.end(), [](const Setting& a, const Setting& b) {
      return a.key->source().begin < b.key->source().begin;
    });

    std::map<std::string, int> first_line;
    for (const auto& [key, node] : settings) {
      std::string name(key->str());
      int line = Line(*key);
      const Spec* spec = FindSpec(name);
      if (spec == nullptr) return Status::Usage(At(line) + "unknown key '" + name + "'");
      auto [earlier, inserted] = first_line.emplace(name, line);
      if (!inserted)
        return Status::Usage(At(line) + "repeated key '" + name + "' (first set on line " +
                             std::to_string(earlier->second) + ")");
      auto value = Read(*spec, *node);
      if (!value.ok()) return Status::Usage(At(line) + name + ": " + value.status().message());
      Status s = Store(*spec, *value, options);
      if (!s.ok()) return Status::Usage(At(line) + name + ": " + s.message());
    }
    return Status::OK();
  }

 private:
  // "config file 'PATH', line N: " (no line when N is 0).
  std::string At(int line) const {
    std::string at = "config file '" + path_ + "'";
    if (line > 0) at += ", line " + std::to_string(line);
    return at + ": ";
  }

  template <typename T>
  static int Line(const T& located) {
    return static_cast<int>(located.source().begin.line);
  }

  static std::string TypeName(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      default: return "a date or time";
    }
  }

  // The value of a setting, if it has the option's TOML type.
  static Result<Value> Read(const Spec& spec, const toml::node& node) {
    switch (spec.kind) {
      case Kind::kString:
        if (const auto* s = node.as_string()) return Value(s->get());
        return Status::Usage("expected a string (in quotes), not " + TypeName(node));
      case Kind::kInt:
        if (const auto* n = node.as_integer()) return Value(n->get());
        if (node.is_string())
          return Status::Usage("expected an integer, not a string (write " + std::string(spec.name) + " = " +
                               node.as_string()->get() + ", without quotes)");
        return Status::Usage("expected an integer, not " + TypeName(node));
      case Kind::kList: {
        const auto* array = node.as_array();
        if (array == nullptr)
          return Status::Usage("expected an array of strings such as [\"KN\", \"TG\"], not " + TypeName(node));
        std::vector<std::string> items;
        for (size_t i = 0; i < array->size(); ++i) {
          const auto* item = (*array)[i].as_string();
          if (item == nullptr)
            return Status::Usage("item " + std::to_string(i + 1) + " is " + TypeName((*array)[i]) +
                                 ", expected a string");
          items.push_back(item->get());
        }
        return Value(std::move(items));
      }
    }
    return Status::Internal("unknown option kind");
  }

  // The text of line `n` (1-based), "" past the end.
  std::string SourceLine(size_t n) const {
    std::istringstream lines(text_);
    std::string line;
    for (size_t i = 0; i < n && std::getline(lines, line); ++i) {
      if (i + 1 == n) return line;
    }
    return "";
  }

  // The key a `key = value` line sets, "" when the line is not one.
  static std::string KeyOf(const std::string& line) {
    auto eq = line.find('=');
    if (eq == std::string::npos) return "";
    std::string key = line.substr(0, eq);
    auto b = key.find_first_not_of(" \t");
    auto e = key.find_last_not_of(" \t");
    if (b == std::string::npos) return "";
    key = key.substr(b, e - b + 1);
    bool bare = std::all_of(key.begin(), key.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; });
    return bare ? key : "";
  }

  // toml++ says "Error while parsing WHAT: PROBLEM"; the operator is told
  // the line, the key being set there, and the problem, in words that point
  // at the fix for the common ones ("repeated key", "unterminated string").
  Status SyntaxError(const toml::parse_error& e) const {
    const auto& where = e.source().begin;
    std::string description(e.description());
    std::string context;
    const std::string prefix = "Error while parsing ";
    if (description.rfind(prefix, 0) == 0) {
      auto colon = description.find(": ");
      if (colon != std::string::npos) {
        context = description.substr(prefix.size(), colon - prefix.size());
        description = description.substr(colon + 2);
      }
    }
    std::string line_text = SourceLine(where.line);
    std::string key = KeyOf(line_text);
    // A string left open runs to the end of its line (or, when it is a
    // multi-line one, of the file): name the key whose value it is.
    if (context.find("string") != std::string::npos && where.column > line_text.size()) {
      for (size_t n = where.line; n > 0; --n) {
        std::string opened = KeyOf(SourceLine(n));
        if (!opened.empty()) return Status::Usage(At(n) + opened + ": unterminated string (a closing quote is missing)");
      }
      return Status::Usage(At(where.line) + "unterminated string (a closing quote is missing)");
    }
    if (StartsWith(description, "cannot redefine existing")) {
      auto open = description.find('\'');
      auto close = description.rfind('\'');
      std::string name = open < close ? description.substr(open + 1, close - open - 1) : key;
      if (context == "table header") return Status::Usage(At(where.line) + "repeated table [" + name + "]");
      return Status::Usage(At(where.line) + "repeated key '" + name + "'" + FirstSetOn(name, where.line));
    }
    return Status::Usage(At(where.line) + (key.empty() ? "" : key + ": ") + "syntax error at column " +
                         std::to_string(where.column) + ": " + description);
  }

  // " (first set on line N)" when an earlier line sets `key`.
  std::string FirstSetOn(const std::string& key, size_t before) const {
    for (size_t n = 1; n < before; ++n)
      if (KeyOf(SourceLine(n)) == key) return " (first set on line " + std::to_string(n) + ")";
    return "";
  }

  std::string path_;
  std::string text_;
};

}  // namespace

struct OptionLoader::Impl {
  std::string config_flag;
  std::map<std::string, std::string> flag_values;  // name -> value when given
  std::map<std::string, CLI::Option*> flags;
};

OptionLoader::OptionLoader(CLI::App& app, const std::vector<std::string>& tool_flags,
                           const std::map<std::string, std::string>& aliases)
    : impl_(new Impl) {
  app.add_option("--config", impl_->config_flag, "TOML config file (also COURIER_CONFIG)");
  std::vector<std::string> names(std::begin(kSharedFlags), std::end(kSharedFlags));
  names.insert(names.end(), tool_flags.begin(), tool_flags.end());
  for (const auto& name : names) {
    const Spec* spec = FindSpec(name);
    if (spec == nullptr) continue;  // a programming error caught by the option tests
    std::string flag = "--" + Kebab(name);
    auto alias = aliases.find(name);
    if (alias != aliases.end()) flag += "," + alias->second;
    auto* opt = app.add_option(flag, impl_->flag_values[name], std::string(spec->help) + " (" + EnvName(name) + ")");
    impl_->flags[name] = opt;
  }
}

OptionLoader::~OptionLoader() { delete impl_; }

Result<Options> OptionLoader::Load(const GetEnv& getenv_in) const {
  GetEnv getenv = getenv_in ? getenv_in : GetEnv([](const char* n) { return std::getenv(n); });
  Options options;

  std::string config = impl_->config_flag;
  if (config.empty()) {
    const char* env = getenv("COURIER_CONFIG");
    if (env != nullptr) config = env;
  }
  if (!config.empty()) {
    Status s = ConfigFile(config).ApplyTo(options);
    if (!s.ok()) return s;
    options.config = config;
  }
  for (const auto& spec : Specs()) {
    std::string env = EnvName(spec.name);
    const char* value = getenv(env.c_str());
    if (value == nullptr) continue;
    Status s = ApplyText(spec, options, value, env);
    if (!s.ok()) return s;
  }
  for (const auto& [name, opt] : impl_->flags) {
    if (opt->count() == 0) continue;
    Status s = ApplyText(*FindSpec(name), options, impl_->flag_values.at(name), "--" + Kebab(name));
    if (!s.ok()) return s;
  }
  return options;
}

std::string OptionLoader::Describe(const Options& options) {
  std::ostringstream out;
  for (const auto& spec : Specs()) {
    out << spec.name << " = ";
    std::visit(
        [&](auto member) {
          const auto& value = options.*member;
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) {
            out << TomlString(value);
          } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            out << '[';
            for (size_t i = 0; i < value.size(); ++i) out << (i ? ", " : "") << TomlString(value[i]);
            out << ']';
          } else {
            out << value;
          }
        },
        spec.field);
    out << '\n';
  }
  return out.str();
}

std::string Options::EffectiveBaseUrl() const {
  if (!base_url.empty()) return base_url;
  return "http://" + address + ":" + std::to_string(port);
}

std::string Options::EffectiveMediaUrl() const { return media_url.empty() ? DefaultMediaUrl() : media_url; }

std::string Options::DefaultMediaUrl() const {
  const bool v6 = api_address.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + api_address + "]" : api_address) + ":" + std::to_string(api_port) + "/media";
}

std::string Options::EffectiveHostName() const {
  if (!host_name.empty()) return host_name;
  char name[256] = {0};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

const std::vector<std::string>& OptionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : Specs()) n.push_back(s.name);
    return n;
  }();
  return names;
}

}  // namespace courier
