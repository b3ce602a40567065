// SqlStore's channel logs: writing (for every method that logs) and
// listing them.
#include "store/sql_connection.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

void SqlStore::Impl::InsertLog(const ChannelLog& log, Int64 default_channel, const NInt& msg_id, Micros ts) {
  Int64 channel_id = default_channel;
  if (log.channel_id != 0) {
    channel_id = log.channel_id;
  } else if (!log.channel_uuid.empty()) {
    auto ch = FindChannelByUUID(log.channel_uuid, false);
    if (!ch) throw RequestError{errors::ChannelNotFound()};
    channel_id = ch->id;
  }
  if (channel_id == 0) {
    throw RequestError{Status::InvalidArgument("channel log names no channel")};
  }
  std::optional<int64_t> m;
  if (msg_id) m = *msg_id;
  else if (log.msg_id) m = *log.msg_id;
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
    for (const auto& log : logs) d.InsertLog(log, 0, NInt(), ts);
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
