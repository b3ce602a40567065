// courier-send against providers it must not reach or must not wait for
// (invariant 8): the default outbound policy fails sends to internal
// addresses without a request, a tarpit provider is cut off at the total
// deadline, and a stop aborts a request still in progress after the grace.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/json.h"
#include "courier_fixture.h"
#include "harness.h"
#include "mock_provider.h"
#include "tarpit_server.h"

using namespace courier;
using namespace courier::testing;

namespace {

// A deadline against a hung test, not a timing claim.
constexpr std::chrono::seconds kDeadline(60);

class OutboundTest : public CourierFixture {
 protected:
  void SetUp() override {
    env_["COURIER_HTTP_TIMEOUT"] = "2";
    env_["COURIER_RETRY_BACKOFF"] = "1";
    InitStore();
  }

  std::string AddExChannel(const std::string& send_url) { return AddChannel("EX", {"send_url=" + send_url}); }

  void StartSend(std::vector<std::string> extra = {}) { send_ = Start("courier-send", std::move(extra)); }

  std::unique_ptr<Daemon> send_;
};

TEST_F(OutboundTest, DefaultPolicyFailsSendsToInternalAddressesWithoutARequest) {
  MockProvider provider;  // on 127.0.0.1, answering as an internal service would
  provider.SetDefault({.status = 200, .body = "{\"AccessKeyId\":\"internal-secret-answer\"}"});
  const std::string port = provider.url().substr(provider.url().rfind(':') + 1);
  env_["COURIER_OUTBOUND_ALLOW"] = "";  // the default policy, not the harness's loopback
  const std::vector<std::pair<std::string, std::string>> targets = {
      {provider.url() + "/send", "127.0.0.1 is loopback"},
      {"http://localhost:" + port + "/send", "(the address of localhost)"},
      {"http://[::1]:" + port + "/send", "::1 is loopback"},
      {"http://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254 is link-local"},
      {"http://10.11.12.13:" + port + "/send", "10.11.12.13 is private"},
  };
  std::map<std::string, std::string> refusal_by_channel;
  for (const auto& [url, refusal] : targets) {
    const std::string ch = AddExChannel(url);
    refusal_by_channel[ch] = refusal;
    ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  }
  StartSend();
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("F").size() == targets.size(); }, kDeadline)) << send_->log();
  EXPECT_EQ(OutgoingMsgs().size(), targets.size());
  for (const auto& msg : OutgoingMsgs("F")) {
    const std::string ch = json::GetString(msg, "channel_uuid").value_or("");
    const std::string reason = json::GetString(msg, "error_reason").value_or("");
    SCOPED_TRACE(reason);
    EXPECT_NE(reason.find("refused by the outbound policy"), std::string::npos);
    EXPECT_NE(reason.find(refusal_by_channel[ch]), std::string::npos);
    EXPECT_EQ(reason.find("gave up"), std::string::npos);  // permanent at once, not after retries
    auto logs = Ctl({"logs", "--msg", std::to_string(*json::GetInt(msg, "id")), "--json"});
    EXPECT_EQ(logs.exit_code, 0) << logs.err;
    EXPECT_NE(logs.out.find("refused by the outbound policy"), std::string::npos) << logs.out;
    EXPECT_EQ(logs.out.find("internal-secret-answer"), std::string::npos) << logs.out;
  }
  EXPECT_EQ(provider.count(), 0u);  // nothing reached the internal service
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
}

TEST_F(OutboundTest, TarpitProviderIsCutOffAtTheDeadline) {
  TarpitServer tarpit(/*drip_ms=*/100, /*max_bytes=*/600);
  const std::string ch = AddExChannel(tarpit.url() + "/send");
  env_["COURIER_HTTP_DEADLINE"] = "1";
  StartSend({"--max-retries", "1"});
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  ASSERT_TRUE(Eventually([&] { return OutgoingMsgs("F").size() == 1; }, kDeadline)) << send_->log();
  const std::string reason = json::GetString(OutgoingMsgs("F")[0], "error_reason").value_or("");
  EXPECT_NE(reason.find("deadline exceeded"), std::string::npos) << reason;
  EXPECT_EQ(tarpit.connections(), 1);
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
}

TEST_F(OutboundTest, StopAbortsARequestStillInProgressAfterTheGrace) {
  TarpitServer tarpit(100, 600);  // would hold the request for a minute
  const std::string ch = AddExChannel(tarpit.url() + "/send");
  env_["COURIER_HTTP_DEADLINE"] = "300";
  StartSend({"--send-grace", "1"});
  ASSERT_EQ(Ctl({"send", "--channel", ch, "--urn", "tel:+250788383383", "--text", "hi"}).exit_code, 0);
  ASSERT_TRUE(tarpit.WaitForConnections(1)) << send_->log();
  // A clean stop (0), not the kill after grace + 5 s (75).
  EXPECT_EQ(send_->Stop(), 0) << send_->log();
  auto msgs = OutgoingMsgs();
  ASSERT_EQ(msgs.size(), 1u);  // not lost
  EXPECT_EQ(json::GetString(msgs[0], "status").value_or(""), "E");  // not sent; retried later
  EXPECT_NE(json::GetString(msgs[0], "error_reason").value_or("").find("aborted"), std::string::npos);
  EXPECT_EQ(tarpit.connections(), 1);
}

}  // namespace
