#include "store/store_url.h"

#include "util/text.h"

namespace courier {

namespace {

bool IsPostgresUri(const std::string& url) {
  return StartsWith(url, "postgresql://") || StartsWith(url, "postgres://");
}

}  // namespace

Result<StoreUrl> ParseStoreUrl(const std::string& url) {
  StoreUrl parsed;
  if (url.empty()) return Status::InvalidArgument("no store url given");
  if (IsPostgresUri(url)) {
    parsed.engine = StoreUrl::Engine::kPostgreSQL;
    parsed.uri = url;
    return parsed;
  }
  if (StartsWith(url, "sqlite://")) {
    parsed.path = url.substr(9);
  } else if (StartsWith(url, "sqlite:")) {
    parsed.path = url.substr(7);
  } else if (auto scheme_end = url.find("://"); scheme_end != std::string::npos &&
             url.find('/') > scheme_end) {
    return Status::InvalidArgument("unknown store url scheme: '" + url.substr(0, scheme_end) +
                                   "' (use a file path, sqlite:PATH or postgresql://)");
  } else {
    parsed.path = url;
  }
  if (parsed.path.empty()) return Status::InvalidArgument("store url names no file: '" + url + "'");
  return parsed;
}

std::string RedactStoreUrl(const std::string& url) {
  // Any scheme://, not only PostgreSQL's: a mistyped scheme is printed in
  // the error that refuses it.
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || url.find('/') < scheme_end) return url;
  std::string out = url;
  // userinfo: between "://" and the last '@' before the path or query (a
  // password may itself hold '@' if not percent-encoded; libpq takes the
  // last one too).
  const size_t authority = out.find("://") + 3;
  size_t authority_end = out.find_first_of("/?", authority);
  if (authority_end == std::string::npos) authority_end = out.size();
  const size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    const size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // ?password=... and &password=... (libpq takes any parameter there).
  const size_t query = out.find('?');
  if (query != std::string::npos) {
    for (size_t pos = query; pos < out.size();) {
      const size_t name = pos + 1;
      size_t end = out.find('&', name);
      if (end == std::string::npos) end = out.size();
      if (out.compare(name, 9, "password=") == 0 && name + 9 <= end) {
        out.replace(name + 9, end - name - 9, "***");
        end = name + 9 + 3;
      }
      pos = end;
    }
  }
  return out;
}

std::string StoreFilePath(const std::string& url) {
  auto parsed = ParseStoreUrl(url);
  if (!parsed.ok() || parsed->engine != StoreUrl::Engine::kSQLite || parsed->path == ":memory:") return "";
  return parsed->path;
}

}  // namespace courier
