#pragma once
// HttpServer: the HTTP/1.1 server behind courier-recv (and the tests' mock
// provider), on GNU libmicrohttpd, reduced to one call: a request in, an
// answer out, possibly later. Everything libmicrohttpd stays in the .cpp;
// services see plain structs and never see an exception.
//
// Why libmicrohttpd and not POCO's HTTPServer: POCO serves every
// connection on a pool thread, creates an epoll set per keep-alive wait
// and answers a bare 404 at about a third of nginx's rate on the same
// machine; courier-recv's webhooks also had to park that thread while the
// group commit ran. Here a few event-loop threads (kEventLoop) serve all
// connections, and a request waiting for its commit costs no thread: the
// connection is suspended and resumed when the service responds.
//
// Threads:
//  - kEventLoop: `threads` loop threads (0: one per core). Handle() runs on
//    a loop thread and must not block; it may respond before returning or
//    later from any thread.
//  - kThreadPerConnection: Handle() may block (a slow mock provider); the
//    connection's own thread waits for the response.
// In both, `finish` (see HttpRespond) runs on the connection's server
// thread, so work done there is spread over the loop threads rather than
// on whichever thread responded.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"

namespace courier {

struct HttpIn {
  std::string method;
  std::string uri;  // path and query, as received
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote_address;
  bool body_too_large = false;  // body exceeded the limit; `body` is empty
};

struct HttpOut {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

// Answers one request: call exactly once, from any thread. `finish` is
// called on the server's thread for the connection and returns the answer.
using HttpRespond = std::function<void(std::function<HttpOut()> finish)>;

class HttpService {
 public:
  virtual ~HttpService() = default;
  virtual void Handle(const HttpIn& request, HttpRespond respond) = 0;
};

// A service that answers before it returns.
class SyncHttpService : public HttpService {
 public:
  virtual HttpOut Serve(const HttpIn& request) = 0;
  void Handle(const HttpIn& request, HttpRespond respond) final;
};

struct HttpServerOptions {
  enum class Threading { kEventLoop, kThreadPerConnection };
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port())
  long max_body_bytes = 1 << 20;
  Threading threading = Threading::kEventLoop;
  int threads = 0;  // kEventLoop: loop threads; 0 = one per core
  int timeout_seconds = 15;  // idle keep-alive connections are closed after this
  int drain_seconds = 30;    // Stop() waits this long for answers still owed
};

class HttpServer {
 public:
  HttpServer(HttpService& service, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving; Unavailable when the address is taken.
  Status Start();
  // Stops accepting, waits (bounded by drain_seconds) for the answers the
  // service still owes, sends them, closes every connection, returns.
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier
