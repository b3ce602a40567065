// What courier-recv refuses, end to end on raw sockets: every refusal is
// exactly one well-formed HTTP response carrying the JSON error envelope
// (also those libmicrohttpd would answer by itself), is counted by reason
// on the control socket and leaves a log line with reason, path and
// remote address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "bus/bus.h"
#include "core/json.h"
#include "harness.h"

using namespace courier;
using namespace courier::testing;

namespace {

// Writes `request` on a new connection and reads until the server closes
// it (or 10 s pass).
std::string RawExchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    for (size_t sent = 0; sent < request.size();) {
      const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    char chunk[4096];
    for (ssize_t n; (n = recv(fd, chunk, sizeof chunk, 0)) > 0;) got.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return got;
}

struct Parsed {
  int status = 0;
  std::string head, body, rest;  // rest: whatever followed the one response
};

Parsed Parse(const std::string& raw) {
  Parsed p;
  const size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return p;
  p.status = std::stoi(raw.substr(9, 3));
  p.head = raw.substr(0, end);
  std::string lower = p.head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t cl = lower.find("content-length:");
  const size_t length = cl == std::string::npos ? 0 : std::stoul(p.head.substr(cl + 15));
  p.body = raw.substr(end + 4, length);
  p.rest = raw.substr(std::min(raw.size(), end + 4 + length));
  return p;
}

class RecvRefusalsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")}, {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},   {"COURIER_PORT", std::to_string(port_)},
            {"COURIER_ADDRESS", "127.0.0.1"},        {"COURIER_LOG_LEVEL", "info"}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
    ex_ = Ctl({"channel", "add", "--type", "EX", "--address", "1234", "--country", "RW"}).out.substr(0, 36);
    tg_ = Ctl({"channel", "add", "--type", "TG", "--address", "bot", "--config", "auth_token=1:t"}).out.substr(0, 36);
  }
  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, "", env_);
  }

  TempDir dir_;
  int port_ = 0;
  std::map<std::string, std::string> env_;
  std::string ex_, tg_;
};

TEST_F(RecvRefusalsTest, EveryRefusalIsOneEnvelopeACounterAndALogLine) {
  Daemon recv({Bin("courier-recv")}, env_, dir_.File("recv.log"));
  ASSERT_TRUE(recv.WaitForHttp(port_)) << recv.log();
  const std::string unknown = "0b4d2b1e-5f0c-4e43-9d3a-2a7f3c8e9d10";
  auto post = [](const std::string& path, const std::string& body, const std::string& type =
                                                                       "application/x-www-form-urlencoded") {
    return "POST " + path + " HTTP/1.1\r\nHost: h\r\nContent-Type: " + type +
           "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  struct Case {
    const char* name;
    std::string request;
    int status;
    const char* reason;
    std::string path;  // as logged
  };
  const std::string receive = "/c/ex/" + ex_ + "/receive";
  const std::vector<Case> cases = {
      {"unknown channel", post("/c/ex/" + unknown + "/receive", "from=1&text=x"), 400, "unknown_channel",
       "/c/ex/" + unknown + "/receive"},
      {"wrong type", post("/c/ex/" + tg_ + "/receive", "from=1&text=x"), 400, "wrong_type",
       "/c/ex/" + tg_ + "/receive"},
      {"unknown route", post("/nowhere", ""), 404, "not_found", "/nowhere"},
      {"wrong method", "PUT " + receive + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 405,
       "method_not_allowed", receive},
      {"body too large", "POST " + receive + " HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000\r\n\r\n", 413,
       "body_too_large", receive},
      {"URI too long", "GET " + receive + "?text=" + std::string(100000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414,
       "uri_too_long", receive},
      {"headers too large",
       "GET " + receive + " HTTP/1.1\r\nHost: h\r\nX-Filler: " + std::string(100000, 'h') + "\r\n\r\n", 431,
       "headers_too_large", ""},
      {"bad JSON", post("/c/tg/" + tg_ + "/receive", "{not json", "application/json"), 400, "bad_request",
       "/c/tg/" + tg_ + "/receive"},
      {"negative Content-Length", "POST " + receive + " HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\nhello", 400,
       "malformed", receive},
      {"garbage", "\x01\x02garbage nonsense\r\n\r\n", 400, "malformed", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string raw = RawExchange(port_, c.request);
    const Parsed p = Parse(raw);
    EXPECT_EQ(p.status, c.status) << raw.substr(0, 300);
    EXPECT_EQ(p.rest, "") << "more than one response: " << raw.substr(0, 600);
    EXPECT_NE(p.head.find("Content-Type: application/json"), std::string::npos) << p.head;
    auto envelope = json::ParseObject(p.body);
    ASSERT_TRUE(envelope.ok()) << p.body;
    auto items = json::GetObjects(*envelope, "data");
    ASSERT_EQ(items.size(), 1u) << p.body;
    EXPECT_EQ(json::GetStringOrEmpty(items[0], "type"), "error") << p.body;
    EXPECT_FALSE(json::GetStringOrEmpty(items[0], "error").empty()) << p.body;
    const std::string line = "reason=" + std::string(c.reason) + " status=" + std::to_string(c.status) +
                             (c.path.empty() ? "" : " path=" + c.path);
    EXPECT_NE(recv.log().find(line), std::string::npos) << line << "\n" << recv.log().substr(0, 3000);
  }
  EXPECT_NE(recv.log().find(" remote=127.0.0.1:"), std::string::npos);

  auto status = AskDaemon("ipc://" + dir_.File("run") + "/recv-ctl.sock", "status", 2000);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  auto o = json::ParseObject(*status);
  ASSERT_TRUE(o.ok()) << *status;
  auto refused = json::GetObject(*o, "refused");
  ASSERT_TRUE(refused) << *status;
  for (const auto& [reason, count] : std::vector<std::pair<const char*, int64_t>>{{"unknown_channel", 1},
                                                                                   {"wrong_type", 1},
                                                                                   {"not_found", 1},
                                                                                   {"method_not_allowed", 1},
                                                                                   {"body_too_large", 1},
                                                                                   {"uri_too_long", 1},
                                                                                   {"headers_too_large", 1},
                                                                                   {"bad_request", 1},
                                                                                   {"malformed", 2},
                                                                                   {"unauthorized", 0}}) {
    EXPECT_EQ(json::GetInt(refused, reason).value_or(-1), count) << reason << " in " << *status;
  }
  EXPECT_EQ(json::GetInt(*o, "refusals_not_logged").value_or(-1), 0) << *status;
  EXPECT_EQ(recv.Stop(), 0);
}

}  // namespace
