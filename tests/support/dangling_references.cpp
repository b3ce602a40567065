#include "dangling_references.h"

#include <libpq-fe.h>

#include <memory>

#include "store/schema.h"

namespace courier::testing {

Result<std::string> DanglingReferences(const std::string& pg_uri) {
  std::unique_ptr<PGconn, decltype(&::PQfinish)> conn(::PQconnectdb(pg_uri.c_str()), &::PQfinish);
  if (::PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable(std::string("connect: ") + ::PQerrorMessage(conn.get()));
  }
  auto one = [&](const std::string& sql) -> Result<std::string> {
    std::unique_ptr<PGresult, decltype(&::PQclear)> res(::PQexec(conn.get(), sql.c_str()), &::PQclear);
    if (::PQresultStatus(res.get()) != PGRES_TUPLES_OK || ::PQntuples(res.get()) != 1) {
      return Status::Internal(sql + ": " + ::PQerrorMessage(conn.get()));
    }
    return std::string(::PQgetvalue(res.get(), 0, 0));
  };
  std::string out;
  for (const auto& ref : schema::References()) {
    auto present = one(std::string("SELECT to_regclass('") + ref.table + "') IS NOT NULL AND to_regclass('" +
                       ref.parent + "') IS NOT NULL");
    if (!present.ok()) return present.status();
    if (*present != "t") continue;
    auto dangling = one(std::string("SELECT COUNT(*) FROM ") + ref.table + " AS c WHERE c." + ref.column +
                        " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM " + ref.parent + " AS p WHERE p." +
                        ref.parent_key + " = c." + ref.column + ")");
    if (!dangling.ok()) return dangling.status();
    if (*dangling != "0") {
      out += std::string(ref.table) + "." + ref.column + " -> " + ref.parent + "." + ref.parent_key + ": " +
             *dangling + " rows\n";
    }
  }
  return out;
}

}  // namespace courier::testing
