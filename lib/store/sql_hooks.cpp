// SqlStore's application hooks (store.h says what each method promises;
// schema.cpp's migration 6 what the `hooks` columns mean).
//
// The cursor moves by compare-and-set (`WHERE cursor = ?`): courier-hook
// reads a hook, delivers, then advances from the cursor it read. An
// operator's rewind committed in between makes that UPDATE change nothing,
// so the replay the operator asked for is not overwritten by the delivery
// that was already in flight.
#include <string_view>

#include "core/uuid.h"
#include "store/sql_rows.h"
#include "store/sql_statement.h"
#include "store/sql_store.h"
#include "util/text.h"

namespace courier {
namespace {

using sql_rows::kHookColumns;
using sql_rows::ReadHook;

Status HookNotFound(const std::string& ref) { return Status::NotFound("hook not found: " + ref); }

}  // namespace

Result<Hook> SqlStore::AddHook(const Hook& hook) {
  if (hook.url.empty()) return Status::InvalidArgument("hook url required");
  if (hook.format != "json" && hook.format != "rapidpro")
    return Status::InvalidArgument("hook format must be json or rapidpro, not '" + hook.format + "'");
  if (hook.batch_size < 1) return Status::InvalidArgument("hook batch size must be at least 1");
  Hook added = hook;
  if (added.uuid.empty()) added.uuid = NewRandomUUID();
  added.created_on = added.modified_on = Now();
  Status st = InTransaction("add hook", TxnKind::kWrite, [&](SqlStatements& q) {
    added.id = q("INSERT INTO hooks (uuid, url, topics, channel_uuid, format, secret, auth_token, batch_size, "
                 "paused, paused_reason, cursor, created_on, modified_on) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                   .Bind(added.uuid)
                   .Bind(added.url)
                   .Bind(Join(added.topics, ","))
                   .Bind(added.channel_uuid)
                   .Bind(added.format)
                   .Bind(added.secret)
                   .BindTextOrNull(added.auth_token)
                   .Bind(added.batch_size)
                   .Bind(added.paused)
                   .Bind(added.paused_reason)
                   .Bind(added.cursor)
                   .Bind(added.created_on)
                   .Bind(added.modified_on)
                   .Insert();
    return Status::OK();
  });
  if (!st.ok()) return st;
  return added;
}

Result<Hook> SqlStore::GetHook(const std::string& id_or_uuid) {
  Hook found;
  bool exists = false;
  Status st = InTransaction("get hook", TxnKind::kRead, [&](SqlStatements& q) {
    const bool by_id = !id_or_uuid.empty() && id_or_uuid.size() <= 18 && AllDigits(id_or_uuid);
    auto row = q(std::string("SELECT ") + kHookColumns + " FROM hooks WHERE " + (by_id ? "id = ?" : "uuid = ?"));
    if (by_id) {
      row.Bind(static_cast<int64_t>(std::stoll(id_or_uuid)));
    } else {
      auto uuid = NormalizeUUID(id_or_uuid);
      row.Bind(uuid ? *uuid : id_or_uuid);
    }
    if (row.Step()) {
      found = ReadHook(row);
      exists = true;
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  if (!exists) return HookNotFound(id_or_uuid);
  return found;
}

Result<std::vector<Hook>> SqlStore::ListHooks() {
  std::vector<Hook> hooks;
  Status st = InTransaction("list hooks", TxnKind::kRead, [&](SqlStatements& q) {
    auto rows = q(std::string("SELECT ") + kHookColumns + " FROM hooks ORDER BY id");
    while (rows.Step()) hooks.push_back(ReadHook(rows));
    return Status::OK();
  });
  if (!st.ok()) return st;
  return hooks;
}

Status SqlStore::RemoveHook(int64_t id) {
  return InTransaction("remove hook", TxnKind::kWrite, [&](SqlStatements& q) {
    auto del = q("DELETE FROM hooks WHERE id = ?");
    del.Bind(id).Run();
    return del.Changes() == 1 ? Status::OK() : HookNotFound(std::to_string(id));
  });
}

Status SqlStore::SetHookPaused(int64_t id, bool paused, const std::string& reason) {
  const Micros now = Now();
  return InTransaction(paused ? "pause hook" : "resume hook", TxnKind::kWrite, [&](SqlStatements& q) {
    auto update = paused ? q("UPDATE hooks SET paused = TRUE, paused_reason = ?, modified_on = ? WHERE id = ?")
                         : q("UPDATE hooks SET paused = FALSE, paused_reason = ?, failures = 0, "
                             "next_attempt_on = NULL, modified_on = ? WHERE id = ?");
    update.Bind(paused ? reason : std::string()).Bind(now).Bind(id).Run();
    return update.Changes() == 1 ? Status::OK() : HookNotFound(std::to_string(id));
  });
}

Status SqlStore::RewindHook(int64_t id, int64_t cursor) {
  if (cursor < 0) return Status::InvalidArgument("hook cursor must not be negative");
  const Micros now = Now();
  return InTransaction("rewind hook", TxnKind::kWrite, [&](SqlStatements& q) {
    auto update = q("UPDATE hooks SET cursor = ?, failures = 0, next_attempt_on = NULL, modified_on = ? "
                    "WHERE id = ?");
    update.Bind(cursor).Bind(now).Bind(id).Run();
    return update.Changes() == 1 ? Status::OK() : HookNotFound(std::to_string(id));
  });
}

Result<bool> SqlStore::AdvanceHookCursor(int64_t id, int64_t from, int64_t to) {
  const Micros now = Now();
  bool moved = false;
  // One statement: SQLite's own transaction around it (autocommit) is
  // the whole of it, so no BEGIN and COMMIT of ours. courier-hook runs it
  // once an acknowledged POST, a few thousand times a second at batch 1.
  Status st = InTransaction("advance hook", TxnKind::kNone, [&](SqlStatements& q) {
    auto update = q("UPDATE hooks SET cursor = ?, failures = 0, next_attempt_on = NULL, delivered_on = ?, "
                    "modified_on = ? WHERE id = ? AND cursor = ?");
    update.Bind(to).Bind(now).Bind(now).Bind(id).Bind(from).Run();
    moved = update.Changes() == 1;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return moved;
}

Result<bool> SqlStore::RecordHookFailure(int64_t id, int64_t cursor, const std::string& error,
                                            Micros next_attempt_on) {
  const Micros now = Now();
  bool recorded = false;
  Status st = InTransaction("record hook failure", TxnKind::kWrite, [&](SqlStatements& q) {
    auto update = q("UPDATE hooks SET failures = failures + 1, last_error = ?, last_error_on = ?, "
                    "next_attempt_on = ?, modified_on = ? WHERE id = ? AND cursor = ?");
    update.Bind(error).Bind(now).Bind(next_attempt_on).Bind(now).Bind(id).Bind(cursor).Run();
    recorded = update.Changes() == 1;
    return Status::OK();
  });
  if (!st.ok()) return st;
  return recorded;
}

Status SqlStore::NoteHookError(int64_t id, const std::string& error) {
  const Micros now = Now();
  return InTransaction("note hook error", TxnKind::kWrite, [&](SqlStatements& q) {
    auto update = q("UPDATE hooks SET last_error = ?, last_error_on = ?, modified_on = ? WHERE id = ?");
    update.Bind(error).Bind(now).Bind(now).Bind(id).Run();
    return update.Changes() == 1 ? Status::OK() : HookNotFound(std::to_string(id));
  });
}

}  // namespace courier
