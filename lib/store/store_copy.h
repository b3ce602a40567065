#pragma once
// CopySqliteToPostgres: moves a whole SQLite store into a PostgreSQL one,
// row for row (`courier-ctl store copy --to postgresql://...`).
//
// What is copied: every table of the schema (channels, contacts and their
// URNs, msgs, attempts, channel logs, events, hooks with their cursors, API
// tokens and idempotency keys), each row with its id, so msg ids, event
// seqs, hook cursors and uuids mean the same on the other side. Values go
// as they are stored (the two engines keep the same encodings: pg_schema.cpp).
// Then every id sequence is moved past the copied ids; events' past the
// highest seq SQLite ever handed out (a pruned tail included), so seqs
// never go back for a consumer that follows across the move.
//
// Guarantees:
// - The source is read in one read transaction: a consistent snapshot even
//   if something writes it meanwhile (what is written after the snapshot is
//   not copied: stop the daemons first, as courier-ctl(1) says).
// - The target is written in one transaction: a failure (a row the target
//   refuses, the server gone) leaves it as it was. Before committing, each
//   table's row count is compared with the source's.
// - The target must be an empty store: its schema is created (or migrated)
//   first as `courier-ctl init` would; a target holding rows in any table is
//   refused (Conflict), so a copy never mixes two stores.
// - Both stores must be at this program's schema version (VersionStatus).
//
// Errors: Unavailable when a store cannot be reached or read; Conflict for
// a non-empty target; InvalidArgument for a row the target refuses (the
// table named). Messages never contain the target's password (libpq's
// never do; the url is printed redacted).
//
// Thread-safety: a function; the caller's thread only.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {

struct CopyProgress {
  std::string table;
  int64_t copied = 0;  // rows of `table` so far
  int64_t total = 0;   // rows of `table` in the source
};

struct CopiedTable {
  std::string table;
  int64_t rows = 0;
};

// Called after each table's rows and every few thousand rows within one,
// for a progress line.
using CopyProgressFn = std::function<void(const CopyProgress&)>;

Result<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& sqlite_path, const std::string& pg_uri,
                                                      const CopyProgressFn& progress = nullptr);

}  // namespace courier
