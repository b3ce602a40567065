// The spool's durability steps, with real files and with injected faults.
#include <gtest/gtest.h>

#include "pass_through_env.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "spool/spool.h"
#include "spool/spool_file.h"

using namespace courier;

namespace {

// Passes everything through to the real Env, failing the operations a
// test names.
class FaultEnv : public courier::testing::PassThroughEnv {
 public:
  bool fail_write = false;
  bool fail_rename = false;
  bool fail_sync_dir = false;
  std::string fail_write_of;  // a body whose write fails
  std::atomic<int> renames{0};
  std::atomic<int> dir_syncs{0};
  Status WriteFileSynced(const std::string& p, const std::string& d) override {
    if (fail_write || (!fail_write_of.empty() && d.find(fail_write_of) != std::string::npos)) {
      std::ofstream(p) << d.substr(0, d.size() / 2);  // a torn tmp file, as a crash would leave
      return Status::IOError("injected: fsync failed");
    }
    return Env::Default().WriteFileSynced(p, d);
  }
  Status Rename(const std::string& a, const std::string& b) override {
    ++renames;
    if (fail_rename) return Status::IOError("injected: rename failed");
    return Env::Default().Rename(a, b);
  }
  int64_t free_bytes = -1;  // >= 0: what FreeSpace reports
  Result<FsSpace> FreeSpace(const std::string& path) override {
    if (free_bytes < 0) return Env::Default().FreeSpace(path);
    FsSpace space;
    space.available_bytes = free_bytes;
    space.total_bytes = 100 * 1024 * 1024;
    return space;
  }
  Status SyncDir(const std::string& dir) override {
    ++dir_syncs;
    if (fail_sync_dir) return Status::IOError("injected: fsync " + dir + " failed");
    return Env::Default().SyncDir(dir);
  }
};

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/courier-spool-XXXXXX";
    root_ = std::string(mkdtemp(tmpl)) + "/spool";
    ASSERT_TRUE(SpoolDir(root_).Ensure().ok());
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(root_).parent_path()); }
  size_t Count(const std::string& state) {
    auto files = SpoolDir(root_).List(state);
    return files.ok() ? files->size() : 0;
  }
  std::string root_;
};

TEST(SpoolFileTest, RoundTripAndCorruption) {
  std::string body = "{\"msgs\":[{\"text\":\"Muraho ✓\"}]}";
  std::string file = EncodeSpoolFile(body);
  EXPECT_EQ(file.rfind("courier-spool 1 ", 0), 0u) << "one body is written as version 1";
  auto decoded = DecodeSpoolFile(file);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::vector<std::string>{body});

  auto torn = DecodeSpoolFile(file.substr(0, file.size() - 5));
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.status().code(), Status::Code::kCorruption);
  EXPECT_NE(torn.status().message().find("torn"), std::string::npos);

  std::string flipped = file;
  flipped[flipped.size() - 3] ^= 0x01;
  EXPECT_NE(DecodeSpoolFile(flipped).status().message().find("checksum"), std::string::npos);
  EXPECT_FALSE(DecodeSpoolFile("garbage\x01\x02").ok());
  EXPECT_FALSE(DecodeSpoolFile("").ok());
  EXPECT_FALSE(DecodeSpoolFile("courier-spool 9 2 00000000\n{}").ok());
}

// Version 2, a writer's batch: every way a file can be cut or altered is
// Corruption, never fewer bodies than were written.
TEST(SpoolFileTest, ABatchFileIsWholeOrCorruption) {
  const std::vector<std::string> bodies = {"{\"n\":1}", "", "{\"text\":\"line\\nbreak ✓\"}", std::string(5000, 'x')};
  const std::string file = EncodeSpoolFile(bodies);
  EXPECT_EQ(file.rfind("courier-spool 2 4\n", 0), 0u);
  auto decoded = DecodeSpoolFile(file);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, bodies);

  // Cut anywhere (at a record's end too): never a shorter list.
  for (size_t cut = 0; cut < file.size(); cut += (cut < 200 ? 1 : 97)) {
    auto torn = DecodeSpoolFile(file.substr(0, cut));
    ASSERT_FALSE(torn.ok()) << "cut at " << cut;
    EXPECT_EQ(torn.status().code(), Status::Code::kCorruption) << cut;
  }
  // One bit flipped in any byte of any record's body, header or end.
  for (size_t at = std::string("courier-spool 2 4\n").size(); at < file.size(); at += 7) {
    std::string flipped = file;
    flipped[at] ^= 0x04;
    EXPECT_FALSE(DecodeSpoolFile(flipped).ok()) << "flip at " << at;
  }
  EXPECT_FALSE(DecodeSpoolFile(file + "x").ok()) << "trailing bytes";
  EXPECT_FALSE(DecodeSpoolFile("courier-spool 2 0\n").ok()) << "no records";
  EXPECT_FALSE(DecodeSpoolFile("courier-spool 2 -1\n").ok());
  EXPECT_FALSE(DecodeSpoolFile("courier-spool 2 x\n").ok());
  // More records announced than present, the ones present whole.
  EXPECT_FALSE(DecodeSpoolFile("courier-spool 2 5" + file.substr(file.find('\n'))).ok());
}

TEST(SpoolFileTest, AFileSaysHowManyIntakesInItsName) {
  EXPECT_EQ(IntakesInSpoolName("00000000000000000001-1-000000.json"), 1);
  EXPECT_EQ(IntakesInSpoolName("00000000000000000001-1-000000-x32.json"), 32);
  EXPECT_EQ(IntakesInSpoolName("00000000000000000001-1-000000-x32-p7.json"), 1);
  EXPECT_EQ(IntakesInSpoolName("hand-made.json"), 1);
  EXPECT_EQ(IntakesInSpoolName("x.json"), 1);
  EXPECT_EQ(IntakesInSpoolName("-x.json"), 1);
  EXPECT_EQ(IntakesInSpoolName("a-x0.json"), 1);
  EXPECT_EQ(SpoolPartName("00000000000000000001-1-000000-x32.json", 7), "00000000000000000001-1-000000-x32-p7.json");
}

TEST_F(SpoolTest, WriteClaimDoneInTimeOrder) {
  SpoolDir spool(root_);
  auto first = spool.Write("{\"n\":1}", 1000);
  auto second = spool.Write("{\"n\":2}", 2000);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_LT(*first, *second);
  auto pending = spool.List("new");
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].name, *first);
  EXPECT_EQ(Count("tmp"), 0u);

  ASSERT_TRUE(spool.Claim(*first).ok());
  EXPECT_FALSE(spool.Claim(*first).ok());  // a second flusher loses the race
  EXPECT_EQ(*spool.Read("cur", *first), std::vector<std::string>{"{\"n\":1}"});
  ASSERT_TRUE(spool.Done(*first).ok());
  EXPECT_EQ(Count("cur"), 0u);
  EXPECT_EQ(Count("new"), 1u);
}

TEST_F(SpoolTest, RecoverPutsClaimedFilesBack) {
  SpoolDir spool(root_);
  auto name = spool.Write("{}", 5);
  ASSERT_TRUE(spool.Claim(*name).ok());
  // the flusher dies here; a new one starts
  auto moved = spool.RecoverClaimed();
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 1);
  EXPECT_EQ(Count("new"), 1u);
  EXPECT_EQ(Count("cur"), 0u);
}

TEST_F(SpoolTest, RejectKeepsFileWithReason) {
  SpoolDir spool(root_);
  auto name = spool.Write("{}", 5);
  ASSERT_TRUE(spool.Claim(*name).ok());
  ASSERT_TRUE(spool.Reject(*name, "cur", "unknown channel 1234").ok());
  auto bad = spool.List("bad");
  ASSERT_EQ(bad->size(), 1u);
  EXPECT_EQ((*bad)[0].reason, "unknown channel 1234");
  EXPECT_EQ(Count("cur"), 0u);
}

TEST_F(SpoolTest, FailedWriteLeavesNothingVisible) {
  FaultEnv env;
  env.fail_write = true;
  SpoolDir spool(root_, env);
  auto name = spool.Write("{\"important\":true}", 7);
  EXPECT_FALSE(name.ok());
  EXPECT_EQ(env.renames, 0);
  EXPECT_EQ(Count("new"), 0u);
  EXPECT_EQ(Count("tmp"), 0u);  // the torn tmp file was cleaned up

  env.fail_write = false;
  env.fail_rename = true;
  EXPECT_FALSE(spool.Write("{}", 8).ok());
  EXPECT_EQ(Count("new"), 0u);
  EXPECT_EQ(Count("tmp"), 0u);
}

TEST_F(SpoolTest, ABatchIsOneFileAndOneDirectorySyncAllOrNothing) {
  FaultEnv env;
  SpoolDir spool(root_, env);
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back("{\"n\":" + std::to_string(i) + "}");
  auto name = spool.WriteBatch(bodies, 5000);
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(env.dir_syncs.load(), 1);
  EXPECT_EQ(env.renames.load(), 1);
  auto listed = spool.List("new");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, *name);
  EXPECT_EQ((*listed)[0].intakes, 10);
  EXPECT_EQ(*spool.Read("new", *name), bodies);
  auto later = spool.Write("{}", 5000);
  ASSERT_TRUE(later.ok());
  EXPECT_LT(*name, *later);
  EXPECT_EQ(IntakesInSpoolName(*later), 1);

  // A body whose write fails fails the whole batch, and nothing of it is
  // visible (the torn tmp file is gone too).
  env.fail_write_of = "{\"n\":3}";
  auto failed = spool.WriteBatch(bodies, 6000);
  EXPECT_EQ(failed.status().code(), Status::Code::kIOError);
  EXPECT_EQ(Count("new"), 2u);
  EXPECT_EQ(Count("tmp"), 0u);

  // Renamed but not known durable: an error (the caller answers non-2xx;
  // a replay of what did land is deduplicated).
  env.fail_write_of.clear();
  env.fail_sync_dir = true;
  EXPECT_EQ(spool.WriteBatch({"{\"a\":1}", "{\"b\":2}"}, 7000).status().code(), Status::Code::kIOError);
  EXPECT_TRUE(spool.WriteBatch({}, 8000).status().IsInvalidArgument());
}

TEST_F(SpoolTest, APartOfABatchGoesToBadAloneWithItsReason) {
  SpoolDir spool(root_);
  auto name = spool.WriteBatch({"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"}, 5000);
  ASSERT_TRUE(name.ok());
  ASSERT_TRUE(spool.Claim(*name).ok());
  ASSERT_TRUE(spool.RejectPart(*name, 2, "{\"n\":2}", "not found: channel not found").ok());
  // Twice (a crash before the file's removal): the same part file again.
  ASSERT_TRUE(spool.RejectPart(*name, 2, "{\"n\":2}", "not found: channel not found").ok());
  auto bad = spool.List("bad");
  ASSERT_EQ(bad->size(), 1u);
  EXPECT_EQ((*bad)[0].name, SpoolPartName(*name, 2));
  EXPECT_EQ((*bad)[0].intakes, 1);
  EXPECT_EQ((*bad)[0].reason, "not found: channel not found");
  EXPECT_EQ(*spool.Read("bad", (*bad)[0].name), std::vector<std::string>{"{\"n\":2}"});
  EXPECT_EQ(Count("cur"), 1u) << "the file itself stays for its other parts";
  EXPECT_EQ(Count("tmp"), 0u);
}

TEST_F(SpoolTest, ASummaryCountsIntakesFromNamesInEveryState) {
  SpoolDir spool(root_);
  auto first = spool.WriteBatch({"{\"n\":1}", "{\"n\":2}"}, 1000);
  auto second = spool.WriteBatch({"{\"n\":3}", "{\"n\":4}", "{\"n\":5}"}, 2000);
  auto third = spool.Write("{\"n\":6}", 3000);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  ASSERT_TRUE(spool.Claim(*second).ok());  // claimed is still pending: not in the store yet
  ASSERT_TRUE(spool.RejectPart(*first, 1, "{\"n\":1}", "refused").ok());
  std::ofstream(root_ + "/tmp/unfinished.json") << "{";
  const Micros before = Clock::System().Now();

  SpoolSummary summary = spool.Summarize();
  ASSERT_TRUE(summary.read.ok()) << summary.read.ToString();
  EXPECT_EQ(summary.pending_files, 3);
  EXPECT_EQ(summary.pending_intakes, 6);
  EXPECT_EQ(summary.bad, 1) << "a reason file is not a spool file";
  EXPECT_EQ(summary.tmp, 1);
  EXPECT_GT(summary.oldest_pending_on, 0);
  EXPECT_LE(summary.oldest_pending_on, before);

  // A directory that cannot be listed is named, and the others still count.
  std::filesystem::remove_all(root_ + "/tmp");
  std::ofstream(root_ + "/tmp") << "not a directory";
  summary = spool.Summarize();
  EXPECT_FALSE(summary.read.ok());
  EXPECT_NE(summary.read.message().find("/tmp"), std::string::npos) << summary.read.message();
  EXPECT_EQ(summary.pending_intakes, 6);
}

TEST_F(SpoolTest, TornFileInNewIsCorruption) {
  SpoolDir spool(root_);
  std::ofstream(root_ + "/new/00000000000000000001-1-000000.json") << "courier-spool 1 100 deadbeef\n{\"a\":";
  auto read = spool.Read("new", "00000000000000000001-1-000000.json");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kCorruption);
}

// The reserve: a write that would leave less than it free is refused
// whole, before anything is written; the free space is the Env's (faked).
TEST_F(SpoolTest, WritesThatWouldEatIntoTheReserveAreRefused) {
  constexpr int64_t kMiB = 1024 * 1024;
  struct Case {
    int64_t free_bytes;
    int64_t reserve_bytes;
    size_t bodies;  // of 3,000 bytes each
    bool accepted;
  };
  const Case cases[] = {
      {10 * kMiB, 0, 3, true},                   // no reserve: never refused here
      {0, 0, 1, true},                           // no reserve: the free space is not even asked
      {10 * kMiB, 1 * kMiB, 3, true},            // plenty left
      {1 * kMiB + 8192, 1 * kMiB, 1, true},      // one small file fits above the reserve
      {1 * kMiB + 8192, 1 * kMiB, 3, false},     // three bodies do not: refused whole
      {1 * kMiB, 1 * kMiB, 1, false},            // at the reserve
      {0, 1 * kMiB, 1, false},                   // full
  };
  for (const auto& c : cases) {
    FaultEnv env;
    env.free_bytes = c.free_bytes;
    SpoolDir spool(root_, env, c.reserve_bytes);
    const size_t before = Count("new");
    auto name = spool.WriteBatch(std::vector<std::string>(c.bodies, std::string(3000, 'x')), 1);
    if (!name.ok()) {
      EXPECT_TRUE(name.status().IsUnavailable()) << name.status().ToString();
      EXPECT_NE(std::string::npos, name.status().message().find("spool_reserve_mb")) << name.status().message();
    }
    EXPECT_EQ(c.accepted, name.ok()) << c.free_bytes << "/" << c.reserve_bytes;
    EXPECT_EQ(before + (name.ok() ? 1u : 0u), Count("new"));
    EXPECT_EQ(0u, Count("tmp")) << "a refused write left a file";
  }
}

TEST_F(SpoolTest, RemoveStaleTmpTakesOnlyOldFiles) {
  SpoolDir spool(root_);
  std::ofstream(root_ + "/tmp/old.json") << "x";
  std::ofstream(root_ + "/tmp/new.json") << "x";
  struct timespec long_ago[2] = {{0, UTIME_OMIT}, {1000, 0}};  // mtime 1970-01-01T00:16:40Z
  ASSERT_EQ(0, ::utimensat(AT_FDCWD, (root_ + "/tmp/old.json").c_str(), long_ago, 0));
  auto removed = spool.RemoveStaleTmp(1001 * kMicrosPerSecond);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(1, *removed);
  EXPECT_FALSE(std::filesystem::exists(root_ + "/tmp/old.json"));
  EXPECT_TRUE(std::filesystem::exists(root_ + "/tmp/new.json"));
}

}  // namespace
