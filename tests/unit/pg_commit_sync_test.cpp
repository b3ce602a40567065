// PgStore's LeaveSyncToCaller (store/commit_sync.h) against a real server:
// the writer's commits are visible at once, what Sync() returned OK for
// survives a crash of the server, and a Sync() that cannot reach the server
// fails (so the IntakeWriter spools the batch) until the server is back.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/env.h"
#include "postgres_suite.h"
#include "store/pg_store.h"
#include "store_test_helpers.h"

namespace courier {
namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;

class PgCommitSyncTest : public testing::PostgresSuite {
 protected:
  void SetUp() override {
    PostgresSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    writer_ = std::make_unique<PgStore>(uri(), "commit-sync-test", clock_);
    ASSERT_TRUE(writer_->Open().ok());
    ASSERT_TRUE(writer_->Migrate().ok());
    auto sync = writer_->LeaveSyncToCaller(Env::Default());
    ASSERT_TRUE(sync.ok()) << sync.status().ToString();
    sync_ = *sync;
    auto added = testing::AddTelChannel(*writer_);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    channel_ = *added;
  }

  Status WriteMsg(const std::string& text) {
    Msg m;
    m.channel_uuid = channel_.uuid;
    m.urn = "tel:+250788123123";
    m.text = text;
    return testing::WriteIncoming(*writer_, m, {}).status();
  }

  // What a fresh connection (another host) finds: the texts of the
  // channel's msgs, oldest first, comma-separated.
  std::string TextsSeenElsewhere() {
    PgStore reader(uri(), "commit-sync-reader", clock_);
    auto page = reader.ListMsgs(MsgFilter{});
    if (!page.ok()) return "<" + page.status().ToString() + ">";
    std::string texts;
    for (auto it = page->rbegin(); it != page->rend(); ++it) texts += (texts.empty() ? "" : ",") + it->text;
    return texts;
  }

  ManualClock clock_{kStart};
  std::unique_ptr<PgStore> writer_;
  std::shared_ptr<CommitSync> sync_;
  Channel channel_;
};

TEST_F(PgCommitSyncTest, CommitsAreVisibleAtOnceAndWhatWasSyncedSurvivesACrash) {
  ASSERT_TRUE(WriteMsg("one").ok());
  ASSERT_TRUE(WriteMsg("two").ok());
  EXPECT_EQ(TextsSeenElsewhere(), "one,two");  // visible before any sync
  ASSERT_TRUE(sync_->Sync().ok());

  // kill -9 of the server: only what reached its WAL on disk comes back.
  ASSERT_TRUE(server().Crash().ok());
  ASSERT_TRUE(server().Start().ok()) << server().Log();
  EXPECT_EQ(TextsSeenElsewhere(), "one,two");

  // The writer and the sync both reconnect (the writer's first call finds
  // its session lost and fails; nothing of it is committed).
  Status first = WriteMsg("three");
  if (!first.ok()) {
    EXPECT_TRUE(first.IsUnavailable()) << first.ToString();
    Status second = WriteMsg("three");
    ASSERT_TRUE(second.ok()) << second.ToString();
  }
  ASSERT_TRUE(sync_->Sync().ok());
  ASSERT_TRUE(server().Crash().ok());
  ASSERT_TRUE(server().Start().ok()) << server().Log();
  EXPECT_EQ(TextsSeenElsewhere(), "one,two,three");
}

TEST_F(PgCommitSyncTest, ASyncThatCannotReachTheServerFailsUntilItIsBack) {
  ASSERT_TRUE(WriteMsg("before").ok());
  ASSERT_TRUE(sync_->Sync().ok());
  ASSERT_TRUE(server().Stop().ok());
  EXPECT_TRUE(WriteMsg("during").IsUnavailable());
  const Status down = sync_->Sync();
  EXPECT_FALSE(down.ok());
  EXPECT_TRUE(down.IsUnavailable()) << down.ToString();
  ASSERT_TRUE(server().Start().ok()) << server().Log();
  const Status back = sync_->Sync();
  EXPECT_TRUE(back.ok()) << back.ToString();
}

}  // namespace
}  // namespace courier
