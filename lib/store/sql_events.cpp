// SqlStore's event log: appending an event in the writer's transaction
// (its seq in its payload), the payloads of msg and status events, and
// reading events for their consumers.
#include "store/sql_connection.h"

#include "core/msg_json.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

EventFields sql_detail::MsgEventFields(const Msg& m) {
  return [&m](JsonWriter& w) { WriteMsgFields(w, m, "msg_id", "msg_uuid"); };
}

EventFields sql_detail::StatusEventFields(const Msg& m) {
  return [&m](JsonWriter& w) {
    w.Field("msg_id", m.id);
    w.Field("msg_uuid", m.uuid);
    w.Field("channel_uuid", m.channel_uuid);
    w.Field("channel_type", m.channel_type);
    w.Field("urn", m.urn);
    w.Field("status", Letter(m.status));
    w.Key("external_id").StringOrNull(m.external_id);
    w.Key("error_reason").StringOrNull(m.error_reason);
    w.Field("error_count", m.error_count);
    w.Key("sent_on").Time(m.sent_on);
    w.Key("next_attempt_on").Time(m.next_attempt_on);
    w.Key("modified_on").Time(m.modified_on);
  };
}

void SqlStore::Impl::AppendEvent(const std::string& topic, const EventFields& fields, Micros ts) {
  // The payload without its seq: {"topic":T,...}; FlushEvents puts
  // "seq":N after the brace.
  JsonWriter payload;
  payload.BeginObject();
  payload.Field("topic", topic);
  fields(payload);
  payload.EndObject();
  pending_events.push_back(PendingEvent{topic, payload.Take().substr(1), ts});
}

void SqlStore::Impl::FlushEvents() {
  CommitNotices notices{!pending_events.empty(), msgs_queued};
  const std::vector<int64_t> seqs =
      pending_events.empty() ? std::vector<int64_t>{} : engine->NextEventSeqs(static_cast<int>(pending_events.size()));
  SqlRowBatch rows("INSERT INTO events (seq, topic, payload, created_on) VALUES (?, ?, ?, ?)",
                   "INSERT INTO events (seq, topic, payload, created_on) SELECT * FROM {ROWS}",
                   {SqlRowBatch::Type::kBigInt, SqlRowBatch::Type::kText, SqlRowBatch::Type::kText,
                    SqlRowBatch::Type::kBigInt});
  for (size_t i = 0; i < pending_events.size(); ++i) {
    PendingEvent& event = pending_events[i];
    notices.queued = notices.queued || TopicQueuesMsgs(event.topic);
    const Int64 seq = seqs[i];
    std::string text = "{\"seq\":" + std::to_string(seq) + "," + event.payload_after_seq;
    rows.Int(static_cast<int64_t>(seq)).Text(event.topic).Text(text).Int(event.created_on);
    if (collect_events) collect_events->push_back(Event{seq, std::move(event.topic), std::move(text), event.created_on});
  }
  pending_events.clear();
  rows.Write(*statements, engine->WritesRowsAsArrays());
  engine->NotifyAtCommit(notices);
}

Result<std::vector<Event>> SqlStore::EventsAfter(int64_t seq, int limit) {
  Impl& d = *impl_;
  return d.Run<std::vector<Event>>("events", Txn::kNone, [&]() -> Result<std::vector<Event>> {
    auto q = d.Q("SELECT seq, topic, payload, created_on FROM events WHERE seq > ? ORDER BY seq LIMIT ?");
    q.Bind(seq).Bind(static_cast<int64_t>(limit > 0 ? limit : 1000));
    std::vector<Event> out;
    while (q.Step()) {
      EventRow r = ReadRow<EventRow>(q);
      out.push_back(Event{r.seq, std::move(r.topic), std::move(r.payload), r.created_on});
    }
    return out;
  });
}

Result<int64_t> SqlStore::LastEventSeq() {
  Impl& d = *impl_;
  // The engine's, not MAX(seq): once retention has pruned every event, the
  // last seq handed out is still the last one.
  return d.Run<int64_t>("last event", Txn::kNone,
                        [&]() -> Result<int64_t> { return d.engine->LastEventSeq(); });
}

Result<int64_t> SqlStore::OldestEventSeq() {
  Impl& d = *impl_;
  return d.Run<int64_t>("oldest event", Txn::kRead, [&]() -> Result<int64_t> {
    auto oldest = d.Q("SELECT MIN(seq) FROM events");
    if (oldest.Step() && !oldest.IsNull(0)) return oldest.Int(0);
    return d.engine->LastEventSeq() + 1;
  });
}

}  // namespace courier
