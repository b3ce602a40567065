// SqlStore's channel events (core/channel_event.h): one row each by the
// uuid the receiver gave it, with its contact, and its "channel.event"
// event, in the intake's transaction.
#include "core/channel_event_json.h"
#include "store/sql_connection.h"

namespace courier {

using namespace sql_rows;    // NOLINT: the row types and their conversion
using namespace sql_detail;  // NOLINT: the transaction runner's parts

Result<ChannelEventResult> SqlStore::ChannelEventInTxn(Impl& d, const ChannelEvent& event, const ChannelRow& ch) {
  if (event.uuid.empty()) return Status::InvalidArgument("channel event without a uuid");
  Status st = CheckUrn(event.urn);
  if (!st.ok()) return st;
  const auto contact_uuid = [&](int64_t contact_id) {
    auto q = d.Q("SELECT uuid FROM contacts WHERE id = ?");
    q.Bind(contact_id);
    return q.Step() ? q.Text(0) : std::string();
  };
  // Written before: a spool file replayed after its first commit.
  std::optional<std::pair<int64_t, int64_t>> stored;  // id, contact id
  {
    auto q = d.Q("SELECT id, contact_id FROM channel_events WHERE uuid = ?");
    q.Bind(event.uuid);
    if (q.Step()) stored = {q.Int(0), q.Int(1)};
  }
  if (stored) return ChannelEventResult{stored->first, contact_uuid(stored->second), true};
  const Micros ts = d.Now();
  ChannelEvent written = event;
  if (!written.occurred_on) written.occurred_on = ts;
  auto ref = d.EnsureContact(written.urn, written.contact_name, NInt(ch.id), ts);
  JsonWriter extra;
  extra.BeginObject();
  for (const auto& [key, value] : written.extra) extra.Field(key, value);
  extra.EndObject();
  const int64_t id = d.Q("INSERT INTO channel_events (uuid, channel_id, contact_id, contact_urn_id, event_type, "
                         "extra, occurred_on, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                         .Bind(written.uuid)
                         .Bind(static_cast<int64_t>(ch.id))
                         .Bind(static_cast<int64_t>(ref.contact_id))
                         .Bind(static_cast<int64_t>(ref.urn_id))
                         .Bind(ChannelEventTypeName(written.type))
                         .Bind(extra.Take())
                         .Bind(*written.occurred_on)
                         .Bind(ts)
                         .Insert();
  ChannelEventResult result{id, contact_uuid(static_cast<int64_t>(ref.contact_id)), false};
  d.AppendEvent("channel.event",
                [&](JsonWriter& w) {
                  w.Field("event_id", id);
                  WriteChannelEventFields(w, written);
                  w.Field("channel_uuid", ch.uuid);
                  w.Field("channel_type", ch.type);
                  w.Field("contact_id", static_cast<int64_t>(ref.contact_id));
                  w.Field("contact_uuid", result.contact_uuid);
                  w.Key("created_on").Time(ts);
                },
                ts);
  return result;
}

}  // namespace courier
