// ParallelFor: every index once, on at most the threads asked, and on the
// caller's thread alone when no thread can be started.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <mutex>
#include <set>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "core/parallel_for.h"

TEST(ParallelForTest, RunsEveryIndexOnceOnUpToTheThreadsAsked) {
  for (size_t n : {0u, 1u, 3u, 64u}) {
    std::vector<std::atomic<int>> runs(n);
    std::mutex mu;
    std::set<std::thread::id> threads;
    courier::ParallelFor(n, 4, [&](size_t i) {
      runs[i]++;
      std::lock_guard<std::mutex> lock(mu);
      threads.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "n=" << n << " i=" << i;
    EXPECT_EQ(threads.size(), std::min<size_t>(n, 4)) << "n=" << n;
  }
  // Zero threads asked means the caller's alone.
  int sum = 0;
  courier::ParallelFor(10, 0, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum, 45);
}

// When no thread can be started, ParallelFor runs everything on the
// caller's thread. In a child process where a seccomp filter makes
// clone fail with EAGAIN, as a process limit would.
TEST(ParallelForTest, WithoutThreadsTheCallerDoesAllOfIt) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_filter no_threads[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAGAIN & SECCOMP_RET_DATA)),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof no_threads / sizeof no_threads[0]), no_threads};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
      _exit(2);
    std::vector<int> runs(64, 0);
    std::set<std::thread::id> threads;
    courier::ParallelFor(runs.size(), 4, [&](size_t i) {
      runs[i]++;
      threads.insert(std::this_thread::get_id());
    });
    for (int r : runs)
      if (r != 1) _exit(3);
    _exit(threads.size() == 1 && *threads.begin() == std::this_thread::get_id() ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died (an exception escaped?)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: no seccomp, 3: an index not run once, 4: ran on other threads";
}
