#pragma once
// ZeroMQ pieces the daemons share: the process's context, an event
// publisher and a control (REP) server. ZeroMQ only notifies: every event
// published here is already a row in the store (invariant 4), so a
// subscriber that misses one catches up from the store.
#include <zmq.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace courier {

zmq::context_t& BusContext();

// Creates the directory of an ipc:// endpoint and removes a stale socket
// file, so a daemon restarted after kill -9 can bind again.
Status PrepareEndpoint(const std::string& endpoint);

// PUB socket: two frames, topic then the event JSON. Publish never blocks
// (slow subscribers drop, as PUB does). Thread-safe.
class Publisher {
 public:
  Status Bind(const std::string& endpoint);
  void Publish(const std::string& topic, const std::string& json);

 private:
  std::mutex mu_;
  std::unique_ptr<zmq::socket_t> socket_;
};

// REP socket answering control requests on its own thread: a request frame
// ("status") in, one JSON frame out from `answer`.
class ControlServer {
 public:
  using Answer = std::function<std::string(const std::string& request)>;
  ~ControlServer();
  Status Start(const std::string& endpoint, Answer answer);
  void Stop();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// PULL socket for wakes; Wait returns true when a wake arrived within the
// timeout (draining any others queued behind it).
class WakeReceiver {
 public:
  Status Bind(const std::string& endpoint);
  bool Wait(int timeout_ms);

 private:
  std::unique_ptr<zmq::socket_t> socket_;
};

// A long-lived PUSH socket for wakes from a daemon's hot path: never blocks,
// drops the wake when the peer is absent or slow. One thread only.
class WakeSender {
 public:
  explicit WakeSender(std::string endpoint) : endpoint_(std::move(endpoint)) {}
  void Wake(const std::string& reason = "wake");

 private:
  std::string endpoint_;
  std::unique_ptr<zmq::socket_t> socket_;
};

// Subscribes to event PUB sockets and waits for any event: a wake-up for
// readers that then read the store. Connecting to an endpoint nobody has
// bound yet is fine (ZeroMQ connects when it appears). One thread only.
class EventWaiter {
 public:
  explicit EventWaiter(const std::vector<std::string>& endpoints);
  // True when at least one event arrived within timeout_ms (all drained).
  bool Wait(int timeout_ms);

 private:
  std::unique_ptr<zmq::socket_t> socket_;
};

// Sends `request` to a daemon's control endpoint and returns the answer,
// or Unavailable when nobody answers within timeout_ms. A socket nobody
// has bound yet may be bound within the timeout and still answer.
Result<std::string> AskDaemon(const std::string& endpoint, const std::string& request, int timeout_ms);

struct DaemonQuestion {
  std::string endpoint;
  std::string request;
  int timeout_ms = 1000;
};

// Asks every daemon at once, each as AskDaemon would with its own
// timeout, and returns the answers in the order of `questions`: daemons
// that do not answer (a stale socket file, a listener that never replies)
// cost the longest of their timeouts together, not the sum. One thread,
// polling all the sockets.
std::vector<Result<std::string>> AskDaemons(const std::vector<DaemonQuestion>& questions);

}  // namespace courier
