// MediaStore (media/media_store.h) and the media type rules
// (media/media_type.h).
#include "media/media_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "media/media_type.h"
#include "pass_through_env.h"
#include "temp_dir.h"

namespace courier {
namespace {

using testing::ScratchDir;

// A real JPEG's first bytes (SOI, APP0 JFIF), a PNG's signature and IHDR,
// a PDF's header: enough for libmagic.
const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
const std::string kPng("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00", 29);
const std::string kPdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";

TEST(MediaStore, PutsByDigestOnceAndReadsBack) {
  ScratchDir dir;
  MediaStore store(dir.path() + "/media");
  auto first = store.Put(kJpeg);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // SHA-256 of the bytes, in lower-case hex.
  EXPECT_EQ(first->sha256.size(), 64u);
  EXPECT_TRUE(IsSha256Hex(first->sha256));
  EXPECT_EQ(first->size, 20);
  EXPECT_FALSE(first->existed);
  EXPECT_EQ(*store.PathOf(first->sha256), dir.path() + "/media/" + first->sha256.substr(0, 2) + "/" + first->sha256);
  EXPECT_EQ(*store.Read(first->sha256), kJpeg);
  auto second = store.Put(kJpeg);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->existed);
  EXPECT_EQ(second->sha256, first->sha256);
  EXPECT_NE(store.Put(kPng)->sha256, first->sha256);
  ASSERT_TRUE(store.Remove(first->sha256).ok());
  EXPECT_FALSE(store.Exists(first->sha256));
  EXPECT_TRUE(store.Remove(first->sha256).ok());  // gone already
  EXPECT_TRUE(store.Read(first->sha256).status().IsNotFound());
}

TEST(MediaStore, NamesFromOutsideNeverLeaveTheStore) {
  MediaStore store("/tmp/nowhere");
  for (const std::string& name : std::vector<std::string>{"../../etc/passwd", "", std::string(64, 'A'), std::string(63, 'a'),
                                 std::string(63, 'a') + "/", std::string(65, 'a')}) {
    EXPECT_EQ(store.PathOf(name).status().code(), Status::Code::kInvalidArgument) << name;
    EXPECT_FALSE(store.Exists(name));
  }
}

// Concurrent Puts of the same bytes each write their own temporary file
// and all succeed; the file is whole.
TEST(MediaStore, ConcurrentPutsOfTheSameBytesAllSucceed) {
  ScratchDir dir;
  MediaStore store(dir.path());
  const std::string bytes(256 * 1024, 'x');
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (store.Put(bytes).ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  auto put = store.Put(bytes);
  EXPECT_EQ(*store.Read(put->sha256), bytes);
}

// A failed write leaves no file under its name and no temporary file.
TEST(MediaStore, AFailedWriteLeavesNothing) {
  class FullDiskEnv : public testing::PassThroughEnv {
   public:
    Status WriteFileSynced(const std::string& path, const std::string&) override {
      return Status::IOError("write " + path + ": No space left on device");
    }
  } env;
  ScratchDir dir;
  MediaStore store(dir.path(), env);
  auto put = store.Put(kPdf);
  EXPECT_EQ(put.status().code(), Status::Code::kIOError);
  auto tmp = Env::Default().ListDir(dir.path() + "/tmp");
  ASSERT_TRUE(tmp.ok());
  EXPECT_TRUE(tmp->empty());
  MediaStore real(dir.path());
  EXPECT_TRUE(real.Exists(real.Put(kPdf)->sha256));
}

TEST(MediaType, ReadFromTheBytes) {
  EXPECT_EQ(*SniffMediaType(kJpeg), "image/jpeg");
  EXPECT_EQ(*SniffMediaType(kPng), "image/png");
  EXPECT_EQ(*SniffMediaType(kPdf), "application/pdf");
  EXPECT_EQ(*SniffMediaType("hello, world\n"), "text/plain");
}

TEST(MediaType, TheBytesWinUnlessTheySayNothing) {
  EXPECT_EQ(ChooseMediaType("image/png", "image/jpeg"), "image/jpeg");  // the provider was wrong
  EXPECT_EQ(ChooseMediaType("Audio/OGG; codecs=opus", "application/octet-stream"), "audio/ogg");
  EXPECT_EQ(ChooseMediaType("text/csv", "text/plain"), "text/csv");
  EXPECT_EQ(ChooseMediaType("", "text/plain"), "text/plain");
  EXPECT_EQ(ChooseMediaType("", "application/octet-stream"), "application/octet-stream");
  EXPECT_EQ(ChooseMediaType("", "application/x-empty"), "application/octet-stream");
  EXPECT_EQ(ChooseMediaType("", ""), "application/octet-stream");
}

TEST(MediaType, RefusedByTypeOrFamily) {
  const std::vector<std::string> refused = {"application/x-dosexec", "Video/*", " "};
  EXPECT_TRUE(MediaTypeRefused("application/x-dosexec", refused));
  EXPECT_TRUE(MediaTypeRefused("video/mp4", refused));
  EXPECT_TRUE(MediaTypeRefused("VIDEO/3gpp; x=1", refused));
  EXPECT_FALSE(MediaTypeRefused("image/jpeg", refused));
  EXPECT_FALSE(MediaTypeRefused("videos/x", refused));
  EXPECT_FALSE(MediaTypeRefused("image/jpeg", {}));
}

}  // namespace
}  // namespace courier
