#pragma once
// HttpClient: how courier calls providers. One seam so handlers are tested
// against a local mock provider and sender tests can inject failures.
//
// Do() never throws: a connection failure, timeout or TLS error comes back
// as an exchange with status_code 0 and `error` set. Every exchange keeps
// the request and response as sent and received (headers and body) for the
// channel log; callers redact secrets before storing them.
//
// PocoHttpClient (invariant 8):
// - connects only where its OutboundPolicy allows: it resolves the URL's
//   host once per connection, checks the address and connects the socket
//   to exactly that address, while the Host header, TLS SNI and the
//   certificate's name check stay the URL's host. A refused request never
//   opens a connection and comes back with `refused` set.
// - gives every request a total deadline (connect, send and the whole
//   answer), enforced by a watchdog that shuts the socket down, so a
//   provider dripping a byte a second cannot hold a sender longer;
//   `timeout_seconds` still bounds each single connect, write and read.
// - verifies https certificates (the system's CAs plus `ca_file`) and the
//   host name always, unless the request says verify_tls = false (Kannel's
//   verify_ssl, the one per-channel opt-out the reference has).
// - reuses one keep-alive connection per host and thread; distinct threads
//   never share a connection. Thread-safe.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/outbound_policy.h"

namespace courier {

struct HttpRequestSpec {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool verify_tls = true;
  // Basic auth, sent as an Authorization header; when both are empty, the
  // userinfo of `url` (https://user:password@host/) is used instead.
  std::string basic_user;
  std::string basic_password;
};

struct HttpExchange {
  std::string method;
  std::string url;
  int status_code = 0;  // 0: no response
  std::string error;    // transport error text; "" when a response came
  std::map<std::string, std::string> headers;  // response headers, lower-case names
  std::string body;     // response body
  std::string request_dump;   // request line, headers, blank line, body
  std::string response_dump;  // status line, headers, blank line, body
  int64_t elapsed_ms = 0;
  // The outbound policy refused the address: no connection was made, and
  // no retry can help until the channel's URL or outbound_allow changes.
  bool refused = false;

  bool ok() const { return error.empty() && status_code >= 200 && status_code < 300; }
  std::string Header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpExchange Do(const HttpRequestSpec& request) = 0;
  // Ends the requests in progress at once (their exchanges say "aborted")
  // and makes later ones fail the same way without connecting: for a
  // process that is stopping. Safe from any thread.
  virtual void Abort() {}
};

struct HttpClientOptions {
  int timeout_seconds = 30;     // each connect, write and read
  int deadline_seconds = 30;    // the whole request: connect, send, whole answer
  int max_response_bytes = 10 << 20;
  std::string user_agent = "Courier/0.1";
  // Where requests may go; the default refuses internal addresses. Use
  // OutboundPolicy::Unrestricted() only for URLs the operator configures
  // for himself (webhooks to applications), never for a channel's.
  OutboundPolicy outbound;
  // PEM file (or directory) of CAs trusted beside the system's, for
  // on-premise gateways with their own CA; "" for the system's only.
  std::string ca_file;
};

std::unique_ptr<HttpClient> NewPocoHttpClient(const HttpClientOptions& options = {});

// application/x-www-form-urlencoded encoding of pairs, in order.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
// Pairs as a query string, each name and value percent-encoded (space as
// %20, which every server reads as a space; '+' is one only in forms).
std::string QueryEncode(const std::vector<std::pair<std::string, std::string>>& params);
// `url` with `query` added to its query string (after '?', or '&' when it
// has one already): for gateways whose send URL is configured with
// parameters of its own.
std::string AppendQuery(const std::string& url, const std::string& query);
// The name=value pairs of a query string or form body, decoded, in order;
// '+' is a space in both, as browsers and providers send them. A malformed
// escape is kept literally rather than dropped.
std::vector<std::pair<std::string, std::string>> DecodePairs(const std::string& text);
// Percent-encodes for a query component (space as %20).
std::string UrlEscape(const std::string& text);

}  // namespace courier
