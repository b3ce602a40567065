// SqlStore::Impl's connection (sql_connection.h): connecting through the
// engine, the schema check, rollback, and exceptions mapped to Status.
#include "store/sql_connection.h"

#include <Poco/Exception.h>
#include <Poco/JSON/JSONException.h>

#include "store/schema.h"

namespace courier {

using namespace sql_rows;    // NOLINT: CorruptData
using namespace sql_detail;  // NOLINT: the transaction runner's parts

Status PrefixedStatus(const Status& status, const std::string& prefix) {
  std::string message = prefix + status.message();
  switch (status.code()) {
    case Status::Code::kBusy: return Status::Busy(std::move(message));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Status::Code::kConflict: return Status::Conflict(std::move(message));
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Status::Code::kCorruption: return Status::Corruption(std::move(message));
    case Status::Code::kNotFound: return Status::NotFound(std::move(message));
    case Status::Code::kIOError: return Status::IOError(std::move(message));
    case Status::Code::kUsage: return Status::Usage(std::move(message));
    default: return Status::Internal(std::move(message));
  }
}

// Call only from inside a catch block: rethrows the current exception and
// names it as a Status.
Status sql_detail::CurrentExceptionStatus(const std::string& op) {
  const std::string prefix = op + ": ";
  try {
    throw;
  } catch (const RequestError& e) {
    return e.status;
  } catch (const CorruptData& e) {
    return Status::Corruption(prefix + e.what());
  } catch (const SqlError& e) {
    return PrefixedStatus(e.status(), prefix);
  } catch (const Poco::JSON::JSONException& e) {
    return Status::Corruption(prefix + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::Internal(prefix + e.displayText());
  } catch (const std::exception& e) {
    return Status::Internal(prefix + e.what());
  } catch (...) {
    return Status::Internal(prefix + "unknown exception");
  }
}

Status SqlStore::Impl::Connect() {
  Status st = engine->Connect();
  statements = st.ok() ? &engine->Statements() : nullptr;
  return st;
}

Status SqlStore::Impl::CheckSchema() {
  if (schema_ready) return Status::OK();
  try {
    Status st = schema::VersionStatus(engine->SchemaVersion());
    if (st.ok()) schema_ready = true;
    return st;
  } catch (...) {
    return CurrentExceptionStatus("schema check");
  }
}

void SqlStore::Impl::FlushRows() {
  const bool as_arrays = engine->WritesRowsAsArrays();
  pending_closes.Write(*statements, as_arrays);
  closing_msgs.clear();
  pending_logs.Write(*statements, as_arrays);
}

void SqlStore::Impl::Rollback() {
  engine->EventSeqsForgotten();
  ForgetRows();
  statements->DiscardDeferred();
  try {
    statements->Exec("ROLLBACK");
  } catch (...) {
    // Nothing to roll back (BEGIN failed, or SQLite already rolled back
    // after an I/O or full-disk error): the transaction is gone either way.
  }
}

}  // namespace courier
