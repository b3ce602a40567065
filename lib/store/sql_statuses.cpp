// SqlStore's status changes: a provider's or the sender's status
// (WriteStatus), interrupted attempts, and the operator's retry and fail.
#include "store/sql_connection.h"

#include <map>
#include <set>

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

namespace {

constexpr const char* kOperatorFailedReason = "failed by operator";

}  // namespace

namespace sql_detail {

SqlRowBatch NewAttemptCloses() {
  return SqlRowBatch(
      "UPDATE attempts SET finished_on = ?, outcome = ? WHERE msg_id = ? AND finished_on IS NULL",
      // Each msg's open attempt found by its own index probe (OFFSET 0
      // keeps the subquery apart, per row): joined as a set, the planner
      // may read every open attempt, dead ones included, for the batch.
      "UPDATE attempts SET finished_on = r.finished_on, outcome = r.outcome "
      "FROM {ROWS} AS r (finished_on, outcome, msg_id), "
      "LATERAL (SELECT a.id FROM attempts a WHERE a.msg_id = r.msg_id AND a.finished_on IS NULL OFFSET 0) AS open "
      "WHERE attempts.id = open.id",
      {SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kText, SqlRowBatch::Type::kBigInt});
}

// Rows (msg id, channel id, status, the statuses it may move from, time,
// whether sent, new external id or NULL, error reason, next attempt or
// NULL, errors to add), each msg found by its key; answers the moved msgs.
SqlRowBatch NewStatusMoves() {
  using T = SqlRowBatch::Type;
  return SqlRowBatch(
      "",
      std::string(
          "UPDATE msgs SET status = r_status, modified_on = r_on, "
          "sent_on = CASE WHEN r_sent THEN COALESCE(sent_on, r_on) ELSE sent_on END, "
          "external_id = COALESCE(r_external_id, external_id), error_reason = r_error_reason, "
          "next_attempt_on = r_next_attempt_on, error_count = error_count + r_count_error, "
          "claimed_by = NULL, claimed_on = NULL "
          "FROM {ROWS} AS r (r_id, r_channel_id, r_status, r_from, r_on, r_sent, r_external_id, r_error_reason, "
          "r_next_attempt_on, r_count_error) "
          "WHERE id = r_id AND id = ANY({ARRAY 1}) AND channel_id = r_channel_id AND direction = 'O' "
          "AND strpos(r_from, status) > 0") +
          kMsgReturning,
      {T::kBigInt, T::kBigInt, T::kText, T::kText, T::kBigInt, T::kBoolean, T::kText, T::kText, T::kBigInt,
       T::kInteger});
}

}  // namespace sql_detail

void SqlStore::Impl::CloseAttempts(Int64 msg_id, const std::string& outcome, Micros ts) {
  if (batch_rows) {
    if (closing_msgs.insert(static_cast<int64_t>(msg_id)).second) {
      pending_closes.Int(ts).Text(outcome).Int(static_cast<int64_t>(msg_id));
    }
    return;
  }
  Q("UPDATE attempts SET finished_on = ?, outcome = ? "
    "WHERE msg_id = ? AND finished_on IS NULL")
      .Bind(ts)
      .Bind(outcome)
      .Bind(static_cast<int64_t>(msg_id))
      .RunLater();
}

namespace {

// The statuses a msg may move to `to` from, `to` itself aside, as their
// letters ("" for Q, which only a release writes).
// Built once: every status write asks.
const std::string& MovesTo(MsgStatus to) {
  static const std::map<MsgStatus, std::string> table = [] {
    std::map<MsgStatus, std::string> moves;
    for (MsgStatus target : kAllMsgStatuses) {
      std::string& from = moves[target];
      if (target == MsgStatus::kQueued) continue;
      for (MsgStatus s : kAllMsgStatuses)
        if (s != target && TransitionAllowed(s, target)) from += Letter(s);
    }
    return moves;
  }();
  return table.at(to);
}

bool IsSent(MsgStatus s) {
  return s == MsgStatus::kWired || s == MsgStatus::kSent || s == MsgStatus::kDelivered || s == MsgStatus::kRead;
}

bool IsFailed(MsgStatus s) { return s == MsgStatus::kErrored || s == MsgStatus::kFailed; }

}  // namespace

std::optional<sql_rows::MsgRow> SqlStore::Impl::MoveByMsgId(const StatusUpdate& update, Int64 channel_id,
                                                            Micros ts) {
  if (!update.msg_id) return std::nullopt;
  const MsgStatus to = update.status;
  const std::string& from = MovesTo(to);
  if (from.empty()) return std::nullopt;
  std::string from_list;
  for (char letter : from) from_list += std::string(from_list.empty() ? "'" : ", '") + letter + "'";
  const bool sent = IsSent(to);
  const bool new_external_id = !update.new_external_id.empty();
  auto q = Q(std::string("UPDATE msgs SET status = ?, modified_on = ?, ") +
             (sent ? "sent_on = COALESCE(sent_on, ?), " : "") + (new_external_id ? "external_id = ?, " : "") +
             "error_reason = ?, next_attempt_on = ?, error_count = error_count + ?, claimed_by = NULL, "
             "claimed_on = NULL WHERE id = ? AND channel_id = ? AND direction = 'O' AND status IN (" +
             from_list + ")" + kMsgReturning);
  q.Bind(Letter(to)).Bind(ts);
  if (sent) q.Bind(ts);
  if (new_external_id) q.Bind(update.new_external_id);
  q.Bind(IsFailed(to) ? update.error_reason : std::string())
      .Bind(to == MsgStatus::kErrored ? update.next_attempt_on : std::nullopt)
      .Bind(static_cast<int64_t>(update.count_error ? 1 : 0))
      .Bind(static_cast<int64_t>(*update.msg_id))
      .Bind(static_cast<int64_t>(channel_id));
  if (!q.Step()) return std::nullopt;
  MsgRow row = ReadRow<MsgRow>(q);
  while (q.Step()) {
  }
  return row;
}

void SqlStore::Impl::ApplyStatusesTogether(const std::vector<Intake>& intakes) {
  std::unordered_map<int64_t, int> per_msg;
  for (const auto& intake : intakes)
    for (const auto& update : intake.statuses)
      if (update.msg_id) ++per_msg[*update.msg_id];
  SqlRowBatch rows = NewStatusMoves();
  const Micros ts = Now();
  std::unordered_map<int64_t, const StatusUpdate*> tried;
  for (const auto& intake : intakes) {
    for (const auto& update : intake.statuses) {
      if (!update.msg_id || per_msg[*update.msg_id] != 1) continue;
      const std::string& from = MovesTo(update.status);
      if (from.empty()) continue;
      auto ch = FindChannelByUUID(update.channel_uuid, false);
      if (!ch) continue;
      const MsgStatus to = update.status;
      rows.Int(*update.msg_id)
          .Int(static_cast<int64_t>(ch->id))
          .Text(Letter(to))
          .Text(from)
          .Int(ts)
          .Bool(IsSent(to));
      if (update.new_external_id.empty()) rows.Null();
      else rows.Text(update.new_external_id);
      rows.Text(IsFailed(to) ? update.error_reason : std::string())
          .Int(to == MsgStatus::kErrored ? update.next_attempt_on : std::nullopt)
          .Int(static_cast<int64_t>(update.count_error ? 1 : 0));
      tried.emplace(*update.msg_id, &update);
    }
  }
  if (tried.empty()) return;
  auto& statuses = batch_lookups->statuses;
  for (const auto& [id, update] : tried) statuses.emplace(update, std::nullopt);
  batch_lookups->statuses_on = ts;
  engine->PlanByKeys(true);
  {
    auto q = rows.ArrayQuery(*statements);
    while (q.Step()) {
      MsgRow row = ReadRow<MsgRow>(q);
      auto it = tried.find(static_cast<int64_t>(row.id));
      if (it != tried.end()) statuses[it->second] = std::move(row);
    }
  }
  engine->PlanByKeys(false);
}

Result<StatusResult> SqlStore::StatusInTxn(Impl& d, const StatusUpdate& update) {
  auto ch = d.FindChannelByUUID(update.channel_uuid, false);
  if (!ch) return errors::ChannelNotFound();
  if (!update.msg_id && update.msg_uuid.empty() && update.external_id.empty()) {
    return Status::InvalidArgument("attempt to update msg status without id, uuid or external id");
  }
  const Micros ts = d.Now();

  // The common case first: a status by msg id that moves the msg on (the
  // sender's W, E and F; a provider's S and D by our id). One UPDATE ...
  // RETURNING whose WHERE holds the statuses allowed to move to `to`, in
  // place of a read and then an update: a round trip less a send on
  // PostgreSQL, and its read of the msg; or already applied with the
  // rest of its batch (ApplyStatusesTogether). The same status again, a
  // move not allowed, no such msg, and Q (a release) find no row here and
  // take the general path below, which reads the msg first.
  const auto moved = [&](MsgRow row, Micros at) -> StatusResult {
    row.channel_uuid = ch->uuid;
    row.channel_type = ch->type;
    const Msg msg = ToMsg(row);
    d.CloseAttempts(row.id, Letter(update.status), at);
    for (const auto& log : update.logs) d.InsertLog(log, ch->id, NInt(row.id), at);
    d.AppendEvent("status.updated", StatusEventFields(msg), at);
    StatusResult result;
    result.outcome = StatusOutcome::kUpdated;
    result.msg_id = row.id;
    result.status = update.status;
    return result;
  };
  const std::optional<MsgRow>* together = nullptr;
  if (d.batch_lookups != nullptr) {
    auto it = d.batch_lookups->statuses.find(&update);
    if (it != d.batch_lookups->statuses.end()) together = &it->second;
  }
  if (together != nullptr) {
    if (*together) return moved(**together, d.batch_lookups->statuses_on);
  } else if (auto row = d.MoveByMsgId(update, ch->id, ts)) {
    return moved(std::move(*row), ts);
  }

  std::vector<MsgRow> rows;
  const int64_t channel_id = ch->id;
  if (update.msg_id) {
    auto q = d.Q(std::string(kMsgSelect) + " WHERE m.id = ? AND m.channel_id = ? AND m.direction = 'O'" +
                 d.engine->LockMsgsRead());
    q.Bind(static_cast<int64_t>(*update.msg_id)).Bind(channel_id);
    if (q.Step()) rows.push_back(ReadRow<MsgRow>(q));
  } else if (!update.msg_uuid.empty()) {
    auto q = d.Q(std::string(kMsgSelect) + " WHERE m.uuid = ? AND m.channel_id = ? AND m.direction = 'O'" +
                 d.engine->LockMsgsRead());
    q.Bind(update.msg_uuid).Bind(channel_id);
    if (q.Step()) rows.push_back(ReadRow<MsgRow>(q));
  } else {
    auto q = d.Q(std::string(kMsgSelect) +
                 " WHERE m.channel_id = ? AND m.external_id = ? AND m.direction = 'O' "
                 "ORDER BY m.id DESC LIMIT 1" +
                 d.engine->LockMsgsRead());
    q.Bind(channel_id).Bind(update.external_id);
    if (q.Step()) rows.push_back(ReadRow<MsgRow>(q));
  }

  StatusResult result;
  if (rows.empty()) {
    for (const auto& log : update.logs) d.InsertLog(log, ch->id, NInt(), ts);
    result.outcome = StatusOutcome::kNotFound;
    result.status = update.status;
    return result;
  }

  const MsgRow& row = rows[0];
  Msg msg = ToMsg(row);
  const MsgStatus from = msg.status;
  const MsgStatus to = update.status;
  const bool in_flight = !row.claimed_by.empty();
  Int64 id = row.id;

  std::string external_id = msg.external_id;
  if (!update.new_external_id.empty()) external_id = update.new_external_id;

  bool release = false;  // the claim ends and the attempt closes
  if (from == to) {
    result.outcome = StatusOutcome::kUnchanged;
    if (to == MsgStatus::kQueued && in_flight) {
      // A send that goes back to the queue (throttled): release the
      // claim and wait for the next attempt.
      release = true;
      d.Q("UPDATE msgs SET claimed_by = NULL, claimed_on = NULL, next_attempt_on = ?, "
          "error_count = error_count + ?, modified_on = ? WHERE id = ?")
          .Bind(update.next_attempt_on ? *update.next_attempt_on : ts)
          .Bind(static_cast<int64_t>(update.count_error ? 1 : 0))
          .Bind(ts)
          .Bind(static_cast<int64_t>(id))
          .RunLater();
    }
  } else if (!TransitionAllowed(from, to)) {
    result.outcome = StatusOutcome::kIgnored;
  } else {
    result.outcome = StatusOutcome::kUpdated;
    release = true;
    const bool sent = IsSent(to);
    std::optional<int64_t> sent_on = msg.sent_on;
    if (sent && !sent_on) sent_on = ts;
    const bool failed = IsFailed(to);
    std::optional<int64_t> next_attempt_on;
    if (to == MsgStatus::kErrored) next_attempt_on = update.next_attempt_on;
    if (to == MsgStatus::kQueued) next_attempt_on = update.next_attempt_on ? *update.next_attempt_on : ts;
    const int error_count = msg.error_count + (update.count_error ? 1 : 0);
    const std::string error_reason = failed ? update.error_reason : std::string();
    // external_id only when it changes: SQLite maintains every index on a
    // column named in SET, changed or not, and two indexes hold it.
    const bool new_external_id = external_id != msg.external_id;
    auto q = d.Q(std::string("UPDATE msgs SET status = ?, modified_on = ?, sent_on = ?, ") +
                 (new_external_id ? "external_id = ?, " : "") +
                 "error_reason = ?, next_attempt_on = ?, error_count = ?, claimed_by = NULL, "
                 "claimed_on = NULL WHERE id = ?");
    q.Bind(Letter(to)).Bind(ts).Bind(sent_on);
    if (new_external_id) q.BindTextOrNull(external_id);
    q.Bind(error_reason).Bind(next_attempt_on).Bind(static_cast<int64_t>(error_count)).Bind(static_cast<int64_t>(id));
    q.RunLater();
    // The msg as it now is, for the event (no need to read it back).
    msg.status = to;
    msg.modified_on = ts;
    msg.sent_on = sent_on;
    msg.external_id = external_id;
    msg.error_reason = error_reason;
    msg.next_attempt_on = next_attempt_on;
    msg.error_count = error_count;
  }

  if (result.outcome != StatusOutcome::kUpdated && external_id != msg.external_id) {
    d.Q("UPDATE msgs SET external_id = ? WHERE id = ?").BindTextOrNull(external_id).Bind(static_cast<int64_t>(id)).RunLater();
  }
  // An attempt stays open exactly while its msg is claimed.
  if (release || !in_flight) d.CloseAttempts(id, Letter(to), ts);
  if (release && to == MsgStatus::kQueued) d.msgs_queued = true;  // back in the queue: no queue event says so
  for (const auto& log : update.logs) d.InsertLog(log, ch->id, NInt(id), ts);

  if (result.outcome == StatusOutcome::kUpdated) {
    d.AppendEvent("status.updated", StatusEventFields(msg), ts);
  }
  result.msg_id = id;
  // Unchanged and ignored updates leave the status as it was.
  result.status = msg.status;
  return result;
}

Result<StatusResult> SqlStore::WriteStatus(const StatusUpdate& update) {
  Impl& d = *impl_;
  return d.Run<StatusResult>("write status", Txn::kWrite, [&]() -> Result<StatusResult> { return StatusInTxn(d, update); });
}

Result<std::map<std::string, Micros>> SqlStore::OpenAttemptWorkers() {
  Impl& d = *impl_;
  return d.Run<std::map<std::string, Micros>>("open attempt workers", Txn::kNone,
                                              [&]() -> Result<std::map<std::string, Micros>> {
    std::map<std::string, Micros> workers;
    auto q = d.Q("SELECT worker, MAX(started_on) FROM attempts WHERE finished_on IS NULL GROUP BY worker");
    while (q.Step()) workers[q.Text(0)] = q.Int(1);
    return workers;
  });
}

Result<std::vector<int64_t>> SqlStore::FailInterruptedAttempts(const std::string& worker, Micros last_beat_seen) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>(
      "fail interrupted attempts", Txn::kWrite, [&]() -> Result<std::vector<int64_t>> {
        const Micros ts = d.Now();
        if (!worker.empty()) {
          // Judged dead on a read made before this transaction: a beat since
          // then says it lives. The row goes first (a dead worker's row
          // would stay for ever: a new process is a new host:pid), and only
          // if it is the beat that was judged; PostgreSQL's DELETE waits for
          // a heartbeat writing the row and then judges the new beat.
          d.Q("DELETE FROM workers WHERE name = ? AND beat_on <= ?").Bind(worker).Bind(last_beat_seen).Run();
          auto beat = d.Q("SELECT 1 FROM workers WHERE name = ?");
          beat.Bind(worker);
          if (beat.Step()) return std::vector<int64_t>{};
        }
        struct Open {
          int64_t attempt_id;
          int64_t msg_id;
          std::string worker;
        };
        std::vector<Open> open;
        {
          auto q = worker.empty() ? d.Q("SELECT id, msg_id, worker FROM attempts WHERE finished_on IS NULL ORDER BY id")
                                  : d.Q("SELECT id, msg_id, worker FROM attempts "
                                        "WHERE finished_on IS NULL AND worker = ? ORDER BY id");
          if (!worker.empty()) q.Bind(worker);
          while (q.Step()) open.push_back(Open{q.Int(0), q.Int(1), q.Text(2)});
        }
        std::vector<int64_t> failed;
        for (const Open& attempt : open) {
          d.Q("UPDATE attempts SET finished_on = ?, outcome = 'interrupted' WHERE id = ?")
              .Bind(ts)
              .Bind(attempt.attempt_id)
              .Run();
          // Only a msg still claimed by that worker is still in doubt; one
          // that has since had a status keeps it.
          auto update = d.Q("UPDATE msgs SET status = 'E', error_reason = ?, next_attempt_on = NULL, "
                            "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
                            "WHERE id = ? AND status = 'Q' AND claimed_by = ?");
          update.Bind(kInterruptedReason).Bind(ts).Bind(attempt.msg_id).Bind(attempt.worker).Run();
          if (update.Changes() == 0) continue;
          failed.push_back(attempt.msg_id);
          d.AppendEvent("status.updated", StatusEventFields(d.MustLoadMsg(attempt.msg_id)), ts);
        }
        return failed;
      });
}

namespace {

// Re-queues one outgoing E/F msg now; true when it changed.
bool RequeueOne(SqlStatements& q, int64_t id, Micros ts) {
  auto update = q("UPDATE msgs SET status = 'Q', next_attempt_on = ?, error_reason = '', error_count = 0, "
                    "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
                    "WHERE id = ? AND direction = 'O' AND status IN ('E', 'F')");
  update.Bind(ts).Bind(ts).Bind(id).Run();
  return update.Changes() > 0;
}

}  // namespace

Result<std::vector<int64_t>> SqlStore::RetryMsgs(const std::vector<int64_t>& ids) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("retry msgs", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<int64_t> changed;
    std::set<int64_t> seen;
    for (int64_t id : ids) {
      if (!seen.insert(id).second) continue;
      if (!RequeueOne(*d.statements, id, ts)) continue;
      changed.push_back(id);
      d.AppendEvent("msg.retried", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

Result<std::vector<int64_t>> SqlStore::RetryAllErrored() {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("retry errored", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<int64_t> ids;
    {
      auto q = d.Q("SELECT id FROM msgs WHERE status = 'E' AND direction = 'O' ORDER BY id");
      while (q.Step()) ids.push_back(q.Int(0));
    }
    std::vector<int64_t> changed;
    for (int64_t id : ids) {
      if (!RequeueOne(*d.statements, id, ts)) continue;
      changed.push_back(id);
      d.AppendEvent("msg.retried", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

Result<std::vector<int64_t>> SqlStore::FailMsgs(const std::vector<int64_t>& ids) {
  Impl& d = *impl_;
  return d.Run<std::vector<int64_t>>("fail msgs", Txn::kWrite,
                                     [&]() -> Result<std::vector<int64_t>> {
    const Micros ts = d.Now();
    std::vector<int64_t> changed;
    std::set<int64_t> seen;
    for (int64_t id : ids) {
      if (!seen.insert(id).second) continue;
      auto update = d.Q("UPDATE msgs SET status = 'F', error_reason = ?, next_attempt_on = NULL, "
                        "claimed_by = NULL, claimed_on = NULL, modified_on = ? "
                        "WHERE id = ? AND direction = 'O' AND status NOT IN ('D', 'R', 'F')");
      update.Bind(kOperatorFailedReason).Bind(ts).Bind(id).Run();
      if (update.Changes() == 0) continue;
      d.CloseAttempts(id, "F", ts);
      changed.push_back(id);
      d.AppendEvent("msg.failed", MsgEventFields(d.MustLoadMsg(id)), ts);
    }
    return changed;
  });
}

}  // namespace courier
