#include "store/sqlite_statement.h"

#include <sqlite3.h>

#include <Poco/Data/SQLite/Utility.h>

namespace courier {

SqliteQuery::SqliteQuery(SqliteQuery&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), next_param_(other.next_param_) {
  other.stmt_ = nullptr;
}

SqliteQuery::~SqliteQuery() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void SqliteQuery::Check(int rc) {
  if (rc != SQLITE_OK) Poco::Data::SQLite::Utility::throwException(db_, rc);
}

SqliteQuery& SqliteQuery::Bind(int64_t value) {
  Check(sqlite3_bind_int64(stmt_, next_param_++, value));
  return *this;
}

SqliteQuery& SqliteQuery::Bind(const std::string& value) {
  Check(sqlite3_bind_text64(stmt_, next_param_++, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

SqliteQuery& SqliteQuery::BindNull() {
  Check(sqlite3_bind_null(stmt_, next_param_++));
  return *this;
}

SqliteQuery& SqliteQuery::Bind(const std::optional<int64_t>& value) {
  return value ? Bind(*value) : BindNull();
}

SqliteQuery& SqliteQuery::BindTextOrNull(const std::string& value) {
  return value.empty() ? BindNull() : Bind(value);
}

bool SqliteQuery::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Poco::Data::SQLite::Utility::throwException(db_, rc);
  return false;
}

void SqliteQuery::Run() {
  while (Step()) {
  }
}

int64_t SqliteQuery::Insert() {
  Run();
  return sqlite3_last_insert_rowid(db_);
}

std::optional<int64_t> SqliteQuery::OneInt() {
  if (!Step()) return std::nullopt;
  return Int(0);
}

int64_t SqliteQuery::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteQuery::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool SqliteQuery::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::optional<int64_t> SqliteQuery::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

int SqliteQuery::Changes() const { return sqlite3_changes(db_); }

SqliteStatements::~SqliteStatements() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
}

SqliteQuery SqliteStatements::operator()(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &stmt,
                                nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      Poco::Data::SQLite::Utility::throwException(db_, rc, sql);
    }
    it = cache_.emplace(sql, stmt).first;
  }
  return SqliteQuery(db_, it->second);
}

}  // namespace courier
