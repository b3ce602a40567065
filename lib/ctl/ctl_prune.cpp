// courier-ctl prune: retention by hand (ctl.h).
#include <iostream>

#include "core/json.h"
#include "ctl/ctl.h"

namespace courier {
namespace {

constexpr Micros kDay = 86400LL * kMicrosPerSecond;

std::optional<Micros> Before(Micros now, int days) {
  if (days <= 0) return std::nullopt;
  return now - days * kDay;
}

std::string Mib(int64_t bytes) {
  const int64_t tenths = (bytes * 10 + 512 * 1024) / (1024 * 1024);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
}

}  // namespace

int Ctl::Prune(const PruneArgs& args) {
  auto store = OpenExisting(args.dry_run ? StoreAccess::kReadOnly : StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  const Micros now = clock_.Now();
  PruneRequest request;
  request.logs_before = Before(now, args.logs_days);
  request.events_before = Before(now, args.events_days);
  request.msgs_before = Before(now, args.msgs_days);
  // Keys past api_idempotency_hours answer nothing any more: always due.
  request.idempotency_before = now - options_.api_idempotency_hours * 3600LL * kMicrosPerSecond;
  request.batch_size = args.batch_size;
  request.dry_run = args.dry_run;

  auto space_before = (*store)->Space();
  if (!space_before.ok()) return Report(space_before.status());
  auto counts = (*store)->Prune(request);
  if (!counts.ok()) return Report(counts.status());
  Result<StoreSpace> space_after = *space_before;
  if (!args.dry_run) {
    space_after = (*store)->ReclaimSpace(args.vacuum);
    if (!space_after.ok()) return Report(space_after.status());
  }

  const PruneCounts& c = *counts;
  if (args.json) {
    auto o = json::NewObject();
    o->set("dry_run", args.dry_run);
    auto kind = [&](const char* name, int days, const std::optional<Micros>& before, int64_t n) {
      auto k = json::NewObject();
      k->set("days", days);
      json::SetTime(k, "before", before);
      k->set("removed", n);
      o->set(name, k);
    };
    kind("channel_logs", args.logs_days, request.logs_before, c.logs);
    kind("events", args.events_days, request.events_before, c.events);
    kind("msgs", args.msgs_days, request.msgs_before, c.msgs);
    auto keys = json::NewObject();
    keys->set("hours", options_.api_idempotency_hours);
    json::SetTime(keys, "before", request.idempotency_before);
    keys->set("removed", c.idempotency_keys);
    o->set("idempotency_keys", keys);
    o->set("msg_channel_logs", c.msg_logs);
    o->set("msg_attempts", c.attempts);
    o->set("batches", c.batches);
    o->set("file_bytes_before", space_before->file_bytes);
    o->set("free_bytes_before", space_before->free_bytes);
    o->set("file_bytes_after", space_after->file_bytes);
    o->set("free_bytes_after", space_after->free_bytes);
    o->set("incremental_vacuum", space_after->incremental);
    out_ << json::Stringify(o) << '\n';
    return exit_code::kOk;
  }

  const char* verb = args.dry_run ? "would remove" : "removed";
  auto line = [&](const char* what, int days, const std::optional<Micros>& before, int64_t n) {
    if (!before) {
      out_ << what << ": kept (no age given)\n";
      return;
    }
    out_ << what << " older than " << days << (days == 1 ? " day" : " days") << " (before "
         << FormatRfc3339(*before) << "): " << verb << ' ' << n << '\n';
  };
  line("channel logs", args.logs_days, request.logs_before, c.logs);
  line("events", args.events_days, request.events_before, c.events);
  line("finished msgs", args.msgs_days, request.msgs_before, c.msgs);
  if (request.msgs_before)
    out_ << "  with their attempts: " << c.attempts << ", their channel logs: " << c.msg_logs << '\n';
  out_ << "api idempotency keys older than " << options_.api_idempotency_hours << " hours: " << verb << ' '
       << c.idempotency_keys << '\n';
  out_ << "store: " << Mib(space_before->file_bytes) << " (" << Mib(space_before->free_bytes) << " free)";
  if (!args.dry_run) {
    out_ << " -> " << Mib(space_after->file_bytes) << " (" << Mib(space_after->free_bytes) << " free)";
    if (!space_after->incremental && space_after->free_bytes > 0)
      out_ << "; free space is reused by new rows (--vacuum gives it back to the file system)";
  }
  out_ << '\n';
  return exit_code::kOk;
}

}  // namespace courier
