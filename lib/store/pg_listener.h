#pragma once
// PgListener: cross-host wake-ups over PostgreSQL's LISTEN/NOTIFY. A msg
// queued by courier-recv on host A wakes the courier-send on host B at
// once, rather than at B's next timed poll of the store.
//
// Sending: NotifyAtCommit(statements, channel) inside the writer's
// transaction. PostgreSQL delivers a notification when (and only if) its
// transaction commits, so a listener is never woken for rows it cannot see
// yet, nor for rows rolled back; identical notifications of one
// transaction are delivered once.
//
// Receiving: a PgListener holds its own connection (a connection that
// LISTENs must sit idle, outside any transaction, to be delivered to) and
// Wait() blocks on its socket until a notification, or the timeout.
//
// The caller's loop must read the store after Listen() and after every
// wake, never only before: a notification says "look again", not what
// changed. Lost connection (server restart, failover, network): Wait()
// reconnects and LISTENs again, then reports every channel as notified
// (`reconnected` set) because what was committed while it was deaf went
// unheard; a reconnect that fails makes Wait() return Unavailable after
// waiting out its timeout (the next Wait() tries again), so a loop around
// Wait() never spins and falls back to its timed polls meanwhile.
// Reconnecting blocks for up to connect_timeout (5 s by default) when the
// host does not answer; refused connections fail at once.
//
// Thread-safety: none; one thread waits. The object may be destroyed from
// that thread only.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/pg_connection.h"
#include "store/sql_statement.h"

namespace courier {

// The statement NotifyAtCommit runs (the channel is its one parameter).
inline constexpr const char* kNotifySql = "SELECT pg_notify(CAST(? AS TEXT), '')";

// Queues a notification on `channel`, sent when the current transaction
// commits (at once outside one). Throws SqlError as any statement does.
void NotifyAtCommit(SqlStatements& statements, const std::string& channel);

class PgListener {
 public:
  struct Wake {
    std::set<std::string> channels;  // notified channels; empty on timeout
    bool reconnected = false;        // the connection was renewed: all channels
  };

  // Connects (PgConnection::Connect's URI, defaults and errors).
  static Result<std::unique_ptr<PgListener>> Connect(const std::string& uri, const std::string& application_name);

  // LISTENs on each channel (names are case-sensitive, any text: they are
  // quoted), in addition to earlier ones. Unavailable when the connection
  // fails; the channels are remembered and listened again on reconnect.
  Status Listen(const std::vector<std::string>& channels);

  // Waits up to `timeout` for notifications; returns at the first one,
  // with every notification already received. See the header comment for
  // reconnection.
  Result<Wake> Wait(std::chrono::milliseconds timeout);

  // The listening connection (tests kill its backend to simulate a loss).
  PgConnection& connection() { return *connection_; }

 private:
  explicit PgListener(std::unique_ptr<PgConnection> connection) : connection_(std::move(connection)) {}
  // LISTEN on `channels` in one round trip.
  Status ListenOn(const std::vector<std::string>& channels);
  // Moves the notifications libpq holds into `wake`.
  void Drain(Wake* wake);
  // Reconnects and LISTENs again; on success `wake` names every channel.
  Status Recover(Wake* wake);

  std::unique_ptr<PgConnection> connection_;
  std::set<std::string> channels_;
};

}  // namespace courier
