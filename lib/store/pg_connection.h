#pragma once
// PgConnection: one libpq connection to the PostgreSQL store and its
// prepared statements (pg_statement.h).
//
// The URI (or key=value conninfo) is parsed by libpq itself, so everything
// libpq users expect works: PGHOST, PGPASSWORD and the other environment
// variables for what the URI leaves out, ~/.pgpass, sslmode, several hosts
// with target_session_attrs=read-write, service files. Defaults added
// underneath (the URI or the environment overrides each):
//   connect_timeout=5     a server that does not answer fails the connect
//                         in 5 s, not the kernel's two minutes;
//   keepalives=1, keepalives_idle=10, keepalives_interval=5,
//   keepalives_count=3    an idle connection to a vanished host (power
//                         off, network cut: no FIN, no RST) is noticed in
//                         about 25 s: the LISTEN connection is idle for
//                         hours and would otherwise wait forever;
//   tcp_user_timeout=30000  the same for a connection with data in flight
//                         (keepalives only probe idle ones);
//   fallback_application_name = the caller's name ("courier-recv"), shown
//                         in pg_stat_activity; PGAPPNAME or the URI's
//                         application_name take precedence.
//
// Failure: Connect() and Reconnect() return Unavailable with libpq's
// message (which names host and port, never the password; the password the
// URI holds is masked all the same, should a libpq version ever echo it).
// After a statement finds the connection lost (SqlError Unavailable), the
// store's transaction runner calls Reconnect() before its next
// transaction: the prepared statements are forgotten with the old session
// and prepared again on first use.
//
// Owned: the PGconn and the statement cache. Thread-safety: none; one
// thread uses a connection (the writer's, a claimer's).
#include "store/libpq.h"

#include <memory>
#include <string>

#include "core/status.h"
#include "store/pg_statement.h"

namespace courier {

class PgConnection {
 public:
  // Connects to `uri`; `application_name` names the program in the
  // server's views.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& uri, const std::string& application_name);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // The connection's statement cache: `statements()(sql)` gives a query.
  SqlStatements& statements() { return statements_; }

  // Runs SQL without parameters and without results (BEGIN, COMMIT,
  // ROLLBACK, SAVEPOINT, SET ...) with the simple query protocol: one round
  // trip, nothing prepared, several statements allowed. Throws SqlError.
  void Exec(const std::string& sql);

  // False once the connection is lost (libpq learns of a loss only when a
  // call fails) or a call failed Unavailable (25006 read-only after a
  // failover, 57P01 ...): the session should be replaced by Reconnect().
  bool ok() const { return pq::PQstatus(conn_) == CONNECTION_OK && !statements_.session_unusable(); }

  // A round trip to the server (an empty query): OK, or Unavailable.
  Status Ping();

  // Closes the connection and opens a new one with the same parameters;
  // the statement cache is emptied first (no query of it may be alive).
  // Unavailable when the server cannot be reached; call again later.
  Status Reconnect();

  // Whether a transaction is open (PQTRANS_INTRANS), failed
  // (PQTRANS_INERROR: only ROLLBACK will do), or the connection is idle.
  PGTransactionStatusType transaction_status() const { return pq::PQtransactionStatus(conn_); }

  // The raw connection, for what the statement API does not cover
  // (pg_schema's functions, LISTEN). Owned by this object.
  PGconn* get() const { return conn_; }

 private:
  PgConnection(PGconn* conn, std::string password);
  // Unavailable with PQerrorMessage, the password masked.
  Status ConnectError(const std::string& what) const;

  PGconn* conn_;
  std::string password_;  // from the URI, only to mask it in messages
  PgStatements statements_;
};

}  // namespace courier
