// SqlStore's part for courier-api: tokens and idempotent queueing
// (store.h, "Applications' API"; the tables are schema version 6's).
#include <Poco/JSON/Parser.h>

#include "core/json.h"
#include "store/sql_rows.h"
#include "store/sql_statement.h"
#include "store/sql_store.h"

namespace courier {
namespace {

using sql_rows::JoinList;
using sql_rows::kApiTokenSelect;
using sql_rows::ReadApiToken;

}  // namespace

Result<ApiToken> SqlStore::AddApiToken(const ApiToken& token) {
  if (token.name.empty()) return Status::InvalidArgument("a token needs a name");
  if (token.token_hash.empty()) return Status::InvalidArgument("a token needs its hash");
  ApiToken added = token;
  Status st = InTransaction("add api token", TxnKind::kWrite, [&](SqlStatements& q) {
    if (q("SELECT 1 FROM api_tokens WHERE name = ?").Bind(token.name).OneInt())
      return Status::Conflict("a token named '" + token.name + "' exists already");
    added.created_on = Now();
    added.last_used_on.reset();
    added.id = q("INSERT INTO api_tokens (name, token_hash, scopes, created_on) VALUES (?, ?, ?, ?)")
                   .Bind(token.name)
                   .Bind(token.token_hash)
                   .Bind(JoinList(token.scopes))
                   .Bind(added.created_on)
                   .Insert();
    return Status::OK();
  });
  if (!st.ok()) return st;
  return added;
}

Result<std::vector<ApiToken>> SqlStore::ListApiTokens() {
  std::vector<ApiToken> out;
  Status st = InTransaction("list api tokens", TxnKind::kRead, [&](SqlStatements& q) {
    auto rows = q(std::string(kApiTokenSelect) + " ORDER BY id");
    while (rows.Step()) out.push_back(ReadApiToken(rows));
    return Status::OK();
  });
  if (!st.ok()) return st;
  return out;
}

Status SqlStore::RemoveApiToken(const std::string& name) {
  return InTransaction("remove api token", TxnKind::kWrite, [&](SqlStatements& q) {
    auto id = q("SELECT id FROM api_tokens WHERE name = ?").Bind(name).OneInt();
    if (!id) return Status::NotFound("token not found: " + name);
    q("DELETE FROM api_idempotency WHERE token_id = ?").Bind(*id).Run();
    q("DELETE FROM api_tokens WHERE id = ?").Bind(*id).Run();
    return Status::OK();
  });
}

Result<ApiToken> SqlStore::FindApiToken(const std::string& token_hash) {
  std::optional<ApiToken> found;
  Status st = InTransaction("find api token", TxnKind::kNone, [&](SqlStatements& q) {
    auto row = q(std::string(kApiTokenSelect) + " WHERE token_hash = ?");
    row.Bind(token_hash);
    if (row.Step()) found = ReadApiToken(row);
    return Status::OK();
  });
  if (!st.ok()) return st;
  if (!found) return Status::NotFound("token not found");
  return *found;
}

Status SqlStore::TouchApiToken(int64_t id, Micros when) {
  return InTransaction("touch api token", TxnKind::kWrite, [&](SqlStatements& q) {
    q("UPDATE api_tokens SET last_used_on = ? WHERE id = ?").Bind(when).Bind(id).Run();
    return Status::OK();
  });
}

Result<std::vector<Result<IdempotentQueue>>> SqlStore::QueueOutgoingBatch(std::vector<QueueRequest> requests) {
  std::vector<Result<IdempotentQueue>> outcomes;
  Status st = InTransaction("queue outgoing batch", TxnKind::kWrite, [&](SqlStatements& q) -> Status {
    outcomes.clear();
    for (auto& request : requests) {
      IdempotentQueue result;
      if (!request.key.empty()) {
        std::optional<std::pair<std::string, std::string>> seen;  // request_hash, msg_uuids
        {
          auto row = q("SELECT request_hash, msg_uuids FROM api_idempotency WHERE token_id = ? AND idem_key = ?");
          row.Bind(request.token_id).Bind(request.key);
          if (row.Step()) seen.emplace(row.Text(0), row.Text(1));
        }
        if (seen) {
          if (seen->first != request.request_hash) {
            outcomes.emplace_back(
                Status::Conflict("Idempotency-Key '" + request.key + "' was used with another request"));
            continue;
          }
          Poco::JSON::Parser parser;
          auto uuids = parser.parse(seen->second).extract<Poco::JSON::Array::Ptr>();
          for (size_t i = 0; i < uuids->size(); ++i) {
            Msg m;
            m.uuid = uuids->getElement<std::string>(static_cast<unsigned>(i));
            // A msg pruned since (retention) keeps its uuid; its id reads 0.
            m.id = q("SELECT id FROM msgs WHERE uuid = ?").Bind(m.uuid).OneInt().value_or(0);
            result.msgs.push_back(std::move(m));
          }
          result.replayed = true;
          outcomes.emplace_back(std::move(result));
          continue;
        }
      }
      auto queued = QueueOutgoingInTransaction(std::move(request.msgs));
      if (!queued.ok()) return queued.status();  // the whole batch goes
      if (!request.key.empty()) {
        std::vector<std::string> uuids;
        for (const auto& m : *queued) uuids.push_back(m.uuid);
        q("INSERT INTO api_idempotency (token_id, idem_key, request_hash, msg_uuids, created_on) "
          "VALUES (?, ?, ?, ?, ?)")
            .Bind(request.token_id)
            .Bind(request.key)
            .Bind(request.request_hash)
            .Bind(json::Stringify(json::StringArray(uuids)))
            .Bind(Now())
            .Run();
      }
      result.msgs = std::move(*queued);
      outcomes.emplace_back(std::move(result));
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  return outcomes;
}

}  // namespace courier
