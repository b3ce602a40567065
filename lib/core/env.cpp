#include "core/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/parallel_for.h"

namespace courier {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

class PosixEnv : public Env {
 public:
  Status WriteFileSynced(const std::string& path, const std::string& data) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return Errno("open", path);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status s = Errno("write", path);
        ::close(fd);
        return s;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
      Status s = Errno("fsync", path);
      ::close(fd);
      return s;
    }
    if (::close(fd) != 0) return Errno("close", path);
    return Status::OK();
  }

  Result<std::string> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path + ": no such file");
      return Errno("open", path);
    }
    std::string data;
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        Status s = Errno("read", path);
        ::close(fd);
        return s;
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return data;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Errno("rename " + from + " to", to);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open", dir);
    int rc = ::fsync(fd);
    Status s = rc == 0 ? Status::OK() : Errno("fsync", dir);
    ::close(fd);
    return s;
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink", path);
    return Status::OK();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT) return Status::NotFound(dir + ": no such directory");
      return Errno("opendir", dir);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::string path = dir + "/" + e->d_name;
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.emplace_back(e->d_name);
    }
    ::closedir(d);
    return names;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
};

}  // namespace

Status Env::SyncFileData(int fd, const std::string& path) {
  if (::fdatasync(fd) != 0) return Errno("fdatasync", path);
  return Status::OK();
}

Result<FsSpace> Env::FreeSpace(const std::string& path) {
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) != 0) return Errno("statvfs", path);
  FsSpace space;
  space.available_bytes = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  space.total_bytes = static_cast<int64_t>(vfs.f_blocks) * static_cast<int64_t>(vfs.f_frsize);
  return space;
}

Env& Env::Default() {
  static PosixEnv env;
  return env;
}

Status MakeDirs(const std::string& dir) {
  std::string partial = !dir.empty() && dir[0] == '/' ? "/" : "";
  size_t start = 0;
  while (start <= dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    std::string part = dir.substr(start, end - start);
    if (!part.empty()) {
      partial += part;
      if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) return Errno("mkdir", partial);
      struct stat st;
      if (::stat(partial.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Status::IOError(partial + ": exists and is not a directory");
      partial += "/";
    }
    start = end + 1;
  }
  return Status::OK();
}

std::vector<Status> WriteFilesAtomically(Env& env, const std::string& tmp_dir, const std::string& dir,
                                         const std::vector<std::string>& names,
                                         const std::vector<std::string>& datas) {
  const size_t n = std::min(names.size(), datas.size());
  std::vector<Status> results(n);
  // 1. Each file into tmp_dir, fsynced; a partial tmp file is garbage.
  constexpr size_t kWriters = 4;
  ParallelFor(n, kWriters, [&](size_t i) {
    const std::string tmp = tmp_dir + "/" + names[i];
    results[i] = env.WriteFileSynced(tmp, datas[i]);
    if (!results[i].ok()) (void)env.Remove(tmp);
  });
  // 2. Into dir, each atomically.
  bool renamed_any = false;
  for (size_t i = 0; i < n; ++i) {
    if (!results[i].ok()) continue;
    const std::string tmp = tmp_dir + "/" + names[i];
    results[i] = env.Rename(tmp, dir + "/" + names[i]);
    if (!results[i].ok()) {
      (void)env.Remove(tmp);
      continue;
    }
    renamed_any = true;
  }
  // 3. One fsync of dir makes every rename durable.
  if (renamed_any) {
    Status synced = env.SyncDir(dir);
    if (!synced.ok())
      for (auto& r : results)
        if (r.ok()) r = synced;
  }
  return results;
}

}  // namespace courier
