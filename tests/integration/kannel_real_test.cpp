// A real Kannel in front of courier: Debian's bearerbox and smsbox (package
// `kannel`) run with contrib/kannel/kannel.conf (ports, paths and the
// channel's uuid replaced), and the fakesmsc of `kannel-extras` plays the
// phones: it injects MO through one fake SMSC and receives every MT on
// another. courier-recv, courier-send and courier-flush run as real
// processes on a temporary SQLite store. scripts/install-deps.sh installs
// Kannel; without it these tests fail, they do not skip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "core/json.h"
#include "handlers/common.h"
#include "harness.h"
#include "http/http_client.h"

using namespace courier;
using namespace courier::testing;

namespace {

const char* kBearerbox = "/usr/sbin/bearerbox";
const char* kSmsbox = "/usr/sbin/smsbox";
const char* kFakeSmsc = "/usr/lib/kannel/test/fakesmsc";  // kannel-extras
const char* kPhone = "250788383383";
const char* kShortCode = "1234";
const char* kKannelPassword = "CHANGE-ME-sendsms";  // contrib's, used as it is

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Replaces every `from` in `text`; false when there is none (the contrib
// file changed under the test).
bool ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  size_t n = 0;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++n;
  }
  return n > 0;
}

std::string UrlDecode(std::string s) {
  for (auto& c : s)
    if (c == '+') c = ' ';
  std::string out;
  Poco::URI::decode(s, out);
  return out;
}

// "%00M%00u" for fakesmsc's ucs2 type: the UTF-16BE bytes, %-escaped.
std::string Ucs2Escaped(const std::string& utf8) {
  std::u32string cps;
  courier::DecodeUtf8(utf8, cps);
  std::string out;
  auto unit = [&](unsigned u) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%%%02X%%%02X", (u >> 8) & 0xFF, u & 0xFF);
    out += buf;
  };
  for (char32_t cp : cps) {
    if (cp >= 0x10000) {
      unit(0xD800 + ((cp - 0x10000) >> 10));
      unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

// One SMS as fakesmsc printed it: "Got message N: <from to type data>",
// where type is text (as is), data (%-escaped bytes), ucs-2 (%-escaped
// UTF-16BE) or udh (then the %-escaped UDH, and "data" and the rest).
struct Sms {
  std::string to;
  std::string bytes;
  bool ucs2 = false;
  int ref = -1, total = 1, seq = 1;  // from a concatenation UDH
};

std::vector<Sms> ParseFakeSmscLog(const std::string& log) {
  std::vector<Sms> out;
  for (const auto& line : Lines(log)) {
    const size_t got = line.find("Got message ");
    if (got == std::string::npos) continue;
    const size_t open = line.find('<', got), close = line.rfind('>');
    if (open == std::string::npos || close == std::string::npos || close < open) continue;
    std::string rest = line.substr(open + 1, close - open - 1);
    auto next = [&rest]() {
      const size_t sp = rest.find(' ');
      std::string word = rest.substr(0, sp);
      rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
      return word;
    };
    Sms sms;
    next();  // from
    sms.to = next();
    std::string type = next();
    if (type == "udh") {
      const std::string udh = UrlDecode(next());
      // 05 00 03 ref total seq: the 8-bit reference concatenation element.
      if (udh.size() >= 6 && udh[1] == 0 && udh[2] == 3) {
        sms.ref = static_cast<unsigned char>(udh[3]);
        sms.total = static_cast<unsigned char>(udh[4]);
        sms.seq = static_cast<unsigned char>(udh[5]);
      }
      type = next();
    }
    sms.ucs2 = type == "ucs-2";
    sms.bytes = type == "text" ? rest : UrlDecode(rest);
    out.push_back(sms);
  }
  return out;
}

// What the phones show: concatenated parts joined by their reference, in
// order, once all have come; every other SMS on its own.
std::vector<std::string> PhoneTexts(const std::vector<Sms>& received) {
  std::vector<std::string> texts;
  std::map<int, std::map<int, const Sms*>> concatenated;
  for (const auto& sms : received) {
    if (sms.ref < 0) {
      texts.push_back(sms.ucs2 ? courier::DecodeCharset(sms.bytes, "UTF-16BE") : sms.bytes);
      continue;
    }
    auto& parts = concatenated[sms.ref];
    parts[sms.seq] = &sms;
    if (static_cast<int>(parts.size()) != sms.total) continue;
    std::string bytes;
    for (const auto& [seq, part] : parts) bytes += part->bytes;
    // fakesmsc shows a part with a UDH as "data" whatever its coding; a
    // GSM7 text comes as UTF-8, which has no NUL, and UCS-2 text in
    // UTF-16BE has one in every ASCII character.
    const bool ucs2 = sms.ucs2 || bytes.find('\0') != std::string::npos;
    texts.push_back(ucs2 ? courier::DecodeCharset(bytes, "UTF-16BE") : bytes);
    concatenated.erase(sms.ref);
  }
  return texts;
}

// 300 characters of words.
std::string LongText(const std::string& word) {
  std::string out;
  for (int i = 0; courier::CodePoints(out) < 300; ++i) out += (i ? " " : "") + word + std::to_string(100 + i);
  return out;
}

class KannelRealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* bin : {kBearerbox, kSmsbox, kFakeSmsc})
      ASSERT_EQ(::access(bin, X_OK), 0) << bin << " is missing: scripts/install-deps.sh installs kannel and kannel-extras";
    recv_port_ = FreePort();
    env_ = {{"COURIER_DB", dir_.File("courier.db")},
            {"COURIER_SPOOL_DIR", dir_.File("spool")},
            {"COURIER_RUN_DIR", dir_.File("run")},
            {"COURIER_PORT", std::to_string(recv_port_)},
            {"COURIER_ADDRESS", "127.0.0.1"},
            {"COURIER_BASE_URL", "http://127.0.0.1:" + std::to_string(recv_port_)},
            {"COURIER_RETRY_BACKOFF", "1"},
            {"COURIER_LOG_LEVEL", "warn"}};
    ASSERT_EQ(Ctl({"init"}).exit_code, 0);
    admin_port_ = FreePort();
    smsbox_port_ = FreePort();
    sendsms_port_ = FreePort();
    mt_port_ = FreePort();
    mo_port_ = FreePort();
    const std::string send_url = "send_url=http://127.0.0.1:" + std::to_string(sendsms_port_) + "/cgi-bin/sendsms";
    // As contrib/kannel/README says: the sendsms-user concatenates up to
    // 10 SMS and the channel's max_messages says so.
    channel_ = AddChannel({"--config", send_url, "--config", "username=courier", "--config",
                           std::string("password=") + kKannelPassword, "--config", "max_messages=10"});
    // A second channel on an account with Kannel's defaults (max-messages 1,
    // no concatenation) and courier's (max_messages 1).
    plain_channel_ = AddChannel({"--config", send_url, "--config", "username=plain", "--config", "password=plain-s3cret"});
    WriteKannelConf();
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const char* log : {"bearerbox.log", "smsbox.log", "access.log", "phones.log", "recv.log", "send.log"})
        std::cerr << "==> " << log << " <==\n" << ReadFile(dir_.File(log)).substr(0, 20000) << "\n";
    }
  }

  std::string AddChannel(std::vector<std::string> config) {
    std::vector<std::string> args = {"channel", "add", "--type", "KN", "--address", kShortCode, "--country", "RW"};
    args.insert(args.end(), config.begin(), config.end());
    auto r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, 36);
  }

  RunResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), Bin("courier-ctl"));
    return RunProgram(args, "", env_);
  }

  // contrib/kannel/kannel.conf on this test's ports and directory, and two
  // groups of the test's own: a second fake SMSC that only injects MO
  // (Kannel's fake SMSC serves one client at a time, and the phones'
  // fakesmsc stays connected to receive MT; allowed-smsc-id keeps MT off
  // it), and the account with Kannel's defaults.
  void WriteKannelConf() {
    std::string conf = ReadFile(std::string(COURIER_SOURCE_DIR) + "/contrib/kannel/kannel.conf");
    ASSERT_FALSE(conf.empty());
    const std::vector<std::pair<std::string, std::string>> replacements = {
        {"admin-port = 13000", "admin-port = " + std::to_string(admin_port_)},
        {"13001", std::to_string(smsbox_port_)},
        {"sendsms-port = 13013", "sendsms-port = " + std::to_string(sendsms_port_)},
        {"port = 10000", "port = " + std::to_string(mt_port_)},
        {"127.0.0.1:8080", "127.0.0.1:" + std::to_string(recv_port_)},
        {"CHANNEL-UUID", channel_},
        {"/var/log/kannel/", dir_.path() + "/"},
        {"/var/spool/kannel/", dir_.path() + "/"},
        // Retries a second apart, so the outage test waits seconds.
        {"http-queue-delay = 10", "http-queue-delay = 1"},
    };
    for (const auto& [from, to] : replacements) ASSERT_TRUE(ReplaceAll(conf, from, to)) << "not in kannel.conf: " << from;
    conf += "\ngroup = smsc\nsmsc = fake\nsmsc-id = mo\nport = " + std::to_string(mo_port_) +
            "\nour-host = 127.0.0.1\nconnect-allow-ip = 127.0.0.1\nallowed-smsc-id = mo\n"
            "\ngroup = sendsms-user\nusername = plain\npassword = plain-s3cret\n";
    WriteFile(dir_.File("kannel.conf"), conf);
  }

  void StartCourier() {
    StartRecv();
    send_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-send")}, env_, dir_.File("send.log"));
    flush_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-flush")}, env_, dir_.File("flush.log"));
  }

  void StartRecv() {
    recv_ = std::make_unique<Daemon>(std::vector<std::string>{Bin("courier-recv")}, env_, dir_.File("recv.log"));
    ASSERT_TRUE(recv_->WaitForHttp(recv_port_)) << recv_->log();
  }

  // Any HTTP answer at all on the port.
  bool Answers(int port, const std::string& path) {
    HttpRequestSpec req;
    req.url = "http://127.0.0.1:" + std::to_string(port) + path;
    return http_->Do(req).status_code > 0;
  }

  // bearerbox, then smsbox once bearerbox listens, then the phones'
  // fakesmsc once the sendsms CGI answers; all in the foreground, in the
  // test's directory, stopped (SIGKILL) with the test.
  void StartKannel() {
    const std::string conf = dir_.File("kannel.conf");
    bearerbox_ = std::make_unique<Daemon>(std::vector<std::string>{kBearerbox, conf}, env_, dir_.File("bearerbox.out"));
    ASSERT_TRUE(Eventually([&] { return Answers(admin_port_, "/status"); }, std::chrono::seconds(10)))
        << ReadFile(dir_.File("bearerbox.out"));
    smsbox_ = std::make_unique<Daemon>(std::vector<std::string>{kSmsbox, conf}, env_, dir_.File("smsbox.out"));
    // Kannel 1.4.5's smsbox answers its sendsms port before it has read
    // its sendsms-users, and a request then crashes it (PANIC in
    // urltrans_find_username): no request before it has connected to
    // bearerbox, which it does after reading them.
    ASSERT_TRUE(Eventually([&] { return Count(ReadFile(dir_.File("smsbox.out")), "Connected to bearerbox") >= 1; },
                           std::chrono::seconds(10)))
        << ReadFile(dir_.File("smsbox.out"));
    ASSERT_TRUE(Eventually([&] { return Answers(sendsms_port_, "/cgi-bin/sendsms"); }, std::chrono::seconds(10)))
        << ReadFile(dir_.File("smsbox.out"));
    phones_ = std::make_unique<Daemon>(
        std::vector<std::string>{kFakeSmsc, "-H", "127.0.0.1", "-r", std::to_string(mt_port_), "-i", "0.01", "-m", "0",
                                 "0 0 text unused"},
        std::map<std::string, std::string>{}, dir_.File("phones.log"));
    ASSERT_TRUE(Eventually([&] { return Count(ReadFile(dir_.File("bearerbox.log")), "Fakesmsc client connected") >= 1; }))
        << phones_->log();
  }

  // One SMS from the phone: a fakesmsc on the MO SMSC sends it, and is
  // stopped once bearerbox's access log shows it received.
  void Inject(const std::string& type, const std::string& data) {
    const size_t before = Count(ReadFile(dir_.File("access.log")), "Receive SMS [SMSC:mo]");
    Daemon fake({kFakeSmsc, "-H", "127.0.0.1", "-r", std::to_string(mo_port_), "-i", "0.01", "-m", "1",
                 std::string(kPhone) + " " + kShortCode + " " + type + " " + data},
                {}, dir_.File("mo.log"));
    ASSERT_TRUE(Eventually([&] {
      return Count(ReadFile(dir_.File("access.log")), "Receive SMS [SMSC:mo]") > before;
    })) << fake.log();
  }

  std::vector<json::ObjectPtr> Msgs(const std::string& direction) {
    return JsonLines(Ctl({"msgs", "list", "--direction", direction, "--limit", "100000", "--json"}).out);
  }

  std::multiset<std::string> IncomingTexts() {
    std::multiset<std::string> texts;
    for (const auto& m : Msgs("in")) texts.insert(json::GetString(m, "text").value_or(""));
    return texts;
  }

  std::vector<std::string> Phones() { return PhoneTexts(ParseFakeSmscLog(phones_->log())); }

  void Send(const std::string& channel, const std::string& text) {
    auto r = Ctl({"send", "--channel", channel, "--urn", std::string("tel:+") + kPhone, "--text", text});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  bool AllOutgoing(const std::string& status, size_t n) {
    auto out = Msgs("out");
    return out.size() == n && std::all_of(out.begin(), out.end(), [&](const json::ObjectPtr& m) {
             return json::GetString(m, "status") == status;
           });
  }

  TempDir dir_;
  int recv_port_ = 0, admin_port_ = 0, smsbox_port_ = 0, sendsms_port_ = 0, mt_port_ = 0, mo_port_ = 0;
  std::map<std::string, std::string> env_;
  std::string channel_, plain_channel_;
  std::unique_ptr<HttpClient> http_ = NewLoopbackHttpClient(HttpClientOptions{2});
  // Declared after the courier daemons' data and destroyed first: Kannel,
  // then courier.
  std::unique_ptr<Daemon> recv_, send_, flush_;
  std::unique_ptr<Daemon> bearerbox_, smsbox_, phones_;
};

TEST_F(KannelRealTest, MoMtAndDeliveryReports) {
  StartCourier();
  StartKannel();

  // MO: GSM text, and a UCS-2 SMS that Kannel passes on as UTF-16BE.
  const std::string unicode = "Muraho – ✓ привет 😀";
  Inject("text", "Muraho from Kigali");
  Inject("ucs2", Ucs2Escaped(unicode));
  ASSERT_TRUE(Eventually([&] { return Msgs("in").size() == 2; })) << recv_->log();
  EXPECT_EQ(IncomingTexts(), (std::multiset<std::string>{"Muraho from Kigali", unicode}));
  for (const auto& m : Msgs("in")) {
    EXPECT_EQ(json::GetString(m, "urn"), std::string("tel:+") + kPhone);
    EXPECT_EQ(json::GetString(m, "external_id").value_or("").size(), 36u);  // Kannel's %I
  }

  // MT: unicode, and 300 characters of GSM and of unicode, which Kannel
  // concatenates; the same long text on the account with Kannel's
  // defaults, which courier splits into single SMS.
  const std::string long_gsm = LongText("word"), long_unicode = LongText("слово");
  Send(channel_, unicode);
  Send(channel_, long_gsm);
  Send(channel_, long_unicode);
  Send(plain_channel_, long_gsm);
  // Every msg reaches D through Kannel's DLRs (8 then 1, or 1 then 8).
  ASSERT_TRUE(Eventually([&] { return AllOutgoing("D", 4); })) << ReadFile(dir_.File("send.log"));
  ASSERT_TRUE(Eventually([&] { return Phones().size() >= 5; }));
  auto phones = Phones();
  std::multiset<std::string> shown(phones.begin(), phones.end());
  // The plain account's long text came as two SMS of whole words.
  const size_t cut = long_gsm.rfind(' ', 160);
  EXPECT_EQ(shown, (std::multiset<std::string>{unicode, long_gsm, long_unicode, long_gsm.substr(0, cut),
                                               long_gsm.substr(cut + 1)}));
  for (const auto& sms : ParseFakeSmscLog(phones_->log())) EXPECT_EQ(sms.to, std::string("+") + kPhone);
  // Kannel's DLRs were answered, not refused.
  EXPECT_EQ(Count(ReadFile(dir_.File("smsbox.log")), "Couldn't fetch"), 0u);
  EXPECT_EQ(Msgs("in").size(), 2u);
}

TEST_F(KannelRealTest, CourierRecvKilledDuringAMoBurstLosesNothing) {
  StartCourier();
  StartKannel();
  const int kBurst = 12;
  std::atomic<int> injected{0};
  std::thread burst([&] {
    for (int i = 0; i < kBurst; ++i) {
      Inject("text", "burst " + std::to_string(i));
      ++injected;
    }
  });
  // Killed once a few have been stored, while the burst goes on.
  const bool some_stored = Eventually([&] { return Msgs("in").size() >= 3; });
  recv_->Stop(9);
  // A delivery report due while courier-recv is down waits in Kannel too.
  Send(channel_, "sent during the outage");
  burst.join();
  ASSERT_TRUE(some_stored) << recv_->log();
  ASSERT_EQ(injected.load(), kBurst);
  ASSERT_TRUE(Eventually([&] { return Count(ReadFile(dir_.File("smsbox.log")), "Couldn't fetch") >= 2; }))
      << "Kannel never found courier-recv down";
  EXPECT_LT(Msgs("in").size(), static_cast<size_t>(kBurst));

  StartRecv();
  ASSERT_TRUE(Eventually([&] { return Msgs("in").size() >= static_cast<size_t>(kBurst); })) << recv_->log();
  ASSERT_TRUE(Eventually([&] { return AllOutgoing("D", 1); })) << ReadFile(dir_.File("send.log"));
  // Every MO once: nothing lost, nothing twice (a request courier stored
  // but could not answer came again, with the same %I).
  std::multiset<std::string> want;
  for (int i = 0; i < kBurst; ++i) want.insert("burst " + std::to_string(i));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a late duplicate would show now
  EXPECT_EQ(IncomingTexts(), want);
  EXPECT_EQ(Phones(), std::vector<std::string>{"sent during the outage"});
  // Nothing left behind in the spool.
  EXPECT_EQ(Lines(Ctl({"spool", "--json"}).out).size(), 0u);
}

}  // namespace
