#pragma once
// What keeps a PostgreSQL store's references true without foreign keys.
//
// A PostgreSQL store declares no foreign keys on the tables written for
// every msg (schema::References(); schema.cpp, migration 10, says why),
// so nothing in the server refuses a row that names a parent which does
// not exist. The store's SQL is the same on both engines and SQLite
// enforces every reference in every test; the PostgreSQL-only paths (rows
// written as arrays, statuses applied together) are checked here instead:
// the store tests and the integration tests on PostgreSQL end by asking
// this of their database.
#include <string>

#include "core/status.h"

namespace courier::testing {

// One line a reference with rows whose parent is missing ("msgs.contact_id
// -> contacts.id: 2 rows\n"), "" when every reference resolves. Tables the
// store does not have yet (a database never initialised) are skipped.
// Unavailable when the server cannot be reached (a test that stopped it).
Result<std::string> DanglingReferences(const std::string& pg_uri);

}  // namespace courier::testing
