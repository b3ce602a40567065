#include "spool/spool.h"

#include "spool/spool_file.h"
#include "util/text.h"

#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace courier {
Status SpoolDir::Ensure() const {
  for (const char* state : {"tmp", "new", "cur", "bad"}) {
    Status s = MakeDirs(Path(state));
    if (!s.ok()) return s;
  }
  return Status::OK();
}

void SpoolSummary::Count(const SpoolFile& file) {
  if (file.state == "bad") {
    ++bad;
  } else if (file.state == "tmp") {
    ++tmp;
  } else {
    ++pending_files;
    pending_intakes += file.intakes;
    if (oldest_pending_on == 0 || file.modified_on < oldest_pending_on) oldest_pending_on = file.modified_on;
  }
}

SpoolSummary SpoolDir::Summarize() const {
  SpoolSummary summary;
  for (const char* state : {"new", "cur", "bad", "tmp"}) {
    auto files = ListFiles(state, /*with_reasons=*/false);
    if (!files.ok()) {
      if (summary.read.ok()) summary.read = files.status();
      continue;
    }
    for (const auto& f : *files) summary.Count(f);
  }
  return summary;
}

Result<std::vector<SpoolFile>> SpoolDir::List(const std::string& state) const {
  return ListFiles(state, /*with_reasons=*/true);
}

Result<std::vector<SpoolFile>> SpoolDir::ListFiles(const std::string& state, bool with_reasons) const {
  std::vector<SpoolFile> files;
  std::string dir = Path(state);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return files;
    return Status::IOError(dir + ": " + std::strerror(errno));
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || EndsWith(name, ".reason")) continue;
    SpoolFile f;
    f.name = name;
    f.path = dir + "/" + name;
    f.state = state;
    f.intakes = IntakesInSpoolName(name);
    struct stat st;
    if (::stat(f.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    f.size = st.st_size;
    f.modified_on = static_cast<Micros>(st.st_mtim.tv_sec) * kMicrosPerSecond + st.st_mtim.tv_nsec / 1000;
    if (with_reasons && state == "bad") {
      std::ifstream in(f.path + ".reason");
      std::stringstream text;
      text << in.rdbuf();
      f.reason = text.str();
      while (!f.reason.empty() && (f.reason.back() == '\n' || f.reason.back() == '\r')) f.reason.pop_back();
    }
    files.push_back(std::move(f));
  }
  ::closedir(d);
  std::sort(files.begin(), files.end(), [](const SpoolFile& a, const SpoolFile& b) { return a.name < b.name; });
  return files;
}

}  // namespace courier

// Spool operations on top of Env; each names its crash-safety argument.
namespace courier {

namespace {

constexpr int64_t kBlock = 4096;
constexpr int64_t kMiB = 1024 * 1024;

constexpr char kJsonSuffix[] = ".json";
constexpr size_t kJsonSuffixSize = sizeof kJsonSuffix - 1;

// Time in ns, zero-padded so names sort by time, then pid and a
// per-process counter so concurrent writers never collide, then the
// count of intakes when there are several.
std::string NewSpoolFileName(Micros now, size_t intakes) {
  static std::atomic<uint64_t> counter{0};
  char name[96];
  int n = std::snprintf(name, sizeof name, "%020lld-%d-%06llu", static_cast<long long>(now) * 1000,
                        static_cast<int>(::getpid()), static_cast<unsigned long long>(counter++ % 1000000));
  std::string out(name, static_cast<size_t>(n));
  if (intakes > 1) out += "-x" + std::to_string(intakes);
  return out + kJsonSuffix;
}

}  // namespace

int IntakesInSpoolName(const std::string& name) {
  if (!EndsWith(name, kJsonSuffix)) return 1;
  const size_t end = name.size() - kJsonSuffixSize;
  size_t digits = end;
  while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
  if (digits == end || end - digits > 6 || digits < 2 || name.compare(digits - 2, 2, "-x") != 0) return 1;
  return std::max(1, std::stoi(name.substr(digits, end - digits)));
}

std::string SpoolPartName(const std::string& name, size_t part) {
  std::string stem = EndsWith(name, kJsonSuffix) ? name.substr(0, name.size() - kJsonSuffixSize) : name;
  return stem + "-p" + std::to_string(part) + kJsonSuffix;
}

Result<std::string> SpoolDir::WriteBatch(const std::vector<std::string>& bodies, Micros now) const {
  if (bodies.empty()) return Status::InvalidArgument("no bodies to spool");
  std::vector<std::string> names{NewSpoolFileName(now, bodies.size())};
  std::vector<std::string> files{EncodeSpoolFile(bodies)};
  // A file takes whole blocks, and an inode besides.
  const int64_t needed = (static_cast<int64_t>(files[0].size()) / kBlock + 1) * kBlock;
  if (reserve_bytes_ > 0) {
    auto space = env_.FreeSpace(Path("tmp"));
    // Unknown space (statvfs failed): the write itself will tell.
    if (space.ok() && space->available_bytes - needed < reserve_bytes_) {
      Status refused = Status::Unavailable(
          "spool file system has " + std::to_string(space->available_bytes / kMiB) + " MB free, " +
          "below the spool's reserve of " + std::to_string(reserve_bytes_ / kMiB) +
          " MB (spool_reserve_mb), kept for the store to recover");
      return refused;
    }
  }
  Status written = WriteFilesAtomically(env_, Path("tmp"), Path("new"), names, files)[0];
  if (!written.ok()) return written;
  return names[0];
}

Status SpoolDir::Claim(const std::string& name) const {
  // rename is atomic: of two flushers racing, one gets NotFound-like error.
  return env_.Rename(Path("new") + "/" + name, Path("cur") + "/" + name);
}

Status SpoolDir::Done(const std::string& name) const {
  // Called only after the store committed; a crash before the unlink
  // leaves the file in cur/, replayed again at restart, which the store's
  // idempotent replay (msg uuids) turns into a no-op.
  return env_.Remove(Path("cur") + "/" + name);
}

Status SpoolDir::SyncDone() const { return env_.SyncDir(Path("cur")); }

Status SpoolDir::Reject(const std::string& name, const std::string& from_state, const std::string& reason) const {
  // The reason is written first: a crash between the two steps leaves a
  // stray .reason in bad/, never a bad file without its reason.
  Status s = env_.WriteFileSynced(Path("bad") + "/" + name + ".reason", reason + "\n");
  if (!s.ok()) return s;
  s = env_.Rename(Path(from_state) + "/" + name, Path("bad") + "/" + name);
  if (!s.ok()) return s;
  return env_.SyncDir(Path("bad"));
}

Status SpoolDir::RejectPart(const std::string& name, size_t part, const std::string& body,
                            const std::string& reason) const {
  // As Reject: the reason first, then the part, atomically, into bad/.
  const std::string part_name = SpoolPartName(name, part);
  Status s = env_.WriteFileSynced(Path("bad") + "/" + part_name + ".reason", reason + "\n");
  if (!s.ok()) return s;
  return WriteFilesAtomically(env_, Path("tmp"), Path("bad"), {part_name}, {EncodeSpoolFile(body)})[0];
}

Result<int> SpoolDir::RecoverClaimed() const {
  auto names = env_.ListDir(Path("cur"));
  if (!names.ok()) return names.status().IsNotFound() ? Result<int>(0) : Result<int>(names.status());
  int moved = 0;
  for (const auto& name : *names) {
    Status s = env_.Rename(Path("cur") + "/" + name, Path("new") + "/" + name);
    if (!s.ok()) return s;
    ++moved;
  }
  if (moved) {
    Status s = env_.SyncDir(Path("new"));
    if (!s.ok()) return s;
  }
  return moved;
}

Result<int> SpoolDir::RemoveStaleTmp(Micros older_than) const {
  auto files = List("tmp");
  if (!files.ok()) return files.status();
  int removed = 0;
  for (const auto& f : *files) {
    if (f.modified_on >= older_than) continue;
    Status s = env_.Remove(f.path);
    if (!s.ok()) return s;
    ++removed;
  }
  return removed;
}

Result<std::vector<std::string>> SpoolDir::Read(const std::string& state, const std::string& name) const {
  auto contents = env_.ReadFile(Path(state) + "/" + name);
  if (!contents.ok()) return contents.status();
  return DecodeSpoolFile(*contents);
}

}  // namespace courier
