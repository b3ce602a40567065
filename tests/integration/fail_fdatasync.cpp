// fail_fdatasync: an LD_PRELOAD library that makes fdatasync(2) fail with
// EIO, as a dying disk would, on every file whose path ends with
// COURIER_TEST_FAIL_FDATASYNC (e.g. "/courier.db-wal"). Unset, it only
// passes the calls on. With COURIER_TEST_FAIL_FDATASYNC_READ_ONLY=1 only a
// descriptor opened read-only fails: the sync courier's programs make of
// the WAL SQLite writes (store/commit_sync.h), not SQLite's own.
//
// Why: courier-flush may remove a spool file only once the store's WAL
// holding its intakes is synced. The test fails the real sync of the real,
// unmodified program from outside, at the system call, as LevelDB injects
// faults at its Env. Test code only; never installed.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool Targeted(int fd) {
  const char* suffix = std::getenv("COURIER_TEST_FAIL_FDATASYNC");
  if (suffix == nullptr || *suffix == '\0') return false;
  const char* read_only = std::getenv("COURIER_TEST_FAIL_FDATASYNC_READ_ONLY");
  if (read_only != nullptr && std::strcmp(read_only, "1") == 0 && (::fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
    return false;
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char path[PATH_MAX];
  const ssize_t n = ::readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  const size_t length = std::strlen(suffix);
  return static_cast<size_t>(n) >= length && std::strcmp(path + n - length, suffix) == 0;
}

}  // namespace

extern "C" {

int fdatasync(int fd) {
  if (Targeted(fd)) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<int (*)(int)>(::dlsym(RTLD_NEXT, "fdatasync"))(fd);
}

int fsync(int fd) {
  if (Targeted(fd)) {
    errno = EIO;
    return -1;
  }
  return reinterpret_cast<int (*)(int)>(::dlsym(RTLD_NEXT, "fsync"))(fd);
}

}  // extern "C"
