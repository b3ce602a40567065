#pragma once
// What a daemon loop does when the store cannot take its work (Busy,
// Unavailable, IOError: see store/store.h): it logs the outage once when
// it starts and once when it ends, never once per try or per file; it
// drops its connection, so the next try opens a new one; and it waits
// before trying again, `first_wait` after the first failed try, then twice
// as long after each further one up to `max_wait`, so an outage costs one
// failed try per wait.
//
// StoreOutage is the bookkeeping, for a loop whose connection is held by
// someone else (courier-flush's Flusher); StoreConnection adds the
// connection and the wait, for a loop that holds its own (courier-send's
// foreman).
//
// Thread-safety: both belong to one loop, on one thread.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/status.h"
#include "daemon/stop_token.h"
#include "store/store.h"

namespace courier {

class StoreOutage {
 public:
  // `db` names the store in the log lines.
  StoreOutage(std::string db, std::chrono::milliseconds first_wait, std::chrono::milliseconds max_wait);

  // A try failed: logs "store unavailable" (with `detail`) when this
  // starts an outage. Returns how long to wait before the next try.
  std::chrono::milliseconds Failed(const Status& why, std::optional<Log::Field> detail = std::nullopt);
  // A try worked: logs "store available again" (with `detail`) when this
  // ends an outage.
  void Worked(std::optional<Log::Field> detail = std::nullopt);
  bool ongoing() const { return ongoing_; }

 private:
  std::string db_;
  std::chrono::milliseconds first_wait_;
  std::chrono::milliseconds max_wait_;
  std::chrono::milliseconds next_wait_;
  bool ongoing_ = false;
};

class StoreConnection {
 public:
  StoreConnection(StoreOpener open, StoreOutage outage);

  // The connection, opened now if there is none. Null when it cannot be
  // opened: the failure is handled as Failed() does, wait included.
  Store* Get(StopToken& stop);
  // The store failed `why`: drops the connection, logs if this starts an
  // outage, and waits before returning (less when a stop is requested).
  void Failed(const Status& why, StopToken& stop);
  // The store took the loop's work: logs if this ends an outage.
  void Worked() { outage_.Worked(); }
  // Between a failure and the next Worked().
  bool outage_ongoing() const { return outage_.ongoing(); }

 private:
  StoreOpener open_;
  StoreOutage outage_;
  std::unique_ptr<Store> store_;
};

}  // namespace courier
