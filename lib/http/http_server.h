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
//
// Malformed requests: libmicrohttpd (0.9.75) answers some by itself,
// before any callback of ours sees them: a bad Content-Length with its
// status line and headers twice, a request line it cannot parse with
// nothing at all. So the first request of each connection is screened
// before libmicrohttpd reads it (HttpIn::malformed). A later request on a
// keep-alive connection is not: it gets libmicrohttpd's own answer.
// The same screen refuses a first request whose head is already over
// max_uri_bytes or max_header_bytes (HttpIn::uri_too_long,
// headers_too_large), because libmicrohttpd's per-connection memory is
// kept small (it zeroes all of it after every request): a head over
// about 60 kB on a later request gets libmicrohttpd's HTML 414 or 431.

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
  // Set when the request is over a limit of HttpServerOptions; the service
  // must refuse it (413, 414, 431). The server has not read its body and
  // closes the connection after the answer.
  bool body_too_large = false;     // body over max_body_bytes; `body` is empty
  bool uri_too_long = false;       // `uri` is the first max_uri_bytes bytes
  bool headers_too_large = false;  // headers over max_header_bytes; `headers` is empty
  // Set when the request cannot be read as HTTP/1.x (a bad request line, a
  // bad Content-Length): why. The service must refuse it (400) and answer
  // before Handle returns; `method` and `uri` hold what could be read,
  // headers and body are empty, and the connection is closed after.
  std::string malformed;
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
  // Request line and header limits, checked here so that the service
  // answers them (HttpIn::uri_too_long, headers_too_large). libmicrohttpd
  // answers a head larger than its per-connection memory (kept well above
  // these) itself, in HTML: see http_server.cpp.
  size_t max_uri_bytes = 16 << 10;
  size_t max_header_bytes = 16 << 10;  // names, values and line ends of all headers
  Threading threading = Threading::kEventLoop;
  int threads = 0;  // kEventLoop: loop threads; 0 = one per core
  int timeout_seconds = 15;  // idle keep-alive connections are closed after this
  // A request's line, headers and body must all be in within this many
  // seconds of the connection's accept (or its previous answer); one that
  // is not is closed without an answer, so that a client trickling bytes
  // (which keeps timeout_seconds from firing) cannot hold a connection.
  // 0: no deadline.
  int request_read_seconds = 30;
  // Connections open at once, all clients together (0: libmicrohttpd's
  // default, about 1000) and from one IP address (0: no limit). A
  // connection over either is closed as it is accepted.
  int max_connections = 0;
  int max_connections_per_ip = 0;
  // Stop() waits this long for the answers the service owes, and for a
  // request being read when it began up to a third of timeout_seconds
  // (beyond, libmicrohttpd may close it as idle); the rest get a 503.
  int drain_seconds = 30;
};

class HttpServer {
 public:
  HttpServer(HttpService& service, HttpServerOptions options);
  ~HttpServer();
  // Binds and starts serving; Unavailable when the address is taken.
  Status Start();
  // Stops accepting, waits (bounded by drain_seconds) for the requests in
  // progress: one still being read is served as usual when it is all in
  // within a third of timeout_seconds, else answered 503; a request begun
  // after Stop() is answered 503. Sends what the service owes (503 after the drain),
  // closes every connection, returns.
  void Stop();
  int port() const;
  // Requests whose state the server holds (being read, with the service,
  // or being answered): what a test checks to know that every way a
  // request can end frees it.
  long live_requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier
