#include "api/queue_writer.h"

#include "core/log.h"

namespace courier {

QueueWriter::QueueWriter(StoreOpener opener, std::function<void()> after_commit)
    : opener_(std::move(opener)), after_commit_(std::move(after_commit)) {}

QueueWriter::~QueueWriter() { Stop(); }

void QueueWriter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void QueueWriter::Submit(QueueRequest request, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(Item{std::move(request), std::move(done)});
  }
  cv_.notify_one();
}

void QueueWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void QueueWriter::Run() {
  while (true) {
    std::vector<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything written
      while (!pending_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    Write(batch);
  }
}

void QueueWriter::Write(std::vector<Item>& batch) {
  auto fail_all = [&batch](const Status& status) {
    for (auto& item : batch) item.done(status);
  };
  if (!store_) {
    auto opened = opener_();
    if (!opened.ok()) return fail_all(opened.status());
    store_ = std::move(opened.value());
  }
  std::vector<QueueRequest> requests;
  requests.reserve(batch.size());
  for (const auto& item : batch) requests.push_back(item.request);
  auto outcomes = store_->QueueOutgoingBatch(std::move(requests));
  if (!outcomes.ok() && outcomes.status().IsUnavailable()) {
    store_.reset();  // a fresh connection for the next batch
    return fail_all(outcomes.status());
  }
  if (!outcomes.ok()) {
    // One request's fault sank the batch: each on its own, to find it.
    std::vector<Result<IdempotentQueue>> singles;
    for (auto& item : batch) {
      std::vector<QueueRequest> one{item.request};
      auto alone = store_->QueueOutgoingBatch(std::move(one));
      singles.push_back(alone.ok() ? std::move(alone->front()) : Result<IdempotentQueue>(alone.status()));
    }
    outcomes = std::move(singles);
  }
  bool queued = false;
  for (const auto& o : *outcomes) queued = queued || (o.ok() && !o->replayed);
  if (queued && after_commit_) after_commit_();
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move((*outcomes)[i]));
}

}  // namespace courier
