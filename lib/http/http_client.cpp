#include "http/http_client.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DNS.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <type_traits>
#include <atomic>
#include <chrono>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "util/text.h"

namespace courier {

std::string HttpExchange::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::string UrlEscape(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string QueryEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UrlEscape(k) + "=" + UrlEscape(v);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> DecodePairs(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    std::string pair = text.substr(start, end - start);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      std::string k = pair.substr(0, eq), v = eq == std::string::npos ? "" : pair.substr(eq + 1);
      for (auto* s : {&k, &v})
        for (auto& c : *s)
          if (c == '+') c = ' ';
      std::string dk, dv;
      try {
        Poco::URI::decode(k, dk);
        Poco::URI::decode(v, dv);
      } catch (const Poco::Exception&) {
        dk = k;  // a malformed escape is kept literally rather than dropped
        dv = v;
      }
      out.emplace_back(std::move(dk), std::move(dv));
    }
    start = end + 1;
  }
  return out;
}

std::string AppendQuery(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  // Forms write spaces as '+'; UrlEscape escapes '%' itself, so every
  // "%20" in the query is a space.
  const std::string query = QueryEncode(fields);
  std::string out;
  for (size_t i = 0; i < query.size(); ++i) {
    if (query.compare(i, 3, "%20") == 0) {
      out += '+';
      i += 2;
    } else {
      out += query[i];
    }
  }
  return out;
}

namespace {

// A request the outbound policy forbids: thrown from inside POCO's
// connect, caught in Do(), never retried.
class OutboundRefused : public Poco::Net::NetException {
 public:
  explicit OutboundRefused(const std::string& message) : Poco::Net::NetException(message) {}
  const char* name() const noexcept override { return "Refused by the outbound policy"; }
  const char* className() const noexcept override { return "OutboundRefused"; }
  Poco::Exception* clone() const override { return new OutboundRefused(*this); }
  void rethrow() const override { throw *this; }
};

using SteadyClock = std::chrono::steady_clock;

// How a watched request ended.
enum class Ending { kInTime, kLate, kAborted };

// The total deadline of every request in progress: one thread per client,
// made at its first request and kept, that shuts down the socket of a
// request still running at its deadline (or of every request, on Abort()),
// which wakes the request's blocked read or write at once. It shuts down a
// dup() of the socket, never the request's own descriptor, so a descriptor
// POCO closed and the kernel reused for another connection is never
// touched.
//
// The thread is woken only when a new deadline comes before the one it
// sleeps until. Every request has the same length of deadline, so one
// begun later ends later: a client posting request after request (a hook
// at batch 1) wakes it about once a deadline, not once a request, and a
// request costs no thread switch. Waking late is harmless: the thread
// checks every request in progress whenever it wakes.
class Watchdog {
 public:
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  uint64_t Begin(SteadyClock::time_point deadline) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    const uint64_t id = next_id_++;
    Watch& w = watches_[id];
    w.deadline = deadline;
    if (aborted_) w.ending = Ending::kAborted;
    if (deadline < wake_at_) cv_.notify_all();
    return id;
  }

  // The socket request `id` now uses (after a connect, or a reused
  // keep-alive connection); shut down at once when the request is
  // already late or aborted.
  void Arm(uint64_t id, int sockfd) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watches_.find(id);
    if (it == watches_.end() || sockfd < 0) return;
    Watch& w = it->second;
    if (w.fd >= 0) ::close(w.fd);
    w.fd = ::fcntl(sockfd, F_DUPFD_CLOEXEC, 0);
    if (w.ending != Ending::kInTime && w.fd >= 0) ::shutdown(w.fd, SHUT_RDWR);
  }

  Ending Current(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watches_.find(id);
    return it == watches_.end() ? Ending::kInTime : it->second.ending;
  }

  Ending End(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watches_.find(id);
    if (it == watches_.end()) return Ending::kInTime;
    const Ending ending = it->second.ending;
    if (it->second.fd >= 0) ::close(it->second.fd);
    watches_.erase(it);
    return ending;
  }

  void AbortAll() {
    std::lock_guard<std::mutex> lock(mu_);
    aborted_ = true;
    for (auto& [id, w] : watches_) {
      if (w.ending == Ending::kInTime) w.ending = Ending::kAborted;
      if (w.fd >= 0) ::shutdown(w.fd, SHUT_RDWR);
    }
  }

  bool aborted() {
    std::lock_guard<std::mutex> lock(mu_);
    return aborted_;
  }

 private:
  struct Watch {
    SteadyClock::time_point deadline;
    int fd = -1;  // our dup of the request's socket
    Ending ending = Ending::kInTime;
  };

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      auto next = SteadyClock::time_point::max();
      const auto now = SteadyClock::now();
      for (auto& [id, w] : watches_) {
        if (w.ending != Ending::kInTime) continue;
        if (w.deadline <= now) {
          w.ending = Ending::kLate;
          if (w.fd >= 0) ::shutdown(w.fd, SHUT_RDWR);
        } else {
          next = std::min(next, w.deadline);
        }
      }
      wake_at_ = next;
      if (next == SteadyClock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Watch> watches_;
  uint64_t next_id_ = 1;
  // When the thread wakes by itself (max: only when notified). A Begin
  // before the thread first waits needs no wake: it looks before waiting.
  SteadyClock::time_point wake_at_ = SteadyClock::time_point::max();
  bool aborted_ = false;
  bool quit_ = false;
  std::thread thread_;
};

// What a session needs to know about the request it serves when it has
// to connect.
struct RequestContext {
  const OutboundPolicy* policy = nullptr;
  Watchdog* watchdog = nullptr;
  uint64_t watch_id = 0;
  SteadyClock::time_point deadline;
  int timeout_seconds = 30;
};

// The address to connect to for `host`: resolved once, checked against
// the policy; the first allowed address, or OutboundRefused naming what
// the host resolved to.
Poco::Net::SocketAddress CheckedAddress(const std::string& host, uint16_t port, const OutboundPolicy& policy) {
  std::vector<Poco::Net::IPAddress> candidates;
  Poco::Net::IPAddress literal;
  if (Poco::Net::IPAddress::tryParse(host, literal)) {
    candidates.push_back(literal);
  } else {
    candidates = Poco::Net::DNS::hostByName(host).addresses();
  }
  std::string first_refusal;
  for (const auto& address : candidates) {
    const std::string refusal = policy.Refusal(address.toString());
    if (refusal.empty()) return Poco::Net::SocketAddress(address, port);
    if (first_refusal.empty()) first_refusal = refusal;
  }
  if (candidates.empty()) throw Poco::Net::HostNotFoundException(host);
  const bool named = candidates.size() != 1 || candidates[0].toString() != host;
  throw OutboundRefused("refused by the outbound policy: " + first_refusal +
                        (named ? " (the address of " + host + ")" : std::string()) + "; outbound_allow can allow it");
}

// A POCO session whose every connection goes to the address CheckedAddress
// approved, never to one POCO resolves by itself: POCO passes the result
// of its own lookup to connect(), which is ignored. The session's host
// stays the URL's, for the Host header, SNI and the certificate check.
template <class Base>
class PinnedSession : public Base {
 public:
  using Base::Base;

  void Serve(const RequestContext& context) { context_ = context; }

 protected:
  void connect(const Poco::Net::SocketAddress&) override {
    const auto late = [this] {
      const Ending ending = context_.watchdog->Current(context_.watch_id);
      if (ending == Ending::kAborted) throw Poco::Net::NetException("aborted");
      const auto left = context_.deadline - SteadyClock::now();
      if (ending == Ending::kLate || left <= SteadyClock::duration::zero()) throw Poco::TimeoutException("deadline");
      return std::chrono::duration_cast<std::chrono::microseconds>(left);
    };
    const Poco::Net::SocketAddress target = CheckedAddress(this->getHost(), this->getPort(), *context_.policy);
    const auto left = late();
    const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(
        std::min<int64_t>(left.count(), int64_t{context_.timeout_seconds} * 1000000)));
    const Poco::Timespan io(context_.timeout_seconds, 0);
    this->setTimeout(timeout, io, io);
    if constexpr (std::is_base_of_v<Poco::Net::HTTPSClientSession, Base>) {
      // The handshake waits until the watchdog has the socket, so a
      // server dripping its certificate is cut off too.
      Poco::Net::SecureStreamSocket(this->socket()).setLazyHandshake(true);
    }
    Base::connect(target);
    context_.watchdog->Arm(context_.watch_id, this->socket().impl()->sockfd());
    if constexpr (std::is_base_of_v<Poco::Net::HTTPSClientSession, Base>) {
      // OpenSSL checks the chain during the handshake; the name check is
      // POCO's, and a lazy handshake skips it unless asked.
      Poco::Net::SecureStreamSocket tls(this->socket());
      tls.completeHandshake();
      if (tls.context()->verificationMode() != Poco::Net::Context::VERIFY_NONE) tls.verifyPeerCertificate();
    }
  }

 private:
  RequestContext context_;
};

using PlainSession = PinnedSession<Poco::Net::HTTPClientSession>;
using TlsSession = PinnedSession<Poco::Net::HTTPSClientSession>;

Poco::Net::Context::Ptr NewTlsContext(bool verify, const std::string& ca_file) {
  // Client side: the chain is verified (SSL_VERIFY_PEER) and POCO's
  // extended verification checks the name against the URL's host.
  // VERIFY_STRICT, not RELAXED: RELAXED skips the name check for hosts
  // that resolve to this machine, which for a channel's URL proves
  // nothing.
  if (!verify)
    return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_NONE, 9,
                                  false);
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ca_file,
                                                           Poco::Net::Context::VERIFY_STRICT, 9, true);
  context->enableExtendedCertificateVerification(true);
  return context;
}

// The context trusting the system's CAs, made once per process and shared
// by its clients: making one parses the whole CA bundle, a few
// milliseconds, and under ASan a tenth of a second, which a process making
// a client per task (the handler tests make one per case) paid each time.
// A context is not changed once made and OpenSSL serves many connections
// from one. Never freed, so no client outlives it at exit; a throw (an
// unreadable bundle) leaves it unmade, for the next client to try again.
Poco::Net::Context::Ptr SystemTlsContext() {
  static const auto* made = new Poco::Net::Context::Ptr(NewTlsContext(true, ""));
  return *made;
}

uint64_t NextClientId() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

class PocoHttpClient : public HttpClient {
 public:
  explicit PocoHttpClient(HttpClientOptions options)
      : options_(std::move(options)) {
    // An operator's CA file is read now, so that a bad one stops the
    // daemon at start rather than failing every https send.
    if (!options_.ca_file.empty()) verified_ = NewTlsContext(true, options_.ca_file);
  }

  void Abort() override { watchdog_.AbortAll(); }

  HttpExchange Do(const HttpRequestSpec& spec) override {
    HttpExchange ex;
    ex.method = spec.method;
    ex.url = spec.url;
    auto start = SteadyClock::now();
    RequestContext context;
    context.policy = &options_.outbound;
    context.watchdog = &watchdog_;
    context.deadline = start + std::chrono::seconds(options_.deadline_seconds);
    context.timeout_seconds = options_.timeout_seconds;
    context.watch_id = watchdog_.Begin(context.deadline);
    Poco::Net::HTTPClientSession* used = nullptr;
    bool framed = true;  // the answer's end was announced (length or chunks), not a close
    try {
      Poco::URI uri(spec.url);
      if (uri.getScheme() != "http" && uri.getScheme() != "https") {
        ex.error = "unsupported URL scheme: " + spec.url;
        watchdog_.End(context.watch_id);
        return ex;
      }
      std::string path = uri.getPathAndQuery();
      if (path.empty()) path = "/";
      Poco::Net::HTTPRequest request(spec.method, path, Poco::Net::HTTPMessage::HTTP_1_1);
      request.setHost(uri.getHost(), uri.getPort());
      request.set("User-Agent", options_.user_agent);
      for (const auto& [k, v] : spec.headers) request.set(k, v);
      std::string user = spec.basic_user, password = spec.basic_password;
      if (user.empty() && password.empty() && !uri.getUserInfo().empty()) {
        // https://user:password@host/ means Basic auth, as in curl and Go
        // (the reference): the userinfo never goes on the wire as such.
        const std::string info = uri.getUserInfo();
        const size_t colon = info.find(':');
        user = info.substr(0, colon);
        if (colon != std::string::npos) password = info.substr(colon + 1);
      }
      if (!user.empty() || !password.empty()) {
        std::ostringstream token;
        Poco::Base64Encoder enc(token);
        enc.rdbuf()->setLineLength(0);
        enc << user << ':' << password;
        enc.close();
        request.set("Authorization", "Basic " + token.str());
      }
      bool has_body = !spec.body.empty() || spec.method == "POST" || spec.method == "PUT";
      if (has_body) request.setContentLength(static_cast<std::streamsize>(spec.body.size()));

      std::ostringstream dump;
      request.write(dump);
      dump << spec.body;
      ex.request_dump = dump.str();

      // Retry once on a stale keep-alive connection: the first write on
      // a connection the server already closed fails without the server
      // having seen the request. Once an answer has begun, the server has
      // seen it: a failure then (a body too large, a connection cut
      // mid-body) is never retried, or a send could go twice.
      for (int attempt = 0; attempt < 2; ++attempt) {
        bool answered = false;
        Poco::Net::HTTPClientSession& session = Session(uri, spec.verify_tls, context);
        used = &session;
        bool reused = session.connected();
        if (reused) watchdog_.Arm(context.watch_id, session.socket().impl()->sockfd());
        try {
          std::ostream& out = session.sendRequest(request);
          if (has_body) out.write(spec.body.data(), static_cast<std::streamsize>(spec.body.size()));
          Poco::Net::HTTPResponse response;
          std::istream& in = session.receiveResponse(response);
          answered = true;
          framed = response.hasContentLength() || response.getChunkedTransferEncoding();
          std::string body;
          ReadLimited(in, body);
          ex.status_code = static_cast<int>(response.getStatus());
          std::ostringstream rd;
          rd << "HTTP/1.1 " << ex.status_code << ' ' << response.getReason() << "\r\n";
          for (const auto& [k, v] : response) {
            ex.headers[ToLower(k)] = v;
            rd << k << ": " << v << "\r\n";
          }
          rd << "\r\n" << body;
          ex.response_dump = rd.str();
          ex.body = std::move(body);
          if (!response.getKeepAlive()) session.reset();
          break;
        } catch (const OutboundRefused&) {
          session.reset();
          throw;
        } catch (const Poco::Net::NetException& e) {
          session.reset();
          if (!reused || answered || attempt == 1 || watchdog_.Current(context.watch_id) != Ending::kInTime) throw;
        } catch (const Poco::IOException& e) {
          session.reset();
          if (!reused || answered || attempt == 1 || watchdog_.Current(context.watch_id) != Ending::kInTime) throw;
        }
      }
    } catch (const OutboundRefused& e) {
      ex.refused = true;
      ex.error = e.message();
    } catch (const Poco::TimeoutException& e) {
      ex.error = "timeout: " + e.displayText();
    } catch (const Poco::Exception& e) {
      ex.error = e.displayText();
    } catch (const std::exception& e) {
      ex.error = e.what();
    }
    const Ending ending = watchdog_.End(context.watch_id);
    // Cut off by the watchdog. An answer whose end was announced and came
    // whole before the cut stands; one that ends at the connection's
    // close may be a truncated one.
    if (ending != Ending::kInTime && !ex.refused && (!ex.error.empty() || !framed)) {
      if (used != nullptr) used->reset();
      ex.status_code = 0;
      ex.headers.clear();
      ex.body.clear();
      ex.error = ending == Ending::kLate
                     ? "deadline exceeded: no whole answer within " + std::to_string(options_.deadline_seconds) + " s"
                     : "aborted: stopping, outcome unknown";
    }
    ex.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
    return ex;
  }

 private:
  void ReadLimited(std::istream& in, std::string& body) {
    char buf[16384];
    while (in) {
      in.read(buf, sizeof buf);
      body.append(buf, static_cast<size_t>(in.gcount()));
      if (body.size() > static_cast<size_t>(options_.max_response_bytes))
        throw Poco::IOException("response larger than " + std::to_string(options_.max_response_bytes) + " bytes");
    }
  }

  // One session per (thread, scheme, host, port, tls mode): keep-alive
  // reuse without sharing a connection between threads.
  Poco::Net::HTTPClientSession& Session(const Poco::URI& uri, bool verify, const RequestContext& context) {
    std::string key = uri.getScheme() + "://" + uri.getHost() + ":" + std::to_string(uri.getPort()) +
                      (verify ? "" : "#insecure");
    // Keyed by a per-instance id, never by address: a client created
    // where a dead one lived must not inherit its sessions.
    thread_local std::unordered_map<uint64_t, std::unordered_map<std::string, std::unique_ptr<Poco::Net::HTTPClientSession>>> per_client;
    auto& sessions = per_client[id_];
    auto& slot = sessions[key];
    if (!slot) {
      if (uri.getScheme() == "https")
        slot = std::make_unique<TlsSession>(uri.getHost(), uri.getPort(), TlsContext(verify));
      else
        slot = std::make_unique<PlainSession>(uri.getHost(), uri.getPort());
      Poco::Timespan timeout(options_.timeout_seconds, 0);
      slot->setTimeout(timeout, timeout, timeout);
      slot->setKeepAlive(true);
      slot->setKeepAliveTimeout(Poco::Timespan(30, 0));
    }
    if (auto* tls = dynamic_cast<TlsSession*>(slot.get())) tls->Serve(context);
    else static_cast<PlainSession*>(slot.get())->Serve(context);
    return *slot;
  }

  // Made on the first https request. A daemon that never calls out over
  // TLS (an idle one, or courier-recv on most channels) then never
  // initialises OpenSSL nor parses the CA bundle, which cost 3 MiB of
  // its memory at start. Two independent contexts: skipping verification
  // for one channel (Kannel verify_ssl=false) never weakens another's.
  Poco::Net::Context::Ptr TlsContext(bool verify) {
    std::lock_guard<std::mutex> lock(tls_mu_);
    Poco::Net::Context::Ptr& context = verify ? verified_ : unverified_;
    if (context.isNull()) context = verify ? SystemTlsContext() : NewTlsContext(false, "");
    return context;
  }

  HttpClientOptions options_;
  std::mutex tls_mu_;
  Poco::Net::Context::Ptr verified_;
  Poco::Net::Context::Ptr unverified_;
  Watchdog watchdog_;
  const uint64_t id_ = NextClientId();
};

}  // namespace

std::unique_ptr<HttpClient> NewPocoHttpClient(const HttpClientOptions& options) {
  return std::make_unique<PocoHttpClient>(options);
}

}  // namespace courier
