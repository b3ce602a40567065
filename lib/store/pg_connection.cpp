#include "store/pg_connection.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace courier {

namespace {

// libpq's parse errors quote the offending token ("invalid
// percent-encoded token: \"...\""), which may be the password: the quoted
// parts are left out.
std::string WithoutQuotedParts(const std::string& text) {
  std::string out;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') {
      out += quoted ? "\"" : "\"...";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string MaskPassword(std::string text, const std::string& password) {
  if (password.empty()) return text;
  for (size_t at = text.find(password); at != std::string::npos; at = text.find(password, at)) {
    text.replace(at, password.size(), "********");
    at += 8;
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& uri,
                                                            const std::string& application_name) {
  if (Status loaded = pq::Load(); !loaded.ok()) return loaded;
  // Parsed first only to learn the password (to mask it in errors) and to
  // refuse a malformed URI with libpq's own reason.
  char* parse_error = nullptr;
  PQconninfoOption* options = pq::PQconninfoParse(uri.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error != nullptr ? WithoutQuotedParts(parse_error) : "out of memory";
    pq::PQfreemem(parse_error);
    return Status::InvalidArgument("PostgreSQL connection URI: " + why);
  }
  std::string password;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string(option->keyword) == "password" && option->val != nullptr) password = option->val;
  }
  pq::PQconninfoFree(options);

  // Defaults first, then the URI as `dbname` with expand_dbname: libpq
  // applies keywords in order, so the URI's own settings win; a keyword set
  // here also beats its environment variable, so those with one
  // (PGCONNECT_TIMEOUT, PGCLIENTENCODING) are only set when it is unset.
  std::vector<std::pair<const char*, std::string>> settings;
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) settings.emplace_back("connect_timeout", "5");
  // The store's text is UTF-8 whatever the database's encoding.
  if (std::getenv("PGCLIENTENCODING") == nullptr) settings.emplace_back("client_encoding", "UTF8");
  settings.emplace_back("keepalives", "1");
  settings.emplace_back("keepalives_idle", "10");
  settings.emplace_back("keepalives_interval", "5");
  settings.emplace_back("keepalives_count", "3");
  settings.emplace_back("tcp_user_timeout", "30000");
  settings.emplace_back("fallback_application_name", application_name);
  settings.emplace_back("dbname", uri);
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : settings) {
    keywords.push_back(keyword);
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* conn = pq::PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("connect to PostgreSQL: out of memory");
  // libpq prints server notices (WARNINGs, and a FATAL that arrives
  // while idle, as at a server shutdown) on stderr by default; the store
  // learns of failures from results, and a daemon's stderr is its log.
  pq::PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> connection(new PgConnection(conn, std::move(password)));
  if (pq::PQstatus(conn) != CONNECTION_OK) return connection->ConnectError("connect to PostgreSQL");
  return connection;
}

PgConnection::PgConnection(PGconn* conn, std::string password)
    : conn_(conn), password_(std::move(password)), statements_(conn) {}

PgConnection::~PgConnection() {
  statements_.Forget();
  pq::PQfinish(conn_);
}

Status PgConnection::ConnectError(const std::string& what) const {
  std::string message = pq::PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  // libpq's multi-host messages span lines; one line reads better in logs.
  for (char& c : message) {
    if (c == '\n') c = ' ';
  }
  return Status::Unavailable(what + ": " + MaskPassword(message, password_));
}

void PgConnection::Exec(const std::string& sql) {
  PGresult* res = pq::PQexec(conn_, sql.c_str());
  const ExecStatusType status = res == nullptr ? PGRES_FATAL_ERROR : pq::PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    pq::PQclear(res);
    return;
  }
  // The statement names the failure; its first line is enough for that.
  const std::string what = sql.substr(0, std::min(sql.find('\n'), size_t{60}));
  Status error = PgCallStatus(conn_, res, what);
  pq::PQclear(res);
  if (error.code() == Status::Code::kUnavailable) statements_.MarkSessionUnusable();
  throw SqlError(std::move(error));
}

Status PgConnection::Ping() {
  PGresult* res = pq::PQexec(conn_, "");
  const bool answered = res != nullptr && pq::PQresultStatus(res) == PGRES_EMPTY_QUERY;
  Status status = answered ? Status::OK() : PgCallStatus(conn_, res, "ping");
  pq::PQclear(res);
  if (!status.ok() && status.code() != Status::Code::kUnavailable) return Status::Unavailable(status.message());
  return status;
}

Status PgConnection::Reconnect() {
  statements_.Forget();
  pq::PQreset(conn_);
  if (pq::PQstatus(conn_) != CONNECTION_OK) return ConnectError("reconnect to PostgreSQL");
  return Status::OK();
}

}  // namespace courier
