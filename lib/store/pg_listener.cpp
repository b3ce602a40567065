#include "store/pg_listener.h"

#include <poll.h>

#include <cerrno>
#include <thread>

namespace courier {

void NotifyAtCommit(SqlStatements& statements, const std::string& channel) {
  statements(kNotifySql).Bind(channel).RunLater();
}

Result<std::unique_ptr<PgListener>> PgListener::Connect(const std::string& uri, const std::string& application_name) {
  auto connection = PgConnection::Connect(uri, application_name);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<PgListener>(new PgListener(std::move(connection).value()));
}

Status PgListener::Listen(const std::vector<std::string>& channels) {
  channels_.insert(channels.begin(), channels.end());
  return ListenOn(channels);
}

Status PgListener::ListenOn(const std::vector<std::string>& channels) {
  if (channels.empty()) return Status::OK();
  std::string sql;
  for (const std::string& channel : channels) {
    char* quoted = pq::PQescapeIdentifier(connection_->get(), channel.c_str(), channel.size());
    if (quoted == nullptr) {
      return Status::InvalidArgument("LISTEN channel name: " + std::string(pq::PQerrorMessage(connection_->get())));
    }
    sql += "LISTEN ";
    sql += quoted;
    sql += ";";
    pq::PQfreemem(quoted);
  }
  try {
    connection_->Exec(sql);
  } catch (const SqlError& e) {
    return e.status();
  }
  return Status::OK();
}

void PgListener::Drain(Wake* wake) {
  while (PGnotify* notify = pq::PQnotifies(connection_->get())) {
    wake->channels.insert(notify->relname);
    pq::PQfreemem(notify);
  }
}

Status PgListener::Recover(Wake* wake) {
  if (Status reconnected = connection_->Reconnect(); !reconnected.ok()) return reconnected;
  // LISTEN before reporting the wake: what commits from here on is heard,
  // what committed before is found by the caller's read of the store.
  if (Status listening = ListenOn(std::vector<std::string>(channels_.begin(), channels_.end())); !listening.ok()) return listening;
  wake->reconnected = true;
  wake->channels = channels_;
  return Status::OK();
}

Result<PgListener::Wake> PgListener::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Wake wake;
  // A failed recovery waits out the timeout, so a loop around Wait()
  // retries at its own pace rather than spinning on a refused connect.
  auto recover = [&]() -> Result<Wake> {
    if (Status recovered = Recover(&wake); !recovered.ok()) {
      std::this_thread::sleep_until(deadline);
      return recovered;
    }
    return wake;
  };
  PGconn* conn = connection_->get();
  if (pq::PQstatus(conn) != CONNECTION_OK) return recover();
  // Notifications that arrived with an earlier answer (LISTEN's).
  Drain(&wake);
  if (!wake.channels.empty()) return wake;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return wake;
    pollfd fd{pq::PQsocket(conn), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return wake;
    // Readable: notifications, or the end of the connection (a server
    // shutting down sends its FATAL, then EOF; a crash, EOF or RST; a dead
    // host, a keepalive timeout).
    if (ready < 0 || pq::PQconsumeInput(conn) == 0 || pq::PQstatus(conn) != CONNECTION_OK) return recover();
    Drain(&wake);
    if (!wake.channels.empty()) return wake;
  }
}

}  // namespace courier
