#include "store/pg_statement.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

namespace courier {

namespace {

// PostgreSQL's identifier characters: letters, digits, _, $ and every
// non-ASCII byte (UTF-8 letters).
bool IsIdentChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) != 0 || c == '_' || c == '$' || u >= 0x80;
}

// The end (one past) of a quoted run starting at `open` (sql[open] is the
// quote): the quote doubled inside stands for itself; with `backslashes`
// (E'...' strings) a backslash escapes the next character. An unclosed
// quote runs to the end; the server reports the syntax error.
size_t QuotedEnd(const std::string& sql, size_t open, bool backslashes) {
  const char quote = sql[open];
  size_t j = open + 1;
  while (j < sql.size()) {
    if (backslashes && sql[j] == '\\' && j + 1 < sql.size()) {
      j += 2;
    } else if (sql[j] == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        j += 2;
      } else {
        return j + 1;
      }
    } else {
      ++j;
    }
  }
  return sql.size();
}

// The end of a /* */ comment starting at `open`; PostgreSQL's nest.
size_t BlockCommentEnd(const std::string& sql, size_t open) {
  int depth = 0;
  size_t j = open;
  while (j + 1 < sql.size()) {
    if (sql[j] == '/' && sql[j + 1] == '*') {
      ++depth;
      j += 2;
    } else if (sql[j] == '*' && sql[j + 1] == '/') {
      j += 2;
      if (--depth == 0) return j;
    } else {
      ++j;
    }
  }
  return sql.size();
}

// A dollar quote's opening tag at `open` ($$ or $tag$, the tag not
// starting with a digit, which would be a $1 parameter): its length, or 0.
size_t DollarTagLength(const std::string& sql, size_t open) {
  if (open > 0 && IsIdentChar(sql[open - 1])) return 0;  // inside a name such as a$b
  size_t j = open + 1;
  if (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])) != 0) return 0;
  while (j < sql.size() && sql[j] != '$' && IsIdentChar(sql[j])) ++j;
  if (j >= sql.size() || sql[j] != '$') return 0;
  return j - open + 1;
}

std::string FirstLine(std::string text) {
  const size_t newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  return text;
}

int ParseCount(const char* text) {
  if (text == nullptr || *text == '\0') return 0;
  return static_cast<int>(std::strtol(text, nullptr, 10));
}

Status Prepare(PGconn* conn, const std::string& name, const std::string& sql) {
  // nParams 0, paramTypes NULL: the server infers every parameter's type.
  PGresult* res = pq::PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr);
  Status status = res != nullptr && pq::PQresultStatus(res) == PGRES_COMMAND_OK ? Status::OK()
                                                                              : PgCallStatus(conn, res, "prepare");
  pq::PQclear(res);
  return status;
}

// The error of a prepared statement whose result columns changed since
// it was prepared (0A000, feature not supported, with this text: the
// SQLSTATE alone is shared with unrelated errors).
bool ResultTypeChanged(const PGresult* res) {
  if (res == nullptr) return false;
  const char* state = pq::PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* primary = pq::PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  return state != nullptr && primary != nullptr && std::string(state) == "0A000" &&
         std::string(primary) == "cached plan must not change result type";
}

constexpr Oid kBoolOid = 16;  // pg_type.h's BOOLOID, not in libpq's headers

}  // namespace

std::string TranslatePlaceholders(const std::string& sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    size_t end = i;
    if (c == '\'') {
      // E'...' (or e'...') takes backslash escapes; a standard string
      // (standard_conforming_strings, on since 9.1) does not.
      const bool escape_string =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !IsIdentChar(sql[i - 2]));
      end = QuotedEnd(sql, i, escape_string);
    } else if (c == '"') {
      end = QuotedEnd(sql, i, false);
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      end = sql.find('\n', i);
      end = end == std::string::npos ? sql.size() : end + 1;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      end = BlockCommentEnd(sql, i);
    } else if (c == '$') {
      if (const size_t tag_length = DollarTagLength(sql, i); tag_length > 0) {
        const size_t close = sql.find(sql.substr(i, tag_length), i + tag_length);
        end = close == std::string::npos ? sql.size() : close + tag_length;
      }
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
      ++i;
      continue;
    }
    if (end == i) end = i + 1;
    out.append(sql, i, end - i);
    i = end;
  }
  if (count != nullptr) *count = n;
  return out;
}

// What each SQLSTATE means to the store (see the PostgreSQL manual's
// appendix A for the codes):
//   Unavailable: the server cannot serve now, a later try may succeed
//     elsewhere or after a restart: class 08 connection exceptions, 57P01
//     admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now
//     (starting up, recovering), class 53 insufficient resources (disk
//     full, out of memory, too many connections), class 58 system errors
//     (I/O), 25006 read-only transaction (connected to a standby, or the
//     primary was demoted by a failover).
//   Busy: the statement lost to another transaction or ran out of time;
//     retrying the transaction is the cure: 40001 serialization failure,
//     40P01 deadlock, 55P03 lock not available (lock_timeout), 57014
//     canceled (statement_timeout).
//   Conflict: 23505 unique violation, the store's "already exists".
//   InvalidArgument: other integrity violations (class 23: NOT NULL,
//     CHECK, foreign key) and class 22 data exceptions: a value the
//     store's caller gave that the schema refuses.
//   Corruption: XX001 data corrupted, XX002 index corrupted.
//   Internal: the rest, syntax errors and undefined objects among them:
//     bugs in the store's SQL, not conditions to retry.
Status StatusForSqlState(const std::string& sqlstate, const std::string& message) {
  auto is = [&](const char* code) { return sqlstate == code; };
  auto in_class = [&](const char* cls) { return sqlstate.size() == 5 && sqlstate.compare(0, 2, cls) == 0; };
  if (in_class("08") || is("57P01") || is("57P02") || is("57P03") || in_class("53") || in_class("58") ||
      is("25006")) {
    return Status::Unavailable(message);
  }
  if (is("40001") || is("40P01") || is("55P03") || is("57014")) return Status::Busy(message);
  if (is("23505")) return Status::Conflict(message);
  if (in_class("23") || in_class("22")) return Status::InvalidArgument(message);
  if (is("XX001") || is("XX002")) return Status::Corruption(message);
  return Status::Internal(message);
}

Status PgCallStatus(PGconn* conn, const PGresult* result, const std::string& what) {
  std::string message;
  std::string sqlstate;
  if (result != nullptr) {
    if (const char* primary = pq::PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = primary;
    if (const char* state = pq::PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = state;
    // Errors libpq makes itself (connection lost) have no fields.
    if (message.empty()) message = FirstLine(pq::PQresultErrorMessage(result));
    if (message.empty() && pq::PQresultStatus(result) != PGRES_FATAL_ERROR) {
      message = std::string("unexpected result ") + pq::PQresStatus(pq::PQresultStatus(result));
    }
  }
  if (message.empty() && conn != nullptr) message = FirstLine(pq::PQerrorMessage(conn));
  if (message.empty()) message = "no result from the server";
  message = what + ": " + message;
  if (!sqlstate.empty()) message += " (SQLSTATE " + sqlstate + ")";
  if (conn == nullptr || pq::PQstatus(conn) == CONNECTION_BAD) {
    return Status::Unavailable("PostgreSQL connection lost: " + message);
  }
  return StatusForSqlState(sqlstate, message);
}

Status PgPipeline::Enter() {
  if (pq::PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) return Status::OK();
  if (pq::PQenterPipelineMode(conn_) == 1) return Status::OK();
  return PgCallStatus(conn_, nullptr, "enter pipeline mode");
}

Status PgPipeline::Finish(PGresult** last) {
  if (last != nullptr) *last = nullptr;
  if (sent_.empty()) return Status::OK();
  std::vector<Entry> sent;
  sent.swap(sent_);
  Status first;
  if (pq::PQpipelineSync(conn_) != 1) first = PgCallStatus(conn_, nullptr, "pipeline sync");
  bool lost = !first.ok();
  for (size_t i = 0; i < sent.size() && !lost; ++i) {
    PGresult* res = pq::PQgetResult(conn_);
    if (res == nullptr) {
      // No answer at all: the connection is gone.
      first = PgCallStatus(conn_, nullptr, "execute");
      lost = true;
      break;
    }
    const ExecStatusType status = pq::PQresultStatus(res);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY;
    if (!ok && status != PGRES_PIPELINE_ABORTED && first.ok()) {
      first = sent[i].statement->FailedInPipeline(res);
    }
    if (ok && i + 1 == sent.size() && last != nullptr && first.ok()) {
      *last = res;
    } else {
      pq::PQclear(res);
    }
    // Each query's answers end with a null.
    while (PGresult* extra = pq::PQgetResult(conn_)) pq::PQclear(extra);
  }
  if (!lost) {
    PGresult* sync = pq::PQgetResult(conn_);
    if (sync == nullptr || pq::PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
      if (first.ok()) first = PgCallStatus(conn_, sync, "pipeline sync");
      lost = true;
    }
    pq::PQclear(sync);
  }
  if (!first.ok()) {
    for (const Entry& entry : sent) {
      if (entry.is_prepare) entry.statement->PrepareAgain();
    }
    if (last != nullptr) {
      pq::PQclear(*last);
      *last = nullptr;
    }
  }
  // Refused while answers are unread (a lost connection): the session is
  // replaced then, and PQreset leaves pipeline mode with it.
  if (!lost) pq::PQexitPipelineMode(conn_);
  return first;
}

void PgPipeline::Discard() noexcept {
  try {
    (void)Finish(nullptr);
  } catch (...) {
    // Finish throws nothing of its own; a bad_alloc leaves the session to be replaced.
  }
}

PgStatement::PgStatement(PGconn* conn, bool* session_unusable, PgPipeline* pipeline, std::string name,
                         std::string sql, int param_count)
    : conn_(conn),
      session_unusable_(session_unusable),
      pipeline_(pipeline),
      name_(std::move(name)),
      sql_(std::move(sql)),
      param_count_(param_count) {
  values_.reserve(static_cast<size_t>(param_count_));
  nulls_.reserve(static_cast<size_t>(param_count_));
}

PgStatement::~PgStatement() { pq::PQclear(result_); }

void PgStatement::Fail(Status status) {
  if (status.code() == Status::Code::kUnavailable) *session_unusable_ = true;
  throw SqlError(std::move(status));
}

void PgStatement::BindInt(int64_t value) {
  values_.push_back(std::to_string(value));
  nulls_.push_back(false);
}

void PgStatement::BindText(const std::string& value) {
  // Text parameters travel as C strings: a NUL would cut the value short
  // without a word. PostgreSQL's text cannot hold one anyway.
  if (value.find('\0') != std::string::npos) {
    throw SqlError(Status::InvalidArgument("text with a NUL byte cannot be stored in PostgreSQL"));
  }
  values_.push_back(value);
  nulls_.push_back(false);
}

void PgStatement::BindNull() {
  values_.emplace_back();
  nulls_.push_back(true);
}

std::vector<const char*> PgStatement::Params() const {
  // Checked here: the server would answer a count mismatch with 08P01
  // (protocol violation), which reads as a lost connection.
  if (static_cast<int>(values_.size()) != param_count_) {
    throw SqlError(Status::Internal("statement takes " + std::to_string(param_count_) + " parameters, " +
                                    std::to_string(values_.size()) + " bound: " + sql_));
  }
  std::vector<const char*> params(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) params[i] = nulls_[i] ? nullptr : values_[i].c_str();
  return params;
}

void PgStatement::SendToPipeline(const std::string& name, const std::string& sql, bool* prepared) {
  const std::vector<const char*> params = Params();
  if (Status entered = pipeline_->Enter(); !entered.ok()) Fail(std::move(entered));
  if (!*prepared) {
    if (pq::PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 1) {
      Fail(PgCallStatus(conn_, nullptr, "prepare"));
    }
    *prepared = true;
    pipeline_->Sent(this, true);
  }
  if (pq::PQsendQueryPrepared(conn_, name.c_str(), param_count_, params.data(), nullptr, nullptr, 0) != 1) {
    Fail(PgCallStatus(conn_, nullptr, "execute"));
  }
  pipeline_->Sent(this, false);
}

void PgStatement::RunLater() {
  if (!pipeline_->allowed()) {
    SqlStatement::RunLater();
    return;
  }
  SendToPipeline(name_, sql_, &prepared_);
  if (pipeline_->waiting_count() >= PgPipeline::kMaxDeferred) {
    if (Status finished = pipeline_->Finish(nullptr); !finished.ok()) Fail(std::move(finished));
  }
}

void PgStatement::Execute(const std::string& name, const std::string& sql, bool* prepared) {
  pq::PQclear(result_);
  result_ = nullptr;
  if (pipeline_->waiting()) {
    // Behind deferred statements: sent after them, answered after theirs.
    SendToPipeline(name, sql, prepared);
    PGresult* res = nullptr;
    Status finished = pipeline_->Finish(&res);
    if (!finished.ok()) Fail(std::move(finished));
    TakeResult(res);
    return;
  }
  if (!*prepared) {
    if (Status done = Prepare(conn_, name, sql); !done.ok()) Fail(std::move(done));
    *prepared = true;
  }
  const std::vector<const char*> params = Params();
  TakeResult(pq::PQexecPrepared(conn_, name.c_str(), param_count_, params.data(), nullptr, nullptr, 0));
}

void PgStatement::TakeResult(PGresult* res) {
  const ExecStatusType status = res == nullptr ? PGRES_FATAL_ERROR : pq::PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    result_ = res;
    executed_ = true;
    row_ = -1;
    changes_ = ParseCount(pq::PQcmdTuples(res));
    return;
  }
  Status error = FailedInPipeline(res);
  pq::PQclear(res);
  Fail(std::move(error));
}

Status PgStatement::FailedInPipeline(PGresult* res) {
  Status error = PgCallStatus(conn_, res, "execute");
  if (ResultTypeChanged(res)) {
    // A table under a `SELECT *` or `RETURNING *` gained or lost a column
    // (a migration from another host): the server will not run this
    // prepared statement again. It is prepared afresh under a new name on
    // its next use, so the transaction, retried, succeeds: Busy says so.
    // The old one is left to the session (a statement per schema change).
    PrepareAgain();
    error = Status::Busy(error.message());
  }
  return error;
}

void PgStatement::PrepareAgain() {
  name_ += "x";
  prepared_ = insert_prepared_ = false;
}

bool PgStatement::Step() {
  if (!executed_) Execute(name_, sql_, &prepared_);
  const int rows = pq::PQntuples(result_);
  if (row_ < rows) ++row_;
  return row_ < rows;
}

int64_t PgStatement::Insert() {
  const std::string insert_name = name_ + "r";
  std::string sql;
  if (!insert_prepared_) {
    sql = sql_;
    while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) != 0 || sql.back() == ';')) {
      sql.pop_back();
    }
    // On a line of its own: SQL ending in a -- comment would swallow it.
    sql += "\nRETURNING id";
  }
  Execute(insert_name, sql, &insert_prepared_);
  if (pq::PQntuples(result_) == 0) return 0;
  row_ = 0;
  return Int(0);
}

const char* PgStatement::Value(int column) const {
  if (result_ == nullptr || row_ < 0 || row_ >= pq::PQntuples(result_)) {
    throw SqlError(Status::Internal("no current row to read: " + sql_));
  }
  if (column < 0 || column >= pq::PQnfields(result_)) {
    throw SqlError(Status::Internal("no column " + std::to_string(column) + " in: " + sql_));
  }
  return pq::PQgetvalue(result_, row_, column);
}

bool PgStatement::IsBoolean(int column) const { return pq::PQftype(result_, column) == kBoolOid; }

int64_t PgStatement::Int(int column) const {
  const char* text = Value(column);
  if (pq::PQgetisnull(result_, row_, column) != 0) return 0;  // as SQLite reads NULL
  if (IsBoolean(column)) return text[0] == 't' ? 1 : 0;
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  // A fraction (numeric, e.g. SUM of a bigint) truncates, as SQLite does;
  // anything else is not a number and the store's SQL is wrong.
  if (end == text || errno == ERANGE || (*end != '\0' && *end != '.')) {
    throw SqlError(Status::Internal("column " + std::string(pq::PQfname(result_, column)) +
                                    " does not read as an integer: " + sql_));
  }
  return value;
}

std::string PgStatement::Text(int column) const {
  const char* text = Value(column);
  if (pq::PQgetisnull(result_, row_, column) != 0) return std::string();
  if (IsBoolean(column)) return text[0] == 't' ? "1" : "0";
  return std::string(text, static_cast<size_t>(pq::PQgetlength(result_, row_, column)));
}

bool PgStatement::IsNull(int column) const {
  Value(column);
  return pq::PQgetisnull(result_, row_, column) != 0;
}

int PgStatement::Changes() const { return changes_; }

void PgStatement::Reset() noexcept {
  values_.clear();
  nulls_.clear();
  pq::PQclear(result_);
  result_ = nullptr;
  executed_ = false;
  row_ = -1;
}

SqlStatement& PgStatements::Prepared(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) return *it->second;
  int params = 0;
  std::string translated = TranslatePlaceholders(sql, &params);
  std::string name = "courier_" + std::to_string(next_name_++);
  // Prepared on its first Step() or Insert(), each in its own form: an
  // INSERT only ever run by Insert() is prepared once, with RETURNING.
  auto statement = std::make_unique<PgStatement>(conn_, &session_unusable_, &pipeline_, std::move(name),
                                                 std::move(translated), params);
  return *cache_.emplace(sql, std::move(statement)).first->second;
}

}  // namespace courier
