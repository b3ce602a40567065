// SqlStore's msgs: queueing outgoing msgs, importing, reading and
// listing them, the queue summary, and the msg row helpers.
#include "store/sql_connection.h"

#include <algorithm>
#include <map>

#include <variant>

#include "core/uuid.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

std::optional<MsgRow> SqlStore::Impl::LoadMsgRow(Int64 id) {
  auto q = Q(std::string(kMsgSelect) + " WHERE m.id = ?");
  q.Bind(static_cast<int64_t>(id));
  if (!q.Step()) return std::nullopt;
  return ReadRow<MsgRow>(q);
}

std::optional<Msg> SqlStore::Impl::LoadMsg(Int64 id) {
  auto row = LoadMsgRow(id);
  if (!row) return std::nullopt;
  return ToMsg(*row);
}

Msg SqlStore::Impl::MustLoadMsg(Int64 id) {
  auto m = LoadMsg(id);
  if (!m) throw CorruptData("msg " + std::to_string(id) + " vanished inside its transaction");
  return *m;
}

std::optional<int64_t> SqlStore::Impl::MsgIdByUuid(const std::string& uuid) {
  return Q("SELECT id FROM msgs WHERE uuid = ?").Bind(uuid).OneInt();
}

namespace {

constexpr const char* kMsgColumns =
    "uuid, channel_id, contact_id, contact_urn_id, direction, status, "
    "urn, text, attachments, external_id, contact_name, priority, error_count, "
    "error_reason, next_attempt_on, created_on, modified_on, received_on, sent_on, "
    "quick_replies, templating, locale";
constexpr const char* kMsgValues = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";

// Binds kMsgColumns' values of `m` in order.
void BindMsg(SqlQuery& q, const Msg& m, int64_t channel_id, int64_t contact_id, int64_t urn_id) {
  q.Bind(m.uuid)
      .Bind(channel_id)
      .Bind(contact_id)
      .Bind(urn_id)
      .Bind(Letter(m.direction))
      .Bind(Letter(m.status))
      .Bind(m.urn)
      .Bind(m.text)
      .Bind(AttachmentsToJson(m.attachments))
      .BindTextOrNull(m.external_id)
      .Bind(m.contact_name)
      .Bind(static_cast<int64_t>(m.priority))
      .Bind(static_cast<int64_t>(m.error_count))
      .Bind(m.error_reason)
      .Bind(m.next_attempt_on)
      .Bind(m.created_on)
      .Bind(m.modified_on)
      .Bind(m.received_on)
      .Bind(m.sent_on)
      .Bind(QuickRepliesToJson(m.quick_replies))
      .BindTextOrNull(m.templating ? TemplateToJson(*m.templating) : std::string())
      .Bind(m.locale);
}

}  // namespace

Int64 SqlStore::Impl::InsertMsg(const Msg& m, const ContactRef& ref, Int64 channel_id, bool unless_uuid_taken) {
  static const std::string kInsert =
      std::string("INSERT INTO msgs (") + kMsgColumns + ") VALUES (" + kMsgValues + ")";
  static const std::string kInsertUnlessTaken = kInsert + " ON CONFLICT (uuid) DO NOTHING";
  auto q = Q(unless_uuid_taken ? kInsertUnlessTaken : kInsert);
  BindMsg(q, m, static_cast<int64_t>(channel_id), static_cast<int64_t>(ref.contact_id), static_cast<int64_t>(ref.urn_id));
  const Int64 id = q.Insert();
  // SQLite's Insert() gives its previous rowid when nothing was inserted.
  return unless_uuid_taken && q.Changes() == 0 ? 0 : id;
}

void SqlStore::Impl::InsertMsgAs(Int64 id, const Msg& m, const ContactRef& ref, Int64 channel_id) {
  static const std::string kInsert =
      std::string("INSERT INTO msgs (id, ") + kMsgColumns + ") VALUES (?, " + kMsgValues + ")";
  auto q = Q(kInsert);
  q.Bind(static_cast<int64_t>(id));
  BindMsg(q, m, static_cast<int64_t>(channel_id), static_cast<int64_t>(ref.contact_id), static_cast<int64_t>(ref.urn_id));
  q.RunLater();
}

std::optional<std::pair<Int64, std::string>> SqlStore::Impl::FindIncomingByExternalId(Int64 channel_id, const std::string& ext) {
  if (ext.empty()) return std::nullopt;
  // At most one row (ux_msgs_incoming_external), so no ORDER BY: with
  // "ORDER BY id LIMIT 1" PostgreSQL's generic plan walked the channel's
  // msgs in id order looking for the id, every msg of the channel for a
  // new one (bench receive KN: 2,400 -> 470 req/s as the table grew).
  auto q = Q("SELECT id, uuid FROM msgs WHERE channel_id = ? AND external_id = ? AND direction = 'I'");
  q.Bind(static_cast<int64_t>(channel_id)).Bind(ext);
  if (!q.Step()) return std::nullopt;
  return std::make_pair(static_cast<Int64>(q.Int(0)), q.Text(1));
}

RecentMsg sql_detail::RecentMsgAt(const SqlQuery& q, int first) {
  RecentMsg m;
  m.id = q.Int(first);
  m.uuid = q.Text(first + 1);
  m.direction = q.Text(first + 2) == "O" ? Direction::kOut : Direction::kIn;
  m.channel_id = q.Int(first + 3);
  m.text = q.Text(first + 4);
  m.attachments = q.Text(first + 5);
  m.received_on = q.OptionalInt(first + 6);
  m.sent_on = q.OptionalInt(first + 7);
  m.claimed_on = q.OptionalInt(first + 8);
  return m;
}

// Both read idx_msgs_contact_urn backwards: the URN's msgs newest first,
// so the first rows that match are the answer, however many msgs the
// contact has.
std::optional<RecentMsg> SqlStore::Impl::LastIncomingOfUrn(Int64 urn_id, Int64 channel_id) {
  if (urn_id == 0) return std::nullopt;
  auto q = Q(std::string("SELECT ") + kRecentMsgColumns +
             " FROM msgs WHERE contact_urn_id = ? AND channel_id = ? AND direction = 'I' ORDER BY id DESC LIMIT 1");
  q.Bind(static_cast<int64_t>(urn_id)).Bind(static_cast<int64_t>(channel_id));
  if (!q.Step()) return std::nullopt;
  return RecentMsgAt(q, 0);
}

std::vector<RecentMsg> SqlStore::Impl::RecentOutgoingOfUrn(Int64 urn_id) {
  std::vector<RecentMsg> recent;
  auto q = Q(std::string("SELECT ") + kRecentMsgColumns + " FROM msgs WHERE contact_urn_id = ? AND direction = 'O' " +
             "ORDER BY id DESC LIMIT " + std::to_string(kRecentOutgoingJudged));
  q.Bind(static_cast<int64_t>(urn_id));
  while (q.Step()) recent.push_back(RecentMsgAt(q, 0));
  return recent;
}

Result<std::vector<Msg>> SqlStore::QueueOutgoing(std::vector<Msg> msgs) {
  Impl& d = *impl_;
  return d.Run<std::vector<Msg>>("queue outgoing", Txn::kWrite,
                                 [&]() -> Result<std::vector<Msg>> { return QueueInTxn(d, std::move(msgs)); });
}

Result<std::vector<Msg>> SqlStore::QueueOutgoingInTransaction(std::vector<Msg> msgs) {
  return QueueInTxn(*impl_, std::move(msgs));
}

Result<std::vector<Msg>> SqlStore::QueueInTxn(Impl& d, std::vector<Msg> msgs) {
  {
    const Micros ts = d.Now();
    std::map<std::string, ChannelRow> by_uuid;
    std::map<Int64, ChannelRow> by_id;
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      Msg& m = msgs[i];
      std::optional<ChannelRow> ch;
      if (!m.channel_uuid.empty() && by_uuid.count(m.channel_uuid)) {
        ch = by_uuid[m.channel_uuid];
      } else if (m.channel_uuid.empty() && by_id.count(m.channel_id)) {
        ch = by_id[m.channel_id];
      } else {
        ch = d.ChannelOfMsg(m, true);
        if (!ch) return errors::ChannelNotFound();
        by_uuid[ch->uuid] = *ch;
        by_id[ch->id] = *ch;
      }
      Status st = CheckUrn(m.urn);
      if (!st.ok()) return st;
      if (m.uuid.empty()) {
        m.uuid = NewUUID();
      } else if (d.MsgUuidExists(m.uuid)) {
        return Status::Conflict("msg " + m.uuid + " exists already");
      }
      m.channel_id = ch->id;
      m.channel_uuid = ch->uuid;
      m.channel_type = ch->type;
      m.direction = Direction::kOut;
      m.status = MsgStatus::kQueued;
      m.error_count = 0;
      m.error_reason.clear();
      m.created_on = ts;
      m.modified_on = ts;
      m.received_on.reset();
      m.sent_on.reset();
      if (!m.next_attempt_on) m.next_attempt_on = ts;
      auto ref = d.EnsureContact(m.urn, m.contact_name, NInt(ch->id), ts);
      m.id = d.InsertMsg(m, ref, ch->id);
      d.AppendEvent("msg.queued", MsgEventFields(m), ts);
    }
    return msgs;
  }
}

Result<int64_t> SqlStore::ImportMsgs(const std::vector<Msg>& msgs) {
  Impl& d = *impl_;
  return d.Run<int64_t>("import msgs", Txn::kWrite, [&]() -> Result<int64_t> {
    const Micros ts = d.Now();
    std::map<std::string, ChannelRow> channels;
    int64_t added = 0;
    for (const Msg& original : msgs) {
      Msg m = original;
      if (m.channel_uuid.empty()) {
        return Status::InvalidArgument("msg " + m.uuid + " names no channel_uuid");
      }
      auto found = channels.find(m.channel_uuid);
      if (found == channels.end()) {
        auto ch = d.FindChannelByUUID(m.channel_uuid, false);
        if (!ch) return Status::NotFound(std::string(errors::kChannelNotFound) + ": " + m.channel_uuid);
        found = channels.emplace(m.channel_uuid, *ch).first;
      }
      const ChannelRow& ch = found->second;
      Status st = CheckUrn(m.urn);
      if (!st.ok()) return Status::InvalidArgument("msg " + m.uuid + ": " + st.message());
      if (m.uuid.empty()) {
        m.uuid = NewUUID();
      } else if (d.MsgUuidExists(m.uuid)) {
        continue;
      }
      if (m.direction == Direction::kIn && d.FindIncomingByExternalId(ch.id, m.external_id)) {
        continue;  // the same provider msg under another uuid
      }
      if (m.created_on == 0) m.created_on = ts;
      if (m.modified_on == 0) m.modified_on = m.created_on;
      auto ref = d.EnsureContact(m.urn, m.contact_name, NInt(ch.id), ts);
      d.InsertMsg(m, ref, ch.id);
      if (m.direction == Direction::kOut && (m.status == MsgStatus::kQueued || m.status == MsgStatus::kErrored)) {
        d.msgs_queued = true;  // claimable, and no event says so
      }
      ++added;
    }
    return added;
  });
}

Result<Msg> SqlStore::GetMsg(int64_t id) {
  Impl& d = *impl_;
  return d.Run<Msg>("get msg", Txn::kNone, [&]() -> Result<Msg> {
    auto m = d.LoadMsg(id);
    if (!m) return errors::MsgNotFound();
    return *m;
  });
}

Result<Msg> SqlStore::GetMsgByUUID(const std::string& uuid) {
  Impl& d = *impl_;
  return d.Run<Msg>("get msg", Txn::kNone, [&]() -> Result<Msg> {
    auto q = d.Q(std::string(kMsgSelect) + " WHERE m.uuid = ?");
    q.Bind(uuid);
    if (!q.Step()) return errors::MsgNotFound();
    return ToMsg(ReadRow<MsgRow>(q));
  });
}

Result<std::vector<Msg>> SqlStore::ListMsgs(const MsgFilter& filter) {
  Impl& d = *impl_;
  return d.Run<std::vector<Msg>>("list msgs", Txn::kRead, [&]() -> Result<std::vector<Msg>> {
    std::optional<int64_t> channel_id;
    if (!filter.channel_uuid.empty()) {
      auto ch = d.FindChannelByUUID(filter.channel_uuid, false);
      if (!ch) return errors::ChannelNotFound();
      channel_id = static_cast<int64_t>(ch->id);
    }
    std::optional<std::string> status;
    if (filter.status) status = Letter(*filter.status);
    // msgs are indexed by channel and status together, not by either alone
    // (each index is written by every insert and by the claim's and the
    // status's updates; schema migration 11). Listed by one of them alone,
    // each (channel, status) pair is read by that index to the limit, and
    // the first `limit` of them all kept, in order: at most eight reads for
    // a channel, one a channel for a status. By URN, or by neither or both,
    // one read.
    std::vector<std::pair<std::optional<int64_t>, std::optional<std::string>>> parts;
    if (!filter.urn.empty() || channel_id.has_value() == status.has_value()) {
      parts.emplace_back(channel_id, status);
    } else if (channel_id) {
      for (const MsgStatus each : kAllMsgStatuses) parts.emplace_back(channel_id, Letter(each));
    } else {
      auto q = d.Q("SELECT id FROM channels ORDER BY id");
      while (q.Step()) parts.emplace_back(q.Int(0), status);
    }
    std::vector<Msg> out;
    for (const auto& [part_channel, part_status] : parts) {
      // The SQL grows by fixed fragments; every value is a bound
      // parameter, bound below in the order its fragment was added.
      std::string sql = std::string(kMsgSelect) + " WHERE 1 = 1";
      std::vector<std::variant<int64_t, std::string>> binds;
      if (filter.direction) {
        sql += " AND m.direction = ?";
        binds.emplace_back(Letter(*filter.direction));
      }
      if (part_status) {
        sql += " AND m.status = ?";
        binds.emplace_back(*part_status);
      }
      if (part_channel) {
        sql += " AND m.channel_id = ?";
        binds.emplace_back(*part_channel);
      }
      if (!filter.urn.empty()) {
        // Through the URN's row (idx_msgs_contact_urn); an unknown URN
        // matches nothing.
        sql += " AND m.contact_urn_id = (SELECT id FROM contact_urns WHERE urn = ?)";
        binds.emplace_back(filter.urn);
      }
      if (filter.after_id) {
        sql += " AND m.id > ? ORDER BY m.id ASC";
        binds.emplace_back(static_cast<int64_t>(*filter.after_id));
      } else {
        sql += " ORDER BY m.id DESC";
      }
      if (filter.limit > 0) {
        sql += " LIMIT ?";
        binds.emplace_back(static_cast<int64_t>(filter.limit));
      }
      auto q = d.Q(sql);
      for (const auto& b : binds) std::visit([&q](const auto& v) { q.Bind(v); }, b);
      while (q.Step()) out.push_back(ToMsg(ReadRow<MsgRow>(q)));
    }
    if (parts.size() > 1) {
      const bool ascending = filter.after_id.has_value();
      std::sort(out.begin(), out.end(),
                [ascending](const Msg& x, const Msg& y) { return ascending ? x.id < y.id : x.id > y.id; });
      if (filter.limit > 0 && out.size() > static_cast<size_t>(filter.limit)) out.resize(filter.limit);
    }
    return out;
  });
}

Result<std::vector<QueueSummary>> SqlStore::Queue() {
  Impl& d = *impl_;
  return d.Run<std::vector<QueueSummary>>(
      "queue summary", Txn::kRead, [&]() -> Result<std::vector<QueueSummary>> {
        std::vector<QueueSummary> out;
        std::vector<int64_t> ids;
        {
          auto q = d.Q("SELECT id, uuid, channel_type FROM channels WHERE is_active = TRUE ORDER BY id");
          while (q.Step()) {
            ids.push_back(q.Int(0));
            QueueSummary summary;
            summary.channel_uuid = q.Text(1);
            summary.channel_type = q.Text(2);
            out.push_back(std::move(summary));
          }
        }
        for (std::size_t i = 0; i < ids.size(); ++i) {
          QueueSummary& summary = out[i];
          const int64_t id = ids[i];
          // The queue from the covering idx_msgs_queue; F and interrupted
          // through idx_msgs_channel_status. No query reads every msg row.
          {
            auto q = d.Q("SELECT "
                         "COALESCE(SUM(CASE WHEN status = 'Q' AND claimed_by IS NULL AND priority > 0 "
                         "THEN 1 ELSE 0 END), 0), "
                         "COALESCE(SUM(CASE WHEN status = 'Q' AND claimed_by IS NULL AND priority <= 0 "
                         "THEN 1 ELSE 0 END), 0), "
                         "COALESCE(SUM(CASE WHEN claimed_by IS NOT NULL THEN 1 ELSE 0 END), 0), "
                         "COALESCE(SUM(CASE WHEN status = 'E' AND next_attempt_on IS NOT NULL "
                         "THEN 1 ELSE 0 END), 0) "
                         "FROM msgs WHERE channel_id = ? AND status IN ('Q', 'E') AND direction = 'O'");
            q.Bind(id);
            if (q.Step()) {
              summary.queued_high = q.Int(0);
              summary.queued_bulk = q.Int(1);
              summary.in_flight = q.Int(2);
              summary.retrying = q.Int(3);
            }
          }
          summary.interrupted = *d.Q("SELECT COUNT(*) FROM msgs "
                                     "WHERE channel_id = ? AND status = 'E' AND direction = 'O' AND error_reason = ?")
                                     .Bind(id)
                                     .Bind(kInterruptedReason)
                                     .OneInt();
          summary.failed = *d.Q("SELECT COUNT(*) FROM msgs WHERE channel_id = ? AND status = 'F'").Bind(id).OneInt();
          // The oldest waiting msg: lowest id first through
          // idx_msgs_channel_status, past at most the claimed ones.
          if (summary.queued_high + summary.queued_bulk > 0) {
            summary.oldest_queued_on = d.Q("SELECT created_on FROM msgs WHERE channel_id = ? AND status = 'Q' "
                                           "AND direction = 'O' AND claimed_by IS NULL ORDER BY id LIMIT 1")
                                           .Bind(id)
                                           .OneInt()
                                           .value_or(0);
          }
        }
        return out;
      });
}

}  // namespace courier
