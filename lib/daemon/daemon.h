#pragma once
// The daemon skeleton: courier-recv, courier-send, courier-flush and the
// daemons to come are each a DaemonSpec and one body. A daemon's main is
//
//   auto options = ParseDaemonCommandLine(kSendDaemon, argc, argv);
//   if (auto* exit_now = std::get_if<int>(&options)) return *exit_now;
//   return RunSend(std::get<Options>(options)).ExitCode();
//
// and RunSend calls RunDaemon(spec, options, body). The skeleton owns what
// every daemon does alike, so that they all look the same to an operator
// and to supervisord:
//   - the command line: the shared options, the daemon's own flags,
//     --help, --version, --print-config, usage errors (64), the log tag;
//   - signals: the daemon runs in the foreground; SIGTERM or SIGINT asks
//     the body to stop (Daemon::stop()); a second signal, or a body still
//     running `grace` after the first, ends the process with 75 so a
//     supervisor sees the unclean stop;
//   - the spool, created at start (74 when it cannot be), and the store:
//     migrated at start when reachable, else by the first connection that
//     works; a daemon runs while its store is down (daemon_start.h);
//   - for a daemon that writes (`events` set): its IntakeWriter (store,
//     else spool), the events it commits published on `events`, and
//     courier-flush woken when it spools;
//   - the socket the daemon is woken on (`wake`), and WaitForWork;
//   - the control socket (`control`): `courier-ctl status` gets program,
//     pid and uptime_s, the writer's committed, spooled and batches, then
//     the daemon's own fields (Daemon::ReportStatus);
//   - the last log line, "stopped", with the exit code.
// A bus socket that cannot be bound is logged and the daemon runs without
// it (wakes then fall back to polling).
//
// Thread-safety: the body runs on the thread that called RunDaemon; the
// Daemon it gets is valid until the body returns, and its accessors may be
// used from the body's threads.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "bus/bus.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/status.h"
#include "daemon/stop_token.h"
#include "spool/spool.h"
#include "intake/intake_writer.h"
#include "store/store.h"

namespace CLI { class App; }

namespace courier {

struct DaemonSpec {
  // Who the daemon is.
  std::string program;      // "courier-send": the log tag, "program" in its status
  std::string description;  // the first line of --help
  std::vector<std::string> flags;                    // options offered as flags besides the shared ones
  std::map<std::string, std::string> flag_aliases;  // an option's second flag: {"flush_interval", "--interval"}
  // What the skeleton sets up for it (endpoint names from bus/endpoints.h).
  std::string control;  // where it answers status requests
  std::string wake;     // where it is woken; "" for none
  std::string events;   // set: it writes through an IntakeWriter whose committed events are published here
  int store_busy_timeout_ms = 5000;    // how long its writes wait for another process's lock
  std::chrono::seconds grace{30};      // the longest a stop may take
};

class Daemon;

// The fields a body adds to its daemon's status answers, for as long as
// this handle lives (see Daemon::ReportStatus).
class [[nodiscard]] StatusFields {
 public:
  StatusFields(StatusFields&& other) noexcept;
  StatusFields(const StatusFields&) = delete;
  StatusFields& operator=(const StatusFields&) = delete;
  StatusFields& operator=(StatusFields&&) = delete;
  ~StatusFields();

 private:
  friend class Daemon;
  explicit StatusFields(Daemon* daemon) : daemon_(daemon) {}
  Daemon* daemon_;
};

// What the skeleton has set up, handed to the body.
class Daemon {
 public:
  using FillStatus = std::function<void(json::ObjectPtr status)>;

  const DaemonSpec& spec() const { return spec_; }
  const Options& options() const { return options_; }
  Clock& clock() { return clock_; }
  const SpoolDir& spool() const { return spool_; }
  // New connections to the store (migrating: daemon_start.h), with the
  // spec's busy timeout. A Store is single-threaded: one per thread.
  const StoreOpener& store_opener() const { return open_store_; }
  // The daemon's IntakeWriter, started; null unless the spec sets `events`.
  // The skeleton stops it (writing what is queued) after the body returns;
  // a body whose write callbacks reach into its own objects stops it
  // first itself (Stop() may be called twice).
  IntakeWriter* writer() { return writer_.get(); }
  StopToken& stop() { return stop_; }
  // The spec's wake socket; unbound (it only sleeps) without one.
  WakeReceiver& wake() { return wake_; }
  // WaitForWork (stop_token.h) on this daemon's wake socket and stop.
  bool WaitForWork(std::chrono::milliseconds at_most, bool wakes_end_wait = true) {
    return courier::WaitForWork(wake_, stop_, at_most, wakes_end_wait);
  }

  // From now until the handle is destroyed, `fill` adds the daemon's own
  // fields to each status answer. It runs on the control thread, so it
  // reads what it reports under that thing's own lock. Declare the handle
  // after everything `fill` reads: it must go first. One at a time.
  StatusFields ReportStatus(FillStatus fill);

 private:
  friend Status RunDaemon(const DaemonSpec&, const Options&, const std::function<Status(Daemon&)>&);
  friend class StatusFields;
  Daemon(const DaemonSpec& spec, const Options& options, StopToken& stop);
  // Everything but the body: spool, store, bus sockets, writer.
  Status Start();
  void Stop();
  std::string AnswerStatus();

  const DaemonSpec& spec_;
  const Options& options_;
  StopToken& stop_;
  Clock& clock_;
  const Micros started_;
  SpoolDir spool_;
  StoreOpener open_store_;
  Publisher events_;
  std::unique_ptr<WakeSender> flush_wake_;
  std::unique_ptr<IntakeWriter> writer_;
  WakeReceiver wake_;
  ControlServer control_;
  std::mutex status_mu_;
  FillStatus fill_status_;
};

// Runs the daemon: sets up what `spec` asks for, runs `body` until it
// returns (it returns soon after stop() is requested), stops what was set
// up, and returns body's Status: what main() maps to the exit code. A
// body that throws ends as Internal (70). Call it before any thread is
// created: the stop signals are blocked in this thread and every thread
// started after.
Status RunDaemon(const DaemonSpec& spec, const Options& options, const std::function<Status(Daemon&)>& body);

// The start of a daemon's main: the shared options and the spec's flags
// (and whatever `add_own_flags` adds to the app) parsed, Options loaded,
// the log tag set. Returns the options, or the exit code main returns at
// once: 0 after --help, --version or --print-config, 64 on a usage error.
std::variant<Options, int> ParseDaemonCommandLine(const DaemonSpec& spec, int argc, char** argv,
                                                  const std::function<void(CLI::App&)>& add_own_flags = {});

}  // namespace courier
