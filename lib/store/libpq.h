#pragma once
// libpq, PostgreSQL's client library, loaded (dlopen) when a PostgreSQL
// store is first used rather than at every program's start.
//
// Why: libpq brings OpenSSL, GnuTLS, Kerberos, LDAP and SASL with it. On
// a SQLite store none of them is ever called, yet mapping them cost each
// daemon up to 4 MiB of resident memory (courier-flush 17.2 -> 13 MiB
// idle). PostgreSQL deployments pay the same as before, once.
//
// Contract: courier's code calls libpq as pq::PQname(...) (same names,
// same arguments), never ::PQname. Load() is called where a connection
// is first made (PgConnection::Connect, store copies); a call through
// pq:: before it loads libpq then, and aborts with a message if libpq
// cannot be loaded, as a program linked against a missing library would
// never have started. Thread-safe; the library stays loaded for the
// process's life. The types and constants (PGconn, PGRES_TUPLES_OK, ...)
// are libpq-fe.h's own.
#include <libpq-fe.h>

#include <utility>

#include "core/status.h"

namespace courier::pq {

// Every libpq function courier calls. A new one is added here.
#define COURIER_LIBPQ_FUNCTIONS(X)                                                                                   \
  X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconnectdbParams) X(PQconninfoFree) X(PQconninfoParse)               \
  X(PQconsumeInput) X(PQenterPipelineMode) X(PQerrorMessage) X(PQescapeIdentifier) X(PQexec) X(PQexecParams)       \
  X(PQexecPrepared) X(PQexitPipelineMode) X(PQfinish) X(PQfname) X(PQfreemem) X(PQftype) X(PQgetResult)            \
  X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQnfields) X(PQnotifies) X(PQntuples) X(PQpipelineStatus)          \
  X(PQpipelineSync) X(PQprepare) X(PQputCopyData) X(PQputCopyEnd) X(PQresStatus) X(PQreset)                        \
  X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) X(PQsendPrepare) X(PQsendQueryPrepared)          \
  X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus) X(PQtransactionStatus)

struct Functions {
#define COURIER_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  COURIER_LIBPQ_FUNCTIONS(COURIER_LIBPQ_POINTER)
#undef COURIER_LIBPQ_POINTER
};

// OK once libpq is loaded and every function above resolved; Unavailable
// naming the library and the loader's reason otherwise (libpq5 is not
// installed). Later calls return the first call's outcome.
Status Load();

// The resolved functions; loads libpq if Load() was not called, and
// aborts the process if it cannot be loaded.
const Functions& Loaded();

#define COURIER_LIBPQ_FORWARD(name)                          \
  template <typename... Args>                                \
  inline auto name(Args&&... args) {                         \
    return Loaded().name(std::forward<Args>(args)...);       \
  }
COURIER_LIBPQ_FUNCTIONS(COURIER_LIBPQ_FORWARD)
#undef COURIER_LIBPQ_FORWARD

}  // namespace courier::pq
