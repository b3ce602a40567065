// ParseStoreUrl, RedactStoreUrl, StoreFilePath: what a --db value names,
// and that a password written in it is never printed.
#include "store/store_url.h"

#include <gtest/gtest.h>

namespace courier {
namespace {

struct ParseCase {
  std::string url;
  StoreUrl::Engine engine;
  std::string path;  // SQLite
  std::string file;  // StoreFilePath
};

TEST(StoreUrlTest, ParsesEachForm) {
  const ParseCase cases[] = {
      {"var/courier.db", StoreUrl::Engine::kSQLite, "var/courier.db", "var/courier.db"},
      {"sqlite:var/courier.db", StoreUrl::Engine::kSQLite, "var/courier.db", "var/courier.db"},
      {"sqlite:///srv/courier.db", StoreUrl::Engine::kSQLite, "/srv/courier.db", "/srv/courier.db"},
      {"sqlite::memory:", StoreUrl::Engine::kSQLite, ":memory:", ""},
      // A path with "://" after its first slash is a path.
      {"data/a://b.db", StoreUrl::Engine::kSQLite, "data/a://b.db", "data/a://b.db"},
      {"postgresql://courier@db1:5432/courier", StoreUrl::Engine::kPostgreSQL, "", ""},
      {"postgres:///courier?host=/run/postgresql", StoreUrl::Engine::kPostgreSQL, "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    auto parsed = ParseStoreUrl(c.url);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->engine, c.engine);
    EXPECT_EQ(parsed->path, c.path);
    EXPECT_EQ(parsed->uri, c.engine == StoreUrl::Engine::kPostgreSQL ? c.url : "");
    EXPECT_EQ(StoreFilePath(c.url), c.file);
  }
}

TEST(StoreUrlTest, RefusesWhatNamesNoStore) {
  EXPECT_EQ(ParseStoreUrl("").status().message(), "no store url given");
  EXPECT_EQ(ParseStoreUrl("sqlite:").status().message(), "store url names no file: 'sqlite:'");
  // The scheme is named, never the rest (it may hold a password).
  auto mysql = ParseStoreUrl("mysql://root:hunter2@db/courier");
  EXPECT_TRUE(mysql.status().IsInvalidArgument());
  EXPECT_EQ(mysql.status().message(),
            "unknown store url scheme: 'mysql' (use a file path, sqlite:PATH or postgresql://)");
  EXPECT_EQ(StoreFilePath("mysql://root@db/courier"), "");
}

TEST(StoreUrlTest, RedactsEveryPassword) {
  const std::pair<std::string, std::string> cases[] = {
      {"postgresql://courier:hunter2@db1:5432/courier", "postgresql://courier:***@db1:5432/courier"},
      {"postgres://courier:hunter2@db1", "postgres://courier:***@db1"},
      // '@' inside an unencoded password: libpq takes the last '@'.
      {"postgresql://courier:p@ss@db1/courier", "postgresql://courier:***@db1/courier"},
      {"postgresql://courier:%40x%3A@db1/courier", "postgresql://courier:***@db1/courier"},
      {"postgresql://db1/courier?user=courier&password=hunter2&sslmode=require",
       "postgresql://db1/courier?user=courier&password=***&sslmode=require"},
      {"postgresql://db1/courier?password=hunter2", "postgresql://db1/courier?password=***"},
      {"postgresql://u:a@db1/c?password=b", "postgresql://u:***@db1/c?password=***"},
      // Nothing to hide: unchanged.
      {"postgresql://courier@db1:5432/courier", "postgresql://courier@db1:5432/courier"},
      {"postgresql://db1:5432/courier?sslmode=require", "postgresql://db1:5432/courier?sslmode=require"},
      {"postgresql:///courier?host=/tmp/pg", "postgresql:///courier?host=/tmp/pg"},
      {"postgresql://[::1]:5432/courier", "postgresql://[::1]:5432/courier"},
      {"var/courier:secret@x.db", "var/courier:secret@x.db"},  // a SQLite path, not a URI
      {"mysql://root:hunter2@db/courier", "mysql://root:***@db/courier"},  // refused, but printed safely
  };
  for (const auto& [url, redacted] : cases) {
    EXPECT_EQ(RedactStoreUrl(url), redacted) << url;
    if (url.find("hunter2") != std::string::npos) {
      EXPECT_EQ(RedactStoreUrl(url).find("hunter2"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace courier
