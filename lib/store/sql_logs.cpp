// SqlStore's channel logs: writing (for every method that logs) and
// listing them.
#include "store/sql_connection.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

void SqlStore::Impl::InsertLog(const ChannelLog& log, Int64 default_channel, const NInt& msg_id, Micros ts) {
  // The channel the caller found (the intake's, the status's), else the
  // one the log names, looked up here: the store writes only references
  // it has read.
  Int64 channel_id = default_channel;
  if (channel_id == 0) {
    if (log.channel_id == 0 && log.channel_uuid.empty()) {
      throw RequestError{Status::InvalidArgument("channel log names no channel")};
    }
    auto ch = log.channel_id != 0 ? FindChannelById(log.channel_id, false) : FindChannelByUUID(log.channel_uuid, false);
    if (!ch) throw RequestError{errors::ChannelNotFound()};
    channel_id = ch->id;
  }
  // The msg is the one the store wrote or found for this log, never the
  // log's own msg_id: a reference the store did not look up could name a
  // msg pruned meanwhile, and PostgreSQL keeps no foreign key to refuse it
  // (schema.cpp, migration 10).
  std::optional<int64_t> m;
  if (msg_id) m = *msg_id;
  std::string description = log.description;
  if (description.empty()) description = log.is_error() ? "Error: " + log.error : "Success";
  pending_logs.Int(static_cast<int64_t>(channel_id))
      .Int(m)
      .Text(description)
      .Bool(log.is_error())
      .Text(log.error)
      .Text(log.method)
      .Text(log.url)
      .Text(log.request)
      .Text(log.response)
      .Int(static_cast<int64_t>(log.status_code))
      .Int(static_cast<int64_t>(log.elapsed_ms))
      .Int(log.created_on != 0 ? log.created_on : ts);
  if (!batch_rows) FlushRows();
}

Status SqlStore::WriteChannelLogs(const std::vector<ChannelLog>& logs) {
  Impl& d = *impl_;
  return d.RunStatus("write channel logs", Txn::kWrite, [&]() {
    const Micros ts = d.Now();
    for (const auto& log : logs) {
      NInt msg_id;
      if (log.msg_id) {
        auto found = d.Q("SELECT id FROM msgs WHERE id = ?").Bind(*log.msg_id).OneInt();
        if (!found) return errors::MsgNotFound();
        msg_id = NInt(*found);
      }
      d.InsertLog(log, 0, msg_id, ts);
    }
    return Status::OK();
  });
}

Result<std::vector<ChannelLog>> SqlStore::ListChannelLogs(std::optional<int64_t> msg_id,
                                                             const std::string& channel_uuid,
                                                             int limit) {
  Impl& d = *impl_;
  return d.Run<std::vector<ChannelLog>>(
      "list channel logs", Txn::kRead, [&]() -> Result<std::vector<ChannelLog>> {
        // Every value is a bound parameter, bound in the order its
        // fragment was added.
        std::string sql = std::string(kLogSelect) + " WHERE 1 = 1";
        std::vector<int64_t> binds;
        if (msg_id) {
          sql += " AND l.msg_id = ?";
          binds.push_back(*msg_id);
        }
        if (!channel_uuid.empty()) {
          auto ch = d.FindChannelByUUID(channel_uuid, false);
          if (!ch) return errors::ChannelNotFound();
          sql += " AND l.channel_id = ?";
          binds.push_back(ch->id);
        }
        sql += " ORDER BY l.id DESC";
        if (limit > 0) {
          sql += " LIMIT ?";
          binds.push_back(limit);
        }
        auto q = d.Q(sql);
        for (int64_t value : binds) q.Bind(value);
        std::vector<ChannelLog> out;
        while (q.Step()) out.push_back(ToLog(ReadRow<LogRow>(q)));
        return out;
      });
}

}  // namespace courier
