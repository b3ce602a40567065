// ChannelCache::OfType, the index app-level webhooks route by: against a
// real SQLite file, with a hand-set clock, a count of the store's
// ListChannels calls, and the store made to fail on demand.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "recv/channel_cache.h"
#include "store/sqlite_store.h"

using namespace courier;

namespace {

constexpr Micros kStart = 1'700'000'000LL * kMicrosPerSecond;
constexpr Micros kTtl = 60 * kMicrosPerSecond;

// A real store that counts ListChannels and fails while `down`.
class CountingStore : public SqliteStore {
 public:
  struct Shared {
    int lists = 0;
    bool down = false;
  };
  CountingStore(const std::string& path, Clock& clock, Shared& shared) : SqliteStore(path, clock), shared_(shared) {}
  Result<std::vector<Channel>> ListChannels() override {
    ++shared_.lists;
    if (shared_.down) return Status::Unavailable("injected: store down");
    return SqliteStore::ListChannels();
  }

 private:
  Shared& shared_;
};

class ChannelCacheTest : public ::testing::Test {
 protected:
  ChannelCacheTest() : clock_(kStart) {
    std::string tmpl = "/tmp/courier-cache-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    db_ = dir_ + "/courier.db";
    admin_ = std::make_unique<SqliteStore>(db_, clock_);
    EXPECT_TRUE(admin_->Migrate().ok());
  }
  ~ChannelCacheTest() override {
    admin_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  StoreOpener Opener() {
    return [this]() -> Result<std::unique_ptr<Store>> {
      if (shared_.down) return Status::Unavailable("injected: cannot open");
      return std::unique_ptr<Store>(std::make_unique<CountingStore>(db_, clock_, shared_));
    };
  }

  std::string Add(const std::string& type, const std::string& address, const std::string& phone_number_id = "") {
    Channel c;
    c.type = type;
    c.address = address;
    if (!phone_number_id.empty()) c.config["phone_number_id"] = phone_number_id;
    auto added = admin_->AddChannel(c);
    EXPECT_TRUE(added.ok()) << added.status().message();
    return added.ok() ? added->uuid : "";
  }

  static std::string WacKey(const Channel& c) { return c.ConfigOr("phone_number_id", c.address); }

  std::string UuidFor(const ChannelCache::TypeIndex& index, const std::string& key) {
    auto it = index.by_key.find(key);
    return it == index.by_key.end() ? "" : it->second->uuid;
  }

  ManualClock clock_;
  std::string dir_, db_;
  std::unique_ptr<SqliteStore> admin_;
  CountingStore::Shared shared_;
};

TEST_F(ChannelCacheTest, IndexesTheActiveChannelsOfOneTypeByKey) {
  const std::string a = Add("WAC", "250788000001", "1001");
  const std::string b = Add("WAC", "250788000002");  // keyed by its address
  const std::string dup = Add("WAC", "250788000003", "1001");
  Add("FBA", "1001");
  const std::string removed = Add("WAC", "250788000004", "1004");
  ASSERT_TRUE(admin_->RemoveChannel(removed).ok());
  ChannelCache cache(Opener(), clock_, kTtl);
  auto index = cache.OfType("wac", WacKey);
  ASSERT_TRUE(index.ok()) << index.status().message();
  EXPECT_EQ((*index)->channels.size(), 3u);
  EXPECT_EQ(UuidFor(**index, "1001"), a) << "the first (lowest id) of two with one key";
  EXPECT_EQ(UuidFor(**index, "250788000002"), b);
  EXPECT_EQ(UuidFor(**index, "1004"), "") << "a removed channel";
  EXPECT_EQ((*index)->by_key.size(), 2u);
  (void)dup;
}

TEST_F(ChannelCacheTest, ReloadsAfterTheTtlAndForAMissingKeyAtMostOnceASecond) {
  Add("WAC", "250788000001", "1001");
  ChannelCache cache(Opener(), clock_, kTtl);
  ASSERT_TRUE(cache.OfType("WAC", WacKey, {"1001"}).ok());
  EXPECT_EQ(shared_.lists, 1);
  ASSERT_TRUE(cache.OfType("WAC", WacKey, {"1001"}).ok());
  EXPECT_EQ(shared_.lists, 1) << "a known key within the TTL costs no query";

  const std::string added = Add("WAC", "250788000002", "1002");
  auto missing = cache.OfType("WAC", WacKey, {"1002"});
  EXPECT_EQ(shared_.lists, 1) << "not again within a second of the last load";
  EXPECT_EQ(UuidFor(**missing, "1002"), "");
  clock_.Advance(kMicrosPerSecond);
  auto found = cache.OfType("WAC", WacKey, {"1002"});
  EXPECT_EQ(shared_.lists, 2);
  EXPECT_EQ(UuidFor(**found, "1002"), added) << "a channel just added is found without waiting for the TTL";
  // A key no channel has: one query a second, however many webhooks name it.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache.OfType("WAC", WacKey, {"9999"}).ok());
  EXPECT_EQ(shared_.lists, 2);
  clock_.Advance(kMicrosPerSecond);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache.OfType("WAC", WacKey, {"9999"}).ok());
  EXPECT_EQ(shared_.lists, 3);

  clock_.Advance(kTtl);
  ASSERT_TRUE(cache.OfType("WAC", WacKey).ok());
  EXPECT_EQ(shared_.lists, 4) << "expired";
}

TEST_F(ChannelCacheTest, ServesStaleWhileTheStoreIsDown) {
  const std::string a = Add("WAC", "250788000001", "1001");
  ChannelCache cache(Opener(), clock_, kTtl);
  shared_.down = true;
  auto nothing = cache.OfType("WAC", WacKey);
  ASSERT_FALSE(nothing.ok());
  EXPECT_TRUE(nothing.status().IsUnavailable());
  shared_.down = false;
  ASSERT_TRUE(cache.OfType("WAC", WacKey).ok());
  shared_.down = true;
  clock_.Advance(2 * kTtl);
  auto stale = cache.OfType("WAC", WacKey, {"1001"});
  ASSERT_TRUE(stale.ok()) << stale.status().message();
  EXPECT_EQ(UuidFor(**stale, "1001"), a);
  shared_.down = false;
  ASSERT_TRUE(cache.OfType("WAC", WacKey).ok());
  EXPECT_GE(shared_.lists, 3) << "back to the store once it answers";
}

}  // namespace
