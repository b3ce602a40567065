#pragma once
// HttpServer: the POCO HTTP server behind courier-recv, reduced to one
// call: a request in, a response out. Everything POCO stays in this file;
// the service sees plain structs and never sees an exception.
//
// Threads: POCO serves each connection on a pool thread; Handle() is
// called concurrently and may block (waiting for a group commit), so the
// pool is sized for the expected connections, not the cores.

#include <cstdint>
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

class HttpService {
 public:
  virtual ~HttpService() = default;
  virtual HttpOut Handle(const HttpIn& request) = 0;
};

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port())
  long max_body_bytes = 1 << 20;
  int max_threads = 128;
  int max_queued = 1024;
  int timeout_seconds = 15;
};

class HttpServer {
 public:
  HttpServer(HttpService& service, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving; Unavailable when the address is taken.
  Status Start();
  // Stops accepting, lets requests in progress finish (bounded), returns.
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier
