#pragma once
// StoreUrl: what a --db value (or COURIER_DB, or `db` in the config file)
// names, and how to print it.
//
//   var/courier.db                     a SQLite file (relative to the working dir)
//   sqlite:var/courier.db              the same, explicitly
//   sqlite:///srv/courier.db           SQLite, absolute path (sqlite://PATH)
//   postgresql://user@host:5432/name   PostgreSQL: a libpq connection URI,
//   postgres://...                     given to libpq as it is, so libpq's
//                                      parameters (?sslmode=, ?host=/socket/dir),
//                                      its environment (PGPASSWORD, PGHOST ...)
//                                      and ~/.pgpass all work
//
// A password may be written in a PostgreSQL URI (user:secret@, or
// ?password=): it must never reach a log line, `courier-ctl status`, an
// error or a metric label. Everything that prints a store url prints
// RedactStoreUrl(url).
//
// Thread-safety: pure functions.
#include <string>

#include "core/status.h"

namespace courier {

struct StoreUrl {
  enum class Engine { kSQLite, kPostgreSQL };
  Engine engine = Engine::kSQLite;
  // SQLite: the file's path as given (":memory:" included).
  std::string path;
  // PostgreSQL: the URI as given, for libpq.
  std::string uri;
};

// InvalidArgument for an empty url, a sqlite: url without a path, or a
// scheme that is neither (naming it, never the rest of the url).
Result<StoreUrl> ParseStoreUrl(const std::string& url);

// `url` with any password replaced by "***": the userinfo's password and
// a `password` query parameter of a URI (PostgreSQL's, or one with a
// mistyped scheme). SQLite paths come back as they are.
std::string RedactStoreUrl(const std::string& url);

// The SQLite file a store url names; "" for a url that names no file
// (:memory:, PostgreSQL, a url that does not parse).
std::string StoreFilePath(const std::string& url);

}  // namespace courier
