#pragma once
// QueueWriter: courier-api's group commit for POST /api/v1/msgs. A commit
// costs an fsync (a 2xx means durable), about what one request's msgs
// cost to write a hundred times over; so the requests that come in while
// one commit runs go together into the next (Store::QueueOutgoingBatch,
// one transaction), each answered with its own outcome after that commit.
// A batch that fails for one request's sake (a channel removed meanwhile)
// is written again one request a transaction, so the others still go in
// and that one gets its own error. A store that cannot take the batch
// fails every request in it (the API answers 503).
//
// After each commit that queued anything, `after_commit` runs once (wake
// courier-send, poke the long polls), before the requests are answered.
//
// Thread-safety: Submit from any thread; `done` runs on the writer's
// thread. Stop() writes what was submitted, then joins.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace courier {

class QueueWriter {
 public:
  using Done = std::function<void(Result<IdempotentQueue> outcome)>;
  static constexpr size_t kMaxBatch = 512;  // requests per transaction

  QueueWriter(StoreOpener opener, std::function<void()> after_commit);
  ~QueueWriter();
  QueueWriter(const QueueWriter&) = delete;
  QueueWriter& operator=(const QueueWriter&) = delete;

  void Start();
  void Submit(QueueRequest request, Done done);
  void Stop();

 private:
  struct Item {
    QueueRequest request;
    Done done;
  };
  void Run();
  void Write(std::vector<Item>& batch);

  StoreOpener opener_;
  std::function<void()> after_commit_;
  std::unique_ptr<Store> store_;  // the writer thread's own connection
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace courier
