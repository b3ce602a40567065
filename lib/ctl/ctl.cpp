#include "ctl/ctl.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>

#include "bus/endpoints.h"
#include "bus/bus.h"
#include "daemon/store_wake_relay.h"
#include "bus/wake.h"
#include "core/env.h"
#include "core/json.h"
#include "ctl/event_line.h"
#include "ctl/table.h"
#include "spool/spool.h"
#include "store/sqlite_store.h"
#include "store/store_notices.h"
#include "store/store_url.h"
#include "util/utf8.h"

namespace courier {

Ctl::Ctl(Options options, std::ostream& out, std::ostream& err, std::istream& in, Clock& clock)
    : options_(std::move(options)), out_(out), err_(err), in_(in), clock_(clock) {}

Ctl::~Ctl() = default;

int Ctl::Report(const Status& status) {
  err_ << "courier-ctl: " << status.message() << '\n';
  return status.ExitCode();
}

namespace {

// The directory part of a file path ("" when there is none).
std::string DirOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "" : path.substr(0, slash);
}

}  // namespace

Result<Store*> Ctl::OpenExisting(StoreAccess access) {
  if (store_ && (store_access_ == access || access == StoreAccess::kReadOnly)) return store_.get();
  std::string path = StoreFilePath(options_.db);
  if (!path.empty()) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::Unavailable("store " + path + " does not exist: run courier-ctl init");
      return Status::Unavailable("cannot reach store " + path + ": " + std::strerror(errno));
    }
    // SQLite would open the file read-only and fail at the first write with
    // its own words; say which command is refused and what still works.
    if (access == StoreAccess::kReadWrite && ::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) != 0)
      return Status::Unavailable("store " + path + " is not writable by this user (" + std::strerror(errno) +
                                 "); commands that only read it still work");
  }
  store_.reset();
  auto store = OpenStore(options_.db, clock_, SqliteStore::kDefaultBusyTimeoutMs, access);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  store_access_ = access;
  return store_.get();
}

void Ctl::WakeSender() { PushWake(EndpointFor(options_.run_dir, kSendWake), "queued"); }

int Ctl::Init() {
  std::string path = StoreFilePath(options_.db);
  if (!path.empty()) {
    Status s = DirOf(path).empty() ? Status::OK() : MakeDirs(DirOf(path));
    if (!s.ok()) return Report(s);
  }
  auto store = OpenStore(options_.db, clock_);
  if (!store.ok()) return Report(store.status());
  Status s = store.value()->Migrate();
  if (!s.ok()) return Report(s);
  auto version = store.value()->SchemaVersion();
  if (!version.ok()) return Report(version.status());
  s = SpoolDir(options_.spool_dir).Ensure();
  if (!s.ok()) return Report(s);
  s = MakeDirs(options_.run_dir);
  if (!s.ok()) return Report(s);
  out_ << "store " << RedactStoreUrl(options_.db) << " ready (schema " << *version << "), spool " << options_.spool_dir
       << ", run dir " << options_.run_dir << '\n';
  return exit_code::kOk;
}

int Ctl::Spool(bool json) {
  SpoolDir spool(options_.spool_dir);
  std::vector<SpoolFile> all;
  for (const char* state : {"new", "cur", "bad", "tmp"}) {
    auto files = spool.List(state);
    if (!files.ok()) return Report(files.status());
    all.insert(all.end(), files->begin(), files->end());
  }
  // tmp/: files being written, or left by a writer killed before its
  // rename (removed at the next daemon start once a minute old).
  auto shown_state = [](const SpoolFile& f) -> std::string {
    return f.state == "bad" ? "bad" : f.state == "tmp" ? "tmp" : "pending";
  };
  if (json) {
    for (const auto& f : all) {
      auto o = json::NewObject();
      o->set("name", f.name);
      o->set("state", shown_state(f));
      o->set("dir", f.state);
      o->set("path", f.path);
      o->set("size", f.size);
      o->set("intakes", f.intakes);
      json::SetTime(o, "modified_on", f.modified_on);
      json::SetNullableString(o, "reason", f.reason);
      out_ << json::Stringify(o) << '\n';
    }
    return exit_code::kOk;
  }
  Table table({"STATE", "FILE", "INTAKES", "SIZE", "AGE", "REASON"});
  Micros now = clock_.Now();
  SpoolSummary summary;
  for (const auto& f : all) {
    summary.Count(f);
    table.Add({shown_state(f), f.name, std::to_string(f.intakes), std::to_string(f.size),
               std::to_string((now - f.modified_on) / kMicrosPerSecond) + "s", CellText(f.reason, 60)});
  }
  if (!table.empty()) table.Print(out_);
  out_ << summary.pending_files << " pending (" << summary.pending_intakes << " intakes), " << summary.bad << " bad";
  if (summary.tmp > 0) out_ << ", " << summary.tmp << " unfinished in tmp/";
  out_ << " in " << options_.spool_dir << '\n';
  return exit_code::kOk;
}

void Ctl::StopFollowing() { stop_following_ = true; }

void Ctl::StopFollowingWhenUnread(int fd) { watched_fd_ = fd; }

bool Ctl::ReaderGone() const {
  if (!out_) return true;  // a write failed (EPIPE with SIGPIPE ignored)
  if (watched_fd_ < 0) return false;
  // Asking for no events still reports these: POLLERR on a pipe nobody
  // reads, POLLHUP on a socket or terminal that hung up. A regular file
  // never has either.
  pollfd p{watched_fd_, 0, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

int Ctl::Events(int64_t after, bool follow, bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  constexpr int kBatch = 1000;
  constexpr int kPollMs = 1000;  // the store is read at least this often
  constexpr int kSliceMs = 100;  // how soon a stop or a gone reader is seen
  int64_t last = after;
  bool header_printed = false;
  // Live events only say "look now": what is printed always comes from the
  // store in seq order, so the switch from catch-up to live has no gap and
  // no duplicate, and events nobody published (courier-ctl's own, the
  // flusher's) are printed too, within the poll interval.
  // On PostgreSQL, events written on other hosts too (store notices).
  std::unique_ptr<StoreWakeRelay> store_wakes;
  if (follow) store_wakes = StoreWakeRelay::ToEventWaiters(options_.db, "courier-ctl", kEventsChannel);
  EventWaiter live(store_wakes ? store_wakes->Feeds(EventFeeds(options_.run_dir)) : EventFeeds(options_.run_dir));
  while (true) {
    // Behind what retention kept: say which seqs are gone, once, on
    // standard error (standard output stays events only), and go on from
    // the oldest kept. A consumer that must not miss events sees the
    // notice, or compares its cursor with OldestEventSeq itself.
    auto oldest = (*store)->OldestEventSeq();
    if (oldest.ok() && last + 1 < *oldest) {
      err_ << "courier-ctl: events " << last + 1 << " to " << *oldest - 1
           << " are no longer in the store (pruned: retain_events_days); continuing at " << *oldest << '\n';
      err_.flush();
      last = *oldest - 1;
    }
    auto events = (*store)->EventsAfter(last, kBatch);
    if (!events.ok()) {
      if (!follow) return Report(events.status());
      // A following watcher outlives a store hiccup; it reports and retries.
      err_ << "courier-ctl: " << events.status().message() << " (retrying)\n";
    } else {
      for (const auto& e : *events) {
        if (json) {
          // A store written before payloads were repaired may hold
          // ill-formed UTF-8; what is printed is valid JSON regardless.
          out_ << ValidUtf8(e.payload) << '\n';
        } else {
          if (!header_printed) {
            out_ << EventHeader() << '\n';
            header_printed = true;
          }
          out_ << EventLine(e) << '\n';
        }
        last = e.seq;
      }
      out_.flush();
      if (events->size() == static_cast<size_t>(kBatch) && !ReaderGone()) continue;
    }
    if (!follow) break;
    for (int waited = 0; waited < kPollMs && !stop_following_ && !ReaderGone(); waited += kSliceMs)
      if (live.Wait(kSliceMs)) break;
    if (stop_following_ || ReaderGone()) break;
  }
  return exit_code::kOk;
}

}  // namespace courier
