#include "tarpit_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace courier::testing {

TarpitServer::TarpitServer(int drip_ms, int max_bytes) : drip_ms_(drip_ms), max_bytes_(max_bytes) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("tarpit: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

TarpitServer::~TarpitServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  for (auto& t : drippers_) t.join();
}

std::string TarpitServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int TarpitServer::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connections_;
}

int TarpitServer::abandoned() const {
  std::lock_guard<std::mutex> lock(mu_);
  return abandoned_;
}

bool TarpitServer::WaitForConnections(int n) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return connections_ >= n; });
}

void TarpitServer::Accept() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      connections_++;
      drippers_.emplace_back([this, fd] { Drip(fd); });
    }
    cv_.notify_all();
  }
}

void TarpitServer::Drip(int fd) {
  // The request head first, so the client is waiting for its answer.
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && !stopping_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  // A status line, then a header whose value never ends.
  std::string answer = "HTTP/1.1 200 OK\r\nX-Tarpit: ";
  bool gone = false;
  for (int i = 0; i < max_bytes_ && !stopping_ && !gone; ++i) {
    const char c = i < static_cast<int>(answer.size()) ? answer[static_cast<size_t>(i)] : 'z';
    if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) gone = true;
    // A client that went away shows as readable (EOF or reset).
    pollfd p{fd, POLLIN, 0};
    if (!gone && ::poll(&p, 1, drip_ms_) > 0) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) gone = true;
    }
  }
  if (gone) {
    std::lock_guard<std::mutex> lock(mu_);
    abandoned_++;
  }
  ::close(fd);
}

}  // namespace courier::testing
