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
// A PostgreSQL store has never existed at versions 1 to 5, so a new one is
// not built by replaying them: it is created at kBaselineVersion in one
// step from DDL written for PostgreSQL (BaselineDDL()). Migrations after
// the baseline come from schema::Migrations(Dialect::kPostgreSQL), as on
// SQLite. tests/unit/pg_schema_test.cpp compares a fresh PostgreSQL store
// with a fresh SQLite one, table by table, column by column, index by
// index: a migration that forgets PostgreSQL fails it.
//
// Thread-safety: the functions use only the connection they are given; a
// PGconn is used by one thread at a time.

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "core/status.h"

namespace courier {
namespace pg_schema {

// The version BaselineDDL() creates: schema::Migrations 1..6 in one.
inline constexpr int kBaselineVersion = 6;

// The CREATE statements of the baseline, in order (tables before the
// tables and indexes that refer to them). schema_version is not among
// them: it is created first, by schema::VersionTableDDL().
const std::vector<std::string>& BaselineDDL();

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
