#pragma once
// TarpitServer: a hostile provider on 127.0.0.1 (a free port) that takes
// every connection, reads the request head, and then answers one byte at
// a time, `drip_ms` apart, a status line and headers that never end —
// each byte well within any per-read timeout, the whole answer never.
// It stops dripping on a connection when the client goes away, or after
// `max_bytes` (so a client that had no total deadline ends with an
// unfinished answer instead of a hung test).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace courier::testing {

class TarpitServer {
 public:
  explicit TarpitServer(int drip_ms = 100, int max_bytes = 600);
  ~TarpitServer();
  TarpitServer(const TarpitServer&) = delete;
  TarpitServer& operator=(const TarpitServer&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const;
  // Connections accepted so far.
  int connections() const;
  // Connections whose client went away before the drip ended (the client
  // gave up: its deadline or an abort).
  int abandoned() const;
  // Blocks until at least `n` connections were accepted, or 30 s.
  bool WaitForConnections(int n);

 private:
  void Accept();
  void Drip(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  int drip_ms_;
  int max_bytes_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int connections_ = 0;
  int abandoned_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> drippers_;
};

}  // namespace courier::testing
