#pragma once
// The store's schema on PostgreSQL: what a new PostgreSQL store is created
// at, and the version check every PostgreSQL connection makes.
//
// One versioned schema for both engines (schema.h): the same version
// numbers, the same `schema_version` table (one row per version applied,
// the store's version is MAX(version)), the same tables, columns, NULLs and
// value encodings, so that a SQLite store moves to PostgreSQL by copying
// rows as they are (pg_schema.cpp says where a type differs and why).
//
// A new PostgreSQL store is made as a SQLite one is: every migration of
// schema::Migrations(Dialect::kPostgreSQL) in order, each recorded.
// tests/unit/pg_schema_test.cpp compares a fresh PostgreSQL store with a
// fresh SQLite one, table by table, column by column, index by index: a
// migration that forgets PostgreSQL fails it.
//
// Thread-safety: the functions use only the connection they are given; a
// PGconn is used by one thread at a time.

#include "store/libpq.h"

#include <string>
#include <vector>

#include "core/status.h"

namespace courier {
namespace pg_schema {

// The store's recorded version: MAX(version) of schema_version in the
// connection's current schema, 0 when the table is missing or empty.
// Unavailable when the query fails (the server's message, no password:
// libpq never puts one in its errors).
Result<int> ReadVersion(PGconn* conn);

// Creates the schema on an empty database, or migrates an older one to
// schema::CurrentVersion(), in one transaction: a failure leaves the
// database as it was. Applying it to a current store does nothing.
// Concurrent callers (two hosts running `courier-ctl init` at once) are
// serialised by a transaction-level advisory lock; the second finds the
// schema made. A database whose recorded version is newer than the
// program's is refused, unchanged: Unavailable "store schema is version
// N, newer than this program's M: upgrade courier" (exit 69).
// `conn` must be connected and idle (no transaction open).
Status CreatePgSchema(PGconn* conn);

// OK when the store is at schema::CurrentVersion(); otherwise Unavailable
// with the same texts as the SQLite store (not initialised, older: run
// courier-ctl init, newer: upgrade courier).
Status CheckPgSchema(PGconn* conn);

}  // namespace pg_schema
}  // namespace courier
