// SqlStore's incoming side: a webhook's msgs, and WriteIntakes, the
// group commit of many intakes (each under its own savepoint) with the
// sender's next claim in the same transaction.
#include "store/sql_connection.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "core/log.h"
#include "core/uuid.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

Result<IncomingResult> SqlStore::IncomingInTxn(Impl& d, Msg msg, const ChannelLog* log, Micros duplicate_window) {
  auto ch = d.ChannelOfMsg(msg, false);
  if (!ch) return errors::ChannelNotFound();
  Status st = CheckUrn(msg.urn);
  if (!st.ok()) return st;

  // Already stored: the same provider id on this channel, or the same
  // uuid (a spool file replayed after its first commit).
  Impl::BatchLookups* batch = d.batch_lookups;
  const std::pair<int64_t, std::string> provider_key{static_cast<int64_t>(ch->id), msg.external_id};
  const bool provider_id_looked_up =
      batch != nullptr && !msg.external_id.empty() && batch->externals_looked_up.count(provider_key) > 0;
  if (provider_id_looked_up) {
    if (auto dup = batch->incoming_by_external.find(provider_key); dup != batch->incoming_by_external.end()) {
      return IncomingResult{dup->second.first, dup->second.second, true};
    }
  } else if (auto dup = d.FindIncomingByExternalId(ch->id, msg.external_id)) {
    return IncomingResult{dup->first, dup->second, true};
  }
  // A given uuid is looked for by the insert itself (below), or was
  // looked up with the batch's.
  const bool uuid_given = !msg.uuid.empty();
  if (uuid_given && batch != nullptr && batch->uuids_looked_up.count(msg.uuid) > 0) {
    if (auto taken = batch->msg_ids_by_uuid.find(msg.uuid); taken != batch->msg_ids_by_uuid.end()) {
      return IncomingResult{taken->second, msg.uuid, true};
    }
  }
  if (!uuid_given) msg.uuid = NewUUID();

  const Micros ts = d.Now();
  msg.channel_id = ch->id;
  msg.channel_uuid = ch->uuid;
  msg.channel_type = ch->type;
  msg.direction = Direction::kIn;
  msg.status = MsgStatus::kPending;
  msg.error_count = 0;
  msg.error_reason.clear();
  msg.next_attempt_on.reset();
  msg.sent_on.reset();
  msg.created_on = ts;
  msg.modified_on = ts;
  if (!msg.received_on) msg.received_on = ts;

  // For a replayed msg the contact is ensured again before the insert
  // finds its uuid taken: it exists already, on the same channel.
  auto ref = d.EnsureContact(msg.urn, msg.contact_name, NInt(ch->id), ts);
  // A retry of a webhook without a provider id: the msg it repeats
  // (content_duplicates.h).
  const bool judged = msg.external_id.empty() && duplicate_window > 0;
  const std::pair<std::string, int64_t> last_key{msg.urn, static_cast<int64_t>(ch->id)};
  const std::string attachments = judged ? AttachmentsToJson(msg.attachments) : std::string();
  if (judged) {
    const auto known = [&]() -> const std::optional<RecentMsg>* {
      if (batch == nullptr) return nullptr;
      auto it = batch->last_incoming.find(last_key);
      return it == batch->last_incoming.end() ? nullptr : &it->second;
    }();
    const std::optional<RecentMsg> last = known != nullptr ? *known : d.LastIncomingOfUrn(ref.urn_id, ch->id);
    if (last) {
      auto receptions = RepeatedWithin(*last, msg.text, attachments, *msg.received_on, duplicate_window);
      if (receptions && !SentBetween(d.RecentOutgoingOfUrn(ref.urn_id), receptions->first, receptions->second)) {
        return IncomingResult{last->id, last->uuid, true};
      }
    }
  }
  const bool uuid_known_free = !uuid_given || (batch != nullptr && batch->uuids_looked_up.count(msg.uuid) > 0);
  if (batch != nullptr && uuid_known_free && batch->next_reserved < batch->reserved_msg_ids.size()) {
    msg.id = batch->reserved_msg_ids[batch->next_reserved++];
    d.InsertMsgAs(msg.id, msg, ref, ch->id);
  } else {
    msg.id = d.InsertMsg(msg, ref, ch->id, uuid_given);
  }
  if (batch != nullptr && msg.id != 0) {
    batch->uuids_looked_up.insert(msg.uuid);
    batch->msg_ids_by_uuid[msg.uuid] = msg.id;
    if (provider_id_looked_up) batch->incoming_by_external[provider_key] = {msg.id, msg.uuid};
    if (judged) {
      RecentMsg written;
      written.id = msg.id;
      written.uuid = msg.uuid;
      written.direction = Direction::kIn;
      written.channel_id = static_cast<int64_t>(ch->id);
      written.text = msg.text;
      written.attachments = attachments;
      written.received_on = msg.received_on;
      batch->last_incoming[last_key] = std::move(written);
    }
  }
  if (msg.id == 0) {
    auto id = d.MsgIdByUuid(msg.uuid);
    if (!id) throw CorruptData("msg " + msg.uuid + " conflicted but cannot be read");
    return IncomingResult{*id, msg.uuid, true};
  }
  if (log != nullptr) d.InsertLog(*log, ch->id, NInt(msg.id), ts);
  const int fetches = d.InsertFetches(msg, ts);
  if (fetches == 0) {
    d.AppendEvent("msg.received", MsgEventFields(msg), ts);
  } else {
    d.AppendEvent("msg.received",
                  [&](JsonWriter& w) {
                    MsgEventFields(msg)(w);
                    w.Field("media_pending", fetches);
                  },
                  ts);
  }
  return IncomingResult{msg.id, msg.uuid, false};
}

void SqlStore::Impl::LookUpBatch(const std::vector<Intake>& intakes) {
  std::vector<std::string> urns, uuids, channels;
  size_t msgs = 0;
  for (const auto& intake : intakes) {
    if (!intake.channel_uuid.empty()) channels.push_back(intake.channel_uuid);
    for (const auto& update : intake.statuses)
      if (!update.channel_uuid.empty()) channels.push_back(update.channel_uuid);
    for (const auto& msg : intake.msgs) {
      if (!msg.channel_uuid.empty()) channels.push_back(msg.channel_uuid);
      ++msgs;
      if (CheckUrn(msg.urn).ok()) urns.push_back(msg.urn);
      if (!msg.uuid.empty()) uuids.push_back(msg.uuid);
    }
    for (const auto& event : intake.channel_events)
      if (CheckUrn(event.urn).ok()) urns.push_back(event.urn);
  }
  const auto distinct = [](std::vector<std::string>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
  };
  distinct(urns);
  distinct(uuids);
  distinct(channels);
  // Sixteen values a statement, the last repeated to fill it: one cached
  // statement serves every batch.
  constexpr size_t kChunk = 16;
  const auto in_list = [](const std::string& select) {
    std::string sql = select + " IN (?";
    for (size_t i = 1; i < kChunk; ++i) sql += ", ?";
    return sql + ")";
  };
  static const std::string kUrns = in_list("SELECT contact_id, id, channel_id, urn FROM contact_urns WHERE urn");
  static const std::string kUuids = in_list("SELECT id, uuid FROM msgs WHERE uuid");
  static const std::string kChannels = in_list(std::string(kChannelSelect) + " WHERE uuid");
  auto in_chunks = [&](const std::vector<std::string>& values, const std::string& sql,
                       const std::function<void(SqlQuery&)>& row) {
    for (size_t first = 0; first < values.size(); first += kChunk) {
      auto q = Q(sql);
      for (size_t i = 0; i < kChunk; ++i) q.Bind(values[std::min(first + i, values.size() - 1)]);
      while (q.Step()) row(q);
    }
  };
  BatchLookups& batch = *batch_lookups;
  // The batch's channels (a sender's statuses name as many channels as
  // the msgs it sent: one lookup each was a round trip a status).
  if (batch_channels != nullptr) {
    in_chunks(channels, kChannels, [&](SqlQuery& q) {
      ChannelRow row = ReadRow<ChannelRow>(q);
      const std::string uuid = row.uuid;
      batch_channels->emplace(uuid, std::move(row));
    });
  }
  if (engine->WritesRowsAsArrays()) {
    LookUpTogether(intakes, urns, uuids, msgs);
    ApplyStatusesTogether(intakes);
    return;
  }
  in_chunks(urns, kUrns, [&](SqlQuery& q) {
    batch.urns[q.Text(3)] = BatchLookups::Urn{q.Int(0), q.Int(1), q.OptionalInt(2)};
  });
  batch.urns_looked_up.insert(urns.begin(), urns.end());
  in_chunks(uuids, kUuids, [&](SqlQuery& q) { batch.msg_ids_by_uuid[q.Text(1)] = q.Int(0); });
  batch.uuids_looked_up.insert(uuids.begin(), uuids.end());
}

namespace sql_detail {

// LookUpTogether's kinds of row, asked and answered (NewBatchLookup).
enum BatchLookupKind : int64_t {
  kUrn = 1,
  kUuid = 2,
  kProviderId = 3,
  kMsgIds = 4,
  kContactIds = 5,
  kLastIncoming = 6
};

SqlRowBatch NewBatchLookup() {
  // What the batch asks, as rows (kind, key, number): 1 a URN, 2 a msg
  // uuid, 3 a provider id with its channel's id, 4 how many msg ids to
  // reserve, 6 a URN (also asked as 1) with a channel's id, whose newest
  // incoming msg on that channel is wanted (content duplicates). Each key
  // by its own index probe (LATERAL ... OFFSET 0), whatever the planner
  // guesses of the unnest. A contact and a URN id are reserved for each
  // URN not found. Answers as rows (kind, key, a, b, c, text, then a
  // RecentMsg's columns): 1 (urn, contact, urn id, channel), 2 (uuid, msg
  // id), 3 (provider id, channel, msg id, msg uuid), 4 (a msg id), 5 (a
  // contact id and a URN id), 6 (urn, channel, then the msg from column 6
  // on).
  static const std::string kNoRecentMsg =
      ", CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "
      "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT)";
  return SqlRowBatch(
      "",
      "WITH r AS MATERIALIZED (SELECT * FROM {ROWS} AS r (kind, k, n)), "
      "seqs AS MATERIALIZED (SELECT CAST(pg_get_serial_sequence('msgs', 'id') AS regclass) AS msgs, "
      "CAST(pg_get_serial_sequence('contacts', 'id') AS regclass) AS contacts, "
      "CAST(pg_get_serial_sequence('contact_urns', 'id') AS regclass) AS urns), "
      "found AS MATERIALIZED (SELECT u.urn, u.contact_id, u.id, u.channel_id FROM r, "
      "LATERAL (SELECT urn, contact_id, id, channel_id FROM contact_urns WHERE urn = r.k OFFSET 0) AS u "
      "WHERE r.kind = 1) "
      "SELECT 1, urn, contact_id, id, channel_id, CAST(NULL AS TEXT)" + kNoRecentMsg + " FROM found "
      "UNION ALL SELECT 2, m.uuid, m.id, NULL, NULL, NULL" + kNoRecentMsg + " FROM r, "
      "LATERAL (SELECT id, uuid FROM msgs WHERE uuid = r.k OFFSET 0) AS m WHERE r.kind = 2 "
      "UNION ALL SELECT 3, r.k, r.n, m.id, NULL, m.uuid" + kNoRecentMsg + " FROM r, "
      "LATERAL (SELECT id, uuid FROM msgs WHERE channel_id = r.n AND external_id = r.k AND direction = 'I' "
      "OFFSET 0) AS m WHERE r.kind = 3 "
      "UNION ALL SELECT 4, NULL, nextval(seqs.msgs), NULL, NULL, NULL" + kNoRecentMsg + " FROM seqs, r, "
      "generate_series(1, r.n) WHERE r.kind = 4 "
      "UNION ALL SELECT 5, NULL, nextval(seqs.contacts), nextval(seqs.urns), NULL, NULL" + kNoRecentMsg +
      " FROM seqs, generate_series(1, (SELECT count(*) FROM r WHERE kind = 1) - (SELECT count(*) FROM found)) "
      "UNION ALL SELECT 6, f.urn, r.n, NULL, NULL, NULL, m.id, m.uuid, CAST(m.direction AS TEXT), m.channel_id, "
      "m.text, m.attachments, m.received_on, m.sent_on, m.claimed_on FROM r JOIN found AS f ON f.urn = r.k, "
      "LATERAL (SELECT " + std::string(kRecentMsgColumns) + " FROM msgs WHERE contact_urn_id = f.id "
      "AND channel_id = r.n AND direction = 'I' ORDER BY id DESC LIMIT 1) AS m WHERE r.kind = 6",
      {SqlRowBatch::Type::kInteger, SqlRowBatch::Type::kText, SqlRowBatch::Type::kBigInt});
}

}  // namespace sql_detail

void SqlStore::Impl::LookUpTogether(const std::vector<Intake>& intakes, const std::vector<std::string>& urns,
                                    const std::vector<std::string>& uuids, size_t msgs) {
  SqlRowBatch asks = NewBatchLookup();
  BatchLookups& batch = *batch_lookups;
  for (const auto& urn : urns) asks.Int(kUrn).Text(urn).Null();
  batch.urns_looked_up.insert(urns.begin(), urns.end());
  for (const auto& uuid : uuids) asks.Int(kUuid).Text(uuid).Null();
  batch.uuids_looked_up.insert(uuids.begin(), uuids.end());
  for (const auto& intake : intakes) {
    for (const auto& msg : intake.msgs) {
      if (msg.external_id.empty() || msg.channel_uuid.empty()) continue;
      auto ch = FindChannelByUUID(msg.channel_uuid, false);
      if (!ch) continue;
      if (batch.externals_looked_up.emplace(static_cast<int64_t>(ch->id), msg.external_id).second) {
        asks.Int(kProviderId).Text(msg.external_id).Int(static_cast<int64_t>(ch->id));
      }
    }
  }
  for (const auto& intake : intakes) {
    if (intake.duplicate_window <= 0) continue;
    for (const auto& msg : intake.msgs) {
      if (!msg.external_id.empty() || msg.channel_uuid.empty() || !CheckUrn(msg.urn).ok()) continue;
      auto ch = FindChannelByUUID(msg.channel_uuid, false);
      if (!ch) continue;
      if (batch.last_incoming.emplace(std::make_pair(msg.urn, static_cast<int64_t>(ch->id)), std::nullopt).second)
        asks.Int(kLastIncoming).Text(msg.urn).Int(static_cast<int64_t>(ch->id));
    }
  }
  if (msgs > 0) asks.Int(kMsgIds).Null().Int(static_cast<int64_t>(msgs));
  if (asks.empty()) return;
  engine->PlanByKeys(true);
  {
    auto q = asks.ArrayQuery(*statements);
    while (q.Step()) {
      switch (q.Int(0)) {
        case kUrn:
          batch.urns[q.Text(1)] = BatchLookups::Urn{q.Int(2), q.Int(3), q.OptionalInt(4)};
          break;
        case kUuid:
          batch.msg_ids_by_uuid[q.Text(1)] = q.Int(2);
          break;
        case kProviderId:
          batch.incoming_by_external[{q.Int(2), q.Text(1)}] = {q.Int(3), q.Text(5)};
          break;
        case kMsgIds:
          batch.reserved_msg_ids.push_back(q.Int(2));
          break;
        case kContactIds:
          batch.reserved_contact_ids.push_back(q.Int(2));
          batch.reserved_urn_ids.push_back(q.Int(3));
          break;
        case kLastIncoming:
          batch.last_incoming[{q.Text(1), q.Int(2)}] = RecentMsgAt(q, 6);
          break;
        default:
          throw SqlError(Status::Internal("batch lookup answered an unknown kind"));
      }
    }
  }
  engine->PlanByKeys(false);
  // Each sequence's values ascend (one statement of one session); sorted
  // all the same, as the order of a set-returning function's rows is not
  // promised. The contact ids then pair with URN ids by rank.
  std::sort(batch.reserved_msg_ids.begin(), batch.reserved_msg_ids.end());
  std::sort(batch.reserved_contact_ids.begin(), batch.reserved_contact_ids.end());
  std::sort(batch.reserved_urn_ids.begin(), batch.reserved_urn_ids.end());
  if (batch.reserved_msg_ids.size() != msgs) {
    throw SqlError(Status::Internal("batch lookup reserved " + std::to_string(batch.reserved_msg_ids.size()) +
                                    " msg ids for " + std::to_string(msgs) + " msgs"));
  }
}

Result<std::vector<IntakeOutcome>> SqlStore::WriteIntakes(const std::vector<Intake>& intakes,
                                                            std::vector<Event>* events) {
  return WriteIntakesAndClaim(intakes, nullptr, nullptr, events);
}

Result<std::vector<IntakeOutcome>> SqlStore::WriteIntakesAndClaim(const std::vector<Intake>& intakes,
                                                                    const ClaimRequest* claim,
                                                                    std::vector<Msg>* claimed,
                                                                    std::vector<Event>* events) {
  Impl& d = *impl_;
  if (claim && claim->worker.empty()) return Status::InvalidArgument("claim needs a worker name");
  std::vector<Event> collected;
  std::vector<Msg> claimed_here;
  // A batch names few channels many times; nothing in it changes them.
  std::unordered_map<std::string, ChannelRow> channels;
  // First without savepoints and with deferred statements (sql_statement.h):
  // on a server each intake then costs the round trips whose answers it
  // reads, not one per statement. Any failure but the store's own sinks
  // that attempt whole, and the batch is written again the careful way,
  // each intake under its savepoint, so that a fault in one intake's data
  // sinks that intake only.
  auto write = [&](bool fast) {
    collected.clear();
    claimed_here.clear();
    channels.clear();
    Impl::BatchLookups lookups;
    d.batch_channels = &channels;
    d.collect_events = &collected;
    auto result = d.Run<std::vector<IntakeOutcome>>(
        "write intakes", Txn::kWrite, [&]() -> Result<std::vector<IntakeOutcome>> {
          d.statements->AllowDeferred(fast);
          d.batch_rows = fast;
          if (fast) {
            d.batch_lookups = &lookups;
            d.LookUpBatch(intakes);
          }
          std::vector<IntakeOutcome> outcomes;
          outcomes.reserve(intakes.size());
          for (const auto& intake : intakes) {
            IntakeOutcome out;
            Status st = fast ? WriteIntakeOrFail(d, intake, out) : WriteIntakeUnderSavepoint(d, intake, out);
            if (!st.ok()) return st;
            outcomes.push_back(std::move(out));
          }
          // After the statuses, so the claim sees the capacity they freed.
          if (claim && claim->limit > 0) {
            d.FlushRows();  // closes first: the claim opens attempts
            claimed_here = d.Claim(*claim);
          }
          return outcomes;
        });
    if (d.statements != nullptr) d.statements->AllowDeferred(false);
    d.batch_rows = false;
    d.batch_lookups = nullptr;
    d.collect_events = nullptr;
    d.batch_channels = nullptr;
    return result;
  };
  auto result = write(true);
  if (!result.ok() && !result.status().IsUnavailable()) {
    // A bad intake's data (a key taken, a row refused) is what the careful
    // way is for; a bug or unreadable data is not, and the careful way's
    // same results would hide it but for this line.
    const Status::Code code = result.status().code();
    if (code == Status::Code::kInternal || code == Status::Code::kCorruption) {
      Log::Warn("intake batch failed the fast way; written again intake by intake",
                {{"error", result.status().ToString()}});
    }
    result = write(false);
  }
  if (!result.ok()) return result;
  if (events) events->insert(events->end(), collected.begin(), collected.end());
  // Only a committed claim moves the rotation.
  if (!claimed_here.empty()) d.last_first_channel = claimed_here.front().channel_id;
  if (claimed) *claimed = std::move(claimed_here);
  return result;
}

Status SqlStore::WriteIntakeOrFail(Impl& d, const Intake& intake, IntakeOutcome& out) {
  Status st;
  try {
    st = WriteOneIntake(d, intake, out);
  } catch (...) {
    st = CurrentExceptionStatus("write intake");
  }
  return st;
}

Status SqlStore::WriteIntakeUnderSavepoint(Impl& d, const Intake& intake, IntakeOutcome& out) {
  const size_t events_before = d.pending_events.size();
  d.statements->Exec("SAVEPOINT intake");
  // A unique key taken by a writer that committed meanwhile (the same
  // provider id received on two hosts at once, PostgreSQL only) is a
  // Conflict; once that commit is visible the intake finds the first copy
  // and is answered as its duplicate, so it is tried once more.
  for (int attempt = 0;; ++attempt) {
    Status st = WriteIntakeOrFail(d, intake, out);
    // The store itself failing sinks the whole batch (the caller spools
    // it); a fault in one intake's data sinks that intake only.
    if (!st.ok() && st.IsUnavailable()) return st;
    if (st.ok()) break;
    d.statements->Exec("ROLLBACK TO SAVEPOINT intake");
    d.pending_events.resize(events_before);
    out = IntakeOutcome{};
    if (st.code() == Status::Code::kConflict && attempt == 0) continue;
    out.status = st;
    break;
  }
  d.statements->Exec("RELEASE SAVEPOINT intake");
  return Status::OK();
}

Status SqlStore::WriteOneIntake(Impl& d, const Intake& intake, IntakeOutcome& out) {
  if (!intake.urn_auths.empty()) {
    auto ch = d.FindChannelByUUID(intake.channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    for (const auto& update : intake.urn_auths) {
      auto r = UrnAuthInTxn(d, update, ch->id);
      if (!r.ok()) return r.status();
      out.urn_auths.push_back(std::move(*r));
    }
  }
  for (size_t i = 0; i < intake.msgs.size(); ++i) {
    const ChannelLog* log = i < intake.msg_logs.size() ? &intake.msg_logs[i] : nullptr;
    auto r = IncomingInTxn(d, intake.msgs[i], log, intake.duplicate_window);
    if (!r.ok()) return r.status();
    out.msgs.push_back(*r);
  }
  for (const auto& update : intake.statuses) {
    auto r = StatusInTxn(d, update);
    if (!r.ok()) return r.status();
    out.statuses.push_back(*r);
  }
  for (const auto& urn : intake.stop_urns) {
    auto r = StopInTxn(d, urn, true, intake.channel_uuid);
    if (!r.ok()) return r.status();
  }
  if (!intake.channel_events.empty()) {
    auto ch = d.FindChannelByUUID(intake.channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    for (const auto& event : intake.channel_events) {
      auto r = ChannelEventInTxn(d, event, *ch);
      if (!r.ok()) return r.status();
      out.channel_events.push_back(std::move(*r));
    }
  }
  if (!intake.logs.empty()) {
    auto ch = d.FindChannelByUUID(intake.channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    const Micros ts = d.Now();
    for (const auto& log : intake.logs) d.InsertLog(log, ch->id, NInt(), ts);
  }
  return Status::OK();
}

}  // namespace courier
