#pragma once
// Control-socket peers that misbehave as real ones do, for the tests of
// asking daemons (AskDaemons, courier-ctl status): a socket file left with
// no listener, a listener that never answers, and listeners that answer
// only when asked at the same time as each other.
#include <zmq.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus.h"

namespace courier::testing {

// Leaves a Unix socket file at an ipc:// endpoint with nobody listening,
// as a daemon killed with -9 does. False when it cannot.
bool LeaveStaleSocket(const std::string& endpoint);

// A bound REP socket that takes requests and never answers them.
class SilentControlPeer {
 public:
  Status Bind(const std::string& endpoint);

 private:
  std::unique_ptr<zmq::socket_t> socket_;
};

// Control servers at `endpoints`, each answering `answer` only once every
// one of them has been asked (each waits up to `patience_ms`, longer than
// the asker's timeout). An asker that asks them one after another, waiting
// for each answer, gets none from the first; one that asks all at once
// gets every answer. Asking again needs Reset().
class Rendezvous {
 public:
  Rendezvous(const std::vector<std::string>& endpoints, std::string answer, int patience_ms = 5000);
  bool started() const { return started_; }
  void Reset();

 private:
  std::string Arrive();

  const std::string answer_;
  const int patience_ms_;
  const size_t expected_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t arrived_ = 0;
  bool started_ = true;
  std::vector<std::unique_ptr<ControlServer>> servers_;
};

}  // namespace courier::testing
