#include "ctl/hook_report.h"

namespace courier {

Result<json::ObjectPtr> HookReport(Store& store, const Hook& h, int64_t last_seq, Micros now) {
  Micros oldest = 0;
  if (last_seq > h.cursor) {
    auto first = store.EventsAfter(h.cursor, 1);
    if (!first.ok()) return first.status();
    if (!first->empty()) oldest = first->front().created_on;
  }
  return HookStatusJson(h, last_seq, oldest, now);
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
