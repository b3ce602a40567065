#include "flush/flush_daemon.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>

#include "bus/bus.h"
#include "bus/endpoints.h"
#include "core/json.h"
#include "core/log.h"
#include "flush/flusher.h"
#include "spool/spool.h"

namespace courier {
namespace {

// While the store is down the daemon waits this long at most between tries
// (the wait starts at flush_interval, or this if less, and doubles; wakes
// are ignored meanwhile), so an outage costs one failed try per wait, not
// one per file or per wake, and a long flush_interval does not delay the
// replay long after the store is back.
constexpr int kMaxOutageWaitSeconds = 30;
// Busy timeouts: the daemon retries soon anyway; a one-off run waits as
// long as courier-ctl does.
constexpr int kDaemonBusyTimeoutMs = 2000;
constexpr int kOneOffBusyTimeoutMs = 5000;

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

// Sleeps up to `total`, a slice at a time so a stop is seen at once.
// Returns early on a wake only when `wakes_end_wait` (during an outage
// wakes are drained and ignored: recv pushes one for every file it spools).
void WaitForWork(WakeReceiver& wake, StopToken& stop, std::chrono::milliseconds total, bool wakes_end_wait) {
  const auto deadline = std::chrono::steady_clock::now() + total;
  while (!stop.stop_requested()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    int slice = static_cast<int>(std::min<int64_t>(left.count(), 200));
    if (wake.Wait(slice) && wakes_end_wait) return;
  }
}

// `left` over `total` on one terminal line, rewritten in place.
FlushProgress TerminalProgress() {
  return [](const FlushReport& r, size_t total) {
    if (total <= 1000) return;
    std::cerr << "\rcourier-flush: " << (r.flushed + r.rejected + r.skipped) << " of " << total << " files ("
              << r.flushed << " flushed, " << r.rejected << " bad)" << std::flush;
  };
}

}  // namespace

int RunFlush(const Options& options, StopToken& stop) {
  Clock& clock = Clock::System();
  const Micros started = clock.Now();
  SpoolDir spool(options.spool_dir);
  Status s = spool.Ensure();
  if (!s.ok()) {
    Log::Error("cannot create spool", {{"spool_dir", options.spool_dir}, {"error", s.message()}});
    return exit_code::kIOErr;
  }

  // Migrate at start when the store is there; when it is not, at the first
  // connection that works (the opener below), before anything is written.
  auto migrated = std::make_shared<bool>(false);
  {
    auto store = OpenStore(options.db, clock, kDaemonBusyTimeoutMs);
    Status m = store.ok() ? store.value()->Migrate() : store.status();
    if (m.ok()) *migrated = true;
    else Log::Warn("store unavailable at start", {{"db", options.db}, {"error", m.message()}});
  }
  StoreOpener open = [&options, &clock, migrated]() -> Result<std::unique_ptr<Store>> {
    auto store = OpenStore(options.db, clock, kDaemonBusyTimeoutMs);
    if (!store.ok() || *migrated) return store;
    Status m = store.value()->Migrate();
    if (!m.ok()) return m;
    *migrated = true;
    return store;
  };

  Flusher flusher(open, spool, Env::Default(), FlusherOptions());
  auto recovered = flusher.RecoverClaimed();
  if (!recovered.ok()) {
    Log::Error("cannot recover claimed spool files", {{"spool_dir", options.spool_dir}, {"error", recovered.status().message()}});
    return exit_code::kIOErr;
  }
  if (*recovered > 0) Log::Info("claimed spool files put back in new/", {{"files", std::to_string(*recovered)}});

  WakeReceiver wake;
  s = wake.Bind(EndpointFor(options.run_dir, kFlushWake));
  if (!s.ok()) Log::Warn("wakes not received, polling only", {{"error", s.message()}});

  FlushStats stats;
  const std::string new_dir = spool.Path("new");
  const std::string bad_dir = spool.Path("bad");
  ControlServer control;
  s = control.Start(EndpointFor(options.run_dir, kFlushCtl), [&](const std::string&) {
    auto o = json::NewObject();
    o->set("program", "courier-flush");
    o->set("pid", static_cast<int64_t>(::getpid()));
    o->set("uptime_s", (clock.Now() - started) / kMicrosPerSecond);
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
    return json::Stringify(o);
  });
  if (!s.ok()) Log::Warn("control socket unavailable", {{"error", s.message()}});

  Log::Info("started", {{"spool_dir", options.spool_dir}, {"db", options.db},
                        {"interval_s", std::to_string(options.flush_interval)}});
  const auto interval = std::chrono::seconds(options.flush_interval);
  const std::chrono::milliseconds max_outage_wait = std::chrono::seconds(kMaxOutageWaitSeconds);
  const std::chrono::milliseconds first_outage_wait = std::min<std::chrono::milliseconds>(interval, max_outage_wait);
  bool store_outage = false;
  bool spool_failing = false;
  std::chrono::milliseconds outage_wait = first_outage_wait;

  while (!stop.stop_requested()) {
    auto pass = flusher.FlushOnce([&stop] { return stop.stop_requested(); });
    if (!pass.ok()) {
      // new/ cannot be listed: log once until it can, retry at the interval.
      if (!spool_failing) Log::Error("cannot read spool", {{"spool_dir", options.spool_dir}, {"error", pass.status().message()}});
      spool_failing = true;
      {
        std::lock_guard<std::mutex> lock(stats.mu);
        stats.last_error = pass.status().ToString();
      }
      WaitForWork(wake, stop, interval, true);
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
      stats.last_pass_on = clock.Now();
      if (!r.store_error.ok()) stats.last_error = r.store_error.ToString();
      else if (!r.spool_error.ok()) stats.last_error = r.spool_error.ToString();
    }
    if (r.flushed > 0 || r.rejected > 0) {
      Log::Info("flushed", {{"flushed", std::to_string(r.flushed)}, {"rejected", std::to_string(r.rejected)},
                            {"left", std::to_string(r.left)}});
    }
    if (!r.store_error.ok()) {
      // One line per outage, not per file or per try.
      if (!store_outage) {
        Log::Warn("store unavailable", {{"db", options.db}, {"error", r.store_error.message()},
                                        {"pending", std::to_string(r.left)}});
        store_outage = true;
        outage_wait = first_outage_wait;
      } else {
        outage_wait = std::min<std::chrono::milliseconds>(outage_wait * 2, max_outage_wait);
      }
      WaitForWork(wake, stop, outage_wait, false);
      continue;
    }
    if (store_outage) {
      Log::Info("store available again", {{"db", options.db}, {"left", std::to_string(r.left)}});
      store_outage = false;
      outage_wait = first_outage_wait;
    }
    // More arrived during a pass that made progress: go on at once.
    if (r.left > 0 && (r.flushed > 0 || r.rejected > 0)) continue;
    WaitForWork(wake, stop, interval, true);
  }
  control.Stop();
  return exit_code::kOk;
}

int RunFlushOnce(const Options& options, bool progress) {
  SpoolDir spool(options.spool_dir);
  Status s = spool.Ensure();
  if (!s.ok()) {
    std::cerr << "courier-flush: " << s.message() << '\n';
    return exit_code::kIOErr;
  }
  Clock& clock = Clock::System();
  StoreOpener open = [&options, &clock]() { return OpenStore(options.db, clock, kOneOffBusyTimeoutMs); };
  Flusher flusher(open, spool, Env::Default(), FlusherOptions());
  auto recovered = flusher.RecoverClaimed();
  if (!recovered.ok()) {
    std::cerr << "courier-flush: " << recovered.status().message() << '\n';
    return exit_code::kIOErr;
  }
  if (*recovered > 0) Log::Info("claimed spool files put back in new/", {{"files", std::to_string(*recovered)}});

  auto pass = flusher.FlushOnce({}, progress ? TerminalProgress() : FlushProgress());
  if (!pass.ok()) {
    std::cerr << "courier-flush: " << pass.status().message() << '\n';
    return exit_code::kIOErr;
  }
  const FlushReport& r = *pass;
  if (progress && r.flushed + r.rejected + r.skipped > 1000) std::cerr << '\n';
  std::cerr << "courier-flush: " << r.flushed << " flushed, " << r.rejected << " moved to " << spool.Path("bad")
            << ", " << r.left << " files left\n";
  if (!r.store_error.ok()) {
    std::cerr << "courier-flush: store unavailable (" << r.store_error.message() << "): " << r.left
              << " files left\n";
    return exit_code::kTempFail;
  }
  if (!r.spool_error.ok()) {
    std::cerr << "courier-flush: " << r.spool_error.message() << '\n';
    return exit_code::kIOErr;
  }
  return exit_code::kOk;
}

int RunFlushFiles(const Options& options, const std::vector<std::string>& paths) {
  Clock& clock = Clock::System();
  StoreOpener open = [&options, &clock]() { return OpenStore(options.db, clock, kOneOffBusyTimeoutMs); };
  // The spool is only used for its Env here: named files are read, replayed
  // and removed where they are.
  Flusher flusher(open, SpoolDir(options.spool_dir), Env::Default(), FlusherOptions());
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
    return exit_code::kTempFail;
  }
  if (report.Count(R::kMissing) > 0) return exit_code::kNoInput;
  if (report.Count(R::kBad) > 0) return exit_code::kDataErr;
  if (report.Count(R::kError) > 0) return exit_code::kIOErr;
  return exit_code::kOk;
}

}  // namespace courier
