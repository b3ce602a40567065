#include "control_peers.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace courier::testing {

bool LeaveStaleSocket(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) != 0 || !PrepareEndpoint(endpoint).ok()) return false;
  const std::string path = endpoint.substr(6);
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  // Bound and closed without listen or unlink: the file stays, and a
  // connect to it is refused.
  const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return bound;
}

Status SilentControlPeer::Bind(const std::string& endpoint) {
  try {
    Status s = PrepareEndpoint(endpoint);
    if (!s.ok()) return s;
    socket_ = std::make_unique<zmq::socket_t>(BusContext(), zmq::socket_type::rep);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind(endpoint);
    return Status::OK();
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("bind " + endpoint + ": " + e.what());
  }
}

Rendezvous::Rendezvous(const std::vector<std::string>& endpoints, std::string answer, int patience_ms)
    : answer_(std::move(answer)), patience_ms_(patience_ms), expected_(endpoints.size()) {
  for (const auto& endpoint : endpoints) {
    servers_.push_back(std::make_unique<ControlServer>());
    started_ = started_ && servers_.back()->Start(endpoint, [this](const std::string&) { return Arrive(); }).ok();
  }
}

void Rendezvous::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  arrived_ = 0;
}

std::string Rendezvous::Arrive() {
  std::unique_lock<std::mutex> lock(mu_);
  ++arrived_;
  cv_.notify_all();
  const bool all = cv_.wait_for(lock, std::chrono::milliseconds(patience_ms_), [this] { return arrived_ >= expected_; });
  return all ? answer_ : "{\"error\":\"asked alone\"}";
}

}  // namespace courier::testing
