// SqlStore's retention: Prune (sql_store.h says what it promises;
// store.h's PruneRequest which rows go).
//
// Why no index on created_on for logs and events: every webhook and send
// would pay one more b-tree insert for a job that runs once an hour. Ids
// grow with insertion time instead, so each kind is walked by id from a
// cursor: channel logs and events are removed as a prefix (up to the first
// row not old enough), and msgs are scanned in id order up to the first one
// created after the cutoff (a msg cannot have been modified before it was
// created), skipping the ones not finished. Each batch reads at most
// batch_size rows, so the write lock is held for a bounded amount of work
// however many queued msgs sit at the head of the table.
#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>


#include "store/sql_connection.h"
#include "store/sql_statement.h"
#include "store/sql_store.h"

namespace courier {
namespace {

// How one batch of a kind ended.
struct Batch {
  int64_t removed = 0;
  bool done = false;  // nothing more of this kind to remove
};

// Statuses an outgoing msg is finished in: courier does nothing more with
// it unless a provider reports on it (W, S), and a late report on a msg
// gone is logged as not found. Q and E are work still to do.
bool FinishedOutgoing(const std::string& status) {
  return status == "W" || status == "S" || status == "D" || status == "R" || status == "F";
}

// One prefix batch of channel_logs or events: the rows after `cursor`, in
// order, while older than `before`. `table`/`key` are fixed names below.
Batch PrefixBatch(SqlStatements& q, const char* table, const char* key, int64_t& cursor, Micros before,
                  int limit, bool dry_run) {
  Batch batch;
  int64_t first = 0, last = 0, scanned = 0;
  {
    auto rows = q(std::string("SELECT ") + key + ", created_on FROM " + table + " WHERE " + key +
                  " > ? ORDER BY " + key + " LIMIT ?");
    rows.Bind(cursor).Bind(limit);
    while (rows.Step()) {
      ++scanned;
      if (rows.Int(1) >= before) {
        batch.done = true;
        break;
      }
      if (first == 0) first = rows.Int(0);
      last = rows.Int(0);
      ++batch.removed;
    }
  }
  if (scanned < limit) batch.done = true;
  if (batch.removed == 0) return batch;
  // Every row from first to last was just read, in this transaction, and
  // is old enough: the range is exactly them.
  if (!dry_run) {
    q(std::string("DELETE FROM ") + table + " WHERE " + key + " >= ? AND " + key + " <= ?")
        .Bind(first)
        .Bind(last)
        .Run();
  }
  cursor = last;
  return batch;
}

}  // namespace

Result<PruneCounts> SqlStore::Prune(const PruneRequest& request) {
  PruneCounts counts;
  const int limit = std::max(1, request.batch_size);
  const TxnKind kind = request.dry_run ? TxnKind::kRead : TxnKind::kWrite;
  bool stopped = false;
  // Before every batch but the first: the caller's say, and the pause.
  auto may_start = [&]() {
    if (counts.batches == 0) return true;
    stopped = (request.max_batches > 0 && counts.batches >= request.max_batches) ||
              (request.between_batches && !request.between_batches());
    if (!stopped && !request.dry_run) std::this_thread::sleep_for(kPauseBetweenBatches);
    return !stopped;
  };

  // The highest channel log id the logs pass removed: logs of pruned msgs
  // up to it are already counted there (a dry run must not count them
  // twice; a real run finds them gone).
  int64_t logs_cursor = 0;
  if (request.logs_before) {
    for (bool done = false; !done;) {
      if (!may_start()) break;
      Batch b;
      Status st = InTransaction("prune channel logs", kind, [&](SqlStatements& q) {
        b = PrefixBatch(q, "channel_logs", "id", logs_cursor, *request.logs_before, limit, request.dry_run);
        return Status::OK();
      });
      if (!st.ok()) return st;
      counts.batches++;
      counts.logs += b.removed;
      done = b.done;
    }
  }

  // The event log, then the channel events (kept as long: each was
  // delivered through its "channel.event" event).
  for (const auto& kind_of_event : {std::pair<const char*, const char*>{"events", "seq"}, {"channel_events", "id"}}) {
    if (!request.events_before || stopped) break;
    // Named copies: a lambda cannot capture a structured binding (clang 15).
    const char* table = kind_of_event.first;
    const char* key = kind_of_event.second;
    int64_t cursor = 0;
    for (bool done = false; !done;) {
      if (!may_start()) break;
      Batch b;
      Status st = InTransaction("prune events", kind, [&](SqlStatements& q) {
        b = PrefixBatch(q, table, key, cursor, *request.events_before, limit, request.dry_run);
        return Status::OK();
      });
      if (!st.ok()) return st;
      counts.batches++;
      counts.events += b.removed;
      done = b.done;
    }
  }

  // Idempotency keys: by their own index on created_on (a small table,
  // written only by courier-api's requests that carry a key).
  if (request.idempotency_before && !stopped) {
    for (bool done = false; !done;) {
      if (!may_start()) break;
      int64_t removed = 0;
      Status st = InTransaction("prune idempotency keys", kind, [&](SqlStatements& q) {
        // A dry run counts them all at once (it deletes nothing to page by).
        removed = *q("SELECT COUNT(*) FROM (SELECT 1 FROM api_idempotency WHERE created_on < ? LIMIT ?) AS due")
                       .Bind(*request.idempotency_before)
                       .Bind(request.dry_run ? std::numeric_limits<int64_t>::max() : int64_t{limit})
                       .OneInt();
        if (!request.dry_run && removed > 0) {
          q("DELETE FROM api_idempotency WHERE (token_id, idem_key) IN "
            "(SELECT token_id, idem_key FROM api_idempotency WHERE created_on < ? LIMIT ?)")
              .Bind(*request.idempotency_before)
              .Bind(limit)
              .Run();
        }
        return Status::OK();
      });
      if (!st.ok()) return st;
      counts.batches++;
      counts.idempotency_keys += removed;
      done = removed < limit || request.dry_run;
    }
  }

  if (request.msgs_before && !stopped) {
    const Micros before = *request.msgs_before;
    int64_t cursor = 0;
    for (bool done = false; !done;) {
      if (!may_start()) break;
      int64_t msgs = 0, msg_logs = 0, attempts = 0;
      Status st = InTransaction("prune msgs", kind, [&](SqlStatements& q) {
        std::vector<int64_t> ids;
        int64_t scanned = 0;
        // Both reads of a msg: id, created_on, modified_on, direction,
        // status, whether claimed.
        static const std::string kRead =
            "SELECT id, created_on, modified_on, direction, status, "
            "CASE WHEN claimed_by IS NULL THEN 0 ELSE 1 END FROM msgs AS m ";
        const auto prunable = [&](SqlQuery& row) {
          const bool finished = row.Int(5) == 0 && (row.Text(3) == "I" || FinishedOutgoing(row.Text(4)));
          return finished && row.Int(2) < before;
        };
        {
          auto rows = q(kRead + "WHERE id > ? ORDER BY id LIMIT ?");
          rows.Bind(cursor).Bind(limit);
          while (rows.Step()) {
            ++scanned;
            if (rows.Int(1) >= before) {
              done = true;
              break;
            }
            cursor = rows.Int(0);
            if (prunable(rows)) ids.push_back(rows.Int(0));
          }
        }
        if (scanned < limit) done = true;
        for (int64_t id : ids) {
          if (request.dry_run) {
            attempts += *q("SELECT COUNT(*) FROM attempts WHERE msg_id = ?").Bind(id).OneInt();
            msg_logs += *q("SELECT COUNT(*) FROM channel_logs WHERE msg_id = ? AND id > ?")
                             .Bind(id)
                             .Bind(logs_cursor)
                             .OneInt();
            ++msgs;
            continue;
          }
          // The msg locked and read again before anything of it goes. On
          // PostgreSQL another host may be writing it meanwhile: a resend
          // queueing it again (then it is not pruned), or a status adding
          // a log to it (then the log is committed before the deletes
          // below read channel_logs, and goes with it; a status that comes
          // after the lock finds no msg, and its log is kept without one).
          // On SQLite the transaction is the only writer; the read finds
          // the row as the scan did.
          auto again = q(kRead + "WHERE id = ?" + impl_->engine->LockMsgsRead());
          again.Bind(id);
          if (!again.Step() || !prunable(again)) continue;
          // Dependents first: SQLite enforces each reference to msgs.
          auto del_attempts = q("DELETE FROM attempts WHERE msg_id = ?");
          del_attempts.Bind(id).Run();
          attempts += del_attempts.Changes();
          q("DELETE FROM attachment_fetches WHERE msg_id = ?").Bind(id).Run();
          auto del_logs = q("DELETE FROM channel_logs WHERE msg_id = ?");
          del_logs.Bind(id).Run();
          msg_logs += del_logs.Changes();
          auto del_msg = q("DELETE FROM msgs WHERE id = ?");
          del_msg.Bind(id).Run();
          msgs += del_msg.Changes();
        }
        return Status::OK();
      });
      if (!st.ok()) return st;
      counts.batches++;
      counts.msgs += msgs;
      counts.msg_logs += msg_logs;
      counts.attempts += attempts;
    }
  }
  counts.finished = !stopped;
  return counts;
}

}  // namespace courier
