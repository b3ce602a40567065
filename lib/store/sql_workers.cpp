// SqlStore's sender heartbeats (store.h): how a sender on one host learns
// that a sender on another has died.
#include "store/sql_connection.h"

namespace courier {

using namespace sql_detail;  // NOLINT: the transaction runner's parts

Status SqlStore::Heartbeat(const std::string& worker, Micros now) {
  Impl& d = *impl_;
  if (worker.empty()) return Status::InvalidArgument("heartbeat needs a worker name");
  return d.RunStatus("heartbeat", Txn::kWrite, [&] {
    d.Q("INSERT INTO workers (name, started_on, beat_on) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET beat_on = excluded.beat_on")
        .Bind(worker)
        .Bind(now)
        .Bind(now)
        .Run();
    return Status::OK();
  });
}

Status SqlStore::EndHeartbeat(const std::string& worker) {
  Impl& d = *impl_;
  return d.RunStatus("end heartbeat", Txn::kWrite, [&] {
    d.Q("DELETE FROM workers WHERE name = ?").Bind(worker).Run();
    return Status::OK();
  });
}

Result<std::map<std::string, Micros>> SqlStore::Heartbeats() {
  Impl& d = *impl_;
  return d.Run<std::map<std::string, Micros>>("heartbeats", Txn::kNone, [&]() -> Result<std::map<std::string, Micros>> {
    std::map<std::string, Micros> beats;
    auto q = d.Q("SELECT name, beat_on FROM workers");
    while (q.Step()) beats[q.Text(0)] = q.Int(1);
    return beats;
  });
}

}  // namespace courier
