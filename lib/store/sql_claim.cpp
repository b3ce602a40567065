// SqlStore's claim: queued msgs handed to a sender, round-robin across
// channels within each channel's capacity, with an open attempt each.
#include "store/sql_connection.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

namespace {

// RETURNING gives the claimed row in kMsgSelect's column order (the
// channel's uuid and type, blank here, come from channel_names), so
// the msg is not read again. A msg in Q keeps its status out of SET:
// SQLite rewrites the entries of every index on a column named in SET.
const std::string kReturning =
    std::string(kMsgReturning) + ", (SELECT is_stopped FROM contacts WHERE id = msgs.contact_id)";
// The msg's contact is its URN's owner and contact_urn_id that URN
// (every path that stores a msg sets both through EnsureContact). By
// id, not by URN: in a RETURNING clause SQLite plans `u.urn = msgs.urn`
// as a scan of contact_urns, once per claimed msg (EXPLAIN QUERY PLAN);
// by id each is one primary-key lookup inside the claiming statement.
// The URN's auth only for the channel types that send to it: the
// lookup is one more random page of contact_urns per msg, which
// doubled the claim's p50 (2.4 -> 5.0 ms, limit 100, 500k URNs).
constexpr const char* kReturningUrnAuth = ", (SELECT auth FROM contact_urns WHERE id = msgs.contact_urn_id)";
constexpr int kStoppedColumn = MsgRow::kColumns;  // after MsgRow's columns
constexpr int kUrnAuthColumn = MsgRow::kColumns + 1;

}  // namespace

namespace sql_detail {

SqlRowBatch NewQueueRead() {
  return SqlRowBatch("",
                     "SELECT r.arm, q.id, q.priority FROM {ROWS} AS r (arm, channel_id, lim, due), "
                     "LATERAL (SELECT id, priority FROM msgs WHERE channel_id = r.channel_id "
                     "AND status IN ('Q', 'E') AND direction = 'O' AND claimed_by IS NULL "
                     "AND next_attempt_on <= r.due ORDER BY priority DESC, id LIMIT r.lim) AS q "
                     "ORDER BY 1, 3 DESC, 2",
                     {SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kBigInt,
                      SqlRowBatch::Type::kBigInt});
}

}  // namespace sql_detail

std::vector<Msg> SqlStore::Impl::Claim(const ClaimRequest& req) {
  std::vector<Msg> claimed;
  const Micros ts = req.now != 0 ? req.now : Now();
  engine->BeforeClaim();

  std::vector<Int64> channel_ids, max_workers;
  std::map<Int64, std::pair<std::string, std::string>> channel_names;  // id -> uuid, type
  std::map<Int64, Int64> tps;  // channels with a tps only
  {
    auto q = Q("SELECT id, max_workers, uuid, channel_type, tps FROM channels WHERE is_active = TRUE ORDER BY id");
    while (q.Step()) {
      channel_ids.push_back(q.Int(0));
      max_workers.push_back(q.Int(1));
      channel_names[q.Int(0)] = {q.Text(2), q.Text(3)};
      if (q.Int(4) > 0) tps[q.Int(0)] = q.Int(4);
    }
  }
  if (channel_ids.empty()) return claimed;

  std::set<Int64> wants_urn_auth;  // channel ids
  for (const auto& [id, name] : channel_names)
    if (req.urn_auth_types.count(name.second)) wants_urn_auth.insert(id);

  // Claims in doubt first (ClaimRequest::in_doubt_since): what they took
  // is still this worker's, with its attempts open, and already counted
  // in flight below. Stamped with this claim's time, so that if this
  // answer is lost too they are found again from the same point. A msg
  // whose channel was removed meanwhile is left claimed (interrupted
  // when this worker ends), as a removed channel is not sent from.
  std::vector<Msg> adopted;
  if (req.in_doubt_since != 0) {
    auto q = Q(std::string("UPDATE msgs SET claimed_on = ?, modified_on = ? "
                           "WHERE claimed_by = ? AND status = 'Q' AND claimed_on >= ? "
                           "AND channel_id IN (SELECT id FROM channels WHERE is_active = TRUE)") +
               kReturning + kReturningUrnAuth);
    q.Bind(static_cast<int64_t>(ts)).Bind(static_cast<int64_t>(ts)).Bind(req.worker).Bind(
        static_cast<int64_t>(req.in_doubt_since));
    while (q.Step()) {
      MsgRow row = ReadRow<MsgRow>(q);
      std::tie(row.channel_uuid, row.channel_type) = channel_names[row.channel_id];
      Msg msg = ToMsg(row);
      msg.contact_stopped = q.Int(kStoppedColumn) != 0;
      if (wants_urn_auth.count(row.channel_id)) msg.urn_auth = q.Text(kUrnAuthColumn);
      adopted.push_back(std::move(msg));
    }
    // RETURNING's order is the engine's: queue order (FIFO) instead.
    std::sort(adopted.begin(), adopted.end(), [](const Msg& a, const Msg& b) { return a.id < b.id; });
  }
  const int limit = std::max(0, req.limit - static_cast<int>(adopted.size()));

  // What every sender claimed this second on channels with a tps: the
  // budget left is the channel's, whichever host claims (senders also cap
  // their own claims by what they sent, ClaimRequest::channel_caps).
  const Int64 second = ts / kMicrosPerSecond;
  std::map<Int64, Int64> claimed_this_second;
  if (!tps.empty()) {
    auto q = Q("SELECT channel_id, claimed FROM channel_claims WHERE second = ?");
    q.Bind(static_cast<int64_t>(second));
    while (q.Step()) claimed_this_second[q.Int(0)] = q.Int(1);
  }

  std::map<Int64, Int64> in_flight;
  {
    auto q = Q("SELECT channel_id, COUNT(*) FROM msgs WHERE claimed_by IS NOT NULL "
               "GROUP BY channel_id");
    while (q.Step()) in_flight[q.Int(0)] = q.Int(1);
  }

  // Rotation: start with the first channel after the one served first
  // last time, so with a small limit every channel gets its turn.
  std::size_t start = 0;
  while (start < channel_ids.size() && channel_ids[start] <= last_first_channel) ++start;
  if (start == channel_ids.size()) start = 0;

  // Candidates per channel, in rotation order: highest priority first,
  // then oldest (lowest id). The WHERE repeats idx_msgs_queue's predicate
  // (here and in NewQueueRead, whose rows name their channel's arm and
  // come back in arm order, then queue order).
  std::vector<std::pair<Int64, Int64>> to_read;  // channel id, capacity
  for (std::size_t k = 0; k < channel_ids.size(); ++k) {
    std::size_t i = (start + k) % channel_ids.size();
    Int64 channel_id = channel_ids[i];
    Int64 workers = max_workers[i] > 0 ? max_workers[i] : req.default_max_workers;
    Int64 capacity = workers - in_flight[channel_id];
    auto cap = req.channel_caps.find(channel_id);
    if (cap != req.channel_caps.end()) capacity = std::min<Int64>(capacity, cap->second);
    if (auto rate = tps.find(channel_id); rate != tps.end()) {
      capacity = std::min<Int64>(capacity, rate->second - claimed_this_second[channel_id]);
    }
    capacity = std::min<Int64>(capacity, limit);
    if (capacity > 0) to_read.emplace_back(channel_id, capacity);
  }
  // On a server (WritesRowsAsArrays) every channel's queue is read in one
  // statement over arrays (NewQueueRead), where each statement is a round
  // trip made under the claim lock every sender waits for; SQLite reads a
  // channel a statement (a call into the library).
  const bool as_arrays = engine->WritesRowsAsArrays();
  static const std::string kQueueSql =
      "SELECT 0, id, priority FROM msgs WHERE channel_id = ? AND status IN ('Q', 'E') "
      "AND direction = 'O' AND claimed_by IS NULL AND next_attempt_on <= ? "
      "ORDER BY priority DESC, id LIMIT ?";
  // How far into each queue to read. The interleave below takes one msg
  // per channel per round, so a channel gives about limit / channels:
  // reading every queue to its capacity read up to `limit` rows a channel
  // (at limit 64 over 100 channels, 64 rows for each msg claimed). First
  // `share` rows of each; then, while the rows read fall short of the
  // limit, more of the channels that may hold more, all to the same new
  // share. The msgs picked are those a read to capacity would give: a
  // channel read short is read to its end, every other one holds `share`
  // rows, and the rows read reach the limit within `share` rounds.
  const Int64 due = ts;
  std::vector<std::vector<Int64>> read(to_read.size());
  std::vector<bool> may_hold_more(to_read.size(), false);
  // Channels a statement: on a server as many as the claim's limit (a
  // statement, a round trip under the claim lock; `limit` channels with
  // msgs fill the claim's first round, so most claims read once and probe
  // no more queues than they can use), on SQLite one.
  const std::size_t per_statement = as_arrays ? static_cast<std::size_t>(std::max(limit, 16)) : 1;
  auto read_queues = [&](const std::vector<std::size_t>& which, Int64 share) {
    std::size_t with_msgs = 0;
    for (const auto& ids : read) with_msgs += ids.empty() ? 0 : 1;
    for (std::size_t at = 0; at < which.size(); at += per_statement) {
      const std::size_t arms = std::min(per_statement, which.size() - at);
      std::vector<std::vector<Int64>> ids(arms);
      if (as_arrays) {
        SqlRowBatch reads = NewQueueRead();
        for (std::size_t arm = 0; arm < arms; ++arm) {
          const auto& [channel_id, capacity] = to_read[which[at + arm]];
          reads.Int(static_cast<int64_t>(arm))
              .Int(static_cast<int64_t>(channel_id))
              .Int(static_cast<int64_t>(std::min(capacity, share)))
              .Int(static_cast<int64_t>(due));
        }
        auto q = reads.ArrayQuery(*statements);
        while (q.Step()) {
          const auto arm = static_cast<std::size_t>(q.Int(0));
          if (arm < arms) ids[arm].push_back(q.Int(1));
        }
      } else {
        const auto& [channel_id, capacity] = to_read[which[at]];
        auto q = Q(kQueueSql);
        q.Bind(static_cast<int64_t>(channel_id))
            .Bind(static_cast<int64_t>(due))
            .Bind(static_cast<int64_t>(std::min(capacity, share)));
        while (q.Step()) ids[0].push_back(q.Int(1));
      }
      for (std::size_t arm = 0; arm < arms; ++arm) {
        const std::size_t k = which[at + arm];
        const Int64 wanted = std::min(to_read[k].second, share);
        may_hold_more[k] = static_cast<Int64>(ids[arm].size()) == wanted && wanted < to_read[k].second;
        if (read[k].empty() && !ids[arm].empty()) ++with_msgs;
        read[k] = std::move(ids[arm]);
      }
      // Once `limit` channels have msgs the first round fills the claim:
      // the channels after them would not be used.
      if (with_msgs >= static_cast<std::size_t>(limit)) return;
    }
  };
  if (!to_read.empty()) {
    std::vector<std::size_t> which(to_read.size());
    for (std::size_t k = 0; k < which.size(); ++k) which[k] = k;
    const auto n = static_cast<Int64>(to_read.size());
    Int64 share = std::max<Int64>(1, (limit + n - 1) / n);
    for (;;) {
      read_queues(which, share);
      Int64 rows = 0;
      for (const auto& ids : read) rows += static_cast<Int64>(ids.size());
      which.clear();
      for (std::size_t k = 0; k < read.size(); ++k)
        if (may_hold_more[k]) which.push_back(k);
      if (rows >= limit || which.empty()) break;
      const auto m = static_cast<Int64>(which.size());
      share += (limit - rows + m - 1) / m;
    }
  }
  std::vector<std::pair<Int64, std::vector<Int64>>> candidates;
  for (std::size_t k = 0; k < read.size(); ++k)
    if (!read[k].empty()) candidates.emplace_back(to_read[k].first, std::move(read[k]));

  // Interleave: one from each channel per round, until the limit.
  std::vector<std::pair<Int64, Int64>> picked;  // msg id, channel id
  for (std::size_t round = 0; picked.size() < static_cast<std::size_t>(limit); ++round) {
    bool any = false;
    for (const auto& [channel_id, ids] : candidates) {
      if (round >= ids.size()) continue;
      any = true;
      picked.emplace_back(ids[round], channel_id);
      if (picked.size() == static_cast<std::size_t>(limit)) break;
    }
    if (!any) break;
  }

  const int64_t claimed_on = ts;

  // The picked msgs are claimed together, not one UPDATE each: on
  // PostgreSQL every statement here is a round trip made under the claim
  // lock, which every sender waits for (one UPDATE a msg was half the
  // claim's round trips). SQLite takes kClaimChunk at a time, a short
  // chunk padded with its last id, so each form is prepared once. A msg not
  // claimed from Q is tried from E; one claimed by neither was taken
  // since it was read (not under SQLite's write lock).
  constexpr size_t kClaimChunk = 16;
  struct Claimed {
    MsgRow row;
    bool contact_stopped = false;
    std::string urn_auth;
  };
  std::map<Int64, Claimed> got;  // by msg id
  auto claim_chunks = [&](const std::vector<Int64>& ids, bool from_error, bool with_urn_auth) {
    std::string sql = from_error
                          ? "UPDATE msgs SET claimed_by = ?, claimed_on = ?, modified_on = ?, status = 'Q' "
                            "WHERE claimed_by IS NULL AND status = 'E' AND "
                          : "UPDATE msgs SET claimed_by = ?, claimed_on = ?, modified_on = ? "
                            "WHERE claimed_by IS NULL AND status = 'Q' AND ";
    // On a server all of them in one statement, `id = ANY(array)`, each
    // found by its key whatever the planner guesses of the array.
    if (as_arrays) {
      sql += "id = ANY(CAST(? AS BIGINT[]))";
    } else {
      sql += "id IN (";
      for (size_t i = 0; i < kClaimChunk; ++i) sql += i == 0 ? "?" : ", ?";
      sql += ")";
    }
    sql += std::string(kReturning) + (with_urn_auth ? kReturningUrnAuth : "");
    const size_t chunk = as_arrays ? ids.size() : kClaimChunk;
    if (as_arrays) engine->PlanByKeys(true);
    for (size_t at = 0; at < ids.size(); at += chunk) {
      auto q = Q(sql);
      q.Bind(req.worker).Bind(claimed_on).Bind(claimed_on);
      if (as_arrays) {
        std::string literal = "{";
        for (size_t i = 0; i < ids.size(); ++i) literal += (i > 0 ? "," : "") + std::to_string(ids[i]);
        q.Bind(literal + "}");
      } else {
        for (size_t i = 0; i < kClaimChunk; ++i)
          q.Bind(static_cast<int64_t>(ids[std::min(at + i, ids.size() - 1)]));
      }
      while (q.Step()) {
        Claimed c;
        c.row = ReadRow<MsgRow>(q);
        c.contact_stopped = q.Int(kStoppedColumn) != 0;
        if (with_urn_auth) c.urn_auth = q.Text(kUrnAuthColumn);
        const Int64 id = c.row.id;
        got.emplace(id, std::move(c));
      }
    }
    if (as_arrays) engine->PlanByKeys(false);
  };
  for (const bool with_urn_auth : {false, true}) {
    std::vector<Int64> ids;
    for (const auto& [id, channel_id] : picked)
      if ((wants_urn_auth.count(channel_id) > 0) == with_urn_auth) ids.push_back(id);
    if (ids.empty()) continue;
    claim_chunks(ids, false, with_urn_auth);
    std::vector<Int64> not_from_queue;
    for (Int64 id : ids)
      if (!got.count(id)) not_from_queue.push_back(id);
    if (!not_from_queue.empty()) claim_chunks(not_from_queue, true, with_urn_auth);
  }

  // In the order picked (the round-robin), each with its open attempt.
  SqlRowBatch attempts("INSERT INTO attempts (msg_id, worker, started_on) VALUES (?, ?, ?)",
                       "INSERT INTO attempts (msg_id, worker, started_on) SELECT * FROM {ROWS}",
                       {SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kText, SqlRowBatch::Type::kBigInt});
  for (const auto& [id, channel_id] : picked) {
    auto it = got.find(id);
    if (it == got.end()) continue;
    Claimed& c = it->second;
    attempts.Int(static_cast<int64_t>(id)).Text(req.worker).Int(claimed_on);
    std::tie(c.row.channel_uuid, c.row.channel_type) = channel_names[c.row.channel_id];
    claimed.push_back(ToMsg(c.row));
    claimed.back().contact_stopped = c.contact_stopped;
    claimed.back().urn_auth = std::move(c.urn_auth);
  }

  attempts.Write(*statements, engine->WritesRowsAsArrays());

  std::map<Int64, Int64> claimed_now;
  for (const Msg& m : claimed)
    if (tps.count(m.channel_id)) ++claimed_now[m.channel_id];
  for (const auto& [channel_id, count] : claimed_now) {
    Q("INSERT INTO channel_claims (channel_id, second, claimed) VALUES (?, ?, ?) "
      "ON CONFLICT (channel_id) DO UPDATE SET claimed = CASE WHEN channel_claims.second = excluded.second "
      "THEN channel_claims.claimed + excluded.claimed ELSE excluded.claimed END, second = excluded.second")
        .Bind(static_cast<int64_t>(channel_id))
        .Bind(static_cast<int64_t>(second))
        .Bind(static_cast<int64_t>(count))
        .RunLater();
  }
  // Last, so the rotation moves by what was picked now.
  for (Msg& msg : adopted) claimed.push_back(std::move(msg));
  return claimed;
}

Result<std::vector<Msg>> SqlStore::ClaimQueued(const ClaimRequest& req) {
  Impl& d = *impl_;
  if (req.worker.empty()) return Status::InvalidArgument("claim needs a worker name");
  if (req.limit <= 0) return std::vector<Msg>{};
  Result<std::vector<Msg>> r = d.Run<std::vector<Msg>>(
      "claim queued", Txn::kWrite, [&]() -> Result<std::vector<Msg>> { return d.Claim(req); });
  // Only a committed claim moves the rotation.
  if (r.ok() && !r->empty()) d.last_first_channel = r->front().channel_id;
  return r;
}

}  // namespace courier
