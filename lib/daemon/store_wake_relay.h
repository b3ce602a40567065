#pragma once
// StoreWakeRelay: a PostgreSQL store's notices (store/store_notices.h)
// turned into the ZeroMQ wakes a process already waits on, so that hosts
// sharing one database wake each other: a msg queued by courier-ctl or
// courier-recv on host A is claimed by a courier-send on host B within a
// round trip, an event written on A is delivered by a courier-hook on B at
// once. The run dir's ipc sockets (bus/endpoints.h) stay the wake between
// processes of one host; the one-second store poll stays the fallback.
//
// On a PostgreSQL store a thread holds a PgListener (its own connection)
// on one channel. Each notice, and each connection made after a failed or
// lost one (what committed while it was deaf must be read), sends one
// frame:
// - ToWakeSocket: PUSHed to a PULL endpoint, the daemon's own wake socket
//   (send-wake for courier-send), as `courier-ctl send` would;
// - ToEventWaiters: PUBlished on an inproc endpoint of its own, which an
//   EventWaiter adds to its feeds (Feeds()).
// On any other store it does nothing: no thread, no connection, Feeds()
// returns the feeds as given.
//
// Never in the way: a listener that cannot connect (server down, wrong
// credentials for a second connection, max_connections reached) is logged
// once and retried in the background every second or so; the process
// never waits for it, and its poll covers meanwhile.
//
// Thread-safety: construct and destroy on one thread; Feeds() and
// endpoint() from any. The destructor stops and joins the thread: within
// ~250 ms, or libpq's connect_timeout when a reconnect is under way to a
// host that does not answer.
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zmq {
class socket_t;
}

namespace courier {

class StoreWakeRelay {
 public:
  // `db` is the store url (--db); `program` names the listening
  // connection (application_name "<program> listener"); `channel` is
  // kQueuedChannel or kEventsChannel.
  static std::unique_ptr<StoreWakeRelay> ToWakeSocket(const std::string& db, const std::string& program,
                                                      const std::string& channel, const std::string& wake_endpoint);
  static std::unique_ptr<StoreWakeRelay> ToEventWaiters(const std::string& db, const std::string& program,
                                                        const std::string& channel);
  ~StoreWakeRelay();
  StoreWakeRelay(const StoreWakeRelay&) = delete;
  StoreWakeRelay& operator=(const StoreWakeRelay&) = delete;

  // True when the store is PostgreSQL and the thread runs.
  bool active() const { return thread_.joinable(); }
  // ToEventWaiters' inproc endpoint; "" when inactive or pushing.
  const std::string& endpoint() const { return endpoint_; }
  // `feeds` and, when there is one, endpoint(): an EventWaiter's endpoints.
  std::vector<std::string> Feeds(std::vector<std::string> feeds) const;

 private:
  StoreWakeRelay(std::string uri, std::string application_name, std::string channel);
  // Listens until stopped, sending a frame per wake.
  void Run();
  void Send();
  // Sleeps up to `ms`; false once stopped.
  bool Pause(int ms);

  const std::string uri_;
  const std::string application_name_;
  const std::string channel_;
  std::string endpoint_;
  std::unique_ptr<zmq::socket_t> socket_;  // the thread's only, once started
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace courier
