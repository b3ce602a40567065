// The HTTP client against hostile or misplaced providers (invariant 8): the
// outbound policy refuses internal addresses before any connection, a
// tarpit cannot hold a request past its total deadline, Abort() ends
// requests in progress, and https is verified (chain and host name).
#include <gtest/gtest.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "http/http_client.h"
#include "loopback_client.h"
#include "mock_provider.h"
#include "tarpit_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

std::string Port(const std::string& url) { return url.substr(url.rfind(':') + 1); }

// An answer too large, on a keep-alive connection, is one request: the
// retry kept for stale connections must not repeat a request the server
// has answered (a send would go twice).
TEST(HttpClientOutboundTest, AFailureAfterTheAnswerBeganIsNotRetried) {
  MockProvider provider;
  provider.On("/small", {.body = "{}"});
  provider.On("/huge", {.body = std::string(64 * 1024, 'x')});
  HttpClientOptions options;
  options.max_response_bytes = 1024;
  auto client = NewLoopbackHttpClient(options);
  HttpRequestSpec small;
  small.url = provider.url() + "/small";
  ASSERT_TRUE(client->Do(small).ok());  // leaves a keep-alive connection to reuse
  HttpRequestSpec huge;
  huge.method = "POST";
  huge.url = provider.url() + "/huge";
  huge.body = "send once";
  HttpExchange ex = client->Do(huge);
  EXPECT_EQ(ex.status_code, 0);
  EXPECT_NE(ex.error.find("response larger than 1024 bytes"), std::string::npos) << ex.error;
  EXPECT_EQ(provider.requests().size(), 2u);
}

TEST(HttpClientOutboundTest, DefaultPolicyRefusesInternalAddressesWithoutConnecting) {
  MockProvider provider;
  provider.SetDefault({.status = 200, .body = "{\"secret\":\"instance credentials\"}"});
  const std::string port = Port(provider.url());
  struct Case {
    std::string url;
    std::string refusal;  // in the error
  };
  const Case cases[] = {
      {"http://127.0.0.1:" + port + "/send", "127.0.0.1 is loopback"},
      {"http://localhost:" + port + "/send", "(the address of localhost)"},
      {"http://[::1]:" + port + "/send", "::1 is loopback"},
      {"http://[::ffff:127.0.0.1]:" + port + "/send", "127.0.0.1 is loopback"},
      {"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254 is link-local"},
      {"http://10.20.30.40:8080/api", "10.20.30.40 is private"},
      {"https://192.168.1.1/", "192.168.1.1 is private"},
      {"http://0.0.0.0:" + port + "/", "0.0.0.0 is unspecified"},
  };
  auto http = NewPocoHttpClient();  // the default options: the default policy
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    HttpRequestSpec req;
    req.method = "POST";
    req.url = c.url;
    req.body = "text=hi";
    HttpExchange ex = http->Do(req);
    EXPECT_TRUE(ex.refused);
    EXPECT_EQ(ex.status_code, 0);
    EXPECT_NE(ex.error.find("refused by the outbound policy"), std::string::npos) << ex.error;
    EXPECT_NE(ex.error.find(c.refusal), std::string::npos) << ex.error;
    EXPECT_EQ(ex.body, "");
    EXPECT_EQ(ex.response_dump, "");
  }
  EXPECT_EQ(provider.count(), 0u);  // no request reached the loopback server
}

TEST(HttpClientOutboundTest, AllowListReachesItsNetworksOnly) {
  MockProvider provider;
  provider.SetDefault({.status = 200, .body = "ok"});
  HttpClientOptions options;
  options.outbound = *OutboundPolicy::WithAllowList("127.0.0.0/8");
  auto http = NewPocoHttpClient(options);
  HttpRequestSpec req;
  req.url = provider.url() + "/ping";
  EXPECT_EQ(http->Do(req).status_code, 200);
  // The host name's loopback addresses: ::1 is not allowed, 127.0.0.1 is.
  req.url = "http://localhost:" + Port(provider.url()) + "/by-name";
  HttpExchange by_name = http->Do(req);
  EXPECT_EQ(by_name.status_code, 200) << by_name.error;
  req.url = "http://[::1]:" + Port(provider.url()) + "/v6";
  EXPECT_TRUE(http->Do(req).refused);
  req.url = "http://169.254.169.254/";
  EXPECT_TRUE(http->Do(req).refused);
  ASSERT_EQ(provider.count(), 2u);
  // The Host header is the URL's host, not the address connected to.
  EXPECT_EQ(provider.requests()[1].headers.at("host"), "localhost:" + Port(provider.url()));
}

TEST(HttpClientOutboundTest, TarpitIsCutOffAtTheTotalDeadline) {
  TarpitServer tarpit(/*drip_ms=*/100, /*max_bytes=*/600);  // 60 s of bytes, 0.1 s apart
  HttpClientOptions options;
  options.timeout_seconds = 5;   // each byte comes well within it
  options.deadline_seconds = 1;  // the whole answer does not
  auto http = NewLoopbackHttpClient(options);
  HttpRequestSpec req;
  req.method = "POST";
  req.url = tarpit.url() + "/send";
  req.body = "text=hi";
  HttpExchange ex = http->Do(req);
  EXPECT_EQ(ex.status_code, 0);
  EXPECT_FALSE(ex.refused);
  EXPECT_EQ(ex.error, "deadline exceeded: no whole answer within 1 s");
  EXPECT_EQ(tarpit.connections(), 1);
}

TEST(HttpClientOutboundTest, AbortEndsRequestsInProgressAndRefusesLaterOnes) {
  TarpitServer tarpit(100, 600);
  HttpClientOptions options;
  options.timeout_seconds = 5;
  options.deadline_seconds = 120;
  auto http = NewLoopbackHttpClient(options);
  HttpRequestSpec req;
  req.url = tarpit.url() + "/send";
  HttpExchange in_progress;
  std::thread sender([&] { in_progress = http->Do(req); });
  ASSERT_TRUE(tarpit.WaitForConnections(1));
  http->Abort();
  sender.join();
  EXPECT_EQ(in_progress.status_code, 0);
  EXPECT_EQ(in_progress.error, "aborted: stopping, outcome unknown");
  HttpExchange later = http->Do(req);
  EXPECT_EQ(later.error, "aborted: stopping, outcome unknown");
  EXPECT_EQ(tarpit.connections(), 1);
}

// ---- TLS ----

// A CA and two certificates it signs, made with the openssl CLI in a
// fresh directory: one for localhost/127.0.0.1, one for another name.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/courier-pki-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string d = dir_;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    Run("openssl req -x509" + ec + "-keyout " + d + "/ca.key -out " + d + "/ca.pem -days 2 -subj '/CN=Courier Test CA'" +
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    Issue("good", "localhost", "DNS:localhost,IP:127.0.0.1");
    Issue("wrong", "wrong.example", "DNS:wrong.example");
  }
  ~TestPki() { Run("rm -rf " + dir_); }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }

 private:
  static void Run(const std::string& command) {
    ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
  }
  void Issue(const std::string& name, const std::string& cn, const std::string& san) {
    const std::string d = dir_;
    std::ofstream(d + "/" + name + ".ext") << "subjectAltName=" << san << "\n";
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d + "/" + name +
        ".key -out " + d + "/" + name + ".csr -subj '/CN=" + cn + "'");
    Run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/ca.pem -CAkey " + d +
        "/ca.key -CAcreateserial -days 2 -out " + d + "/" + name + ".pem -extfile " + d + "/" + name + ".ext");
  }
  std::string dir_;
};

// An https server on 127.0.0.1 answering every request 200 "ok" with the
// given certificate; counts the requests it answered.
class TlsServer {
 public:
  TlsServer(const std::string& key, const std::string& cert)
      : context_(new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key, cert, "",
                                        Poco::Net::Context::VERIFY_NONE)),
        socket_(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context_) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stopping_ = true;
    thread_.join();
  }
  int port() const { return socket_.address().port(); }
  int answered() const { return answered_; }

 private:
  void Serve() {
    while (!stopping_) {
      if (!socket_.poll(Poco::Timespan(0, 100000), Poco::Net::Socket::SELECT_READ)) continue;
      try {
        Poco::Net::SecureStreamSocket s = socket_.acceptConnection();
        s.setReceiveTimeout(Poco::Timespan(5, 0));
        std::string head;
        char buf[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
          int n = s.receiveBytes(buf, sizeof buf);
          if (n <= 0) break;
          head.append(buf, static_cast<size_t>(n));
        }
        if (head.find("\r\n\r\n") == std::string::npos) continue;
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        s.sendBytes(answer.data(), static_cast<int>(answer.size()));
        answered_++;
        s.close();
      } catch (const Poco::Exception&) {
        // A client that refused our certificate.
      }
    }
  }

  Poco::Net::Context::Ptr context_;
  Poco::Net::SecureServerSocket socket_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

TEST(HttpClientOutboundTest, HttpsVerifiesTheChainAndTheHostName) {
  TestPki pki;
  TlsServer good(pki.File("good.key"), pki.File("good.pem"));
  TlsServer wrong(pki.File("wrong.key"), pki.File("wrong.pem"));
  struct Case {
    const char* name;
    int port;
    bool trust_ca;    // outbound_ca_file set to the test CA
    bool verify_tls;  // false: Kannel's verify_ssl=false
    bool answered;
    const char* error;  // in the error when not answered
  };
  const Case cases[] = {
      {"trusted CA, right name", good.port(), true, true, true, ""},
      {"untrusted CA", good.port(), false, true, false, "certificate verify failed"},
      {"trusted CA, wrong name", wrong.port(), true, true, false, "localhost"},
      {"verification skipped by the channel", wrong.port(), false, false, true, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    HttpClientOptions options;
    options.outbound = *OutboundPolicy::WithAllowList("127.0.0.0/8");
    if (c.trust_ca) options.ca_file = pki.File("ca.pem");
    auto http = NewPocoHttpClient(options);
    HttpRequestSpec req;
    req.url = "https://localhost:" + std::to_string(c.port) + "/send";
    req.verify_tls = c.verify_tls;
    HttpExchange ex = http->Do(req);
    if (c.answered) {
      EXPECT_EQ(ex.status_code, 200) << ex.error;
      EXPECT_EQ(ex.body, "ok");
    } else {
      EXPECT_EQ(ex.status_code, 0);
      EXPECT_NE(ex.error.find(c.error), std::string::npos) << ex.error;
    }
  }
  EXPECT_EQ(good.answered(), 1);
  EXPECT_EQ(wrong.answered(), 1);
}

}  // namespace
