// courier-ctl status: the operator's one screen.
#include <sys/stat.h>

#include <iostream>
#include <map>
#include <utility>
#include <vector>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "core/json.h"
#include "ctl/ctl.h"
#include "ctl/hook_report.h"
#include "ctl/table.h"
#include "spool/spool.h"
#include "store/store_file.h"
#include "store/store_url.h"

namespace courier {
namespace {

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace

int Ctl::StatusReport(bool json_out) {
  auto report = json::NewObject();
  bool healthy = true;

  auto daemons = json::NewObject();
  Table daemon_table({"DAEMON", "STATE", "PID", "UPTIME", "DETAILS"});
  // courier-hook is needed only where there are hooks to deliver to: its
  // absence counts against health below, once the store says so.
  // courier-api is optional (not every site has applications over HTTP):
  // shown when it answers, and not answering is no fault of the pipeline.
  bool hook_daemon_down = false;
  // courier-fetch likewise: its absence is a fault once fetches wait.
  bool fetch_daemon_down = false;
  json::ArrayPtr hooks;
  const std::vector<std::pair<const char*, const char*>> programs = {{"courier-recv", kRecvCtl},
                                                                      {"courier-send", kSendCtl},
                                                                      {"courier-flush", kFlushCtl},
                                                                      {"courier-hook", kHookCtl},
                                                                      {"courier-api", kApiCtl},
                                                                      {"courier-fetch", kFetchCtl}};
  // All asked at once: daemons that are down cost one timeout, not one each.
  std::vector<DaemonQuestion> questions;
  for (const auto& [program, endpoint] : programs)
    questions.push_back({EndpointFor(options_.run_dir, endpoint), "status",
                         std::string(program) == "courier-api" ? 300 : 1000});
  const auto answers = AskDaemons(questions);
  for (size_t i = 0; i < programs.size(); ++i) {
    const char* program = programs[i].first;
    const bool optional = std::string(program) == "courier-api";
    const auto& answer = answers[i];
    Result<json::ObjectPtr> parsed = answer.ok() ? json::ParseObject(*answer) : Result<json::ObjectPtr>(answer.status());
    const bool is_hook = std::string(program) == "courier-hook";
    const bool is_fetch = std::string(program) == "courier-fetch";
    if (parsed.ok() && is_hook) hooks = json::GetArray(*parsed, "hooks");
    if (!parsed.ok()) {
      if (optional) continue;
      if (is_hook) hook_daemon_down = true;
      else if (is_fetch) fetch_daemon_down = true;
      else healthy = false;
      daemons->set(program, Poco::Dynamic::Var());
      daemon_table.Add({program, "not answering", "-", "-", ""});
      continue;
    }
    daemons->set(program, *parsed);
    std::string details;
    for (const auto& key : {"committed", "spooled", "sent", "errored", "failed", "throttled", "interrupted", "flushed",
                            "rejected", "pending", "stored", "retried", "in_flight"}) {
      if (auto v = json::GetInt(*parsed, key)) details += std::string(details.empty() ? "" : " ") + key + "=" + std::to_string(*v);
    }
    // courier-api: its requests, all routes together, by status code.
    if (auto requests = json::GetObject(*parsed, "requests"); optional && requests) {
      std::map<std::string, int64_t> by_code;
      for (const auto& route : requests->getNames())
        if (auto codes = json::GetObject(requests, route))
          for (const auto& code : codes->getNames()) by_code[code] += json::GetInt(codes, code).value_or(0);
      for (const auto& [code, n] : by_code)
        details += std::string(details.empty() ? "" : " ") + code + "=" + std::to_string(n);
    }
    daemon_table.Add({program, "running", std::to_string(json::GetInt(*parsed, "pid").value_or(0)),
                      std::to_string(json::GetInt(*parsed, "uptime_s").value_or(0)) + "s", details});
  }
  report->set("daemons", daemons);

  auto store_info = json::NewObject();
  // A PostgreSQL store has no file here, and its url may hold a password.
  const std::string path = StoreFilePath(options_.db);
  const std::string url = RedactStoreUrl(options_.db);
  store_info->set("url", url);
  if (!path.empty()) {
    store_info->set("path", path);
    store_info->set("size", FileSize(path));
    store_info->set("wal_size", FileSize(path + "-wal"));
  }
  // A warning, not unhealthy: the store works, but its secrets are exposed.
  const std::string exposed = path.empty() ? "" : StoreExposure(path);
  if (!exposed.empty()) store_info->set("warning", exposed);
  std::vector<QueueSummary> queue;
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (store.ok()) {
    auto version = (*store)->SchemaVersion();
    store_info->set("schema_version", version.ok() ? *version : 0);
    auto q = (*store)->Queue();
    if (q.ok()) queue = *q;
    store_info->set("state", q.ok() ? std::string("ok") : q.status().message());
    healthy = healthy && q.ok();
    if (!hooks) {
      auto from_store = HookReports(**store, clock_.Now());
      if (from_store.ok()) hooks = *from_store;
    }
    // The fetch stage's backlog: waiting attachments with nobody to
    // fetch them are a fault.
    auto backlog = (*store)->GetFetchBacklog();
    if (backlog.ok()) {
      auto media = json::NewObject();
      media->set("pending", backlog->pending);
      media->set("due", backlog->due);
      media->set("failed", backlog->failed);
      media->set("oldest_pending_age_s",
                 backlog->oldest_pending_on
                     ? std::max<int64_t>(0, (clock_.Now() - *backlog->oldest_pending_on) / kMicrosPerSecond)
                     : 0);
      report->set("media", media);
      if (fetch_daemon_down && backlog->pending > 0) healthy = false;
    }
    if (hook_daemon_down && hooks) {
      for (const auto& h : json::Objects(hooks))
        if (!json::GetBool(h, "paused").value_or(false)) healthy = false;
    }
  } else {
    store_info->set("state", store.status().message());
    healthy = false;
  }
  report->set("store", store_info);

  auto spool_info = json::NewObject();
  const SpoolSummary spool = SpoolDir(options_.spool_dir).Summarize();
  const int64_t spool_age_s = spool.oldest_pending_on ? (clock_.Now() - spool.oldest_pending_on) / kMicrosPerSecond : 0;
  spool_info->set("dir", options_.spool_dir);
  spool_info->set("pending", spool.pending_files);
  spool_info->set("pending_intakes", spool.pending_intakes);
  spool_info->set("bad", spool.bad);
  spool_info->set("tmp", spool.tmp);
  spool_info->set("oldest_age_s", spool_age_s);
  report->set("spool", spool_info);

  auto queue_arr = json::NewArray();
  Table queue_table({"CHANNEL", "TYPE", "HIGH", "BULK", "IN_FLIGHT", "RETRYING", "FAILED", "INTERRUPTED"});
  for (const auto& q : queue) {
    auto o = json::NewObject();
    o->set("channel_uuid", q.channel_uuid);
    o->set("channel_type", q.channel_type);
    o->set("queued_high", q.queued_high);
    o->set("queued_bulk", q.queued_bulk);
    o->set("in_flight", q.in_flight);
    o->set("retrying", q.retrying);
    o->set("failed", q.failed);
    o->set("interrupted", q.interrupted);
    queue_arr->add(o);
    queue_table.Add({q.channel_uuid, q.channel_type, std::to_string(q.queued_high), std::to_string(q.queued_bulk),
                     std::to_string(q.in_flight), std::to_string(q.retrying), std::to_string(q.failed),
                     std::to_string(q.interrupted)});
  }
  report->set("queue", queue_arr);
  if (!hooks) hooks = json::NewArray();
  report->set("hooks", hooks);
  Table hook_table({"HOOK", "URL", "STATE", "CURSOR", "LAG", "OLDEST", "FAILURES", "NEXT TRY", "LAST ERROR"});
  for (const auto& h : json::Objects(hooks)) {
    const bool paused = json::GetBool(h, "paused").value_or(false);
    const int64_t failures = json::GetInt(h, "failures").value_or(0);
    hook_table.Add({std::to_string(json::GetInt(h, "id").value_or(0)),
                    CellText(json::GetStringOrEmpty(h, "url"), 40),
                    paused ? "paused" : failures > 0 ? "retrying" : "active",
                    std::to_string(json::GetInt(h, "cursor").value_or(0)),
                    std::to_string(json::GetInt(h, "lag_events").value_or(0)),
                    std::to_string(json::GetInt(h, "oldest_undelivered_age_s").value_or(0)) + "s",
                    std::to_string(failures),
                    std::to_string(json::GetInt(h, "next_retry_in_s").value_or(0)) + "s",
                    CellText(json::GetStringOrEmpty(h, "last_error"), 40)});
  }
  report->set("healthy", healthy);

  if (json_out) {
    out_ << json::Stringify(report) << '\n';
  } else {
    daemon_table.Print(out_);
    out_ << "\nstore  " << url << "  " << json::GetString(store_info, "state").value_or("");
    if (!path.empty()) out_ << "  size " << FileSize(path) << "  wal " << FileSize(path + "-wal");
    out_ << "  schema " << json::GetInt(store_info, "schema_version").value_or(0) << '\n';
    if (!exposed.empty()) out_ << "warning: " << exposed << '\n';
    if (auto media = json::GetObject(report, "media")) {
      out_ << "media  " << options_.media_dir << "  pending " << json::GetInt(media, "pending").value_or(0) << "  due "
           << json::GetInt(media, "due").value_or(0) << "  failed " << json::GetInt(media, "failed").value_or(0)
           << "  oldest " << json::GetInt(media, "oldest_pending_age_s").value_or(0) << "s\n";
    }
    out_ << "spool  " << options_.spool_dir << "  pending " << spool.pending_files << " (" << spool.pending_intakes
         << " intakes)  bad " << spool.bad << "  tmp " << spool.tmp << "  oldest " << spool_age_s << "s\n\n";
    queue_table.Print(out_);
    if (!hook_table.empty()) {
      out_ << '\n';
      hook_table.Print(out_);
    }
  }
  return healthy ? exit_code::kOk : exit_code::kUnavailable;
}

}  // namespace courier
