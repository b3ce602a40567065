#pragma once
// Hook: one application webhook, a row of the store's `hooks` table, as
// courier-ctl manages it and courier-hook delivers to it.
//
// The cursor is the last event seq the application acknowledged (a 2xx):
// courier-hook posts the events after it, in seq order, and moves it only
// forward, by compare-and-set from the value it read, so an operator's
// rewind (replay) while a delivery is in flight wins over that delivery.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace courier {

struct Hook {
  int64_t id = 0;
  std::string uuid;
  std::string url;
  std::vector<std::string> topics;  // event topics posted; empty: every topic
  std::string channel_uuid;         // only this channel's events; "": every channel's
  std::string format = "json";      // "json" (signed JSON arrays) or "rapidpro" (the reference's form posts)
  std::string secret;               // HMAC-SHA256 key signing every POST
  std::string auth_token;           // rapidpro: sent as "Authorization: Token <auth_token>"; "" none
  int batch_size = 1;               // most events per POST (json format)
  bool paused = false;
  std::string paused_reason;
  int64_t cursor = 0;               // last event seq acknowledged
  // Retry state: consecutive failures, the last error (kept after a
  // success, with its time, until the next one), when to try again.
  int failures = 0;
  std::string last_error;
  std::optional<Micros> last_error_on;
  std::optional<Micros> next_attempt_on;
  std::optional<Micros> delivered_on;  // the last 2xx
  Micros created_on = 0;
  Micros modified_on = 0;
};

// How `hook` stands at `now`, as courier-ctl status and courier-hook's
// control socket show it (courier-hook(8) documents the fields; lib/metrics
// reads them): id, uuid, url (credentials masked), format, paused,
// paused_reason, cursor, last_seq, lag_events, oldest_undelivered_age_s,
// last_error, failures, next_retry_in_s. `last_seq` is the store's last
// event seq, `oldest_undelivered_on` the time of the first event after the
// cursor (0 when none).
json::ObjectPtr HookStatusJson(const Hook& hook, int64_t last_seq, Micros oldest_undelivered_on, Micros now);

}  // namespace courier
