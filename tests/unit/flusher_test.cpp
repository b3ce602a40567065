// Flusher against a real SQLite file and a real spool, with faults
// injected in the store (WriteIntakes failing on a chosen call) and in the
// filesystem (a claim lost to another flusher, an unreadable file, a kill
// between commit and unlink).
#include <gtest/gtest.h>

#include "pass_through_env.h"
#include "sync_fault_env.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/uuid.h"
#include "flush/flusher.h"
#include "spool/intake_codec.h"
#include "spool/spool_file.h"
#include "store/sqlite_store.h"

using namespace courier;

namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;

// A real SQLite store whose WriteIntakes can be made to fail.
class FlakyStore : public SqliteStore {
 public:
  struct Faults {
    int calls = 0;
    std::set<int> fail_calls;  // 1-based call numbers that fail
    Status failure = Status::Busy("injected: database is locked");
    std::vector<size_t> batch_sizes;
    // > 0: a batch of more intakes fails as on a nearly full disk, where
    // a small transaction's WAL pages fit and a large one's do not.
    size_t room_for = 0;
  };
  FlakyStore(const std::string& path, Clock& clock, Faults& faults) : SqliteStore(path, clock), faults_(faults) {}
  Result<std::vector<IntakeOutcome>> WriteIntakes(const std::vector<Intake>& intakes, std::vector<Event>* events) override {
    ++faults_.calls;
    faults_.batch_sizes.push_back(intakes.size());
    if (faults_.fail_calls.count(faults_.calls)) return faults_.failure;
    if (faults_.room_for > 0 && intakes.size() > faults_.room_for)
      return Status::Unavailable("injected: database or disk is full");
    return SqliteStore::WriteIntakes(intakes, events);
  }

 private:
  Faults& faults_;
};

// The real Env, with hooks on renames, reads and removals, and the
// store's WAL syncs counted and failed on request.
class HookEnv : public courier::testing::SyncFaultEnv {
 public:
  std::function<void(const std::string& from, const std::string& to)> before_rename;
  std::set<std::string> unreadable;  // file names whose read fails with EIO
  Result<std::string> ReadFile(const std::string& p) override {
    for (const auto& name : unreadable)
      if (p.size() >= name.size() && p.compare(p.size() - name.size(), name.size(), name) == 0)
        return Status::IOError("injected: read " + p + ": Input/output error");
    return Env::Default().ReadFile(p);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    if (before_rename) before_rename(a, b);
    return Env::Default().Rename(a, b);
  }
  std::set<std::string> unremovable;  // file names whose unlink fails with EIO
  std::function<void(const std::string& path)> before_remove;
  Status Remove(const std::string& p) override {
    if (before_remove) before_remove(p);
    if (unremovable.count(std::filesystem::path(p).filename().string()))
      return Status::IOError("injected: unlink " + p + ": Input/output error");
    return Env::Default().Remove(p);
  }
};

class FlusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/courier-flusher-XXXXXX";
    root_ = mkdtemp(tmpl);
    db_ = root_ + "/courier.db";
    SqliteStore setup(db_, clock_);
    ASSERT_TRUE(setup.Migrate().ok());
    Channel ch;
    ch.type = "EX";
    ch.address = "1234";
    ch.country = "RW";
    auto added = setup.AddChannel(ch);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    channel_ = added->uuid;
    ASSERT_TRUE(spool().Ensure().ok());
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  SpoolDir spool() { return SpoolDir(root_ + "/spool", env_); }

  Flusher MakeFlusher(size_t batch_size = 256) {
    FlusherOptions options;
    options.batch_size = batch_size;
    StoreOpener open = [this]() -> Result<std::unique_ptr<Store>> {
      ++opens_;
      if (store_down_) return Status::Unavailable("injected: store directory does not exist");
      auto store = std::make_unique<FlakyStore>(db_, clock_, faults_);
      Status s = store->Open();
      if (!s.ok()) return s;
      return std::unique_ptr<Store>(std::move(store));
    };
    return Flusher(open, spool(), env_, options);
  }

  std::string Spool(const std::string& text, const std::string& channel = "") {
    auto name = spool().Write(EncodeIntake(IntakeOf(text, channel.empty() ? channel_ : channel)), ++now_);
    EXPECT_TRUE(name.ok());
    return name.ok() ? *name : "";
  }

  // One intake a text, on `channel` where one is given for that text (as a
  // writer's batch, in one file); returns the file's name.
  std::string SpoolBatch(const std::vector<std::string>& texts, const std::map<std::string, std::string>& channels = {}) {
    std::vector<std::string> bodies;
    for (const auto& text : texts) bodies.push_back(EncodeIntake(IntakeOf(text, channels.count(text) ? channels.at(text) : channel_)));
    auto name = spool().WriteBatch(bodies, ++now_);
    EXPECT_TRUE(name.ok());
    return name.ok() ? *name : "";
  }
  Intake IntakeOf(const std::string& text, const std::string& channel) {
    Intake in;
    in.channel_uuid = channel;
    Msg m;
    m.uuid = NewUUID();
    m.channel_uuid = channel;
    m.urn = "tel:+250788383383";
    m.text = text;
    in.msgs.push_back(m);
    return in;
  }

  size_t Count(const std::string& state) {
    auto files = spool().List(state);
    return files.ok() ? files->size() : 0;
  }

  std::vector<std::string> Texts() {
    SqliteStore store(db_, clock_);
    MsgFilter filter;
    filter.after_id = 0;
    filter.limit = 1000;
    auto msgs = store.ListMsgs(filter);
    std::vector<std::string> texts;
    if (msgs.ok())
      for (const auto& m : *msgs) texts.push_back(m.text);
    return texts;
  }

  std::string root_, db_, channel_;
  ManualClock clock_{kStart};
  Micros now_ = kStart;
  HookEnv env_;
  FlakyStore::Faults faults_;
  bool store_down_ = false;
  int opens_ = 0;
};

TEST_F(FlusherTest, FlushesInBatchesOldestFirst) {
  for (int i = 0; i < 5; ++i) Spool("m" + std::to_string(i));
  Flusher flusher = MakeFlusher(2);
  std::vector<int64_t> progress;
  auto r = flusher.FlushOnce({}, [&](const FlushReport& so_far, size_t total) {
    EXPECT_EQ(total, 5u);
    progress.push_back(so_far.flushed);
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 5);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->left, 0);
  EXPECT_TRUE(r->store_error.ok());
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(progress, (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
}

// A file spooled by a version that kept a provider's bytes as they came
// (its JSON holds raw Latin-1) is replayed with U+FFFD, never rejected:
// its msg was promised to the provider.
TEST_F(FlusherTest, IllFormedUtf8InAnOldFileIsRepairedNotRejected) {
  Spool("before");
  std::string body = EncodeIntake(IntakeOf("caf@ na@ve \xF0\x9F\x98", channel_));
  for (size_t at; (at = body.find('@')) != std::string::npos;) body.replace(at, 1, "\xE9");
  ASSERT_TRUE(spool().Write(body, ++now_).ok());
  Spool("after");

  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce({}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 3);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"before", "caf\uFFFD na\uFFFDve \uFFFD", "after"}));
}

TEST_F(FlusherTest, StoreFailingMidPassRetriesWithSmallerBatches) {
  for (int i = 0; i < 5; ++i) Spool("m" + std::to_string(i));
  faults_.fail_calls = {2};
  Flusher flusher = MakeFlusher(2);
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 5);
  EXPECT_EQ(r->left, 0);
  EXPECT_TRUE(r->store_error.ok()) << r->store_error.ToString();
  // The refused batch is tried again, halved, from its first file.
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{2, 2, 1, 1, 1}));
  EXPECT_EQ(opens_, 2);  // reconnected after the refusal
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST_F(FlusherTest, StoreRefusingOneFilePutsItBackAndStops) {
  for (int i = 0; i < 5; ++i) Spool("m" + std::to_string(i));
  faults_.fail_calls = {2, 3};
  Flusher flusher = MakeFlusher(2);
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 2);
  EXPECT_EQ(r->left, 3);
  EXPECT_EQ(r->store_error.code(), Status::Code::kBusy);
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{2, 2, 1}));  // then no more tries
  EXPECT_EQ(Count("new"), 3u);
  EXPECT_EQ(Count("cur"), 0u);
  // The next pass reconnects and goes on in order, with whole batches again.
  auto again = flusher.FlushOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->flushed, 3);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

// A nearly full disk: the store has room for the WAL pages of two intakes
// a transaction, not eight. The old all-or-nothing pass replayed nothing,
// ever; now it halves the batch until it fits, and goes on.
TEST_F(FlusherTest, LittleRoomReplaysEverythingInSmallTransactions) {
  for (int i = 0; i < 9; ++i) Spool("m" + std::to_string(i));
  faults_.room_for = 2;
  Flusher flusher = MakeFlusher(8);
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 9);
  EXPECT_EQ(r->rejected, 0);
  EXPECT_EQ(r->left, 0);
  EXPECT_TRUE(r->store_error.ok()) << r->store_error.ToString();
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{8, 4, 2, 2, 2, 2, 1}));
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"}));
}

TEST_F(FlusherTest, StoreThatCannotBeOpenedLeavesEverythingInNew) {
  Spool("a");
  Spool("b");
  store_down_ = true;
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->store_error.IsUnavailable());
  EXPECT_EQ(r->left, 2);
  EXPECT_EQ(Count("new"), 2u);
  store_down_ = false;
  auto again = flusher.FlushOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->flushed, 2);
  // An empty spool does not even open the store.
  Flusher idle = MakeFlusher();
  int before = opens_;
  ASSERT_TRUE(idle.FlushOnce().ok());
  EXPECT_EQ(opens_, before);
}

TEST_F(FlusherTest, DataErrorsAreRejectedAndTheRestCommitted) {
  Spool("good 1");
  std::string orphan = Spool("orphan", "0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10");
  std::string garbage = Spool("garbage");
  Spool("good 2");
  std::ofstream(root_ + "/spool/new/" + garbage) << EncodeSpoolFile("{\"kind\":\"something else\"}");
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 2);
  EXPECT_EQ(r->rejected, 2);
  EXPECT_EQ(faults_.calls, 1);  // one transaction for the batch
  auto bad = spool().List("bad");
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->size(), 2u);
  EXPECT_EQ((*bad)[0].name, orphan);
  EXPECT_EQ((*bad)[0].reason, "not found: channel not found");
  EXPECT_EQ((*bad)[1].name, garbage);
  EXPECT_NE((*bad)[1].reason.find("not an intake"), std::string::npos) << (*bad)[1].reason;
  EXPECT_EQ(Texts(), (std::vector<std::string>{"good 1", "good 2"}));
}

TEST_F(FlusherTest, UnexpectedBatchErrorIsNarrowedToTheFileThatCausesIt) {
  for (int i = 0; i < 3; ++i) Spool("m" + std::to_string(i));
  // Call 1 is the batch of 3; then one by one: calls 2, 3 (fails), 4.
  faults_.fail_calls = {1, 3};
  faults_.failure = Status::Internal("injected: unexpected");
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 2);
  EXPECT_EQ(r->rejected, 1);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m2"}));
  auto bad = spool().List("bad");
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->size(), 1u);
  EXPECT_EQ((*bad)[0].reason, "internal error: injected: unexpected");
}

TEST_F(FlusherTest, LostClaimIsSkippedAndUnreadableFileRetried) {
  std::string a = Spool("a");
  std::string b = Spool("b");
  std::string c = Spool("c");
  // Another flusher takes b between our listing and our claim.
  env_.before_rename = [&](const std::string& from, const std::string&) {
    if (from == root_ + "/spool/new/" + b) std::filesystem::remove(from);
  };
  env_.unreadable = {c};
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 1);
  EXPECT_EQ(r->skipped, 2);
  EXPECT_TRUE(r->spool_error.ok());
  EXPECT_EQ(r->left, 1);  // c, back in new/
  EXPECT_EQ(Count("new"), 1u);
  env_.unreadable.clear();
  auto again = flusher.FlushOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->flushed, 1);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"a", "c"}));
}

// A full batch is removed by several threads; the files whose unlink
// fails, and only those, stay in cur/ and replay as no-ops.
TEST_F(FlusherTest, FilesThatCannotBeRemovedStayInCurAndReplayAsNoOps) {
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back(Spool("m" + std::to_string(i)));
  const std::set<std::string> stuck = {names[0], names[1], names[77], names[255], names[299]};
  env_.unremovable = stuck;
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 300);
  EXPECT_EQ(r->spool_error.code(), Status::Code::kIOError);
  EXPECT_EQ(Count("new"), 0u);
  auto left = spool().List("cur");
  ASSERT_TRUE(left.ok());
  std::set<std::string> in_cur;
  for (const auto& f : *left) in_cur.insert(f.name);
  EXPECT_EQ(in_cur, stuck);
  EXPECT_EQ(Texts().size(), 300u);

  env_.unremovable.clear();
  auto recovered = flusher.RecoverClaimed();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 5);
  auto again = flusher.FlushOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->flushed, 5);
  EXPECT_TRUE(again->spool_error.ok());
  EXPECT_EQ(Texts().size(), 300u);  // nothing twice
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
}

TEST_F(FlusherTest, KilledBetweenCommitAndUnlinkReplaysAsNoOps) {
  for (int i = 0; i < 3; ++i) Spool("m" + std::to_string(i));
  // kill -9, through the Env, at the first unlink in cur/: after the
  // batch's commit, before any of its files is removed. The flusher runs
  // in a child process (a death test), so the kill is real: its store
  // connection and threads die mid-pass.
  env_.before_remove = [](const std::string& path) {
    if (path.find("/spool/cur/") != std::string::npos) ::kill(::getpid(), SIGKILL);
  };
  EXPECT_EXIT((void)MakeFlusher().FlushOnce(), ::testing::KilledBySignal(SIGKILL), "");
  env_.before_remove = nullptr;
  EXPECT_EQ(Count("new"), 0u);
  EXPECT_EQ(Count("cur"), 3u);     // claimed, committed, not removed
  EXPECT_EQ(Texts().size(), 3u);   // the commit survived its process

  Flusher restarted = MakeFlusher();
  auto recovered = restarted.RecoverClaimed();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 3);
  auto r = restarted.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 3);
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2"}));  // nothing twice
}

TEST_F(FlusherTest, StopBetweenBatches) {
  for (int i = 0; i < 4; ++i) Spool("m" + std::to_string(i));
  Flusher flusher = MakeFlusher(2);
  int batches = 0;
  auto r = flusher.FlushOnce([&] { return batches >= 1; }, [&](const FlushReport&, size_t) { ++batches; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 2);
  EXPECT_EQ(r->left, 2);
  EXPECT_EQ(Count("cur"), 0u);
}

TEST_F(FlusherTest, RecoverClaimedThenReplayIsANoOp) {
  std::string name = Spool("once");
  std::string contents = Env::Default().ReadFile(root_ + "/spool/new/" + name).value();
  Flusher flusher = MakeFlusher();
  ASSERT_TRUE(flusher.FlushOnce().ok());
  // As if a flusher died after its commit and before the unlink.
  std::ofstream(root_ + "/spool/cur/" + name) << contents;
  Flusher restarted = MakeFlusher();
  auto recovered = restarted.RecoverClaimed();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 1);
  auto r = restarted.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 1);
  EXPECT_EQ(Count("new") + Count("cur"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"once"}));
}

TEST_F(FlusherTest, FlushFilesReplaysNamedFilesWherever) {
  std::string good = root_ + "/elsewhere.json";
  Intake in;
  in.channel_uuid = channel_;
  Msg m;
  m.uuid = NewUUID();
  m.channel_uuid = channel_;
  m.urn = "tel:+250788383383";
  m.text = "named";
  in.msgs.push_back(m);
  std::ofstream(good) << EncodeSpoolFile(EncodeIntake(in));
  std::string bare = root_ + "/bare.json";
  m.uuid = NewUUID();
  m.text = "bare";
  in.msgs = {m};
  std::ofstream(bare) << EncodeIntake(in);
  std::ofstream(bare + ".reason") << "corruption: checksum mismatch\n";
  std::string torn = root_ + "/torn.json";
  std::ofstream(torn) << EncodeSpoolFile(EncodeIntake(in)).substr(0, 40);

  Flusher flusher = MakeFlusher();
  ReplayReport r = flusher.FlushFiles({good, bare, bare + ".reason", torn, root_ + "/missing.json"});
  ASSERT_EQ(r.files.size(), 5u);
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kReplayed);
  EXPECT_EQ(r.files[1].result, FileReplay::Result::kReplayed);
  EXPECT_EQ(r.files[2].result, FileReplay::Result::kSkipped);
  EXPECT_EQ(r.files[3].result, FileReplay::Result::kBad);
  EXPECT_EQ(r.files[3].status.code(), Status::Code::kCorruption);
  EXPECT_EQ(r.files[4].result, FileReplay::Result::kMissing);
  EXPECT_FALSE(std::filesystem::exists(good));
  EXPECT_FALSE(std::filesystem::exists(bare));
  EXPECT_FALSE(std::filesystem::exists(bare + ".reason"));
  EXPECT_TRUE(std::filesystem::exists(torn));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"named", "bare"}));

  // Store down: decodable files stay pending and in place.
  std::ofstream(good) << EncodeSpoolFile(EncodeIntake(in));
  store_down_ = true;
  Flusher down = MakeFlusher();
  ReplayReport d = down.FlushFiles({good});
  EXPECT_TRUE(d.store_error.IsUnavailable());
  EXPECT_EQ(d.files[0].result, FileReplay::Result::kPending);
  EXPECT_TRUE(std::filesystem::exists(good));
}

// A writer's batch is one file: its intakes are committed with the files
// around it, counted one by one, and the file is removed once.
TEST_F(FlusherTest, ABatchFileIsReplayedIntakeByIntakeAndRemovedOnce) {
  Spool("m0");
  std::string batch = SpoolBatch({"m1", "m2", "m3", "m4"});
  EXPECT_EQ(IntakesInSpoolName(batch), 4);
  Spool("m5");
  int removes = 0;
  env_.before_remove = [&](const std::string&) { ++removes; };
  Flusher flusher = MakeFlusher(3);
  std::vector<size_t> totals;
  auto r = flusher.FlushOnce({}, [&](const FlushReport&, size_t total) { totals.push_back(total); });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 6);
  EXPECT_EQ(r->left, 0);
  // Whole files until a batch holds 3 intakes: m0 with the batch of 4, then m5.
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{5, 1}));
  EXPECT_EQ(totals, (std::vector<size_t>{6, 6}));
  EXPECT_EQ(removes, 3);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5"}));
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
}

// One intake of a batch the store refuses, and one that is not an intake
// at all: each goes to bad/ alone with its reason, the rest is stored, the
// file removed. Manual replay of a part file then stores it.
TEST_F(FlusherTest, ARefusedPartOfABatchGoesToBadAlone) {
  const std::string orphan_channel = "0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10";
  std::vector<std::string> bodies = {EncodeIntake(IntakeOf("good 1", channel_)),
                                     EncodeIntake(IntakeOf("orphan", orphan_channel)),
                                     "{\"kind\":\"something else\"}",
                                     EncodeIntake(IntakeOf("good 2", channel_))};
  auto batch = spool().WriteBatch(bodies, ++now_);
  ASSERT_TRUE(batch.ok());
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 2);
  EXPECT_EQ(r->rejected, 2);
  EXPECT_TRUE(r->spool_error.ok()) << r->spool_error.ToString();
  EXPECT_EQ(faults_.calls, 1);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"good 1", "good 2"}));
  EXPECT_EQ(Count("new") + Count("cur"), 0u);
  auto bad = spool().List("bad");
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad->size(), 2u);
  EXPECT_EQ((*bad)[0].name, SpoolPartName(*batch, 2));
  EXPECT_EQ((*bad)[0].reason, "not found: channel not found");
  EXPECT_EQ(*spool().Read("bad", (*bad)[0].name), std::vector<std::string>{bodies[1]});
  EXPECT_EQ((*bad)[1].name, SpoolPartName(*batch, 3));
  EXPECT_NE((*bad)[1].reason.find("not an intake"), std::string::npos) << (*bad)[1].reason;

  // The operator fixes the part to name this store's channel (the intake's
  // and its msg's) and replays it.
  std::string fixed = bodies[1];
  fixed.replace(fixed.find(orphan_channel), orphan_channel.size(), channel_);
  fixed.replace(fixed.find(orphan_channel), orphan_channel.size(), channel_);
  const std::string part = root_ + "/spool/bad/" + (*bad)[0].name;
  std::ofstream(part) << fixed;
  ReplayReport replay = flusher.FlushFiles({part, part + ".reason"});
  EXPECT_EQ(replay.files[0].result, FileReplay::Result::kReplayed) << replay.files[0].status.ToString();
  EXPECT_EQ(Texts(), (std::vector<std::string>{"good 1", "good 2", "orphan"}));
}

// A batch file cut short or altered is never half-replayed: it goes to
// bad/ whole, counted as every intake it names.
TEST_F(FlusherTest, ATornBatchFileGoesToBadWhole) {
  std::string batch = SpoolBatch({"a", "b", "c"});
  const std::string path = root_ + "/spool/new/" + batch;
  std::string contents = Env::Default().ReadFile(path).value();
  std::ofstream(path, std::ios::trunc) << contents.substr(0, contents.size() - 10);
  Spool("after");
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 1);
  EXPECT_EQ(r->rejected, 3);
  auto bad = spool().List("bad");
  ASSERT_EQ(bad->size(), 1u);
  EXPECT_EQ((*bad)[0].name, batch);
  EXPECT_NE((*bad)[0].reason.find("torn"), std::string::npos) << (*bad)[0].reason;
  EXPECT_EQ(Texts(), (std::vector<std::string>{"after"}));
}

// The store refusing a batch of batch files puts them back whole and
// halves by intakes; a batch of one file that still fails ends the pass.
TEST_F(FlusherTest, AStoreRefusingBatchFilesPutsThemBackWhole) {
  SpoolBatch({"m0", "m1"});
  SpoolBatch({"m2", "m3"});
  SpoolBatch({"m4", "m5"});
  faults_.room_for = 3;
  Flusher flusher = MakeFlusher(6);
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->store_error.ok()) << r->store_error.ToString();
  EXPECT_EQ(r->flushed, 6);
  // 6 refused; halved to 3: whole files until 3, i.e. 4, refused; 2: fits.
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{6, 4, 2, 2, 2}));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5"}));

  // A file alone larger than the room: in pieces (AFileLargerThanTheStoresRoomIsWrittenInPieces).
  SpoolBatch({"n0", "n1", "n2", "n3"});
  faults_.batch_sizes.clear();
  auto pieces = flusher.FlushOnce();
  ASSERT_TRUE(pieces.ok());
  EXPECT_TRUE(pieces->store_error.ok());
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{4, 2, 2}));
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
}

// Files are taken whole, so a batch can be larger than its limit; the
// limit is what is halved, or a file of one intake and one of four would
// be tried together for ever (as they were, under a full disk in
// DiskFullTest, before this was so). And a file alone larger than the
// room the store has is written a few intakes at a time: on a nearly full
// disk the smallest transaction is still one intake, as it was when every
// file held one.
TEST_F(FlusherTest, AFileLargerThanTheStoresRoomIsWrittenInPieces) {
  Spool("a");
  SpoolBatch({"b0", "b1", "b2", "b3", "b4"});
  Spool("c");
  faults_.room_for = 2;
  Flusher flusher = MakeFlusher();
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->store_error.ok()) << r->store_error.ToString();
  EXPECT_EQ(r->flushed, 7);
  EXPECT_EQ(r->left, 0);
  // 7 refused; limit 3: a and b (6) refused; limit 1: a; then b alone (5)
  // refused, so in pieces of 2, 2, 1; then c.
  EXPECT_EQ(faults_.batch_sizes, (std::vector<size_t>{7, 6, 1, 5, 2, 2, 1, 1}));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"a", "b0", "b1", "b2", "b3", "b4", "c"}));
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);

  // Room for none: the pass stops with the file back in new/, whole.
  SpoolBatch({"d0", "d1"});
  faults_.room_for = 0;
  faults_.fail_calls = {faults_.calls + 1, faults_.calls + 2, faults_.calls + 3};  // 2, then 1
  faults_.failure = Status::Unavailable("injected: database or disk is full");
  auto stopped = flusher.FlushOnce();
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(stopped->store_error.IsUnavailable());
  EXPECT_EQ(stopped->left, 2);
  EXPECT_EQ(Count("new"), 1u);
  EXPECT_EQ(Count("cur"), 0u);
}

// Killed after the commit, before the unlink: the whole batch file is
// replayed again at the next start, as no-ops.
TEST_F(FlusherTest, ABatchFileReplayedTwiceStoresItsIntakesOnce) {
  std::string batch = SpoolBatch({"x", "y", "z"});
  std::string contents = Env::Default().ReadFile(root_ + "/spool/new/" + batch).value();
  Flusher flusher = MakeFlusher();
  ASSERT_TRUE(flusher.FlushOnce().ok());
  std::ofstream(root_ + "/spool/cur/" + batch) << contents;
  Flusher restarted = MakeFlusher();
  ASSERT_EQ(restarted.RecoverClaimed().value(), 1);
  auto r = restarted.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 3);
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"x", "y", "z"}));
}

// Manual replay of a batch file: removed only when every intake is stored.
TEST_F(FlusherTest, FlushFilesKeepsABatchFileWithARefusedIntake) {
  const std::string orphan_channel = "0d8d1c5e-7b3a-4a51-9f3e-2b1c9a7e4d10";
  const std::string whole = root_ + "/whole.json", refused = root_ + "/refused.json";
  std::ofstream(whole) << EncodeSpoolFile(std::vector<std::string>{EncodeIntake(IntakeOf("w1", channel_)),
                                                                   EncodeIntake(IntakeOf("w2", channel_))});
  std::ofstream(refused) << EncodeSpoolFile(std::vector<std::string>{EncodeIntake(IntakeOf("r1", channel_)),
                                                                     EncodeIntake(IntakeOf("r2", orphan_channel))});
  Flusher flusher = MakeFlusher();
  ReplayReport r = flusher.FlushFiles({whole, refused});
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kReplayed);
  EXPECT_EQ(r.files[1].result, FileReplay::Result::kBad);
  EXPECT_EQ(r.files[1].status.ToString(), "not found: channel not found");
  EXPECT_FALSE(std::filesystem::exists(whole));
  EXPECT_TRUE(std::filesystem::exists(refused));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"w1", "w2", "r1"}));
}

TEST_F(FlusherTest, FlushFilesStoresTheGoodPartsOfABatchFileWithAPartThatIsNotAnIntake) {
  // As the daemon does: a part that does not decode keeps the file, not
  // the other parts from the store.
  const std::string mixed = root_ + "/mixed.json";
  std::ofstream(mixed) << EncodeSpoolFile(std::vector<std::string>{EncodeIntake(IntakeOf("m1", channel_)),
                                                                   "{\"kind\":\"something else\"}",
                                                                   EncodeIntake(IntakeOf("m3", channel_))});
  Flusher flusher = MakeFlusher();
  ReplayReport r = flusher.FlushFiles({mixed});
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kBad);
  EXPECT_NE(r.files[0].status.ToString().find("part 2 of 3"), std::string::npos) << r.files[0].status.ToString();
  EXPECT_TRUE(std::filesystem::exists(mixed));
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m1", "m3"}));
  // Again: the stored parts are not stored twice.
  r = flusher.FlushFiles({mixed});
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kBad);
  EXPECT_EQ(Texts(), (std::vector<std::string>{"m1", "m3"}));
}

TEST_F(FlusherTest, AFileIsRemovedOnlyAfterTheStoreSyncedItsCommit) {
  for (int i = 0; i < 3; ++i) SpoolBatch({"s" + std::to_string(i) + "a", "s" + std::to_string(i) + "b"});
  std::vector<int> syncs_at_removal;
  env_.before_remove = [&](const std::string&) { syncs_at_removal.push_back(env_.syncs.load()); };
  Flusher flusher = MakeFlusher(2);  // a batch a file
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flushed, 6);
  ASSERT_EQ(syncs_at_removal.size(), 3u);
  // The n-th file's removal comes after at least n syncs of the WAL.
  for (size_t i = 0; i < syncs_at_removal.size(); ++i) EXPECT_GT(syncs_at_removal[i], static_cast<int>(i)) << i;
  EXPECT_EQ(Texts().size(), 6u);
}

TEST_F(FlusherTest, ASyncThatFailsPutsTheFilesBackAndNothingIsLostOrStoredTwice) {
  for (int i = 0; i < 3; ++i) SpoolBatch({"f" + std::to_string(i) + "a", "f" + std::to_string(i) + "b"});
  env_.fail_next_syncs = 1;  // the first batch's commit is not known durable
  Flusher flusher = MakeFlusher(2);
  auto r = flusher.FlushOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->store_error.ok());
  EXPECT_NE(r->store_error.message().find("fdatasync"), std::string::npos) << r->store_error.ToString();
  // The first batch and the one committed after it on that connection
  // are back in new/, counted as left, not as flushed.
  EXPECT_EQ(r->flushed, 0);
  EXPECT_EQ(r->left, 6);
  EXPECT_EQ(Count("new"), 3u);
  EXPECT_EQ(Count("cur"), 0u);
  EXPECT_EQ(Count("bad"), 0u);

  // The next pass, on a store that syncs: every intake once.
  auto again = flusher.FlushOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->store_error.ok()) << again->store_error.ToString();
  EXPECT_EQ(Count("new") + Count("cur") + Count("bad"), 0u);
  auto texts = Texts();
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"f0a", "f0b", "f1a", "f1b", "f2a", "f2b"}));
}

TEST_F(FlusherTest, FlushFilesKeepsItsFilesWhenTheStoreCannotSync) {
  const std::string file = root_ + "/one.json";
  std::ofstream(file) << EncodeSpoolFile(EncodeIntake(IntakeOf("kept", channel_)));
  env_.fail_next_syncs = 1;
  Flusher flusher = MakeFlusher();
  ReplayReport r = flusher.FlushFiles({file});
  EXPECT_FALSE(r.store_error.ok());
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kPending);
  EXPECT_TRUE(std::filesystem::exists(file));
  r = flusher.FlushFiles({file});
  EXPECT_EQ(r.files[0].result, FileReplay::Result::kReplayed) << r.files[0].status.ToString();
  EXPECT_EQ(Texts(), std::vector<std::string>{"kept"});
}

}  // namespace
