#include "http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <chrono>
#include <list>
#include <set>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "util/text.h"

namespace courier {
namespace {

const char kInternalError[] =
    "{\"message\":\"Error\",\"data\":[{\"type\":\"error\",\"error\":\"internal error\"}]}";

HttpOut ShuttingDown() {
  HttpOut out;
  out.status = 503;
  out.body = "{\"message\":\"Error\",\"data\":[{\"type\":\"error\",\"error\":\"shutting down, try again\"}]}";
  return out;
}

HttpOut InternalError() {
  HttpOut out;
  out.status = 500;
  out.body = kInternalError;
  return out;
}

std::string PeerAddress(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == nullptr || info->client_addr == nullptr) return "";
  char host[INET6_ADDRSTRLEN] = "";
  const sockaddr* sa = info->client_addr;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "";
}

// libmicrohttpd keeps a request's line and headers (and a header record
// of ~50 bytes each) in one pool per connection and, when they do not
// fit, answers 414 or 431 itself with an HTML body no option replaces.
// It also zeroes the whole pool (memset) after every request of a
// keep-alive connection: at the 256 kB this pool once had, that was 8 to
// 10% of courier-api's and courier-recv's CPU. So the pool is twice what
// a head within our own limits needs, and a first request whose head is
// already over them when the connection is accepted is refused by the
// screen (ScreenFirstRequest), with the service's JSON, before
// libmicrohttpd reads it. What still gets libmicrohttpd's HTML: a head
// over about 60 kB on a later request of a keep-alive connection, or
// one whose bytes were not in at the accept, or thousands of tiny header
// lines.
size_t ConnectionMemory(const HttpServerOptions& options) {
  return std::max<size_t>(32 << 10, 2 * (options.max_uri_bytes + options.max_header_bytes));
}

// How much of a first request the screen peeks at: enough to see a head
// over the limits (HttpIn::uri_too_long, headers_too_large).
size_t ScreenBytes(const HttpServerOptions& options) {
  return options.max_uri_bytes + options.max_header_bytes + (4 << 10);
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// What the screen of a connection's first request found.
struct Screened {
  std::string malformed;  // "" when nothing wrong was seen
  bool uri_too_long = false;
  bool headers_too_large = false;
  std::string method, uri;
  bool refused() const { return !malformed.empty() || uri_too_long || headers_too_large; }
};

// Screens the start of a request as peeked from the socket: a request
// line that is not "METHOD TARGET HTTP/1.x", or (the head being all there)
// a Content-Length that is not a number without a Transfer-Encoding to
// make it moot. Only what libmicrohttpd itself would refuse: anything it
// takes goes on to it and the service unscreened. Also a head over the
// limits, so the service answers it rather than libmicrohttpd (see
// ConnectionMemory): a URI over max_uri_bytes, headers that are over
// max_header_bytes (and some slack, for the spaces the server's own
// count leaves out) before their end.
Screened ScreenRequestHead(const std::string& head, const HttpServerOptions& limits) {
  Screened out;
  const size_t line_end = head.find('\n');
  if (line_end == std::string::npos) {  // the line is not all there
    const size_t sp1 = head.find(' ');
    if (sp1 != 0 && sp1 != std::string::npos &&
        std::all_of(head.begin(), head.begin() + static_cast<long>(sp1), IsTokenChar) &&
        head.size() - sp1 - 1 > limits.max_uri_bytes) {
      out.method = head.substr(0, sp1);
      out.uri = head.substr(sp1 + 1, limits.max_uri_bytes);
      out.uri_too_long = true;
    }
    return out;
  }
  std::string line = head.substr(0, line_end);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp1 != std::string::npos) {
    out.method = line.substr(0, sp1);
    out.uri = line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
  }
  const std::string version = sp2 == std::string::npos ? "" : line.substr(sp2 + 1);
  const bool token = sp1 != 0 && sp1 != std::string::npos &&
                     std::all_of(line.begin(), line.begin() + static_cast<long>(sp1), IsTokenChar);
  if (!token || sp2 == sp1 + 1 || (version != "HTTP/1.1" && version != "HTTP/1.0")) {
    out.malformed = "malformed request line";
    return out;
  }
  if (out.uri.size() > limits.max_uri_bytes) {
    out.uri.resize(limits.max_uri_bytes);
    out.uri_too_long = true;
    return out;
  }
  const size_t head_end = head.find("\r\n\r\n");
  if (head_end == std::string::npos) {  // the headers are not all there
    if (head.size() - line_end - 1 > limits.max_header_bytes + 1024) out.headers_too_large = true;
    return out;
  }
  bool chunked = false;
  std::vector<std::string> lengths;
  for (size_t start = line_end + 1; start < head_end + 2;) {
    size_t end = head.find("\r\n", start);
    const std::string header = head.substr(start, end - start);
    start = end + 2;
    const size_t colon = header.find(':');
    if (colon == std::string::npos) continue;  // libmicrohttpd's to judge
    const std::string name = ToLower(header.substr(0, colon));
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    if (name == "transfer-encoding") chunked = true;
    if (name == "content-length") lengths.push_back(value);
  }
  if (chunked) return out;
  for (const auto& value : lengths) {
    // libmicrohttpd reads an unsigned 64-bit number: 19 digits always fit.
    const bool number = !value.empty() && value.size() <= 19 &&
                        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!number) {
      out.malformed = "invalid Content-Length: " + value.substr(0, 40);
      return out;
    }
  }
  return out;
}

// The answer written straight to a socket, outside libmicrohttpd.
std::string RawResponse(const HttpOut& out) {
  std::string text = "HTTP/1.1 " + std::to_string(out.status) + " " +
                     (out.status == 400 ? "Bad Request" : "Error") + "\r\nContent-Type: " + out.content_type +
                     "\r\nContent-Length: " + std::to_string(out.body.size()) + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : out.headers) text += name + ": " + value + "\r\n";
  return text + "\r\n" + out.body;
}

}  // namespace

void SyncHttpService::Handle(const HttpIn& request, HttpRespond respond) {
  HttpOut out = Serve(request);
  respond([out = std::move(out)]() { return out; });
}

struct HttpServer::Impl {
  struct Request;
  struct Conn;
  using Clock = std::chrono::steady_clock;
  HttpService& service;
  HttpServerOptions options;
  MHD_Daemon* daemon = nullptr;
  int listen_fd = -1;
  int port = 0;

  // Set by Stop(): requests begun from then on are answered 503, so that
  // the work in progress can only drain.
  std::atomic<bool> stopping{false};

  // Requests handed to the service and not yet answered on the wire.
  std::mutex owed_mu;
  std::condition_variable owed_cv;
  std::list<std::shared_ptr<Request>> owed;

  // Every open connection, for the read-deadline sweep and Stop().
  // Registered at accept and removed when libmicrohttpd reports it closed,
  // before it closes the socket: while conns_mu is held, each fd is open.
  std::mutex conns_mu;
  std::set<Conn*> conns;
  std::thread sweeper;
  std::condition_variable sweep_cv;
  bool sweep_stop = false;  // under conns_mu

  // Shared with each Request: a service may drop its last HttpRespond
  // after the server is gone (a thread answering late), and the count
  // must not be in freed memory then.
  std::shared_ptr<std::atomic<long>> live_requests = std::make_shared<std::atomic<long>>(0);

  Impl(HttpService& s, HttpServerOptions o) : service(s), options(std::move(o)) {}

  void Owe(const std::shared_ptr<Request>& r);
  void Paid(Request* r);
  // The end of a request, completed or not: it can no longer be answered.
  void Release(const std::shared_ptr<Request>& r);
  static Conn* ConnOf(MHD_Connection* connection);

  MHD_Result Dispatch(Conn& conn, Request& r);
  MHD_Result QueueAnswer(Request& r);
  // Closes the connections whose request is not in by request_read_seconds.
  void Sweep();
  // Requests begun before Stop() and still being read.
  int ReadingBeforeStop();
  // Answers every request still being read with `out`, outside
  // libmicrohttpd, and shuts its connection for writing.
  void AnswerReading(const HttpOut& out);

  static void* OnUri(void* cls, const char* uri, MHD_Connection* connection);
  static MHD_Result OnRequest(void* cls, MHD_Connection* connection, const char* url, const char* method,
                              const char* version, const char* upload_data, size_t* upload_data_size,
                              void** con_cls);
  static void OnCompleted(void* cls, MHD_Connection* connection, void** con_cls,
                          MHD_RequestTerminationCode toe);
  static void OnLog(void* cls, const char* format, va_list ap);
  static void OnConnection(void* cls, MHD_Connection* connection, void** socket_context,
                           MHD_ConnectionNotificationCode code);
  // Answers a malformed first request, or one over the limits, before
  // libmicrohttpd reads it.
  void ScreenFirstRequest(MHD_Connection* connection, Conn& conn);
};

// One request on a connection, from its first line to its answer. Its
// connection's Conn owns it until the request completes or the connection
// closes, whichever libmicrohttpd reports first (it drops some requests
// without completing them); MHD's con_cls points at it meanwhile. The
// service's HttpRespond holds another reference, so a late respond never
// touches freed memory.
struct HttpServer::Impl::Request : std::enable_shared_from_this<Request> {
  explicit Request(Impl* s) : server(s), live(s->live_requests) { (*live)++; }
  ~Request() { (*live)--; }
  Impl* server = nullptr;
  std::shared_ptr<std::atomic<long>> live;
  MHD_Connection* connection = nullptr;
  HttpIn in;
  bool begun_before_stop = true;
  bool headers_read = false;
  bool dispatched = false;
  bool owed = false;  // counted in Impl::owed until queued or gone
  bool close_after = false;  // answer with Connection: close

  std::mutex mu;
  std::condition_variable answered_cv;  // kThreadPerConnection waits here
  bool answered = false;
  bool suspended = false;
  bool gone = false;
  std::function<HttpOut()> finish;

  void Respond(std::function<HttpOut()> f);
};

// One connection, from accept to close (MHD's socket_context).
struct HttpServer::Impl::Conn {
  int fd = -1;
  std::mutex mu;  // guards what follows
  std::shared_ptr<Request> request;  // from its first line to its completion
  // From the accept, or the previous answer, until the request is handed
  // to the service: what request_read_seconds bounds.
  bool reading = true;
  Clock::time_point reading_since = Clock::now();
  // Answered or shut down by us, outside libmicrohttpd: never dispatch.
  bool cut = false;
};

void HttpServer::Impl::Owe(const std::shared_ptr<Request>& r) {
  std::lock_guard<std::mutex> lock(owed_mu);
  owed.push_back(r);
  r->owed = true;
}

void HttpServer::Impl::Paid(Request* r) {
  std::lock_guard<std::mutex> lock(owed_mu);
  if (!r->owed) return;
  r->owed = false;
  owed.remove_if([r](const std::shared_ptr<Request>& p) { return p.get() == r; });
  owed_cv.notify_all();
}

void HttpServer::Impl::Request::Respond(std::function<HttpOut()> f) {
  std::lock_guard<std::mutex> lock(mu);
  if (answered) return;  // the first answer counts
  finish = std::move(f);
  answered = true;
  if (suspended && !gone) MHD_resume_connection(connection);
  answered_cv.notify_all();
}

HttpServer::Impl::Conn* HttpServer::Impl::ConnOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info == nullptr ? nullptr : static_cast<Conn*>(info->socket_context);
}

void* HttpServer::Impl::OnUri(void* cls, const char* uri, MHD_Connection* connection) {
  Impl& server = *static_cast<Impl*>(cls);
  Conn* conn = ConnOf(connection);
  if (conn == nullptr) return nullptr;  // OnRequest then refuses it
  auto request = std::make_shared<Request>(&server);
  request->connection = connection;
  request->in.uri = uri != nullptr ? uri : "";
  request->begun_before_stop = !server.stopping;
  // libmicrohttpd goes on to split the query into one record per
  // parameter in the connection's memory, and when they do not fit (a few
  // hundred parameters) drops the request without an answer. The service
  // reads the raw URI kept above, never those records: end the query
  // where it begins so that there are none. The line is libmicrohttpd's
  // own writable buffer, which it cuts up the same way.
  if (uri != nullptr) {
    if (char* query = const_cast<char*>(std::strchr(uri, '?')); query != nullptr && query[1] != '\0') query[1] = '\0';
  }
  std::lock_guard<std::mutex> lock(conn->mu);
  conn->request = request;
  return request.get();
}

MHD_Result HttpServer::Impl::OnRequest(void* cls, MHD_Connection* connection, const char* /*url*/,
                                       const char* method, const char* /*version*/, const char* upload_data,
                                       size_t* upload_data_size, void** con_cls) {
  auto* request = static_cast<Request*>(*con_cls);
  Conn* conn = ConnOf(connection);
  if (request == nullptr || conn == nullptr) return MHD_NO;  // no URI callback ran: nothing sane to answer
  Impl& server = *static_cast<Impl*>(cls);
  Request& r = *request;
  if (!r.headers_read) {
    r.headers_read = true;
    r.in.method = method;
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* headers, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
          (*static_cast<std::map<std::string, std::string>*>(headers))[ToLower(key)] = value != nullptr ? value : "";
          return MHD_YES;
        },
        &r.in.headers);
    r.in.remote_address = PeerAddress(connection);
    size_t header_bytes = 0;
    for (const auto& [name, value] : r.in.headers) header_bytes += name.size() + value.size() + 4;  // ": ", CRLF
    if (r.in.uri.size() > server.options.max_uri_bytes) {
      r.in.uri.resize(server.options.max_uri_bytes);
      r.in.uri_too_long = true;
    }
    if (header_bytes > server.options.max_header_bytes) {
      r.in.headers.clear();
      r.in.headers_too_large = true;
    }
    auto length = r.in.headers.find("content-length");
    if (length != r.in.headers.end() && std::strtoll(length->second.c_str(), nullptr, 10) > server.options.max_body_bytes)
      r.in.body_too_large = true;
    if (r.in.uri_too_long || r.in.headers_too_large || r.in.body_too_large) {
      // Answer now, without reading a body we would refuse anyway, and
      // close the connection after the answer.
      r.close_after = true;
      return server.Dispatch(*conn, r);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (!r.in.body_too_large) {
      if (r.in.body.size() + *upload_data_size > static_cast<size_t>(server.options.max_body_bytes)) {
        r.in.body_too_large = true;  // chunked, or longer than announced
        r.close_after = true;
        std::string().swap(r.in.body);
      } else {
        r.in.body.append(upload_data, *upload_data_size);
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (r.dispatched) return server.QueueAnswer(r);  // resumed: the answer is in
  return server.Dispatch(*conn, r);
}

MHD_Result HttpServer::Impl::Dispatch(Conn& conn, Request& r) {
  const std::shared_ptr<Request> self = r.shared_from_this();
  {
    std::lock_guard<std::mutex> lock(conn.mu);
    // Already answered outside libmicrohttpd (Stop) or given up on (the
    // read deadline): close without a second answer.
    if (conn.cut) return MHD_NO;
    // Owed before it stops being read, so that Stop(), which looks at the
    // requests being read and then at those owed, never sees neither.
    Owe(self);
    conn.reading = false;
  }
  r.dispatched = true;
  if (stopping && !r.begun_before_stop) {
    // Never suspend once Stop() has begun: MHD must not stop with a
    // connection suspended. The provider retries elsewhere or later.
    r.finish = []() { return ShuttingDown(); };
    r.close_after = true;
    return QueueAnswer(r);
  }
  HttpRespond respond = [self](std::function<HttpOut()> finish) { self->Respond(std::move(finish)); };
  try {
    service.Handle(r.in, respond);
  } catch (const std::exception& e) {
    // Invariant 5: nothing a request contains crashes the process.
    Log::Error("request handler failed", {{"uri", r.in.uri}, {"error", e.what()}});
    respond([]() { return InternalError(); });
  } catch (...) {
    respond([]() { return InternalError(); });
  }
  std::unique_lock<std::mutex> lock(r.mu);
  if (!r.answered) {
    if (options.threading == HttpServerOptions::Threading::kThreadPerConnection) {
      r.answered_cv.wait(lock, [&r]() { return r.answered; });
    } else {
      MHD_suspend_connection(r.connection);
      r.suspended = true;
      return MHD_YES;
    }
  }
  lock.unlock();
  return QueueAnswer(r);
}

MHD_Result HttpServer::Impl::QueueAnswer(Request& r) {
  HttpOut out;
  try {
    out = r.finish ? r.finish() : InternalError();
  } catch (const std::exception& e) {
    Log::Error("request handler failed", {{"uri", r.in.uri}, {"error", e.what()}});
    out = InternalError();
  }
  MHD_Response* response =
      MHD_create_response_from_buffer(out.body.size(), out.body.data(), MHD_RESPMEM_MUST_COPY);
  MHD_Result queued = MHD_NO;
  if (response != nullptr) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, out.content_type.c_str());
    for (const auto& [name, value] : out.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
    if (r.close_after) MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    queued = MHD_queue_response(r.connection, static_cast<unsigned>(out.status), response);
    MHD_destroy_response(response);
  }
  Paid(&r);
  return queued;
}

void HttpServer::Impl::Release(const std::shared_ptr<Request>& r) {
  if (r == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(r->mu);
    r->gone = true;
  }
  Paid(r.get());
}

void HttpServer::Impl::OnCompleted(void* cls, MHD_Connection* connection, void** con_cls,
                                   MHD_RequestTerminationCode) {
  Impl& server = *static_cast<Impl*>(cls);
  auto* request = static_cast<Request*>(*con_cls);
  *con_cls = nullptr;
  Conn* conn = ConnOf(connection);
  if (request == nullptr || conn == nullptr) return;
  std::shared_ptr<Request> ended;
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    if (conn->request.get() == request) ended = std::move(conn->request);
    conn->reading = true;  // the next request, if any, is read from now
    conn->reading_since = Clock::now();
  }
  server.Release(ended);
}

void HttpServer::Impl::OnConnection(void* cls, MHD_Connection* connection, void** socket_context,
                                    MHD_ConnectionNotificationCode code) {
  Impl& server = *static_cast<Impl*>(cls);
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    auto* conn = new Conn;
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn->fd = info != nullptr ? info->connect_fd : -1;
    *socket_context = conn;
    {
      std::lock_guard<std::mutex> lock(server.conns_mu);
      server.conns.insert(conn);
    }
    server.ScreenFirstRequest(connection, *conn);
    return;
  }
  // Closed: whatever request it still holds ends here, completed or not.
  auto* conn = static_cast<Conn*>(*socket_context);
  if (conn == nullptr) return;
  *socket_context = nullptr;
  {
    std::lock_guard<std::mutex> lock(server.conns_mu);
    server.conns.erase(conn);
  }
  std::shared_ptr<Request> ended;
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    ended = std::move(conn->request);
  }
  server.Release(ended);
  delete conn;
}

void HttpServer::Impl::Sweep() {
  const auto deadline = std::chrono::seconds(options.request_read_seconds);
  std::unique_lock<std::mutex> lock(conns_mu);
  while (!sweep_stop) {
    sweep_cv.wait_for(lock, std::chrono::milliseconds(250));
    if (sweep_stop || options.request_read_seconds <= 0) continue;
    const auto now = Clock::now();
    int cut = 0;
    for (Conn* conn : conns) {
      std::lock_guard<std::mutex> conn_lock(conn->mu);
      if (!conn->reading || conn->cut || now - conn->reading_since < deadline) continue;
      // Shut both ways: libmicrohttpd reads the end of the stream and
      // closes the connection, whatever the client still sends.
      conn->cut = true;
      if (conn->fd >= 0) shutdown(conn->fd, SHUT_RDWR);
      ++cut;
    }
    if (cut > 0) Log::Debug("http server: requests not in by the read deadline, connections closed",
                            {{"count", std::to_string(cut)}});
  }
}

int HttpServer::Impl::ReadingBeforeStop() {
  int reading = 0;
  std::lock_guard<std::mutex> lock(conns_mu);
  for (Conn* conn : conns) {
    std::lock_guard<std::mutex> conn_lock(conn->mu);
    if (conn->reading && !conn->cut && conn->request != nullptr && conn->request->begun_before_stop) ++reading;
  }
  return reading;
}

void HttpServer::Impl::AnswerReading(const HttpOut& out) {
  const std::string response = RawResponse(out);
  std::lock_guard<std::mutex> lock(conns_mu);
  for (Conn* conn : conns) {
    std::lock_guard<std::mutex> conn_lock(conn->mu);
    if (!conn->reading || conn->cut || conn->request == nullptr || conn->fd < 0) continue;
    // libmicrohttpd writes nothing while it reads a request, and will not
    // dispatch this one now (cut): the socket is ours to answer on.
    conn->cut = true;
    send(conn->fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(conn->fd, SHUT_WR);
  }
}

// Runs as libmicrohttpd takes the connection, before it reads from it:
// the socket holds the first request's bytes (TCP_DEFER_ACCEPT, set on
// the listening socket, accepts once some have come). A request found
// malformed is answered here, its bytes are read off the socket so that
// libmicrohttpd never answers it too, and the connection is shut for
// writing: libmicrohttpd closes it when the client does. Never blocks.
void HttpServer::Impl::ScreenFirstRequest(MHD_Connection* connection, Conn& conn) {
  const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (info == nullptr) return;
  const int fd = info->connect_fd;
  // One buffer per loop thread, not one per connection.
  thread_local std::string head;
  head.resize(ScreenBytes(options));
  const ssize_t n = recv(fd, head.data(), head.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) return;
  head.resize(static_cast<size_t>(n));
  Screened screened = ScreenRequestHead(head, options);
  if (!screened.refused()) return;

  HttpIn in;
  in.method = std::move(screened.method);
  in.uri = std::move(screened.uri);
  in.remote_address = PeerAddress(connection);
  in.malformed = std::move(screened.malformed);
  in.uri_too_long = screened.uri_too_long;
  in.headers_too_large = screened.headers_too_large;
  std::function<HttpOut()> finish;
  try {
    service.Handle(in, [&finish](std::function<HttpOut()> f) {
      if (!finish) finish = std::move(f);
    });
  } catch (...) {
  }
  HttpOut out;
  try {
    if (finish) out = finish();
  } catch (...) {
    finish = nullptr;
  }
  if (!finish) {  // the service did not answer at once
    out.status = 400;
    out.body = "{\"message\":\"Error\",\"data\":[{\"type\":\"error\",\"error\":\"malformed request\"}]}";
  }
  const std::string response = RawResponse(out);
  // A fresh connection's send buffer takes a short answer whole.
  const ssize_t sent = send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent != static_cast<ssize_t>(response.size())) Log::Debug("http server: refused request's answer cut short");
  {
    // What libmicrohttpd reads of it later (bytes that were not in yet)
    // is never handed to the service: it has had its one answer.
    std::lock_guard<std::mutex> lock(conn.mu);
    conn.cut = true;
  }
  char sink[16 << 10];
  for (size_t drained = 0; drained < (1u << 20);) {
    const ssize_t got = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (got <= 0) break;
    drained += static_cast<size_t>(got);
  }
  shutdown(fd, SHUT_WR);
}

void HttpServer::Impl::OnLog(void*, const char* format, va_list ap) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, ap);
  std::string message(text);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  Log::Debug("http server", {{"detail", message}});
}

HttpServer::HttpServer(HttpService& service, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(service, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  Impl& s = *impl_;
  const std::string where = s.options.address + ":" + std::to_string(s.options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(s.options.port);
  int rc = getaddrinfo(s.options.address.empty() ? nullptr : s.options.address.c_str(), port_text.c_str(), &hints,
                       &found);
  if (rc != 0) return Status::Unavailable("cannot listen on " + where + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);

  // SO_REUSEADDR (restart while old connections linger in TIME_WAIT) but
  // never SO_REUSEPORT: with it a second courier-recv on the same port
  // starts "fine" and the kernel splits webhooks between the two stores.
  int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, found->ai_protocol);
  if (fd < 0) return Status::Unavailable("cannot listen on " + where + ": " + std::strerror(errno));
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  // Accept a connection once its first bytes are in, so the first request
  // can be screened (ScreenFirstRequest); a client silent for a second is
  // accepted all the same.
  const int defer_seconds = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
  if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 512) != 0) {
    const int err = errno;
    close(fd);
    return Status::Unavailable("cannot listen on " + where + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  s.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  unsigned int flags = MHD_USE_ERROR_LOG | MHD_USE_ITC;
  unsigned int pool = 1;
  if (s.options.threading == HttpServerOptions::Threading::kThreadPerConnection) {
    flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
  } else {
    flags |= MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    pool = s.options.threads > 0 ? static_cast<unsigned>(s.options.threads)
                                 : std::max(1u, std::thread::hardware_concurrency());
  }
  // MHD refuses a pool of one; a single loop thread is simply no pool.
  const unsigned int pool_size = pool > 1 ? pool : 0;
  s.daemon = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Impl::OnRequest, &s,                                 //
      // First, or MHD prints its own warnings before it knows the logger.
      MHD_OPTION_EXTERNAL_LOGGER, &Impl::OnLog, &s,                                    //
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(fd),                           //
      MHD_OPTION_THREAD_POOL_SIZE, pool_size,                                          //
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(s.options.timeout_seconds),  //
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, ConnectionMemory(s.options),                 //
      MHD_OPTION_URI_LOG_CALLBACK, &Impl::OnUri, &s,                                   //
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::OnCompleted, &s,                             //
      MHD_OPTION_NOTIFY_CONNECTION, &Impl::OnConnection, &s,                           //
      // 0 would be taken as a limit of none: pass MHD's default instead.
      MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(s.options.max_connections > 0 ? s.options.max_connections : FD_SETSIZE - 4),  //
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(std::max(0, s.options.max_connections_per_ip)),
      MHD_OPTION_END);
  if (s.daemon == nullptr) {
    close(fd);
    return Status::Unavailable("cannot serve on " + where + ": libmicrohttpd did not start");
  }
  s.listen_fd = fd;
  s.sweep_stop = false;
  s.sweeper = std::thread([&s]() { s.Sweep(); });
  return Status::OK();
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (s.daemon == nullptr) return;
  s.stopping = true;
  // No new connections: shutdown() takes a listening socket out of the
  // listen state, so connects are refused from here on. It is closed only
  // after MHD_stop_daemon: MHD's threads still take it out of their epoll
  // sets, and one that finds it closed aborts the process ("Failed to
  // remove listen FD from epoll set").
  const MHD_socket quiesced = MHD_quiesce_daemon(s.daemon);
  if (quiesced != MHD_INVALID_SOCKET) shutdown(quiesced, SHUT_RDWR);
  // The requests in progress finish: those being read when Stop() began
  // are served as usual once they are in, and what the service owes is
  // sent, for up to drain_seconds. A request still being read is waited
  // for a third of the idle timeout at most: a client idle past that
  // timeout is closed by libmicrohttpd, unanswered, so it is answered
  // 503 before then.
  const auto now = Impl::Clock::now();
  const auto drain_end = now + std::chrono::seconds(s.options.drain_seconds);
  const auto reading_end =
      std::min(drain_end, now + std::chrono::seconds(std::max(1, s.options.timeout_seconds / 3)));
  bool reading_answered = false;
  for (;;) {
    // Reading first, then owed: a request moves from one to the other
    // (Dispatch) owed before it stops being read.
    const bool reading = !reading_answered && s.ReadingBeforeStop() > 0;
    bool owed_empty;
    {
      std::unique_lock<std::mutex> lock(s.owed_mu);
      if (reading) s.owed_cv.wait_for(lock, std::chrono::milliseconds(50));
      else s.owed_cv.wait_for(lock, std::chrono::milliseconds(50), [&s]() { return s.owed.empty(); });
      owed_empty = s.owed.empty();
    }
    if ((owed_empty && !reading) || Impl::Clock::now() >= drain_end) break;
    if (reading && Impl::Clock::now() >= reading_end) {
      s.AnswerReading(ShuttingDown());
      reading_answered = true;
    }
  }
  // Whatever is still being read (begun before Stop() and not all in, or
  // begun since) is answered 503 now rather than dropped when the daemon
  // stops.
  s.AnswerReading(ShuttingDown());
  {
    // MHD must not stop with a connection suspended: answer the rest of
    // what the service owes with 503.
    std::unique_lock<std::mutex> lock(s.owed_mu);
    if (!s.owed.empty()) {
      Log::Warn("http server: answers still owed at shutdown, sending 503", {{"count", std::to_string(s.owed.size())}});
      auto late = s.owed;
      lock.unlock();
      for (const auto& r : late) {
        r->Respond([]() { return ShuttingDown(); });
      }
      lock.lock();
      s.owed_cv.wait_for(lock, std::chrono::seconds(5), [&s]() { return s.owed.empty(); });
    }
  }
  {
    std::lock_guard<std::mutex> lock(s.conns_mu);
    s.sweep_stop = true;
  }
  s.sweep_cv.notify_all();
  if (s.sweeper.joinable()) s.sweeper.join();
  MHD_stop_daemon(s.daemon);
  if (quiesced != MHD_INVALID_SOCKET) close(quiesced);
  s.daemon = nullptr;
  s.listen_fd = -1;
}

int HttpServer::port() const { return impl_->port; }

long HttpServer::live_requests() const { return impl_->live_requests->load(); }

}  // namespace courier
