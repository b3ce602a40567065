// SqliteStore's part for courier-api (sql_api.cpp) on a real file:
// tokens, QueueOutgoingOnce in one transaction with its key, the expiry of
// keys by Prune, and the urn filter of ListMsgs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/clock.h"
#include "store/sqlite_store.h"
#include "store_test_helpers.h"

using namespace courier;
using courier::testing::QueueOutgoingOnce;

namespace {

constexpr Micros kHour = 3600LL * kMicrosPerSecond;

class SqliteApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/courier-sqlite-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = std::make_unique<SqliteStore>(dir_ + "/c.db", clock_);
    ASSERT_TRUE(store_->Migrate().ok());
    Channel ch;
    ch.type = "EX";
    ch.address = "1234";
    ch.country = "RW";
    auto added = store_->AddChannel(ch);
    ASSERT_TRUE(added.ok());
    channel_ = *added;
    ApiToken t;
    t.name = "app";
    t.token_hash = "h1";
    t.scopes = {"send", "read"};
    auto token = store_->AddApiToken(t);
    ASSERT_TRUE(token.ok()) << token.status().ToString();
    token_ = *token;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Msg Out(const std::string& urn) {
    Msg m;
    m.channel_uuid = channel_.uuid;
    m.urn = urn;
    m.text = "hi";
    return m;
  }
  size_t MsgCount() {
    MsgFilter all;
    all.limit = 0;
    return store_->ListMsgs(all)->size();
  }

  std::string dir_;
  ManualClock clock_{1'700'000'000LL * kMicrosPerSecond};
  std::unique_ptr<SqliteStore> store_;
  Channel channel_;
  ApiToken token_;
};

TEST_F(SqliteApiTest, Tokens) {
  EXPECT_GT(token_.id, 0);
  EXPECT_EQ(token_.created_on, clock_.Now());
  ApiToken same_name;
  same_name.name = "app";
  same_name.token_hash = "h2";
  same_name.scopes = {"read"};
  EXPECT_EQ(store_->AddApiToken(same_name).status().code(), Status::Code::kConflict);
  auto found = store_->FindApiToken("h1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->name, "app");
  EXPECT_EQ(found->scopes, (std::vector<std::string>{"send", "read"}));
  EXPECT_FALSE(found->last_used_on);
  EXPECT_TRUE(store_->FindApiToken("nope").status().IsNotFound());
  ASSERT_TRUE(store_->TouchApiToken(found->id, 42).ok());
  EXPECT_EQ(store_->ListApiTokens()->front().last_used_on, 42);
  ASSERT_TRUE(QueueOutgoingOnce(*store_, token_.id, "k", "r", {Out("tel:+250788000001")}).ok());
  ASSERT_TRUE(store_->RemoveApiToken("app").ok());
  EXPECT_TRUE(store_->FindApiToken("h1").status().IsNotFound());
  EXPECT_TRUE(store_->RemoveApiToken("app").IsNotFound());
  EXPECT_TRUE(store_->ListApiTokens()->empty());
}

TEST_F(SqliteApiTest, QueueOutgoingOnceReplaysOrConflictsAndRollsBackWhole) {
  auto first = QueueOutgoingOnce(*store_, token_.id, "k", "r1", {Out("tel:+250788000001"), Out("tel:+250788000002")});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->replayed);
  ASSERT_EQ(first->msgs.size(), 2u);
  auto again = QueueOutgoingOnce(*store_, token_.id, "k", "r1", {Out("tel:+250788000009")});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  ASSERT_EQ(again->msgs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again->msgs[i].uuid, first->msgs[i].uuid);
    EXPECT_EQ(again->msgs[i].id, first->msgs[i].id);
  }
  EXPECT_EQ(QueueOutgoingOnce(*store_, token_.id, "k", "r2", {Out("tel:+250788000009")}).status().code(),
            Status::Code::kConflict);
  EXPECT_EQ(MsgCount(), 2u);
  // A msg the store refuses sinks its key with it: the key stays unused.
  Msg bad = Out("tel:+250788000003");
  bad.channel_uuid = "00000000-0000-4000-8000-000000000000";
  EXPECT_FALSE(QueueOutgoingOnce(*store_, token_.id, "k2", "r", {Out("tel:+250788000003"), bad}).ok());
  EXPECT_EQ(MsgCount(), 2u);
  auto later = QueueOutgoingOnce(*store_, token_.id, "k2", "r3", {Out("tel:+250788000003")});
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->replayed);
}

// The group commit: requests in order in one transaction, each with its
// own outcome; one request whose msgs cannot go sinks the whole call.
TEST_F(SqliteApiTest, QueueOutgoingBatchGivesEachRequestItsOwnOutcome) {
  std::vector<QueueRequest> batch = {
      {token_.id, "", "", {Out("tel:+250788000001")}},
      {token_.id, "k", "r1", {Out("tel:+250788000002"), Out("tel:+250788000003")}},
      {token_.id, "k", "r1", {Out("tel:+250788000002"), Out("tel:+250788000003")}},  // the same again
      {token_.id, "k", "r2", {Out("tel:+250788000004")}},                             // another body
  };
  auto outcomes = store_->QueueOutgoingBatch(batch);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_EQ((*outcomes)[0]->msgs.size(), 1u);
  EXPECT_FALSE((*outcomes)[1]->replayed);
  ASSERT_TRUE((*outcomes)[2].ok());
  EXPECT_TRUE((*outcomes)[2]->replayed);
  EXPECT_EQ((*outcomes)[2]->msgs[1].uuid, (*outcomes)[1]->msgs[1].uuid);
  EXPECT_EQ((*outcomes)[3].status().code(), Status::Code::kConflict);
  EXPECT_EQ(MsgCount(), 3u);

  Msg bad = Out("tel:+250788000009");
  bad.channel_uuid = "00000000-0000-4000-8000-000000000000";
  auto sunk = store_->QueueOutgoingBatch({{token_.id, "", "", {Out("tel:+250788000005")}}, {token_.id, "x", "r", {bad}}});
  EXPECT_TRUE(sunk.status().IsNotFound()) << sunk.status().ToString();
  EXPECT_EQ(MsgCount(), 3u);
}

TEST_F(SqliteApiTest, PruneExpiresKeys) {
  ASSERT_TRUE(QueueOutgoingOnce(*store_, token_.id, "old", "r", {Out("tel:+250788000001")}).ok());
  clock_.Advance(25 * kHour);
  ASSERT_TRUE(QueueOutgoingOnce(*store_, token_.id, "new", "r", {Out("tel:+250788000002")}).ok());
  PruneRequest dry;
  dry.idempotency_before = clock_.Now() - 24 * kHour;
  dry.dry_run = true;
  EXPECT_EQ(store_->Prune(dry)->idempotency_keys, 1);
  PruneRequest real = dry;
  real.dry_run = false;
  real.batch_size = 1;
  EXPECT_EQ(store_->Prune(real)->idempotency_keys, 1);
  EXPECT_EQ(store_->Prune(real)->idempotency_keys, 0);
  // The expired key is new again; the kept one still replays.
  EXPECT_FALSE(QueueOutgoingOnce(*store_, token_.id, "old", "r", {Out("tel:+250788000001")})->replayed);
  EXPECT_TRUE(QueueOutgoingOnce(*store_, token_.id, "new", "r", {Out("tel:+250788000002")})->replayed);
}

TEST_F(SqliteApiTest, ListMsgsByUrn) {
  ASSERT_TRUE(store_->QueueOutgoing({Out("tel:+250788000001"), Out("tel:+250788000002"), Out("tel:+250788000001")}).ok());
  MsgFilter f;
  f.urn = "tel:+250788000001";
  EXPECT_EQ(store_->ListMsgs(f)->size(), 2u);
  f.urn = "tel:+250788999999";
  EXPECT_EQ(store_->ListMsgs(f)->size(), 0u);
}

}  // namespace
