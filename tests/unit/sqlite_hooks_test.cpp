// Application hooks on a real SQLite file: add (uuid, secret and cursor as
// given), lookups by id and uuid, pause and resume, the cursor's
// compare-and-set against an operator's rewind, and the retry state.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite_store.h"

using namespace courier;

namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;

class HookStoreTest : public ::testing::Test {
 protected:
  HookStoreTest() : clock_(kStart) {
    std::string tmpl = "/tmp/courier-hooks-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~HookStoreTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override {
    store_ = std::make_unique<SqliteStore>(dir_ + "/courier.db", clock_);
    ASSERT_TRUE(store_->Open().ok());
    ASSERT_TRUE(store_->Migrate().ok());
  }

  Hook Add(const std::string& url, int64_t cursor = 0) {
    Hook h;
    h.url = url;
    h.topics = {"msg.received", "contact.stopped"};
    h.secret = "s3cret";
    h.cursor = cursor;
    auto added = store_->AddHook(h);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? *added : Hook{};
  }

  Hook Get(int64_t id) {
    auto h = store_->GetHook(std::to_string(id));
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? *h : Hook{};
  }

  std::string dir_;
  ManualClock clock_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(HookStoreTest, AddsAndFindsByIdOrUuid) {
  Hook a = Add("https://app.example.com/a", 41);
  Hook b = Add("https://app.example.com/b");
  EXPECT_GT(a.id, 0);
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.uuid.size(), 36u);
  EXPECT_NE(a.uuid, b.uuid);

  auto by_uuid = store_->GetHook(a.uuid);
  ASSERT_TRUE(by_uuid.ok());
  EXPECT_EQ(by_uuid->id, a.id);
  auto upper = a.uuid;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(store_->GetHook(upper).ok());
  Hook read = Get(a.id);
  EXPECT_EQ(read.url, "https://app.example.com/a");
  EXPECT_EQ(read.topics, (std::vector<std::string>{"msg.received", "contact.stopped"}));
  EXPECT_EQ(read.secret, "s3cret");
  EXPECT_EQ(read.format, "json");
  EXPECT_EQ(read.batch_size, 1);
  EXPECT_EQ(read.cursor, 41);
  EXPECT_EQ(read.created_on, kStart);
  EXPECT_FALSE(read.paused);

  auto list = store_->ListHooks();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, a.id);

  auto missing = store_->GetHook("999");
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), "hook not found: 999");
  ASSERT_TRUE(store_->RemoveHook(a.id).ok());
  EXPECT_TRUE(store_->GetHook(a.uuid).status().IsNotFound());
  EXPECT_TRUE(store_->RemoveHook(a.id).IsNotFound());
}

TEST_F(HookStoreTest, RefusesWhatTheSchemaWouldNot) {
  Hook h;
  h.url = "https://x";
  h.secret = "s";
  h.format = "xml";
  EXPECT_EQ(store_->AddHook(h).status().code(), Status::Code::kInvalidArgument);
  h.format = "json";
  h.batch_size = 0;
  EXPECT_EQ(store_->AddHook(h).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(HookStoreTest, CursorMovesOnlyFromTheValueReadSoARewindWins) {
  Hook h = Add("https://app.example.com/a", 10);
  auto moved = store_->AdvanceHookCursor(h.id, 10, 15);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(*moved);
  EXPECT_EQ(Get(h.id).cursor, 15);
  EXPECT_EQ(Get(h.id).delivered_on, kStart);

  // The operator rewinds while a delivery read 15 and posts 16..20.
  ASSERT_TRUE(store_->RewindHook(h.id, 3).ok());
  moved = store_->AdvanceHookCursor(h.id, 15, 20);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  EXPECT_EQ(Get(h.id).cursor, 3);
  // A failure of that stale delivery is not recorded on the rewound hook.
  auto recorded = store_->RecordHookFailure(h.id, 15, "HTTP 500", kStart + kMicrosPerSecond);
  ASSERT_TRUE(recorded.ok());
  EXPECT_FALSE(*recorded);
  EXPECT_EQ(Get(h.id).failures, 0);

  EXPECT_TRUE(store_->AdvanceHookCursor(999, 3, 4).ok());
  EXPECT_FALSE(*store_->AdvanceHookCursor(999, 3, 4));
  EXPECT_TRUE(store_->RewindHook(999, 0).IsNotFound());
}

TEST_F(HookStoreTest, FailuresCountUntilASuccessClearsThem) {
  Hook h = Add("https://app.example.com/a", 5);
  ASSERT_TRUE(*store_->RecordHookFailure(h.id, 5, "HTTP 500: oops", kStart + 1 * kMicrosPerSecond));
  clock_.Advance(kMicrosPerSecond);
  ASSERT_TRUE(*store_->RecordHookFailure(h.id, 5, "no answer: timeout", kStart + 3 * kMicrosPerSecond));
  Hook failing = Get(h.id);
  EXPECT_EQ(failing.failures, 2);
  EXPECT_EQ(failing.last_error, "no answer: timeout");
  EXPECT_EQ(failing.last_error_on, kStart + kMicrosPerSecond);
  EXPECT_EQ(failing.next_attempt_on, kStart + 3 * kMicrosPerSecond);

  ASSERT_TRUE(*store_->AdvanceHookCursor(h.id, 5, 6));
  Hook ok = Get(h.id);
  EXPECT_EQ(ok.failures, 0);
  EXPECT_FALSE(ok.next_attempt_on.has_value());
  EXPECT_EQ(ok.last_error, "no answer: timeout");  // kept, with its time, for the operator

  ASSERT_TRUE(store_->NoteHookError(h.id, "events 1 to 4 were pruned").ok());
  EXPECT_EQ(Get(h.id).last_error, "events 1 to 4 were pruned");
  EXPECT_EQ(Get(h.id).failures, 0);
}

TEST_F(HookStoreTest, PauseKeepsTheReasonAndResumeRetriesAtOnce) {
  Hook h = Add("https://app.example.com/a", 5);
  ASSERT_TRUE(*store_->RecordHookFailure(h.id, 5, "HTTP 410", kStart + 60 * kMicrosPerSecond));
  ASSERT_TRUE(store_->SetHookPaused(h.id, true, "410 Gone").ok());
  Hook paused = Get(h.id);
  EXPECT_TRUE(paused.paused);
  EXPECT_EQ(paused.paused_reason, "410 Gone");
  ASSERT_TRUE(store_->SetHookPaused(h.id, false, "").ok());
  Hook resumed = Get(h.id);
  EXPECT_FALSE(resumed.paused);
  EXPECT_EQ(resumed.paused_reason, "");
  EXPECT_EQ(resumed.failures, 0);
  EXPECT_FALSE(resumed.next_attempt_on.has_value());
  EXPECT_EQ(resumed.cursor, 5);
  EXPECT_TRUE(store_->SetHookPaused(999, true, "x").IsNotFound());
}

}  // namespace
