#include "media/media_store.h"

#include "core/uuid.h"
#include "util/hmac.h"

namespace courier {

MediaStore::MediaStore(std::string dir, Env& env) : dir_(std::move(dir)), env_(env) {}

Result<std::string> MediaStore::PathOf(const std::string& sha256) const {
  if (!IsSha256Hex(sha256)) return Status::InvalidArgument("not a media digest: " + sha256.substr(0, 80));
  return dir_ + "/" + sha256.substr(0, 2) + "/" + sha256;
}

bool MediaStore::Exists(const std::string& sha256) const {
  auto path = PathOf(sha256);
  return path.ok() && env_.FileExists(*path);
}

Result<std::string> MediaStore::Read(const std::string& sha256) const {
  auto path = PathOf(sha256);
  if (!path.ok()) return path.status();
  return env_.ReadFile(*path);
}

Result<StoredFile> MediaStore::Put(const std::string& bytes) {
  StoredFile file;
  file.sha256 = HexEncode(Digest(DigestAlgorithm::kSha256, bytes));
  file.size = static_cast<int64_t>(bytes.size());
  const std::string shard = dir_ + "/" + file.sha256.substr(0, 2);
  const std::string path = shard + "/" + file.sha256;
  if (env_.FileExists(path)) {
    file.existed = true;
    return file;
  }
  const std::string tmp_dir = dir_ + "/tmp";
  Status st = MakeDirs(tmp_dir);
  if (st.ok()) st = MakeDirs(shard);
  if (!st.ok()) return st;
  // A name of its own: two workers storing the same bytes at once must
  // not write one temporary file.
  const std::string tmp = tmp_dir + "/" + file.sha256 + "." + NewUUID();
  st = env_.WriteFileSynced(tmp, bytes);
  if (st.ok()) st = env_.Rename(tmp, path);
  if (!st.ok()) {
    (void)env_.Remove(tmp);
    return st;
  }
  st = env_.SyncDir(shard);
  if (!st.ok()) return st;
  return file;
}

Status MediaStore::Remove(const std::string& sha256) {
  auto path = PathOf(sha256);
  if (!path.ok()) return path.status();
  return env_.Remove(*path);
}

}  // namespace courier
