#include "store/wal_checkpointer.h"

#include <pthread.h>

#include <sqlite3.h>

#include "core/log.h"

namespace courier {

WalCheckpointer::WalCheckpointer(std::string path, int threshold_pages, int restart_pages)
    : path_(std::move(path)),
      threshold_pages_(threshold_pages > 0 ? threshold_pages : 1),
      restart_pages_(restart_pages > 0 ? restart_pages : 16 * threshold_pages_) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status WalCheckpointer::Start() {
  int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return Status::Unavailable("checkpoint connection to " + path_ + ": " + why);
  }
  // Its own checkpoints only: never one triggered by its own (absent) commits.
  sqlite3_wal_autocheckpoint(db_, 0);
  // A RESTART waits for the writer's transaction and for readers of old
  // snapshots; past this it gives up until the next notification.
  sqlite3_busy_timeout(db_, 5000);
  // A connection learns the file is in WAL mode on its first read; until
  // then a checkpoint is a no-op (it reports -1 frames).
  rc = sqlite3_exec(db_, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = sqlite3_errmsg(db_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return Status::Unavailable("checkpoint connection to " + path_ + ": " + why);
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wal-checkpoint");
    Loop();
  });
  return Status::OK();
}

void WalCheckpointer::Notify(int wal_pages) {
  if (wal_pages < threshold_pages_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    due_ = true;
    wal_pages_ = wal_pages;
  }
  cv_.notify_one();
}

int WalCheckpointer::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}

int WalCheckpointer::checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoints_;
}

void WalCheckpointer::Loop() {
  bool failing = false;
  while (true) {
    bool restart = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || due_; });
      if (stopping_) return;
      due_ = false;
      restart = wal_pages_ >= restart_pages_;
    }
    int wal_frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
                                       &wal_frames, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      // Not fatal: commits stay durable in the WAL; the next notification
      // tries again. Logged once per run of failures.
      if (!failing) Log::Warn("wal checkpoint failed", {{"error", sqlite3_errmsg(db_)}});
      failing = true;
      continue;
    }
    failing = false;
    std::lock_guard<std::mutex> lock(mu_);
    ++checkpoints_;
    if (restart && rc == SQLITE_OK) ++restarts_;
  }
}

}  // namespace courier
