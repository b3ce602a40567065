// SqlStore's fetch stage (model/attachment_fetch.h): the pending fetch
// rows an incoming msg's http(s) attachments get in its transaction, the
// claims and outcomes of courier-fetch, and the media files' records.
#include "store/sql_connection.h"

namespace courier {

using namespace sql_rows;    // NOLINT: the row types and their conversion
using namespace sql_detail;  // NOLINT: the transaction runner's parts

namespace {

// A fetch with its msg's uuid and channel, in the order ReadFetch reads.
constexpr const char* kFetchSelect =
    "SELECT f.id, f.msg_id, m.uuid, c.uuid, c.channel_type, f.position, f.source, f.state, f.attempts, "
    "f.next_attempt_on, f.sha256, f.content_type, f.size, f.url, f.error, f.created_on, f.modified_on "
    "FROM attachment_fetches AS f JOIN msgs AS m ON m.id = f.msg_id JOIN channels AS c ON c.id = m.channel_id ";

AttachmentFetch ReadFetch(const SqlQuery& q) {
  AttachmentFetch f;
  f.id = q.Int(0);
  f.msg_id = q.Int(1);
  f.msg_uuid = q.Text(2);
  f.channel_uuid = q.Text(3);
  f.channel_type = q.Text(4);
  f.position = static_cast<int>(q.Int(5));
  f.source = q.Text(6);
  auto state = FetchStateFromLetter(q.Text(7));
  if (!state) throw CorruptData("attachment fetch " + std::to_string(f.id) + " has state '" + q.Text(7) + "'");
  f.state = *state;
  f.attempts = static_cast<int>(q.Int(8));
  f.next_attempt_on = q.Int(9);
  f.sha256 = q.IsNull(10) ? "" : q.Text(10);
  f.content_type = q.Text(11);
  f.size = q.Int(12);
  f.url = q.Text(13);
  f.error = q.Text(14);
  f.created_on = q.Int(15);
  f.modified_on = q.Int(16);
  return f;
}

MediaFile ReadMedia(const SqlQuery& q) {
  MediaFile m;
  m.sha256 = q.Text(0);
  m.content_type = q.Text(1);
  m.size = q.Int(2);
  m.created_on = q.Int(3);
  m.used_on = q.Int(4);
  return m;
}

constexpr const char* kMediaSelect = "SELECT sha256, content_type, size, created_on, used_on FROM media ";

}  // namespace

int SqlStore::Impl::InsertFetches(const Msg& msg, Micros ts) {
  int written = 0;
  for (size_t i = 0; i < msg.attachments.size(); ++i) {
    if (!AttachmentNeedsFetch(msg.attachments[i])) continue;
    Q("INSERT INTO attachment_fetches (msg_id, position, source, next_attempt_on, created_on, modified_on) "
      "VALUES (?, ?, ?, ?, ?, ?)")
        .Bind(msg.id)
        .Bind(static_cast<int64_t>(i))
        .Bind(msg.attachments[i])
        .Bind(ts)
        .Bind(ts)
        .Bind(ts)
        .RunLater();
    ++written;
  }
  return written;
}

std::vector<AttachmentFetch> SqlStore::Impl::FetchesOfMsg(Int64 msg_id) {
  std::vector<AttachmentFetch> fetches;
  auto q = Q(std::string(kFetchSelect) + "WHERE f.msg_id = ? ORDER BY f.position");
  q.Bind(static_cast<int64_t>(msg_id));
  while (q.Step()) fetches.push_back(ReadFetch(q));
  return fetches;
}

Result<std::vector<AttachmentFetch>> SqlStore::ClaimFetches(const std::string& worker, int limit, Micros lease) {
  Impl& d = *impl_;
  if (worker.empty()) return Status::InvalidArgument("claim needs a worker name");
  return d.Run<std::vector<AttachmentFetch>>("claim fetches", Txn::kWrite, [&]() -> Result<std::vector<AttachmentFetch>> {
    const Micros now = d.Now();
    std::vector<int64_t> due;
    {
      auto q = d.Q("SELECT id FROM attachment_fetches WHERE state = 'P' AND next_attempt_on <= ? "
                   "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_on LIMIT ?");
      q.Bind(now).Bind(now).Bind(static_cast<int64_t>(std::max(1, limit)));
      while (q.Step()) due.push_back(q.Int(0));
    }
    std::vector<AttachmentFetch> claimed;
    for (int64_t id : due) {
      // Taken only if still unclaimed: on PostgreSQL another host may have
      // claimed it since the read (its UPDATE waits for ours, then finds
      // the lease running and changes nothing).
      auto take = d.Q("UPDATE attachment_fetches SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1, "
                      "modified_on = ? WHERE id = ? AND state = 'P' AND (claimed_until IS NULL OR claimed_until < ?)");
      take.Bind(worker).Bind(now + lease).Bind(now).Bind(id).Bind(now).Run();
      if (take.Changes() != 1) continue;
      auto q = d.Q(std::string(kFetchSelect) + "WHERE f.id = ?");
      q.Bind(id);
      if (q.Step()) claimed.push_back(ReadFetch(q));
    }
    return claimed;
  });
}

Result<FetchFinished> SqlStore::FinishFetch(const FetchOutcome& outcome) {
  Impl& d = *impl_;
  return d.Run<FetchFinished>("finish fetch", Txn::kWrite, [&]() -> Result<FetchFinished> {
    const Micros now = d.Now();
    FetchFinished finished;
    std::optional<int64_t> msg_id;
    {
      auto q = d.Q("SELECT msg_id FROM attachment_fetches WHERE id = ?");
      q.Bind(outcome.fetch_id);
      if (q.Step()) msg_id = q.Int(0);
    }
    if (!msg_id) return Status::NotFound("attachment fetch not found");
    // The msg locked first: two fetches of one msg finishing at once on
    // two hosts each see the other's commit, so exactly one rewrites it.
    {
      auto lock = d.Q(std::string("SELECT m.id FROM msgs AS m WHERE m.id = ?") + d.engine->LockMsgsRead());
      lock.Bind(*msg_id);
      if (!lock.Step()) return Status::NotFound("msg of attachment fetch not found");
    }
    for (const auto& log : outcome.logs) d.InsertLog(log, 0, NInt(*msg_id), now);
    switch (outcome.state) {
      case FetchState::kStored: {
        if (outcome.sha256.empty() || outcome.url.empty())
          return Status::InvalidArgument("a stored fetch needs its file's digest and URL");
        auto q = d.Q("UPDATE attachment_fetches SET state = 'S', sha256 = ?, content_type = ?, size = ?, url = ?, "
                     "error = '', claimed_by = NULL, claimed_until = NULL, modified_on = ? WHERE id = ? AND state = 'P'");
        q.Bind(outcome.sha256).Bind(outcome.content_type).Bind(outcome.size).Bind(outcome.url).Bind(now).Bind(
            outcome.fetch_id);
        q.Run();
        finished.applied = q.Changes() == 1;
        if (finished.applied) {
          d.Q("INSERT INTO media (sha256, content_type, size, created_on, used_on) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT (sha256) DO UPDATE SET used_on = excluded.used_on")
              .Bind(outcome.sha256)
              .Bind(outcome.content_type)
              .Bind(outcome.size)
              .Bind(now)
              .Bind(now)
              .Run();
        }
        break;
      }
      case FetchState::kFailed: {
        auto q = d.Q("UPDATE attachment_fetches SET state = 'F', error = ?, claimed_by = NULL, claimed_until = NULL, "
                     "modified_on = ? WHERE id = ? AND state = 'P'");
        q.Bind(outcome.error).Bind(now).Bind(outcome.fetch_id).Run();
        finished.applied = q.Changes() == 1;
        break;
      }
      case FetchState::kPending: {
        auto q = d.Q("UPDATE attachment_fetches SET next_attempt_on = ?, error = ?, claimed_by = NULL, "
                     "claimed_until = NULL, modified_on = ? WHERE id = ? AND state = 'P'");
        q.Bind(std::max(outcome.retry_on, now)).Bind(outcome.error).Bind(now).Bind(outcome.fetch_id).Run();
        finished.applied = q.Changes() == 1;
        return finished;
      }
    }
    if (!finished.applied) return finished;
    const auto pending = d.Q("SELECT COUNT(*) FROM attachment_fetches WHERE msg_id = ? AND state = 'P'")
                             .Bind(*msg_id)
                             .OneInt();
    if (pending.value_or(0) > 0) return finished;
    // The msg's last: its attachments become the stored copies.
    Msg msg = d.MustLoadMsg(*msg_id);
    const std::vector<AttachmentFetch> fetches = d.FetchesOfMsg(*msg_id);
    for (const auto& f : fetches) {
      if (f.state != FetchState::kStored || f.position < 0 ||
          static_cast<size_t>(f.position) >= msg.attachments.size())
        continue;
      msg.attachments[static_cast<size_t>(f.position)] = f.content_type + ":" + f.url;
    }
    msg.modified_on = now;
    d.Q("UPDATE msgs SET attachments = ?, modified_on = ? WHERE id = ?")
        .Bind(AttachmentsToJson(msg.attachments))
        .Bind(now)
        .Bind(*msg_id)
        .Run();
    d.AppendEvent("msg.attachments",
                  [&](JsonWriter& w) {
                    MsgEventFields(msg)(w);
                    w.Key("media").BeginArray();
                    for (const auto& f : fetches) WriteAttachmentFetchJson(w, f);
                    w.EndArray();
                  },
                  now);
    finished.msg_done = true;
    return finished;
  });
}

Result<std::vector<std::string>> SqlStore::FetchClaimers() {
  Impl& d = *impl_;
  return d.Run<std::vector<std::string>>("fetch claimers", Txn::kRead, [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> workers;
    auto q = d.Q("SELECT DISTINCT claimed_by FROM attachment_fetches WHERE state = 'P' AND claimed_until >= ?");
    q.Bind(d.Now());
    while (q.Step()) workers.push_back(q.Text(0));
    return workers;
  });
}

Result<int64_t> SqlStore::ReleaseFetchClaims(const std::string& worker_prefix) {
  Impl& d = *impl_;
  if (worker_prefix.empty()) return Status::InvalidArgument("release needs a worker name prefix");
  return d.Run<int64_t>("release fetch claims", Txn::kWrite, [&]() -> Result<int64_t> {
    // substr, not LIKE: a host name's '_' is no wildcard here.
    auto q = d.Q("UPDATE attachment_fetches SET claimed_by = NULL, claimed_until = NULL WHERE state = 'P' "
                 "AND claimed_by IS NOT NULL AND substr(claimed_by, 1, length(?)) = ?");
    q.Bind(worker_prefix).Bind(worker_prefix).Run();
    return static_cast<int64_t>(q.Changes());
  });
}

Result<std::vector<AttachmentFetch>> SqlStore::ListFetches(int64_t msg_id) {
  Impl& d = *impl_;
  return d.Run<std::vector<AttachmentFetch>>("list fetches", Txn::kRead, [&]() -> Result<std::vector<AttachmentFetch>> {
    return d.FetchesOfMsg(msg_id);
  });
}

Result<FetchBacklog> SqlStore::GetFetchBacklog() {
  Impl& d = *impl_;
  return d.Run<FetchBacklog>("fetch backlog", Txn::kRead, [&]() -> Result<FetchBacklog> {
    FetchBacklog backlog;
    const Micros now = d.Now();
    {
      // By idx_attachment_fetches_due: the pending rows only.
      auto q = d.Q("SELECT COUNT(*), MIN(created_on), COALESCE(SUM(CASE WHEN next_attempt_on <= ? THEN 1 ELSE 0 END), 0) "
                   "FROM attachment_fetches WHERE state = 'P'");
      q.Bind(now);
      if (q.Step()) {
        backlog.pending = q.Int(0);
        backlog.oldest_pending_on = q.OptionalInt(1);
        backlog.due = q.Int(2);
      }
    }
    backlog.failed = d.Q("SELECT COUNT(*) FROM attachment_fetches WHERE state = 'F'").OneInt().value_or(0);
    return backlog;
  });
}

Result<MediaFile> SqlStore::GetMedia(const std::string& sha256) {
  Impl& d = *impl_;
  return d.Run<MediaFile>("get media", Txn::kNone, [&]() -> Result<MediaFile> {
    auto q = d.Q(std::string(kMediaSelect) + "WHERE sha256 = ?");
    q.Bind(sha256);
    if (!q.Step()) return Status::NotFound("media not found");
    return ReadMedia(q);
  });
}

Result<std::vector<MediaFile>> SqlStore::ListMediaUsedBefore(Micros before, int limit) {
  Impl& d = *impl_;
  return d.Run<std::vector<MediaFile>>("list media", Txn::kRead, [&]() -> Result<std::vector<MediaFile>> {
    std::vector<MediaFile> files;
    auto q = d.Q(std::string(kMediaSelect) + "WHERE used_on < ? ORDER BY used_on LIMIT ?");
    q.Bind(before).Bind(static_cast<int64_t>(std::max(1, limit)));
    while (q.Step()) files.push_back(ReadMedia(q));
    return files;
  });
}

Result<bool> SqlStore::ForgetMedia(const std::string& sha256, Micros before) {
  Impl& d = *impl_;
  return d.Run<bool>("forget media", Txn::kWrite, [&]() -> Result<bool> {
    auto q = d.Q("DELETE FROM media WHERE sha256 = ? AND used_on < ?");
    q.Bind(sha256).Bind(before).Run();
    return q.Changes() == 1;
  });
}

}  // namespace courier
