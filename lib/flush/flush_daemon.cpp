#include "flush/flush_daemon.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <mutex>

#include "bus/endpoints.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/store_outage.h"
#include "flush/flusher.h"
#include "flush/retention.h"
#include "spool/spool.h"
#include "store/store_url.h"

namespace courier {
namespace {

// While the store is down the daemon waits this long at most between tries
// (the wait starts at flush_interval, or this if less, and doubles; wakes
// are ignored meanwhile), so a long flush_interval does not delay the
// replay long after the store is back.
constexpr auto kMaxOutageWait = std::chrono::seconds(30);
// A one-off run waits for another process's lock as long as courier-ctl
// does; the daemon (its spec) retries soon anyway.
constexpr int kOneOffBusyTimeoutMs = 5000;

// The one-off runs' store: unlike the daemon's, never migrated here
// (courier-flush(8): a store never initialised is unavailable, 75).
StoreOpener OneOffStoreOpener(const Options& options) {
  return [db = options.db]() { return OpenStore(db, Clock::System(), kOneOffBusyTimeoutMs); };
}

int64_t CountFiles(const std::string& dir, bool skip_reasons) {
  auto names = Env::Default().ListDir(dir);
  if (!names.ok()) return 0;
  int64_t n = 0;
  for (const auto& name : *names) {
    if (skip_reasons && name.size() >= 7 && name.compare(name.size() - 7, 7, ".reason") == 0) continue;
    ++n;
  }
  return n;
}

// What flush-ctl reports; written by the loop, read by the control thread.
struct FlushStats {
  std::mutex mu;
  int64_t flushed = 0;
  int64_t rejected = 0;
  int64_t passes = 0;
  bool store_ok = true;
  std::string last_error;
  Micros last_pass_on = 0;
};

// `left` over `total` on one terminal line, rewritten in place.
FlushProgress TerminalProgress() {
  return [](const FlushReport& r, size_t total) {
    if (total <= 1000) return;
    std::cerr << "\rcourier-flush: " << (r.flushed + r.rejected + r.skipped) << " of " << total << " intakes ("
              << r.flushed << " flushed, " << r.rejected << " bad)" << std::flush;
  };
}

Status RunFlushDaemon(const Options& options) {
  return RunDaemon(kFlushDaemon, options, [&options](Daemon& daemon) -> Status {
    Flusher flusher(daemon.store_opener(), daemon.spool());
    auto recovered = flusher.RecoverClaimed();
    if (!recovered.ok()) {
      Log::Error("cannot recover claimed spool files",
                 {{"spool_dir", options.spool_dir}, {"error", recovered.status().message()}});
      return Status::IOError("cannot recover claimed spool files: " + recovered.status().message());
    }
    if (*recovered > 0) Log::Info("claimed spool files put back in new/", {{"files", std::to_string(*recovered)}});

    Retention retention(options, daemon.store_opener(), daemon.clock());
    FlushStats stats;
    const std::string new_dir = daemon.spool().Path("new");
    const std::string bad_dir = daemon.spool().Path("bad");
    auto status = daemon.ReportStatus([&](json::ObjectPtr o) {
      o->set("interval_s", options.flush_interval);
      o->set("spool_dir", options.spool_dir);
      std::lock_guard<std::mutex> lock(stats.mu);
      o->set("flushed", stats.flushed);
      o->set("rejected", stats.rejected);
      o->set("pending", CountFiles(new_dir, false));
      o->set("bad", CountFiles(bad_dir, true));
      o->set("passes", stats.passes);
      o->set("store", stats.store_ok ? "ok" : "unavailable");
      json::SetNullableString(o, "last_error", stats.last_error);
      json::SetTime(o, "last_pass_on", stats.last_pass_on ? std::optional<Micros>(stats.last_pass_on) : std::nullopt);
      retention.Report(o);
    });

    Log::Info("started", {{"spool_dir", options.spool_dir}, {"db", RedactStoreUrl(options.db)},
                          {"interval_s", std::to_string(options.flush_interval)},
                          {"retain_logs_days", std::to_string(options.retain_logs_days)},
                          {"retain_events_days", std::to_string(options.retain_events_days)},
                          {"retain_msgs_days", std::to_string(options.retain_msgs_days)}});
    const std::chrono::milliseconds interval = std::chrono::seconds(options.flush_interval);
    StoreOutage outage(options.db, interval, kMaxOutageWait);
    bool spool_failing = false;
    StopToken& stop = daemon.stop();
    while (!stop.stop_requested()) {
      auto pass = flusher.FlushOnce([&stop] { return stop.stop_requested(); });
      if (!pass.ok()) {
        // new/ cannot be listed: log once until it can, retry at the interval.
        if (!spool_failing) {
          Log::Error("cannot read spool", {{"spool_dir", options.spool_dir}, {"error", pass.status().message()}});
        }
        spool_failing = true;
        {
          std::lock_guard<std::mutex> lock(stats.mu);
          stats.last_error = pass.status().ToString();
        }
        daemon.WaitForWork(interval);
        continue;
      }
      spool_failing = false;
      const FlushReport& r = *pass;
      {
        std::lock_guard<std::mutex> lock(stats.mu);
        stats.flushed += r.flushed;
        stats.rejected += r.rejected;
        stats.passes++;
        stats.store_ok = r.store_error.ok();
        stats.last_pass_on = daemon.clock().Now();
        if (!r.store_error.ok()) stats.last_error = r.store_error.ToString();
        else if (!r.spool_error.ok()) stats.last_error = r.spool_error.ToString();
      }
      if (r.flushed > 0 || r.rejected > 0) {
        Log::Info("flushed", {{"flushed", std::to_string(r.flushed)}, {"rejected", std::to_string(r.rejected)},
                              {"left", std::to_string(r.left)}});
      }
      if (!r.store_error.ok()) {
        const auto wait = outage.Failed(r.store_error, Log::Field{"pending", std::to_string(r.left)});
        daemon.WaitForWork(wait, /*wakes_end_wait=*/false);
        continue;
      }
      outage.Worked(Log::Field{"left", std::to_string(r.left)});
      // Housekeeping after the spool: what came in first is stored first.
      retention.RunIfDue([&stop] { return stop.stop_requested(); });
      // More arrived during a pass that made progress: go on at once.
      if (r.left > 0 && (r.flushed > 0 || r.rejected > 0)) continue;
      daemon.WaitForWork(interval);
    }
    return Status::OK();
  });
}

Status RunFlushOnce(const Options& options, bool progress) {
  SpoolDir spool(options.spool_dir);
  Status s = spool.Ensure();
  if (!s.ok()) {
    std::cerr << "courier-flush: " << s.message() << '\n';
    return Status::IOError(s.message());
  }
  Flusher flusher(OneOffStoreOpener(options), spool);
  auto recovered = flusher.RecoverClaimed();
  if (!recovered.ok()) {
    std::cerr << "courier-flush: " << recovered.status().message() << '\n';
    return Status::IOError(recovered.status().message());
  }
  if (*recovered > 0) Log::Info("claimed spool files put back in new/", {{"files", std::to_string(*recovered)}});

  auto pass = flusher.FlushOnce({}, progress ? TerminalProgress() : FlushProgress());
  if (!pass.ok()) {
    std::cerr << "courier-flush: " << pass.status().message() << '\n';
    return Status::IOError(pass.status().message());
  }
  const FlushReport& r = *pass;
  if (progress && r.flushed + r.rejected + r.skipped > 1000) std::cerr << '\n';
  std::cerr << "courier-flush: " << r.flushed << " flushed, " << r.rejected << " moved to " << spool.Path("bad")
            << ", " << r.left << " intakes left\n";
  if (!r.store_error.ok()) {
    std::cerr << "courier-flush: store unavailable (" << r.store_error.message() << "): " << r.left
              << " intakes left\n";
    // Busy: exit 75, try again later, whatever made the store unavailable.
    return Status::Busy("store unavailable: " + r.store_error.message());
  }
  if (!r.spool_error.ok()) {
    std::cerr << "courier-flush: " << r.spool_error.message() << '\n';
    return Status::IOError(r.spool_error.message());
  }
  return Status::OK();
}

Status RunFlushFiles(const Options& options, const std::vector<std::string>& paths) {
  // The spool is only used for its Env here: named files are read, replayed
  // and removed where they are.
  Flusher flusher(OneOffStoreOpener(options), SpoolDir(options.spool_dir));
  ReplayReport report = flusher.FlushFiles(paths);

  for (const auto& f : report.files) {
    switch (f.result) {
      case FileReplay::Result::kReplayed: std::cerr << "courier-flush: " << f.path << ": replayed\n"; break;
      case FileReplay::Result::kSkipped: break;
      case FileReplay::Result::kBad: std::cerr << "courier-flush: " << f.path << ": bad: " << f.status.ToString() << '\n'; break;
      case FileReplay::Result::kMissing: std::cerr << "courier-flush: " << f.path << ": no such file\n"; break;
      case FileReplay::Result::kError: std::cerr << "courier-flush: " << f.path << ": " << f.status.ToString() << '\n'; break;
      case FileReplay::Result::kPending: std::cerr << "courier-flush: " << f.path << ": not replayed\n"; break;
    }
  }
  using R = FileReplay::Result;
  if (!report.store_error.ok()) {
    std::cerr << "courier-flush: store unavailable (" << report.store_error.message() << "): "
              << report.Count(R::kPending) << " files left\n";
    return Status::Busy("store unavailable: " + report.store_error.message());
  }
  if (report.Count(R::kMissing) > 0) return Status::NotFound(std::to_string(report.Count(R::kMissing)) + " files not found");
  if (report.Count(R::kBad) > 0) return Status::InvalidArgument(std::to_string(report.Count(R::kBad)) + " files bad");
  if (report.Count(R::kError) > 0) return Status::IOError(std::to_string(report.Count(R::kError)) + " files not removed");
  return Status::OK();
}

}  // namespace

const DaemonSpec kFlushDaemon = [] {
  DaemonSpec spec;
  spec.program = "courier-flush";
  spec.description = "Replay spool files into the courier store: a daemon, --once, or named files.";
  spec.flags = {"flush_interval", "retain_logs_days", "retain_events_days", "retain_msgs_days"};
  // DESIGN's `--interval SECONDS` is another name of --flush-interval.
  spec.flag_aliases = {{"flush_interval", "--interval"}};
  spec.control = kFlushCtl;
  spec.wake = kFlushWake;
  // The daemon retries soon anyway: a short wait for another's lock.
  spec.store_busy_timeout_ms = 2000;
  return spec;
}();

void FlushRequest::AddFlags(CLI::App& app) {
  app.add_flag("--once", once, "flush what is in the spool now, then exit (75: store unavailable)");
  app.add_option("files", files, "spool files to replay instead of the spool (e.g. spool/bad/NAME)")
      ->excludes(app.get_option("--once"));
}

Status RunFlush(const Options& options, const FlushRequest& request) {
  if (!request.files.empty()) return RunFlushFiles(options, request.files);
  // A progress line only where someone watches it.
  if (request.once) return RunFlushOnce(options, ::isatty(2) != 0);
  return RunFlushDaemon(options);
}

}  // namespace courier
