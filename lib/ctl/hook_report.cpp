#include "ctl/hook_report.h"

#include <algorithm>

#include "core/redact.h"

namespace courier {

Result<json::ObjectPtr> HookReport(Store& store, const Hook& h, int64_t last_seq, Micros now) {
  Micros oldest = 0;
  if (last_seq > h.cursor) {
    auto first = store.EventsAfter(h.cursor, 1);
    if (!first.ok()) return first.status();
    if (!first->empty()) oldest = first->front().created_on;
  }
  auto item = json::NewObject();
  item->set("id", h.id);
  item->set("uuid", h.uuid);
  item->set("url", MaskUrlCredentials(h.url));
  item->set("format", h.format);
  item->set("paused", h.paused);
  json::SetNullableString(item, "paused_reason", h.paused ? h.paused_reason : std::string());
  item->set("cursor", h.cursor);
  item->set("last_seq", last_seq);
  item->set("lag_events", std::max<int64_t>(0, last_seq - h.cursor));
  item->set("oldest_undelivered_age_s", oldest ? std::max<int64_t>(0, (now - oldest) / kMicrosPerSecond) : 0);
  json::SetNullableString(item, "last_error", h.last_error);
  item->set("failures", h.failures);
  const Micros wait = h.next_attempt_on ? *h.next_attempt_on - now : 0;
  item->set("next_retry_in_s", wait > 0 ? (wait + kMicrosPerSecond - 1) / kMicrosPerSecond : 0);
  return item;
}

Result<json::ArrayPtr> HookReports(Store& store, Micros now) {
  auto hooks = store.ListHooks();
  if (!hooks.ok()) return hooks.status();
  auto last = store.LastEventSeq();
  if (!last.ok()) return last.status();
  auto reports = json::NewArray();
  for (const Hook& h : *hooks) {
    auto r = HookReport(store, h, *last, now);
    if (!r.ok()) return r.status();
    reports->add(*r);
  }
  return reports;
}

}  // namespace courier
