#include "core/parallel_for.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace courier {

void ParallelFor(size_t n, size_t max_threads, const std::function<void(size_t)>& body) {
  const size_t threads = std::max<size_t>(1, std::min(max_threads, n));
  auto every = [&](size_t first) {
    for (size_t i = first; i < n; i += threads) body(i);
  };
  std::vector<std::thread> helpers;
  size_t started = 1;
  try {
    helpers.reserve(threads - 1);
    for (size_t k = 1; k < threads; ++k) {
      helpers.emplace_back(every, k);
      ++started;
    }
  } catch (const std::exception&) {
    // No thread to be had (a process or memory limit): what no helper
    // took, the caller does itself, more slowly but all of it.
  }
  every(0);
  for (size_t k = started; k < threads; ++k) every(k);
  for (auto& t : helpers) t.join();
}

}  // namespace courier
