// courier-recv against hostile clients, end to end: the real daemon on a
// free loopback port with a real SQLite store. Slow-loris connections (from
// 127.0.0.2, which Linux routes to lo like all of 127/8, so that they are
// another address than the real webhooks' 127.0.0.1), requests with
// hundreds of query parameters, and a SIGTERM while a body is arriving.
// Every real webhook must get a complete answer, and a 2xx means stored
// exactly once.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "courier_fixture.h"
#include "harness.h"

using namespace courier::testing;

namespace {

// A raw TCP client from a chosen loopback address.
class Socket {
 public:
  Socket(int port, const char* from, int read_timeout_s = 60) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    inet_pton(AF_INET, from, &source.sin_addr);
    bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source);
    timeval tv{read_timeout_s, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Socket() { close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  bool connected() const { return connected_; }

  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // One whole response (head and Content-Length body); "" when the
  // connection closed or the read timed out first.
  std::string ReadResponse() {
    std::string buffer;
    for (;;) {
      const auto end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buffer.substr(0, end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const auto cl = head.find("content-length:");
        const size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
        if (buffer.size() >= end + 4 + length) return buffer.substr(0, end + 4 + length);
      }
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return "";
      buffer.append(chunk, static_cast<size_t>(n));
    }
  }

  // True when the server closed or reset the connection, false when it
  // is still open after `seconds` with nothing to read.
  bool EndedWithin(int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

int StatusOf(const std::string& response) { return response.size() < 12 ? 0 : std::stoi(response.substr(9, 3)); }

std::string FormPost(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: courier\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class RecvHostileTest : public CourierFixture {
 protected:
  void SetUp() override {
    InitStore();
    ex_ = AddReceiveOnlyExternal();
    kn_ = AddReceiveOnlyKannel();
  }

  size_t CountMsgs() { return Lines(Ctl({"msgs", "list", "--limit", "100000", "--json"}).out).size(); }

  // A real EX webhook from 127.0.0.1 on its own connection: its status.
  int Webhook(int i) {
    Socket s(port_, "127.0.0.1", 30);
    if (!s.connected()) return 0;
    s.Send(FormPost("/c/ex/" + ex_ + "/receive", "from=0788383383&text=webhook+" + std::to_string(i)));
    return StatusOf(s.ReadResponse());
  }

  std::string ex_, kn_;
};

// Slow-loris from one address: each connection sends its request line and
// then a header byte now and then, never finishing. The finding: 1,100 of
// them filled libmicrohttpd's ~1,000 connection slots and real webhooks
// timed out. With the per-IP limit the attacker holds at most 256.
TEST_F(RecvHostileTest, SlowLorisFromOneAddressDoesNotKeepWebhooksOut) {
  StartRecv();
  const std::string start = "POST /c/ex/" + ex_ + "/receive HTTP/1.1\r\nHost: courier\r\nX-Slow: ";
  std::vector<std::unique_ptr<Socket>> attackers;
  for (int i = 0; i < 1100; ++i) {
    attackers.push_back(std::make_unique<Socket>(port_, "127.0.0.2"));
    attackers.back()->Send(start);
  }
  std::atomic<bool> done{false};
  std::thread trickle([&]() {
    while (!done) {
      for (auto& a : attackers) a->Send("x");  // well within the idle timeout
      for (int i = 0; i < 20 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Let the server take all it will of the attack before the webhooks come.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int webhooks = 20;
  int accepted = 0;
  for (int i = 0; i < webhooks; ++i) {
    const int status = Webhook(i);
    EXPECT_EQ(status, 200) << "webhook " << i;
    if (status != 200) break;  // kept out: the rest would be too
    ++accepted;
  }
  done = true;
  trickle.join();
  attackers.clear();
  EXPECT_EQ(accepted, webhooks);
  EXPECT_EQ(CountMsgs(), static_cast<size_t>(accepted));
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

// A connection trickling its headers never lets the idle timeout fire; the
// read deadline closes it all the same, and webhooks flow meanwhile.
TEST_F(RecvHostileTest, ATricklingConnectionIsClosedAtTheReadDeadline) {
  StartRecv({"--request-read-timeout", "2"});
  Socket slow(port_, "127.0.0.2");
  slow.Send("POST /c/ex/" + ex_ + "/receive HTTP/1.1\r\nHost: courier\r\n");
  bool ended = false;
  for (int i = 0; i < 120 && !ended; ++i) {
    slow.Send("X");
    ended = slow.EndedWithin(1);
  }
  EXPECT_TRUE(ended) << "the trickling connection was never closed";
  EXPECT_EQ(Webhook(1), 200);
  EXPECT_EQ(CountMsgs(), 1u);
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

// Hundreds of query parameters (Kannel's get-url puts everything in the
// query) are served; a query over the URI limit is refused 414 in JSON,
// at once, every time.
TEST_F(RecvHostileTest, ManyQueryParametersAreServedAndAnOverlongQueryIsRefused) {
  StartRecv();
  std::string padding;
  for (int i = 0; i < 600; ++i) padding += "&x" + std::to_string(i) + "=1";
  {
    Socket s(port_, "127.0.0.1", 20);
    s.Send("GET /c/kn/" + kn_ + "/receive?id=k1&ts=1500000000&message=hi&sender=0788383383" + padding +
           " HTTP/1.1\r\nHost: courier\r\n\r\n");
    const auto response = s.ReadResponse();
    EXPECT_EQ(StatusOf(response), 200) << response.substr(0, 300);
  }
  for (int i = 0; i < 6; ++i) padding += padding.substr(0, 6000);  // ~ 40 kB
  for (int round = 0; round < 50; ++round) {
    Socket s(port_, "127.0.0.1", 20);
    s.Send("GET /c/kn/" + kn_ + "/receive?id=k2&ts=1500000000&message=hi&sender=0788383383" + padding +
           " HTTP/1.1\r\nHost: courier\r\n\r\n");
    const auto response = s.ReadResponse();
    ASSERT_EQ(StatusOf(response), 414) << "round " << round << ": " << response.substr(0, 300);
    EXPECT_NE(response.find("request URI too long"), std::string::npos) << response;
  }
  EXPECT_EQ(CountMsgs(), 1u);
  EXPECT_EQ(recv_->Stop(), 0) << recv_->log();
}

// SIGTERM while a webhook's body is arriving: the request is in progress,
// so it is served when the rest comes within the drain, and stored once.
TEST_F(RecvHostileTest, SigtermWhileABodyArrivesServesItWhenTheRestComes) {
  StartRecv();
  const std::string request = FormPost("/c/ex/" + ex_ + "/receive", "from=0788383383&text=half+and+half");
  const size_t half = request.size() - 8;
  Socket s(port_, "127.0.0.1");
  s.Send(request.substr(0, half));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // read up to the body
  kill(recv_->pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the stop under way
  s.Send(request.substr(half));
  const auto response = s.ReadResponse();
  ASSERT_FALSE(response.empty()) << "dropped without an answer\n" << recv_->log();
  // 200 when the server had begun the request before the signal (it had
  // half a second to), 503 when it had not: never anything else, and a
  // 200 is stored. (That a begun request is served, the unit tests show
  // without depending on timing.)
  EXPECT_TRUE(StatusOf(response) == 200 || StatusOf(response) == 503) << response;
  EXPECT_EQ(recv_->Stop(0), 0) << recv_->log();  // signal 0: a second SIGTERM means stop at once
  EXPECT_EQ(CountMsgs(), StatusOf(response) == 200 ? 1u : 0u) << response << "\n" << recv_->log();
}

// ...and answered 503 when the rest never comes.
TEST_F(RecvHostileTest, SigtermWhileABodyArrivesAnswers503WhenTheRestNeverComes) {
  StartRecv();
  const std::string request = FormPost("/c/ex/" + ex_ + "/receive", "from=0788383383&text=never+finished");
  Socket s(port_, "127.0.0.1");
  s.Send(request.substr(0, request.size() - 8));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(recv_->pid(), SIGTERM);
  const auto response = s.ReadResponse();
  EXPECT_EQ(StatusOf(response), 503) << response << "\n" << recv_->log();
  EXPECT_NE(response.find("shutting down"), std::string::npos) << response;
  EXPECT_EQ(recv_->Stop(0), 0) << recv_->log();
  EXPECT_EQ(CountMsgs(), 0u);
}

}  // namespace
