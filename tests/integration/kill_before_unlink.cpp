// kill_before_unlink: an LD_PRELOAD library that kills its process with
// SIGKILL, as `kill -9` would, the instant the process tries to unlink a
// file whose path starts with COURIER_TEST_KILL_BEFORE_UNLINK (e.g.
// "/tmp/t/spool/cur/"). Unset, it only passes the calls on.
//
// Why: courier-flush removes a spool file from cur/ only after the store
// committed its data, so the first unlink there is the instant between
// commit and unlink. The test kills the real, unmodified program at that
// instant from outside instead of the program reading a test-only switch:
// the fault is injected at the system call, as LevelDB injects faults at
// its Env. Test code only; never installed.
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace {

void KillIfUnder(const char* path) {
  const char* prefix = std::getenv("COURIER_TEST_KILL_BEFORE_UNLINK");
  if (prefix == nullptr || *prefix == '\0' || path == nullptr) return;
  if (std::strncmp(path, prefix, std::strlen(prefix)) == 0) ::kill(::getpid(), SIGKILL);
}

template <typename F>
F Next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

}  // namespace

extern "C" {

int unlink(const char* path) {
  KillIfUnder(path);
  return Next<int (*)(const char*)>("unlink")(path);
}

int unlinkat(int dirfd, const char* path, int flags) {
  KillIfUnder(path);
  return Next<int (*)(int, const char*, int)>("unlinkat")(dirfd, path, flags);
}

int remove(const char* path) {
  KillIfUnder(path);
  return Next<int (*)(const char*)>("remove")(path);
}

}  // extern "C"
