#pragma once
// ParallelFor: runs body(i) for every i in [0, n) on up to `max_threads`
// threads (the caller's among them), and returns when all are done.
// If no thread can be started, the caller runs every body(i) itself.
//
// For work that mostly waits for the disk (fsync, unlink), where a few
// operations in flight take about the time of one. Threads are started
// per call, so it suits batches of tens to hundreds of items, not tight
// loops. body must be safe to run concurrently for different i, and must
// not throw.
#include <cstddef>
#include <functional>

namespace courier {

void ParallelFor(size_t n, size_t max_threads, const std::function<void(size_t)>& body);

}  // namespace courier
