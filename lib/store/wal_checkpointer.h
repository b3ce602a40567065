#pragma once
// WalCheckpointer: copies a SQLite WAL back into its database on a thread
// of its own, so the connection that writes never pays for it.
//
// Why: by default SQLite checkpoints inside the COMMIT that takes the WAL
// past 1000 pages, on the committing connection. For courier-recv that is
// the intake writer, and every webhook waiting for that commit waits for
// the checkpoint too. A PASSIVE checkpoint from another connection runs
// alongside new commits (it copies only frames no reader still needs and
// never takes the write lock); the writer resets the WAL on its next
// commit after a complete one.
//
// Durability is unchanged: commits are durable in the WAL (synchronous=
// FULL, or the intake writer's own fdatasync) whether or not they have
// been checkpointed.
//
// Thread-safety: Notify() from any thread (the writer's WAL hook);
// construction and destruction from one.
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

struct sqlite3;

namespace courier {

class WalCheckpointer {
 public:
  // Checkpoints the database at `path` once its WAL holds `threshold_pages`
  // (PASSIVE: alongside the writer). Once it holds `restart_pages` the
  // checkpoint is a RESTART instead: a writer that commits faster than
  // PASSIVE checkpoints copy never lets the WAL start over, and it grows
  // without bound. A RESTART makes the writer wait while it copies the
  // rest, then the WAL starts again from its beginning: one pause per
  // `restart_pages` of WAL, instead of a WAL as large as the disk. 0: 16
  // times `threshold_pages`.
  WalCheckpointer(std::string path, int threshold_pages, int restart_pages = 0);
  ~WalCheckpointer();  // stops the thread
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Opens the checkpointing connection and starts the thread.
  Status Start();

  // The WAL now holds `wal_pages` pages (from sqlite3_wal_hook).
  void Notify(int wal_pages);

  // Checkpoints run so far, and how many of them were RESTARTs (for tests).
  int checkpoints() const;
  int restarts() const;

 private:
  void Loop();

  const std::string path_;
  const int threshold_pages_;
  const int restart_pages_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false;
  int wal_pages_ = 0;  // as last notified
  bool stopping_ = false;
  int checkpoints_ = 0;
  int restarts_ = 0;
  std::thread thread_;
};

}  // namespace courier
