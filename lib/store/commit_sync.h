#pragma once
// CommitSync: makes a store connection's commits durable after the fact,
// for a writer that pipelines (Store::LeaveSyncToCaller): it commits batch
// N+1 while batch N is being made durable, and tells nobody of a batch
// before Sync() has returned OK for it.
//
// SQLite: an fdatasync of the store's WAL file (through the Env, so tests
// can make it fail). PostgreSQL: a transaction that writes WAL, committed
// with synchronous_commit on, on a connection of its own: its commit record
// comes after every record the writer's connection had committed, and the
// server flushes (and, with synchronous replication, replicates) the WAL
// up to it before answering, so everything before it is durable too.
//
// Thread-safety: Sync() from one thread at a time, any thread; it shares
// nothing with the store connection it was made for.
#include "core/status.h"

namespace courier {

class CommitSync {
 public:
  virtual ~CommitSync() = default;
  // Returns OK once every commit the connection had returned from before
  // this call began is durable. Any failure means those commits may be
  // lost: the caller treats them as not made (spools what it wrote, whose
  // replay the store deduplicates) and opens the store again.
  virtual Status Sync() = 0;
};

}  // namespace courier
