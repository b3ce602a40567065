#include "store/sqlite_statement.h"

#include <sqlite3.h>

namespace courier {

Status SqliteStatus(sqlite3* db, int rc, const std::string& message) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return Status::Busy(message);
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
      return Status::Unavailable(message);
    case SQLITE_CONSTRAINT: {
      // UNIQUE and PRIMARY KEY: the thing exists already. NOT NULL, CHECK
      // and FOREIGN KEY: the request names or carries something it should
      // not. The extended code says which (a step returns the primary one).
      const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::Conflict(message);
      }
      return Status::InvalidArgument(message);
    }
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return Status::Corruption(message);
    default:
      return Status::Internal(message);
  }
}

void ThrowSqliteError(sqlite3* db, int rc, const std::string& context) {
  if (rc == SQLITE_OK) return;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (!context.empty()) message += ": " + context;
  throw SqlError(SqliteStatus(db, rc, message));
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::Check(int rc) {
  if (rc != SQLITE_OK) ThrowSqliteError(db_, rc);
}

void SqliteStatement::BindInt(int64_t value) { Check(sqlite3_bind_int64(stmt_, next_param_++, value)); }

void SqliteStatement::BindText(const std::string& value) {
  Check(sqlite3_bind_text64(stmt_, next_param_++, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void SqliteStatement::BindNull() { Check(sqlite3_bind_null(stmt_, next_param_++)); }

bool SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  ThrowSqliteError(db_, rc);
  return false;
}

int64_t SqliteStatement::Insert() {
  while (Step()) {
  }
  return sqlite3_last_insert_rowid(db_);
}

int64_t SqliteStatement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string SqliteStatement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool SqliteStatement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int SqliteStatement::Changes() const { return sqlite3_changes(db_); }

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  next_param_ = 1;
}

SqlStatement& SqliteStatements::Prepared(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size() + 1),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      ThrowSqliteError(db_, rc, sql);
    }
    it = cache_.emplace(sql, std::make_unique<SqliteStatement>(db_, stmt)).first;
  }
  return *it->second;
}

}  // namespace courier
