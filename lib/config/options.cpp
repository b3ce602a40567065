#include "config/options.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

namespace courier {
namespace {

enum class Kind { kString, kInt, kList };

struct Spec {
  const char* name;
  Kind kind;
  const char* help;
  std::function<void*(Options&)> field;  // std::string*, long*/int*, vector<string>*
  bool is_long = false;
};

// One row per option. Order is the order of --help and Describe().
const std::vector<Spec>& Specs() {
  static const std::vector<Spec> specs = {
      {"db", Kind::kString, "store: a SQLite file path (or sqlite:PATH)", [](Options& o) -> void* { return &o.db; }},
      {"spool_dir", Kind::kString, "spool directory for data the store could not take", [](Options& o) -> void* { return &o.spool_dir; }},
      {"run_dir", Kind::kString, "directory for the ZeroMQ ipc sockets", [](Options& o) -> void* { return &o.run_dir; }},
      {"log_level", Kind::kString, "debug, info, warn or error", [](Options& o) -> void* { return &o.log_level; }},
      {"address", Kind::kString, "address courier-recv listens on", [](Options& o) -> void* { return &o.address; }},
      {"port", Kind::kInt, "port courier-recv listens on", [](Options& o) -> void* { return &o.port; }},
      {"base_url", Kind::kString, "URL where providers reach courier-recv (callback URLs, logs)", [](Options& o) -> void* { return &o.base_url; }},
      {"max_body_bytes", Kind::kInt, "largest webhook body accepted (bytes)", [](Options& o) -> void* { return &o.max_body_bytes; }, true},
      {"channel_cache_ttl", Kind::kInt, "seconds a looked-up channel is cached", [](Options& o) -> void* { return &o.channel_cache_ttl; }},
      {"spool_backlog_limit", Kind::kInt, "pending spool files above which /status is unhealthy", [](Options& o) -> void* { return &o.spool_backlog_limit; }},
      {"include_channels", Kind::kList, "channel type codes to enable (comma-separated; empty: all)", [](Options& o) -> void* { return &o.include_channels; }},
      {"exclude_channels", Kind::kList, "channel type codes to disable (comma-separated)", [](Options& o) -> void* { return &o.exclude_channels; }},
      {"max_workers", Kind::kInt, "sender threads", [](Options& o) -> void* { return &o.max_workers; }},
      {"max_retries", Kind::kInt, "send errors before a msg is failed", [](Options& o) -> void* { return &o.max_retries; }},
      {"retry_backoff", Kind::kInt, "seconds before the first retry; doubles per error", [](Options& o) -> void* { return &o.retry_backoff; }},
      {"send_grace", Kind::kInt, "seconds SIGTERM waits for in-flight sends", [](Options& o) -> void* { return &o.send_grace; }},
      {"http_timeout", Kind::kInt, "seconds for a provider request (connect and read)", [](Options& o) -> void* { return &o.http_timeout; }},
      {"flush_interval", Kind::kInt, "seconds between spool scans", [](Options& o) -> void* { return &o.flush_interval; }},
  };
  return specs;
}

const char* kSharedFlags[] = {"db", "spool_dir", "run_dir", "log_level"};

std::string Kebab(std::string name) {
  for (char& c : name) if (c == '_') c = '-';
  return name;
}

std::string EnvName(const std::string& name) {
  std::string env = "COURIER_";
  for (char c : name) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
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

// Sets one option from text; `where` names the layer for the error message.
Status Apply(const Spec& spec, Options& options, const std::string& value, const std::string& where) {
  void* field = spec.field(options);
  switch (spec.kind) {
    case Kind::kString:
      *static_cast<std::string*>(field) = value;
      return Status::OK();
    case Kind::kList:
      *static_cast<std::vector<std::string>*>(field) = SplitList(value);
      return Status::OK();
    case Kind::kInt: {
      errno = 0;
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || errno != 0 || *end != '\0')
        return Status::Usage(where + ": not a number: '" + value + "'");
      if (spec.is_long) {
        *static_cast<long*>(field) = n;
      } else {
        if (n < INT_MIN || n > INT_MAX) return Status::Usage(where + ": out of range: '" + value + "'");
        *static_cast<int*>(field) = static_cast<int>(n);
      }
      return Status::OK();
    }
  }
  return Status::Internal("unknown option kind");
}

const Spec* FindSpec(const std::string& name) {
  for (const auto& s : Specs())
    if (name == s.name) return &s;
  return nullptr;
}

Status Validate(const Options& o) {
  if (o.db.empty()) return Status::Usage("db: must not be empty");
  if (o.spool_dir.empty()) return Status::Usage("spool_dir: must not be empty");
  if (o.run_dir.empty()) return Status::Usage("run_dir: must not be empty");
  if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" && o.log_level != "error")
    return Status::Usage("log_level: must be debug, info, warn or error, not '" + o.log_level + "'");
  if (o.port < 0 || o.port > 65535) return Status::Usage("port: must be 0-65535, not " + std::to_string(o.port));
  if (o.max_body_bytes < 1) return Status::Usage("max_body_bytes: must be positive");
  if (o.channel_cache_ttl < 0) return Status::Usage("channel_cache_ttl: must not be negative");
  if (o.spool_backlog_limit < 0) return Status::Usage("spool_backlog_limit: must not be negative");
  if (o.max_workers < 0 || o.max_workers > 4096) return Status::Usage("max_workers: must be 0-4096");
  if (o.max_retries < 0) return Status::Usage("max_retries: must not be negative");
  if (o.retry_backoff < 0) return Status::Usage("retry_backoff: must not be negative");
  if (o.send_grace < 0) return Status::Usage("send_grace: must not be negative");
  if (o.http_timeout < 1) return Status::Usage("http_timeout: must be at least 1");
  if (o.flush_interval < 1) return Status::Usage("flush_interval: must be at least 1");
  if (!o.base_url.empty() && o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0)
    return Status::Usage("base_url: must start with http:// or https://");
  return Status::OK();
}

// Reads the TOML file through CLI11's TOML reader: flat keys, or keys under
// a [courier] table. Values are taken as text and typed by Apply().
Status ApplyFile(const std::string& path, Options& options) {
  std::ifstream probe(path);
  if (!probe) return Status::Usage("config file '" + path + "': cannot be read");
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const std::exception& e) {
    return Status::Usage("config file '" + path + "': " + e.what());
  }
  for (const auto& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // CLI11's section markers
    if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == "courier"))
      return Status::Usage("config file '" + path + "': unknown section '" + item.parents[0] + "'");
    const Spec* spec = FindSpec(item.name);
    if (spec == nullptr) return Status::Usage("config file '" + path + "': unknown option '" + item.name + "'");
    std::string value;
    for (size_t i = 0; i < item.inputs.size(); ++i) value += (i ? "," : "") + item.inputs[i];
    Status s = Apply(*spec, options, value, "config file '" + path + "': " + item.name);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

struct OptionLoader::Impl {
  std::string config_flag;
  std::map<std::string, std::string> flag_values;  // name -> value when given
  std::map<std::string, CLI::Option*> flags;
};

OptionLoader::OptionLoader(CLI::App& app, const std::vector<std::string>& tool_flags) : impl_(new Impl) {
  app.add_option("--config", impl_->config_flag, "TOML config file (also COURIER_CONFIG)");
  std::vector<std::string> names(std::begin(kSharedFlags), std::end(kSharedFlags));
  names.insert(names.end(), tool_flags.begin(), tool_flags.end());
  for (const auto& name : names) {
    const Spec* spec = FindSpec(name);
    if (spec == nullptr) continue;  // a programming error caught by the option tests
    auto* opt = app.add_option("--" + Kebab(name), impl_->flag_values[name],
                               std::string(spec->help) + " (" + EnvName(name) + ")");
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
    Status s = ApplyFile(config, options);
    if (!s.ok()) return s;
    options.config = config;
  }
  for (const auto& spec : Specs()) {
    std::string env = EnvName(spec.name);
    const char* value = getenv(env.c_str());
    if (value == nullptr) continue;
    Status s = Apply(spec, options, value, env);
    if (!s.ok()) return s;
  }
  for (const auto& [name, opt] : impl_->flags) {
    if (opt->count() == 0) continue;
    Status s = Apply(*FindSpec(name), options, impl_->flag_values.at(name), "--" + Kebab(name));
    if (!s.ok()) return s;
  }
  Status s = Validate(options);
  if (!s.ok()) return s;
  return options;
}

std::string OptionLoader::Describe(const Options& options) {
  Options copy = options;
  std::ostringstream out;
  for (const auto& spec : Specs()) {
    out << spec.name << " = ";
    void* field = spec.field(copy);
    switch (spec.kind) {
      case Kind::kString: out << '"' << *static_cast<std::string*>(field) << '"'; break;
      case Kind::kInt:
        if (spec.is_long) out << *static_cast<long*>(field);
        else out << *static_cast<int*>(field);
        break;
      case Kind::kList: {
        out << '[';
        const auto& list = *static_cast<std::vector<std::string>*>(field);
        for (size_t i = 0; i < list.size(); ++i) out << (i ? ", " : "") << '"' << list[i] << '"';
        out << ']';
        break;
      }
    }
    out << '\n';
  }
  return out.str();
}

std::string Options::EffectiveBaseUrl() const {
  if (!base_url.empty()) return base_url;
  return "http://" + address + ":" + std::to_string(port);
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
