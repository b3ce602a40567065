#include "http/http_client.h"

#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
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

Poco::Net::Context::Ptr TlsContext(bool verify) {
  // Two independent contexts: skipping verification for one channel
  // (Kannel verify_ssl=false) never weakens another's.
  static Poco::Net::Context::Ptr verified = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
  static Poco::Net::Context::Ptr unverified = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", "", "", Poco::Net::Context::VERIFY_NONE, 9, false);
  return verify ? verified : unverified;
}

uint64_t NextClientId() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

class PocoHttpClient : public HttpClient {
 public:
  explicit PocoHttpClient(HttpClientOptions options) : options_(std::move(options)) {}

  HttpExchange Do(const HttpRequestSpec& spec) override {
    HttpExchange ex;
    ex.method = spec.method;
    ex.url = spec.url;
    auto start = std::chrono::steady_clock::now();
    try {
      Poco::URI uri(spec.url);
      if (uri.getScheme() != "http" && uri.getScheme() != "https") {
        ex.error = "unsupported URL scheme: " + spec.url;
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
      // having seen the request.
      for (int attempt = 0; attempt < 2; ++attempt) {
        Poco::Net::HTTPClientSession& session = Session(uri, spec.verify_tls);
        bool reused = session.connected();
        try {
          std::ostream& out = session.sendRequest(request);
          if (has_body) out.write(spec.body.data(), static_cast<std::streamsize>(spec.body.size()));
          Poco::Net::HTTPResponse response;
          std::istream& in = session.receiveResponse(response);
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
        } catch (const Poco::Net::NetException& e) {
          session.reset();
          if (!reused || attempt == 1) throw;
        } catch (const Poco::IOException& e) {
          session.reset();
          if (!reused || attempt == 1) throw;
        }
      }
    } catch (const Poco::TimeoutException& e) {
      ex.error = "timeout: " + e.displayText();
    } catch (const Poco::Exception& e) {
      ex.error = e.displayText();
    } catch (const std::exception& e) {
      ex.error = e.what();
    }
    ex.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
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
  Poco::Net::HTTPClientSession& Session(const Poco::URI& uri, bool verify) {
    std::string key = uri.getScheme() + "://" + uri.getHost() + ":" + std::to_string(uri.getPort()) +
                      (verify ? "" : "#insecure");
    // Keyed by a per-instance id, never by address: a client created
    // where a dead one lived must not inherit its sessions.
    thread_local std::unordered_map<uint64_t, std::unordered_map<std::string, std::unique_ptr<Poco::Net::HTTPClientSession>>> per_client;
    auto& sessions = per_client[id_];
    auto& slot = sessions[key];
    if (!slot) {
      if (uri.getScheme() == "https")
        slot = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), TlsContext(verify));
      else
        slot = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
      Poco::Timespan timeout(options_.timeout_seconds, 0);
      slot->setTimeout(timeout, timeout, timeout);
      slot->setKeepAlive(true);
      slot->setKeepAliveTimeout(Poco::Timespan(30, 0));
    }
    return *slot;
  }

  HttpClientOptions options_;
  const uint64_t id_ = NextClientId();
};

}  // namespace

std::unique_ptr<HttpClient> NewPocoHttpClient(const HttpClientOptions& options) {
  return std::make_unique<PocoHttpClient>(options);
}

}  // namespace courier
