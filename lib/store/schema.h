#pragma once
// The store's schema: every table and index courier keeps, as numbered
// migrations applied in order and recorded in `schema_version`.
//
// The DDL is written once for both databases the Store is meant to run on.
// The only dialect differences are the id column types and the type of a
// one-letter code (schema.cpp says why); they are substituted from fixed
// strings (never from input), so everything else in the statements is
// plain SQL that SQLite and PostgreSQL both accept. Both engines build a
// new store by applying every migration in order, so a PostgreSQL store
// and a SQLite one record the same versions.
//
// Rules for changing the schema:
// - Never edit a migration that has shipped; append a new one with the next
//   version number. Migrate() applies every missing version in one
//   transaction, so a half-applied upgrade is never visible.
// - A program refuses to use a store whose version is not CurrentVersion()
//   (older: "run courier-ctl init"; newer: upgrade the program).
//
// Thread-safety: pure functions over constant data.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {
namespace schema {

enum class Dialect { kSQLite, kPostgreSQL };

struct Migration {
  int version = 0;
  std::string description;
  std::vector<std::string> statements;  // DDL, executed in order
  // SQLite: the statements edit table definitions in sqlite_schema
  // directly (with writable_schema on), which SQLite documents for changes
  // that leave the stored rows valid as they are, such as a CHECK rewritten
  // to an equivalent one. The store then bumps schema_version so every
  // connection re-reads the schema.
  bool edits_schema_text = false;
};

// Every migration, oldest first, with the dialect's id types filled in.
std::vector<Migration> Migrations(Dialect dialect);

// A column naming a row of another table (`table.column -> parent.key`).
// These are the references of the tables written for every msg or
// webhook: both engines create them as foreign keys (with the table), and
// on PostgreSQL migration 10 drops those constraints again (schema.cpp
// says why), or the migration that creates a later table, so the store's
// own writes keep them true there. The list is the SQLite schema's
// foreign keys on those tables, exactly (PgSchemaTest checks).
struct Reference {
  const char* table;
  const char* column;
  const char* parent;
  const char* parent_key;
  int table_version = 1;  // the migration that created `table`
};
const std::vector<Reference>& References();

// The version this program's code reads and writes.
int CurrentVersion();

// Whether a store recorded at `recorded` (0: no schema) can be used by this
// program: OK at CurrentVersion(), else Unavailable saying what to run
// (courier-ctl init for an older or empty store, an upgrade for a newer one),
// in the same words for every engine.
Status VersionStatus(int64_t recorded);

// DDL for the version table itself (created before any migration runs).
std::string VersionTableDDL();

}  // namespace schema
}  // namespace courier
