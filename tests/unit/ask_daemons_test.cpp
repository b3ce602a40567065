// AskDaemons: every daemon asked at once, answers in the order asked.
// Down daemons are real: a socket file with no listener, a listener that
// never answers, no socket at all. That the asking is concurrent is shown
// by structure (peers that answer only when asked together), not by time.
#include <gtest/gtest.h>

#include "bus/bus.h"
#include "control_peers.h"
#include "temp_dir.h"

using namespace courier;
using namespace courier::testing;

namespace {

class AskDaemonsTest : public ::testing::Test {
 protected:
  std::string Endpoint(const std::string& name) { return "ipc://" + dir_.path() + "/run/" + name + ".sock"; }

  ScratchDir dir_;
};

TEST_F(AskDaemonsTest, AnswersInTheOrderAskedAndDownDaemonsAreUnavailable) {
  ControlServer first, last;
  ASSERT_TRUE(first.Start(Endpoint("first"), [](const std::string& r) { return "first:" + r; }).ok());
  ASSERT_TRUE(last.Start(Endpoint("last"), [](const std::string& r) { return "last:" + r; }).ok());
  ASSERT_TRUE(LeaveStaleSocket(Endpoint("stale")));
  SilentControlPeer silent;
  ASSERT_TRUE(silent.Bind(Endpoint("silent")).ok());

  const auto answers = AskDaemons({{Endpoint("first"), "status", 1000},
                                   {Endpoint("stale"), "status", 300},
                                   {Endpoint("silent"), "status", 300},
                                   {Endpoint("absent"), "status", 300},
                                   {Endpoint("last"), "ping", 1000}});
  ASSERT_EQ(answers.size(), 5u);
  ASSERT_TRUE(answers[0].ok()) << answers[0].status().message();
  EXPECT_EQ(*answers[0], "first:status");
  for (size_t i : {1, 2, 3}) {
    ASSERT_FALSE(answers[i].ok()) << i;
    EXPECT_EQ(answers[i].status().code(), Status::Code::kUnavailable) << answers[i].status().message();
  }
  ASSERT_TRUE(answers[4].ok()) << answers[4].status().message();
  EXPECT_EQ(*answers[4], "last:ping");
  EXPECT_TRUE(AskDaemons({}).empty());
}

// Peers that answer only once both are asked, each waiting 2 s, asked with
// a 1 s timeout: asked one after another, the first could not answer.
TEST_F(AskDaemonsTest, AsksEveryDaemonAtOnce) {
  Rendezvous both({Endpoint("a"), Endpoint("b")}, "{\"ok\":true}", 2000);
  ASSERT_TRUE(both.started());
  const auto answers = AskDaemons({{Endpoint("a"), "status", 1000}, {Endpoint("b"), "status", 1000}});
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status().message();
    EXPECT_EQ(*answer, "{\"ok\":true}");
  }

  // The same peers asked one at a time: the first gets no answer in its
  // time, which is what the test above rules out.
  both.Reset();
  auto alone = AskDaemon(Endpoint("a"), "status", 1000);
  EXPECT_FALSE(alone.ok());
}

}  // namespace
