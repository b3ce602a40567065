#include "store/store_copy.h"

#include "store/libpq.h"
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/pg_schema.h"
#include "store/schema.h"

// Rows go through COPY ... FROM STDIN in its text format rather than one
// INSERT a row: one round trip for a whole table instead of one a row, so
// a store of millions of msgs copies in minutes, not hours.
namespace courier {

namespace {

using PgConn = std::unique_ptr<PGconn, decltype(&::PQfinish)>;
using PgResult = std::unique_ptr<PGresult, decltype(&::PQclear)>;

std::string PgError(PGconn* conn) {
  std::string error = pq::PQerrorMessage(conn);
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
  return error;
}

// One statement without parameters on the target; `what` names it in the
// error. A lost connection is Unavailable; the server refusing a row
// (class 22 data, 23 integrity) is InvalidArgument; the rest Unavailable.
Result<PgResult> PgRun(PGconn* conn, const std::string& sql, const std::string& what) {
  PgResult res(pq::PQexec(conn, sql.c_str()), pq::Loaded().PQclear);
  const ExecStatusType status = pq::PQresultStatus(res.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result<PgResult>(std::move(res));
  const char* state = res ? pq::PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
  const std::string message = what + ": " + PgError(conn);
  if (state != nullptr && (std::string(state).rfind("22", 0) == 0 || std::string(state).rfind("23", 0) == 0)) {
    return Status::InvalidArgument(message);
  }
  return Status::Unavailable(message);
}

std::string Quoted(const std::string& identifier) { return "\"" + identifier + "\""; }

// The source: a read-only connection holding one read transaction.
class SqliteSource {
 public:
  ~SqliteSource() {
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  Status Open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return Status::Unavailable("open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
    }
    sqlite3_busy_timeout(db_, 5000);
    path_ = path;
    return Exec("BEGIN");
  }

  Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return Status::OK();
    Status st = Status::Unavailable("read " + path_ + ": " + (error ? error : sqlite3_errmsg(db_)));
    sqlite3_free(error);
    return st;
  }

  // Calls `row` for each row of `sql` with the statement positioned on it.
  template <typename Row>
  Status Each(const std::string& sql, Row&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      Status st = Status::Unavailable("read " + path_ + ": " + sqlite3_errmsg(db_));
      sqlite3_finalize(stmt);
      return st;
    }
    int rc;
    Status st;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      st = row(stmt);
      if (!st.ok()) break;
    }
    if (st.ok() && rc != SQLITE_DONE) st = Status::Unavailable("read " + path_ + ": " + sqlite3_errmsg(db_));
    sqlite3_finalize(stmt);
    return st;
  }

  Result<int64_t> Int(const std::string& sql) {
    int64_t value = 0;
    Status st = Each(sql, [&](sqlite3_stmt* stmt) {
      value = sqlite3_column_int64(stmt, 0);
      return Status::OK();
    });
    if (!st.ok()) return st;
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

struct SourceTable {
  std::string name;
  std::vector<std::string> columns;
  std::string key;  // the INTEGER PRIMARY KEY column whose sequence follows it, or ""
  int64_t rows = 0;
  int64_t high_water = 0;  // the highest key ever handed out
};

// The tables to copy, in the order they were created: a table is created
// after the tables its foreign keys name, so rows go in after their parents.
Result<std::vector<SourceTable>> ReadTables(SqliteSource& source) {
  std::vector<SourceTable> tables;
  Status st = source.Each(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "AND name <> 'schema_version' ORDER BY rowid",
      [&](sqlite3_stmt* stmt) {
        tables.push_back(SourceTable{reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), {}, "", 0, 0});
        return Status::OK();
      });
  if (!st.ok()) return st;
  std::map<std::string, int64_t> sequences;  // AUTOINCREMENT's high-water marks
  st = source.Each("SELECT name, seq FROM sqlite_sequence", [&](sqlite3_stmt* stmt) {
    sequences[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] = sqlite3_column_int64(stmt, 1);
    return Status::OK();
  });
  if (!st.ok()) return st;
  for (auto& table : tables) {
    int primary_keys = 0;
    std::string single_key;
    st = source.Each("PRAGMA table_info(" + Quoted(table.name) + ")", [&](sqlite3_stmt* stmt) {
      // cid, name, type, notnull, dflt_value, pk
      const std::string column = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
      table.columns.push_back(column);
      if (sqlite3_column_int(stmt, 5) > 0) {
        ++primary_keys;
        const char* type = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2));
        if (type != nullptr && std::string(type) == "INTEGER") single_key = column;
      }
      return Status::OK();
    });
    if (!st.ok()) return st;
    if (primary_keys == 1) table.key = single_key;
    auto rows = source.Int("SELECT count(*) FROM " + Quoted(table.name));
    if (!rows.ok()) return rows.status();
    table.rows = *rows;
    if (!table.key.empty()) {
      auto max = source.Int("SELECT COALESCE(MAX(" + Quoted(table.key) + "), 0) FROM " + Quoted(table.name));
      if (!max.ok()) return max.status();
      table.high_water = std::max(*max, sequences.count(table.name) ? sequences[table.name] : 0);
    }
  }
  return tables;
}

// One value in COPY's text format: \N for NULL; backslash, tab, newline
// and carriage return escaped.
void AppendCopyValue(std::string& line, sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) {
    line += "\\N";
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  const int size = sqlite3_column_bytes(stmt, column);
  for (int i = 0; i < size; ++i) {
    switch (text[i]) {
      case '\\': line += "\\\\"; break;
      case '\t': line += "\\t"; break;
      case '\n': line += "\\n"; break;
      case '\r': line += "\\r"; break;
      default: line += text[i];
    }
  }
}

Status CopyTable(SqliteSource& source, PGconn* conn, const SourceTable& table, const CopyProgressFn& progress) {
  std::string columns;
  for (const auto& c : table.columns) columns += (columns.empty() ? "" : ", ") + Quoted(c);
  PgResult started(pq::PQexec(conn, ("COPY " + Quoted(table.name) + " (" + columns + ") FROM STDIN").c_str()),
                   pq::Loaded().PQclear);
  if (pq::PQresultStatus(started.get()) != PGRES_COPY_IN) {
    return Status::Unavailable("copy " + table.name + ": " + PgError(conn));
  }
  CopyProgress at{table.name, 0, table.rows};
  std::string buffer;
  constexpr size_t kChunk = 256 * 1024;
  Status st = source.Each(
      "SELECT " + columns + " FROM " + Quoted(table.name) + " ORDER BY rowid", [&](sqlite3_stmt* stmt) {
        for (int c = 0; c < static_cast<int>(table.columns.size()); ++c) {
          if (c > 0) buffer += '\t';
          AppendCopyValue(buffer, stmt, c);
        }
        buffer += '\n';
        ++at.copied;
        if (buffer.size() >= kChunk) {
          if (pq::PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
            return Status::Unavailable("copy " + table.name + ": " + PgError(conn));
          }
          buffer.clear();
        }
        if (progress && at.copied % 5000 == 0) progress(at);
        return Status::OK();
      });
  if (st.ok() && !buffer.empty() &&
      pq::PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
    st = Status::Unavailable("copy " + table.name + ": " + PgError(conn));
  }
  // Ends the COPY either way: with an error message it is aborted, and the
  // connection is usable again for the rollback.
  pq::PQputCopyEnd(conn, st.ok() ? nullptr : "source read failed");
  for (PGresult* res; (res = pq::PQgetResult(conn)) != nullptr;) {
    PgResult done(res, pq::Loaded().PQclear);
    if (st.ok() && pq::PQresultStatus(res) != PGRES_COMMAND_OK) {
      const char* state = pq::PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const std::string message = "copy " + table.name + ": " + PgError(conn);
      const bool refused = state != nullptr && (std::string(state).rfind("22", 0) == 0 ||
                                               std::string(state).rfind("23", 0) == 0);
      st = refused ? Status::InvalidArgument(message) : Status::Unavailable(message);
    }
  }
  if (st.ok() && progress) progress(at);
  return st;
}

// The target's side inside its transaction: empty, then every table, its
// sequence moved on, and the counts checked.
Status CopyInto(SqliteSource& source, PGconn* conn, const std::vector<SourceTable>& tables,
                const CopyProgressFn& progress) {
  for (const auto& table : tables) {
    auto any = PgRun(conn, "SELECT EXISTS (SELECT 1 FROM " + Quoted(table.name) + ")", "check " + table.name);
    if (!any.ok()) return any.status();
    if (std::string(pq::PQgetvalue(any->get(), 0, 0)) == "t") {
      return Status::Conflict("the target store is not empty (table " + table.name +
                              " has rows): copy into a new database");
    }
  }
  for (const auto& table : tables) {
    Status st = CopyTable(source, conn, table, progress);
    if (!st.ok()) return st;
    if (!table.key.empty() && table.high_water > 0) {
      auto moved = PgRun(conn,
                         "SELECT setval(pg_get_serial_sequence('" + table.name + "', '" + table.key + "'), " +
                             std::to_string(table.high_water) + ")",
                         "move the " + table.name + " sequence");
      if (!moved.ok()) return moved.status();
    }
    auto count = PgRun(conn, "SELECT count(*) FROM " + Quoted(table.name), "count " + table.name);
    if (!count.ok()) return count.status();
    const int64_t copied = std::stoll(pq::PQgetvalue(count->get(), 0, 0));
    if (copied != table.rows) {
      return Status::Internal("copy " + table.name + ": " + std::to_string(table.rows) + " rows read, " +
                              std::to_string(copied) + " in the target");
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& pg_uri,
                                                      const CopyProgressFn& progress) {
  SqliteSource source;
  Status st = source.Open(sqlite_path);
  if (!st.ok()) return st;
  auto has_versions = source.Int("SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'");
  if (!has_versions.ok()) return has_versions.status();
  auto version = *has_versions == 0 ? Result<int64_t>(0) : source.Int("SELECT MAX(version) FROM schema_version");
  if (!version.ok()) return version.status();
  st = schema::VersionStatus(*version);
  if (!st.ok()) return Status::Unavailable("source " + sqlite_path + ": " + st.message());
  auto tables = ReadTables(source);
  if (!tables.ok()) return tables.status();

  if (Status loaded = pq::Load(); !loaded.ok()) return loaded;
  PgConn conn(pq::PQconnectdb(pg_uri.c_str()), pq::Loaded().PQfinish);
  if (pq::PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable("connect to the target: " + PgError(conn.get()));
  }
  // Made or migrated in its own transaction, as `courier-ctl init` does: a
  // copy that fails later leaves an empty, initialised store.
  st = pg_schema::CreatePgSchema(conn.get());
  if (!st.ok()) return Status::Unavailable("target: " + st.message());

  auto begun = PgRun(conn.get(), "BEGIN", "begin");
  if (!begun.ok()) return begun.status();
  st = CopyInto(source, conn.get(), *tables, progress);
  if (!st.ok()) {
    pq::PQclear(pq::PQexec(conn.get(), "ROLLBACK"));
    return st;
  }
  auto committed = PgRun(conn.get(), "COMMIT", "commit");
  if (!committed.ok()) return committed.status();

  std::vector<CopiedTable> copied;
  for (const auto& table : *tables) copied.push_back({table.name, table.rows});
  return copied;
}

}  // namespace courier
