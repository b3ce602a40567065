#include "model/hook.h"

#include <algorithm>

#include "core/redact.h"

namespace courier {

json::ObjectPtr HookStatusJson(const Hook& hook, int64_t last_seq, Micros oldest_undelivered_on, Micros now) {
  auto item = json::NewObject();
  item->set("id", hook.id);
  item->set("uuid", hook.uuid);
  item->set("url", MaskUrlCredentials(hook.url));
  item->set("format", hook.format);
  item->set("paused", hook.paused);
  json::SetNullableString(item, "paused_reason", hook.paused ? hook.paused_reason : std::string());
  item->set("cursor", hook.cursor);
  item->set("last_seq", last_seq);
  item->set("lag_events", std::max<int64_t>(0, last_seq - hook.cursor));
  item->set("oldest_undelivered_age_s",
            oldest_undelivered_on ? std::max<int64_t>(0, (now - oldest_undelivered_on) / kMicrosPerSecond) : 0);
  json::SetNullableString(item, "last_error", hook.last_error);
  item->set("failures", hook.failures);
  // Rounded up: a retry due in 0.2 s is not "now".
  const Micros wait = hook.next_attempt_on ? *hook.next_attempt_on - now : 0;
  item->set("next_retry_in_s", wait > 0 ? (wait + kMicrosPerSecond - 1) / kMicrosPerSecond : 0);
  return item;
}

}  // namespace courier
