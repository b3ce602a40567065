#pragma once
// RefusalLog: how courier-recv accounts for the webhooks it refuses
// (DESIGN.md invariant 5: bad input gets a clear 4xx and is logged).
// Every refusal is counted by reason, always. Each also gets one line in
// the process log,
//   level=info msg="request refused" reason=unknown_channel status=400
//     path=/c/ex/UUID/receive remote=203.0.113.5:41236 error="channel not found"
// unless a flood is under way: lines pass a token bucket (`burst` at once,
// then `per_second`), so refusals by the thousand cannot fill the disk;
// the first line the bucket lets through after some were held back is
//   level=warn msg="refusals not logged" count=N
// The path is logged without its query (where credentials travel), cut
// at 200 bytes, control bytes replaced; the error is the caller's,
// already redacted.
//
// Thread-safe: Note() may be called from every server thread at once.
#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/clock.h"

namespace courier {

enum class RefusalReason {
  kNotFound,          // 404: no such route or channel type
  kMethodNotAllowed,  // 405
  kBodyTooLarge,      // 413
  kUriTooLong,        // 414
  kHeadersTooLarge,   // 431
  kInvalidUuid,       // 400: the channel uuid in the path is no uuid
  kUnknownChannel,    // 400: no active channel has the uuid
  kWrongType,         // 400: the channel is of another type
  kBadRequest,        // 400: the handler refused the payload (bad JSON, a missing field)
  kUnauthorized,      // 401: signature or token
  kMalformed,         // 400: not HTTP the server can read (a bad request line or Content-Length)
};
inline constexpr size_t kRefusalReasons = 11;

// The reason's name in log lines and counters: "unknown_channel".
const char* RefusalReasonName(RefusalReason reason);

struct Refusal {
  RefusalReason reason = RefusalReason::kBadRequest;
  int status = 400;
  std::string uri;     // as received; logged as its path only
  std::string remote;  // host:port of the peer
  std::string error;   // what the answer says
  std::string channel_uuid;  // when known
};

class RefusalLog {
 public:
  struct Options {
    int burst = 20;
    double per_second = 2;
  };
  RefusalLog(Clock& clock, Options options);

  // Counts the refusal and logs it if the bucket has a token.
  void Note(const Refusal& refusal);

  int64_t count(RefusalReason reason) const;
  // Refusals counted but not logged since start.
  int64_t not_logged() const { return not_logged_total_.load(std::memory_order_relaxed); }

 private:
  Clock& clock_;
  const Options options_;
  std::array<std::atomic<int64_t>, kRefusalReasons> counts_{};
  std::atomic<int64_t> not_logged_total_{0};
  std::mutex mu_;
  double tokens_;
  Micros refilled_at_;
  int64_t held_back_ = 0;  // not logged since the last line
};

}  // namespace courier
