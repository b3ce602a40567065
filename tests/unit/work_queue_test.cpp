#include "core/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace courier {
namespace {

TEST(WorkQueueTest, OneThreadRunsJobsInOrderAndTheDestructorRunsTheRest) {
  std::vector<int> ran;
  std::mutex mu;
  {
    WorkQueue queue(1);
    for (int i = 0; i < 100; ++i) {
      queue.Submit([&, i]() {
        std::lock_guard<std::mutex> lock(mu);
        ran.push_back(i);
      });
    }
  }
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST(WorkQueueTest, AThrowingJobDoesNotStopTheQueue) {
  std::atomic<int> ran{0};
  {
    WorkQueue queue(2);
    queue.Submit([]() { throw std::runtime_error("boom"); });
    for (int i = 0; i < 10; ++i) queue.Submit([&]() { ran++; });
  }
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
}  // namespace courier
