// IntakeWriter on a real SQLite file: answers come only once the WAL is
// synced; a failed sync spools the batch instead (and the replay of that
// spool file does not store the msg twice); events follow durability.
#include "intake/intake_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "sync_fault_env.h"
#include "spool/intake_codec.h"
#include "core/uuid.h"
#include "store/store.h"
#include "util/utf8.h"

namespace courier {
namespace {

using courier::testing::SyncFaultEnv;

class IntakeWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/courier-intake-writer-XXXXXX";
    dir_ = mkdtemp(tmpl);
    db_ = dir_ + "/courier.db";
    auto store = OpenStore(db_, Clock::System(), 2000);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Migrate().ok());
    Channel c;
    c.type = "EX";
    c.address = "1234";
    c.country = "RW";
    c.schemes = {"tel"};
    auto added = (*store)->AddChannel(c);
    ASSERT_TRUE(added.ok());
    channel_ = *added;
    spool_ = std::make_unique<SpoolDir>(dir_ + "/spool", env_);
    ASSERT_TRUE(spool_->Ensure().ok());
  }
  void TearDown() override {
    if (writer_) writer_->Stop();
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartWriter() {
    const std::string db = db_;
    writer_ = std::make_unique<IntakeWriter>(
        [db]() { return OpenStore(db, Clock::System(), 2000); }, *spool_, Clock::System(),
        [this](const std::vector<Event>& events) {
          std::lock_guard<std::mutex> lock(mu_);
          for (const auto& e : events) {
            topics_.push_back(e.topic);
            syncs_before_event_.push_back(env_.syncs.load());
          }
        },
        nullptr, 512, 2 * kMicrosPerSecond, env_);
    writer_->Start();
  }

  Intake IncomingIntake(const std::string& text) {
    Msg m;
    m.uuid = NewUUID();
    m.channel_uuid = channel_.uuid;
    m.urn = "tel:+250788123456";
    m.text = text;
    Intake in;
    in.channel_uuid = channel_.uuid;
    in.msgs.push_back(m);
    return in;
  }

  int64_t StoredMsgs() {
    auto store = OpenStore(db_, Clock::System(), 2000);
    EXPECT_TRUE(store.ok());
    MsgFilter filter;
    filter.limit = 1000;
    auto msgs = (*store)->ListMsgs(filter);
    EXPECT_TRUE(msgs.ok());
    return msgs.ok() ? static_cast<int64_t>(msgs->size()) : -1;
  }

  std::string dir_, db_;
  Channel channel_;
  SyncFaultEnv env_;
  std::unique_ptr<SpoolDir> spool_;
  std::unique_ptr<IntakeWriter> writer_;
  std::mutex mu_;
  std::vector<std::string> topics_;
  std::vector<int> syncs_before_event_;
};

TEST_F(IntakeWriterTest, CommittedMeansTheWalWasSyncedAfterTheCommit) {
  StartWriter();
  for (int i = 0; i < 5; ++i) {
    const int syncs_before = env_.syncs.load();
    IntakeWrite w = writer_->Write(IncomingIntake("hello " + std::to_string(i)));
    ASSERT_EQ(w.kind, IntakeWrite::kCommitted) << w.error.ToString();
    EXPECT_GT(env_.syncs.load(), syncs_before) << "answered before the WAL was synced";
  }
  writer_->Stop();
  EXPECT_EQ(StoredMsgs(), 5);
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(topics_.size(), 5u);
  for (int syncs : syncs_before_event_) EXPECT_GT(syncs, 0) << "an event went out before its sync";
}

// A provider's Latin-1 bytes reach neither the store nor a spool file as
// they came: both hold U+FFFD.
TEST_F(IntakeWriterTest, IllFormedUtf8IsStoredAndSpooledRepaired) {
  StartWriter();
  Intake in = IncomingIntake("caf\xE9");
  in.msgs[0].contact_name = "Jos\xE9";
  IntakeWrite w = writer_->Write(in);
  ASSERT_EQ(w.kind, IntakeWrite::kCommitted) << w.error.ToString();
  // The next one's sync fails: it is spooled.
  env_.fail_next_syncs = 1;
  IntakeWrite s = writer_->Write(IncomingIntake("na\xEFve"));
  writer_->Stop();
  ASSERT_EQ(s.kind, IntakeWrite::kSpooled) << s.error.ToString();

  auto store = OpenStore(db_, Clock::System(), 2000);
  ASSERT_TRUE(store.ok());
  auto stored = (*store)->GetMsgByUUID(in.msgs[0].uuid);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->text, "caf\uFFFD");
  auto files = spool_->List("new");
  ASSERT_TRUE(files.ok());
  ASSERT_FALSE(files->empty());
  for (const auto& f : *files) {
    auto bodies = spool_->Read("new", f.name);
    ASSERT_TRUE(bodies.ok());
    for (const auto& body : *bodies) {
      EXPECT_TRUE(IsValidUtf8(body)) << body;
      EXPECT_NE(body.find("na\uFFFDve"), std::string::npos) << body;
    }
  }
}

TEST_F(IntakeWriterTest, AFailedSyncSpoolsTheBatchAndTheReplayStoresItOnce) {
  StartWriter();
  ASSERT_EQ(writer_->Write(IncomingIntake("before")).kind, IntakeWrite::kCommitted);
  env_.fail_next_syncs = 1;
  Intake doubtful = IncomingIntake("not known durable");
  const std::string uuid = doubtful.msgs[0].uuid;
  IntakeWrite w = writer_->Write(doubtful);
  EXPECT_EQ(w.kind, IntakeWrite::kSpooled) << w.error.ToString();
  // The writer starts over on a fresh connection and commits again.
  IntakeWrite after = writer_->Write(IncomingIntake("after"));
  EXPECT_EQ(after.kind, IntakeWrite::kCommitted) << after.error.ToString();
  writer_->Stop();

  auto pending = spool_->List("new");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  // The commit itself went through, so the msg is in the store already;
  // replaying the spool file (as courier-flush does) must not add it again.
  auto bodies = spool_->Read("new", (*pending)[0].name);
  ASSERT_TRUE(bodies.ok());
  ASSERT_EQ(bodies->size(), 1u);
  auto intake = DecodeIntake((*bodies)[0]);
  ASSERT_TRUE(intake.ok()) << intake.status().ToString();
  EXPECT_EQ(intake->msgs[0].uuid, uuid);
  auto store = OpenStore(db_, Clock::System(), 2000);
  ASSERT_TRUE(store.ok());
  auto replayed = (*store)->WriteIntakes({*intake}, nullptr);
  ASSERT_TRUE(replayed.ok());
  EXPECT_TRUE((*replayed)[0].msgs[0].duplicate);
  EXPECT_EQ(StoredMsgs(), 3);
}

// While the disk is slow the writer does not pile up small commits: one
// batch waits for the sync thread at most, and what arrives meanwhile
// goes into the next batch together.
TEST_F(IntakeWriterTest, TheWriterStaysOneBatchAheadOfTheDisk) {
  StartWriter();
  env_.Hold();
  std::atomic<int> committed{0};
  auto count = [&](const IntakeWrite& w) {
    if (w.kind == IntakeWrite::kCommitted) committed++;
  };
  writer_->WriteAsync(IncomingIntake("a"), count);
  env_.WaitForAHeldSync();  // a is committed; its sync is stuck
  writer_->WriteAsync(IncomingIntake("b"), count);
  for (int i = 0; i < 1000 && StoredMsgs() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(StoredMsgs(), 2);  // b is committed and waits for the sync thread
  for (const char* text : {"c", "d", "e"}) {
    writer_->WriteAsync(IncomingIntake(text), count);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // room for a writer that would not wait
  }
  EXPECT_EQ(StoredMsgs(), 2) << "committed while a batch still waited for the disk";
  env_.Release();
  writer_->Stop();
  EXPECT_EQ(committed.load(), 5);
  EXPECT_EQ(StoredMsgs(), 5);
  EXPECT_EQ(writer_->stats().batches, 3);  // a; b; c, d and e together
}

TEST_F(IntakeWriterTest, ManyWritersAreAllAnsweredExactlyOnce) {
  StartWriter();
  constexpr int kThreads = 8, kEach = 50;
  std::atomic<int> committed{0}, answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t]() {
      for (int i = 0; i < kEach; ++i) {
        if (i % 2 == 0) {
          if (writer_->Write(IncomingIntake(std::to_string(t) + "/" + std::to_string(i))).kind ==
              IntakeWrite::kCommitted)
            committed++;
          answered++;
        } else {
          writer_->WriteAsync(IncomingIntake(std::to_string(t) + "/" + std::to_string(i)),
                              [&](const IntakeWrite& w) {
                                if (w.kind == IntakeWrite::kCommitted) committed++;
                                answered++;
                              });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  writer_->Stop();  // answers everything queued before it returns
  EXPECT_EQ(answered.load(), kThreads * kEach);
  EXPECT_EQ(committed.load(), kThreads * kEach);
  EXPECT_EQ(StoredMsgs(), kThreads * kEach);
  EXPECT_LT(env_.syncs.load(), kThreads * kEach) << "syncs are meant to be shared by batches";
}

}  // namespace
}  // namespace courier
