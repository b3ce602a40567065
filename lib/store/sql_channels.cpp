// SqlStore's channels and contacts: the methods (store.h) and the
// lookups the other files use inside their transactions.
#include "store/sql_connection.h"

#include <map>

#include "core/uuid.h"

namespace courier {

using namespace sql_rows;             // NOLINT: the row types and their conversion
using namespace sql_detail;           // NOLINT: the transaction runner's parts

// "scheme:path" with both parts non-empty.
Status sql_detail::CheckUrn(const std::string& urn) {
  auto colon = urn.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == urn.size()) {
    return Status::InvalidArgument("invalid urn: '" + urn + "'");
  }
  return Status::OK();
}

std::optional<ChannelRow> SqlStore::Impl::FindChannelByUUID(const std::string& uuid, bool active_only) {
  if (batch_channels) {
    auto it = batch_channels->find(uuid);
    if (it != batch_channels->end()) {
      if (active_only && !it->second.is_active) return std::nullopt;
      return it->second;
    }
  }
  auto q = Q(std::string(kChannelSelect) + " WHERE uuid = ?");
  q.Bind(uuid);
  if (!q.Step()) return std::nullopt;
  ChannelRow row = ReadRow<ChannelRow>(q);
  if (batch_channels) batch_channels->emplace(uuid, row);
  if (active_only && !row.is_active) return std::nullopt;
  return row;
}

std::optional<ChannelRow> SqlStore::Impl::FindChannelById(Int64 id, bool active_only) {
  auto q = Q(std::string(kChannelSelect) + " WHERE id = ?");
  q.Bind(static_cast<int64_t>(id));
  if (!q.Step()) return std::nullopt;
  ChannelRow row = ReadRow<ChannelRow>(q);
  if (active_only && !row.is_active) return std::nullopt;
  return row;
}

std::optional<ChannelRow> SqlStore::Impl::ChannelOfMsg(const Msg& m, bool active_only) {
  if (!m.channel_uuid.empty()) return FindChannelByUUID(m.channel_uuid, active_only);
  if (m.channel_id != 0) return FindChannelById(m.channel_id, active_only);
  return std::nullopt;
}

SqlStore::Impl::ContactRef SqlStore::Impl::EnsureContact(const std::string& urn, const std::string& name, NInt channel_id, Micros ts) {
  // The URN's channel is read with it, so that the usual case (seen on
  // the same channel as last time) writes nothing.
  std::optional<int64_t> urn_channel;
  const auto find = [&]() -> std::optional<ContactRef> {
    auto q = Q("SELECT id, contact_id, channel_id FROM contact_urns WHERE urn = ?");
    q.Bind(urn);
    if (!q.Step()) return std::nullopt;
    urn_channel = q.OptionalInt(2);
    return ContactRef{q.Int(1), q.Int(0)};
  };
  const auto on_channel = [&](const ContactRef& found) {
    if (!channel_id || urn_channel == *channel_id) return;
    const int64_t ch = *channel_id;
    Q("UPDATE contact_urns SET channel_id = ? "
      "WHERE id = ? AND (channel_id IS NULL OR channel_id <> ?)")
        .Bind(ch)
        .Bind(static_cast<int64_t>(found.urn_id))
        .Bind(ch)
        .RunLater();
  };
  BatchLookups* batch = batch_lookups;
  const bool looked_up = batch != nullptr && batch->urns_looked_up.count(urn) > 0;
  if (looked_up) {
    if (auto known = batch->urns.find(urn); known != batch->urns.end()) {
      const ContactRef found{known->second.contact_id, known->second.urn_id};
      urn_channel = known->second.channel_id;
      on_channel(found);
      if (channel_id) known->second.channel_id = channel_id;
      return found;
    }
  } else if (auto found = find()) {
    on_channel(*found);
    return *found;
  }
  // Known now, whichever way it goes below.
  auto remember = [&](const ContactRef& ref) {
    if (batch == nullptr) return;
    batch->urns_looked_up.insert(urn);
    batch->urns[urn] = BatchLookups::Urn{ref.contact_id, ref.urn_id, channel_id};
  };
  ContactRef ref;
  const int64_t t = ts;
  auto colon = urn.find(':');
  if (looked_up && batch->next_reserved_contact < batch->reserved_contact_ids.size()) {
    // Known absent, with ids reserved: nothing to wait for. A writer on
    // another host adding the same URN meanwhile makes the insert fail
    // (at the latest at COMMIT), and the batch is written again the
    // careful way, where ON CONFLICT settles whose the URN is.
    ref.contact_id = batch->reserved_contact_ids[batch->next_reserved_contact];
    ref.urn_id = batch->reserved_urn_ids[batch->next_reserved_contact];
    ++batch->next_reserved_contact;
    Q("INSERT INTO contacts (id, uuid, name, is_stopped, created_on, modified_on) VALUES (?, ?, ?, FALSE, ?, ?)")
        .Bind(static_cast<int64_t>(ref.contact_id))
        .Bind(NewUUID())
        .Bind(name)
        .Bind(t)
        .Bind(t)
        .RunLater();
    Q("INSERT INTO contact_urns (id, urn, scheme, path, contact_id, channel_id) VALUES (?, ?, ?, ?, ?, ?)")
        .Bind(static_cast<int64_t>(ref.urn_id))
        .Bind(urn)
        .Bind(urn.substr(0, colon))
        .Bind(urn.substr(colon + 1))
        .Bind(static_cast<int64_t>(ref.contact_id))
        .Bind(channel_id)
        .RunLater();
    remember(ref);
    return ref;
  }
  ref.contact_id = Q("INSERT INTO contacts (uuid, name, is_stopped, created_on, modified_on) "
                     "VALUES (?, ?, FALSE, ?, ?)")
                       .Bind(NewUUID())
                       .Bind(name)
                       .Bind(t)
                       .Bind(t)
                       .Insert();
  // Another writer may insert the same URN meanwhile (PostgreSQL: a
  // receiver on another host; SQLite's write lock rules it out): ON
  // CONFLICT waits for that writer's commit and inserts nothing, and the
  // URN is then theirs.
  auto insert_urn = Q("INSERT INTO contact_urns (urn, scheme, path, contact_id, channel_id) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (urn) DO NOTHING");
  insert_urn.Bind(urn).Bind(urn.substr(0, colon)).Bind(urn.substr(colon + 1)).Bind(static_cast<int64_t>(ref.contact_id));
  insert_urn.Bind(channel_id);
  ref.urn_id = insert_urn.Insert();
  if (insert_urn.Changes() == 1) {
    remember(ref);
    return ref;
  }
  Q("DELETE FROM contacts WHERE id = ?").Bind(static_cast<int64_t>(ref.contact_id)).Run();
  auto theirs = find();
  if (!theirs) throw CorruptData("contact urn " + urn + " conflicted but cannot be read");
  on_channel(*theirs);
  remember(*theirs);
  return *theirs;
}

Contact SqlStore::Impl::LoadContact(Int64 contact_id) {
  Contact c;
  {
    auto q = Q("SELECT id, uuid, name, is_stopped, created_on FROM contacts WHERE id = ?");
    q.Bind(static_cast<int64_t>(contact_id));
    if (!q.Step()) throw CorruptData("contact " + std::to_string(contact_id) + " vanished");
    c.id = q.Int(0);
    c.uuid = q.Text(1);
    c.name = q.Text(2);
    c.stopped = q.Int(3) != 0;
    c.created_on = q.Int(4);
  }
  auto q = Q("SELECT urn FROM contact_urns WHERE contact_id = ? ORDER BY id");
  q.Bind(static_cast<int64_t>(contact_id));
  while (q.Step()) c.urns.push_back(q.Text(0));
  return c;
}

Result<Channel> SqlStore::AddChannel(const Channel& channel) {
  Impl& d = *impl_;
  return d.Run<Channel>("add channel", Txn::kWrite, [&]() -> Result<Channel> {
    if (channel.type.empty()) return Status::InvalidArgument("channel type is required");
    Channel c = channel;
    if (c.uuid.empty()) {
      c.uuid = NewRandomUUID();  // operators tell channels apart by its first digits
    } else {
      auto normal = NormalizeUUID(c.uuid);
      if (!normal) return Status::InvalidArgument("invalid channel uuid: '" + c.uuid + "'");
      c.uuid = *normal;
    }
    if (c.max_workers < 0) return Status::InvalidArgument("max_workers must be 0 or more");
    if (c.tps < 0) return Status::InvalidArgument("tps must be 0 or more");
    // The columns an add writes whether the channel is new or comes back.
    auto bind_settings = [&c](SqlQuery& q) -> SqlQuery& {
      return q.Bind(c.name)
          .Bind(c.address)
          .Bind(c.country)
          .Bind(JoinList(c.schemes))
          .Bind(ConfigToJson(c.config))
          .Bind(static_cast<int64_t>(c.max_workers))
          .Bind(static_cast<int64_t>(c.tps));
    };
    if (auto existing = d.FindChannelByUUID(c.uuid, false)) {
      if (existing->is_active) return Status::Conflict("channel " + c.uuid + " exists already");
      // A removed channel added again comes back as it is given now, under
      // its old id, so its msgs, logs and contacts are its own again. Its
      // type stays: the msgs it has were handled as that type.
      if (existing->type != c.type) {
        return Status::Conflict("channel " + c.uuid + " was removed as a " + existing->type +
                                " channel; add it again as " + existing->type + " or under another uuid");
      }
      const int64_t id = existing->id;
      auto update = d.Q("UPDATE channels SET name = ?, address = ?, country = ?, schemes = ?, config = ?, "
                        "max_workers = ?, tps = ?, is_active = TRUE, modified_on = ? WHERE id = ?");
      bind_settings(update).Bind(d.Now()).Bind(id).Run();
      if (d.batch_channels) d.batch_channels->erase(c.uuid);
      c.id = id;
      c.created_on = existing->created_on;
      return c;
    }
    c.created_on = d.Now();
    auto insert = d.Q("INSERT INTO channels (uuid, channel_type, name, address, country, schemes, config, "
                      "max_workers, tps, is_active, created_on, modified_on) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE, ?, ?)");
    bind_settings(insert.Bind(c.uuid).Bind(c.type)).Bind(c.created_on).Bind(c.created_on);
    c.id = insert.Insert();
    return c;
  });
}

Result<Channel> SqlStore::GetChannel(const std::string& uuid) {
  Impl& d = *impl_;
  return d.Run<Channel>("get channel", Txn::kNone, [&]() -> Result<Channel> {
    auto row = d.FindChannelByUUID(uuid, true);
    if (!row) return errors::ChannelNotFound();
    return ToChannel(*row);
  });
}

Result<std::vector<Channel>> SqlStore::ListChannels() {
  Impl& d = *impl_;
  return d.Run<std::vector<Channel>>(
      "list channels", Txn::kNone, [&]() -> Result<std::vector<Channel>> {
        std::vector<Channel> out;
        auto q = d.Q(std::string(kChannelSelect) + " WHERE is_active = TRUE ORDER BY id");
        while (q.Step()) out.push_back(ToChannel(ReadRow<ChannelRow>(q)));
        return out;
      });
}

Status SqlStore::RemoveChannel(const std::string& uuid) {
  Impl& d = *impl_;
  return d.RunStatus("remove channel", Txn::kWrite, [&]() {
    auto q = d.Q("UPDATE channels SET is_active = FALSE, modified_on = ? WHERE uuid = ? AND is_active = TRUE");
    q.Bind(d.Now()).Bind(uuid).Run();
    if (q.Changes() == 0) return errors::ChannelNotFound();
    return Status::OK();
  });
}

Result<std::vector<Contact>> SqlStore::ListContacts(bool stopped_only) {
  Impl& d = *impl_;
  return d.Run<std::vector<Contact>>(
      "list contacts", Txn::kRead, [&]() -> Result<std::vector<Contact>> {
        std::vector<ContactRow> rows;
        std::map<Int64, std::vector<std::string>> by_contact;
        {
          auto q = d.Q(stopped_only ? "SELECT id, uuid, name, is_stopped, created_on FROM contacts "
                                      "WHERE is_stopped = TRUE ORDER BY id"
                                    : "SELECT id, uuid, name, is_stopped, created_on FROM contacts ORDER BY id");
          while (q.Step()) rows.push_back(ReadRow<ContactRow>(q));
        }
        {
          auto q = d.Q(stopped_only ? "SELECT u.contact_id, u.urn FROM contact_urns u "
                                      "JOIN contacts c ON c.id = u.contact_id WHERE c.is_stopped = TRUE "
                                      "ORDER BY u.id"
                                    : "SELECT contact_id, urn FROM contact_urns ORDER BY id");
          while (q.Step()) {
            UrnRow u = ReadRow<UrnRow>(q);
            by_contact[u.contact_id].push_back(std::move(u.urn));
          }
        }
        std::vector<Contact> out;
        for (const auto& r : rows) {
          Contact c = ToContact(r);
          c.urns = by_contact[r.id];
          out.push_back(std::move(c));
        }
        return out;
      });
}

Result<Contact> SqlStore::StopInTxn(Impl& d, const std::string& urn, bool stopped, const std::string& channel_uuid) {
  Status st = CheckUrn(urn);
  if (!st.ok()) return st;
  NInt channel_id;
  if (!channel_uuid.empty()) {
    auto ch = d.FindChannelByUUID(channel_uuid, false);
    if (!ch) return errors::ChannelNotFound();
    channel_id = ch->id;
  }
  const Micros ts = d.Now();
  auto ref = d.EnsureContact(urn, "", channel_id, ts);
  d.Q("UPDATE contacts SET is_stopped = ?, modified_on = ? WHERE id = ?")
      .Bind(stopped)
      .Bind(ts)
      .Bind(static_cast<int64_t>(ref.contact_id))
      .Run();
  Contact contact = d.LoadContact(ref.contact_id);
  d.AppendEvent(stopped ? "contact.stopped" : "contact.unstopped",
                [&](JsonWriter& w) {
                  w.Field("contact_id", contact.id);
                  w.Field("contact_uuid", contact.uuid);
                  w.Field("urn", urn);
                  w.Key("channel_uuid").StringOrNull(channel_uuid);
                  w.Field("stopped", stopped);
                },
                ts);
  return contact;
}

Result<UrnAuthResult> SqlStore::UrnAuthInTxn(Impl& d, const UrnAuthUpdate& update, int64_t channel_id) {
  Status st = CheckUrn(update.urn);
  if (!st.ok()) return st;
  if (update.auth.empty()) return Status::InvalidArgument("empty auth for urn '" + update.urn + "'");
  const Micros ts = d.Now();
  const int64_t sent_on = update.sent_on != 0 ? update.sent_on : ts;
  auto ref = d.EnsureContact(update.urn, update.contact_name, NInt(channel_id), ts);
  UrnAuthResult result;
  result.contact_id = ref.contact_id;
  {
    auto q = d.Q("UPDATE contact_urns SET auth = ?, auth_sent_on = ? "
                 "WHERE id = ? AND (auth_sent_on IS NULL OR auth_sent_on <= ?)");
    q.Bind(update.auth).Bind(sent_on).Bind(static_cast<int64_t>(ref.urn_id)).Bind(sent_on).Run();
    result.applied = q.Changes() > 0;
  }
  if (result.applied && !update.contact_name.empty()) {
    d.Q("UPDATE contacts SET name = ?, modified_on = ? WHERE id = ? AND name <> ?")
        .Bind(update.contact_name)
        .Bind(static_cast<int64_t>(ts))
        .Bind(static_cast<int64_t>(ref.contact_id))
        .Bind(update.contact_name)
        .Run();
  }
  auto q = d.Q("SELECT uuid FROM contacts WHERE id = ?");
  q.Bind(static_cast<int64_t>(ref.contact_id));
  if (!q.Step()) throw CorruptData("contact " + std::to_string(ref.contact_id) + " vanished");
  result.contact_uuid = q.Text(0);
  return result;
}

Result<Contact> SqlStore::SetContactStopped(const std::string& urn, bool stopped,
                                               const std::string& channel_uuid) {
  Impl& d = *impl_;
  return d.Run<Contact>("set contact stopped", Txn::kWrite, [&]() -> Result<Contact> { return StopInTxn(d, urn, stopped, channel_uuid); });
}

}  // namespace courier
