// The send-outcome and splitting rules every handler shares.
#include <gtest/gtest.h>

#include "handlers/common.h"
#include "handler_harness.h"

namespace courier {
namespace {

HttpExchange Answer(int status, std::string transport_error = "", std::string retry_after = "") {
  HttpExchange e;
  e.status_code = status;
  e.error = std::move(transport_error);
  if (!retry_after.empty()) e.headers["retry-after"] = retry_after;
  return e;
}

TEST(HandlerCommon, FailedAnswerByHttpStatus) {
  struct Case {
    int status;
    std::string transport_error;
    MsgStatus want;
    std::optional<int> throttled;
  };
  const std::vector<Case> cases = {
      {400, "", MsgStatus::kFailed, std::nullopt},   // invalid number, bad body: never better
      {401, "", MsgStatus::kFailed, std::nullopt},   // wrong credentials
      {403, "", MsgStatus::kFailed, std::nullopt},
      {404, "", MsgStatus::kFailed, std::nullopt},
      {422, "", MsgStatus::kFailed, std::nullopt},
      {408, "", MsgStatus::kErrored, std::nullopt},  // the provider timed out waiting for us
      {425, "", MsgStatus::kErrored, std::nullopt},
      {429, "", MsgStatus::kErrored, 7},             // throttled: Retry-After 7
      {500, "", MsgStatus::kErrored, std::nullopt},
      {502, "", MsgStatus::kErrored, std::nullopt},
      {503, "", MsgStatus::kErrored, std::nullopt},
      {0, "connection refused", MsgStatus::kErrored, std::nullopt},
      {0, "timeout", MsgStatus::kErrored, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.status);
    SendResult r = handlers::FailedAnswer("boom", {}, Answer(c.status, c.transport_error, "7"));
    EXPECT_EQ(r.status, c.want);
    EXPECT_EQ(r.error, "boom");
    EXPECT_EQ(r.throttled_for_seconds, c.throttled);
  }
}

TEST(HandlerCommon, AcceptedWithoutIdFails) {
  SendResult r = handlers::AcceptedWithoutId("no message id in the answer", {});
  EXPECT_EQ(r.status, MsgStatus::kFailed);
  EXPECT_EQ(r.error, "no message id in the answer");
}

TEST(HandlerCommon, MaxLengthFromChannelConfig) {
  struct Case {
    std::string value;  // "" = unset
    size_t want;
  };
  for (const auto& c : std::vector<Case>{{"", 160}, {"70", 70}, {"1600", 1600}, {"0", 160},
                                         {"-5", 160}, {"abc", 160}, {"12x", 160}}) {
    SCOPED_TRACE(c.value);
    std::map<std::string, std::string> config;
    if (!c.value.empty()) config["max_length"] = c.value;
    Channel channel = testing::TestChannel("KN", "2020", "RW", config);
    EXPECT_EQ(handlers::MaxLength(channel, 160), c.want);
  }
}

}  // namespace
}  // namespace courier
