#include "daemon/daemon.h"
#include "store/sqlite_store.h"
#include "store/store_file.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "bus/endpoints.h"
#include "config/command_line.h"
#include "core/log.h"
#include "daemon/daemon_start.h"

namespace courier {
namespace {

// Blocks the stop signals in this thread (and so in every thread created
// after) and waits for them on a thread of its own: a signal asks the body
// to stop; a second one, or a stop that outlasts `grace`, ends the process
// with 75.
class SignalWaiter {
 public:
  SignalWaiter(StopToken& stop, std::chrono::seconds grace) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([this, &stop, grace] { Wait(stop, grace); });
  }
  ~SignalWaiter() {
    finished_ = true;
    pthread_kill(thread_.native_handle(), SIGHUP);  // wakes sigwait so the thread returns
    thread_.join();
  }

 private:
  void Wait(StopToken& stop, std::chrono::seconds grace) {
    int sig = 0;
    while (sigwait(&set_, &sig) == 0) {
      if (finished_) return;
      if (sig == SIGHUP) continue;  // reserved for reloads; ignored for now
      if (stop.stop_requested()) {
        Log::Warn("second signal, exiting now", {{"signal", std::to_string(sig)}});
        _exit(exit_code::kTempFail);
      }
      Log::Info("stopping", {{"signal", std::to_string(sig)}});
      stop.RequestStop();
      std::thread([grace] {
        std::this_thread::sleep_for(grace);
        Log::Error("shutdown took longer than the grace period, exiting", {{"grace_s", std::to_string(grace.count())}});
        _exit(exit_code::kTempFail);
      }).detach();
    }
  }

  sigset_t set_;
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

}  // namespace

StatusFields::StatusFields(StatusFields&& other) noexcept : daemon_(other.daemon_) { other.daemon_ = nullptr; }

StatusFields::~StatusFields() {
  if (daemon_ == nullptr) return;
  std::lock_guard<std::mutex> lock(daemon_->status_mu_);
  daemon_->fill_status_ = nullptr;
}

Daemon::Daemon(const DaemonSpec& spec, const Options& options, StopToken& stop)
    : spec_(spec),
      options_(options),
      stop_(stop),
      clock_(Clock::System()),
      started_(clock_.Now()),
      spool_(options.spool_dir, Env::Default(), static_cast<int64_t>(options.spool_reserve_mb) * 1024 * 1024),
      open_store_(MigratingStoreOpener(options.db, clock_, spec.store_busy_timeout_ms)) {}

StatusFields Daemon::ReportStatus(FillStatus fill) {
  std::lock_guard<std::mutex> lock(status_mu_);
  fill_status_ = std::move(fill);
  return StatusFields(this);
}

std::string Daemon::AnswerStatus() {
  auto o = json::NewObject();
  o->set("program", spec_.program);
  o->set("pid", static_cast<int64_t>(::getpid()));
  o->set("uptime_s", (clock_.Now() - started_) / kMicrosPerSecond);
  if (writer_) {
    IntakeWriterStats stats = writer_->stats();
    o->set("spooled", stats.spooled);
    o->set("committed", stats.committed);
    o->set("batches", stats.batches);
  }
  std::lock_guard<std::mutex> lock(status_mu_);
  if (fill_status_) fill_status_(o);
  return json::Stringify(o);
}

Status Daemon::Start() {
  Status s = PrepareSpool(options_.spool_dir);
  if (!s.ok()) return s;
  TryStoreAtStart(open_store_, options_.db, /*spools=*/!spec_.events.empty());

  if (!spec_.events.empty()) {
    s = events_.Bind(EndpointFor(options_.run_dir, spec_.events));
    if (!s.ok()) Log::Warn("events not published", {{"error", s.message()}});
    flush_wake_ = std::make_unique<WakeSender>(EndpointFor(options_.run_dir, kFlushWake));
    writer_ = std::make_unique<IntakeWriter>(
        open_store_, spool_, clock_,
        [this](const std::vector<Event>& batch) {
          for (const auto& e : batch) events_.Publish(e.topic, e.payload);
        },
        [this]() { flush_wake_->Wake("spooled"); });
    writer_->Start();
  }
  if (!spec_.wake.empty()) {
    s = wake_.Bind(EndpointFor(options_.run_dir, spec_.wake));
    if (!s.ok()) Log::Warn("wakes not received, polling only", {{"error", s.message()}});
  }
  s = control_.Start(EndpointFor(options_.run_dir, spec_.control), [this](const std::string&) { return AnswerStatus(); });
  if (!s.ok()) Log::Warn("control socket unavailable", {{"error", s.message()}});
  return Status::OK();
}

void Daemon::Stop() {
  // What the body queued last (statuses of the last sends, the last
  // webhooks' intakes) is written before the process ends.
  if (writer_) writer_->Stop();
  control_.Stop();
}

Status RunDaemon(const DaemonSpec& spec, const Options& options, const std::function<Status(Daemon&)>& body) {
  StopToken stop;
  SignalWaiter signals(stop, spec.grace);
  Daemon daemon(spec, options, stop);
  Status result;
  try {
    result = daemon.Start();
    if (result.ok()) result = body(daemon);
  } catch (const std::exception& e) {
    result = Status::Internal(e.what());
  }
  daemon.Stop();
  if (result.ok()) Log::Info("stopped", {{"exit", "0"}});
  else Log::Error("stopped", {{"exit", std::to_string(result.ExitCode())}, {"error", result.message()}});
  return result;
}

std::variant<Options, int> ParseDaemonCommandLine(const DaemonSpec& spec, int argc, char** argv,
                                                  const std::function<void(CLI::App&)>& add_own_flags) {
  CLI::App app{"", spec.program};
  SetUpApp(app, spec.description);
  OptionLoader loader(app, spec.flags, spec.flag_aliases);
  if (add_own_flags) add_own_flags(app);
  auto parsed = ParseCommandLine(app, loader, argc, argv);
  if (const Options* options = std::get_if<Options>(&parsed)) {
    Log::Init(spec.program, options->log_level);
    SetStoreGroup(options->store_group);
    SetSqliteCacheMiB(options->sqlite_cache_mb);
  }
  return parsed;
}

}  // namespace courier
