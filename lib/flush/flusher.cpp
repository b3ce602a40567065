#include "flush/flusher.h"

#include <algorithm>
#include <future>

#include <set>

#include "core/log.h"
#include "core/parallel_for.h"
#include "intake/intake_text.h"
#include "spool/intake_codec.h"
#include "spool/spool_file.h"
#include "util/text.h"
#include "util/utf8.h"

namespace courier {
namespace {

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The intake in a file named on the command line: a spool file (its
// header checked), or, when there is no header at all, the bare JSON body.
Result<Intake> DecodeNamedFile(const std::string& contents) {
  static const std::string kMagic = "courier-spool ";
  if (contents.compare(0, kMagic.size(), kMagic) == 0) {
    auto body = DecodeSpoolFile(contents);
    if (!body.ok()) return body.status();
    return DecodeIntake(*body);
  }
  return DecodeIntake(contents);
}

}  // namespace

int64_t ReplayReport::Count(FileReplay::Result r) const {
  int64_t n = 0;
  for (const auto& f : files) n += f.result == r ? 1 : 0;
  return n;
}

Flusher::Flusher(StoreOpener open, SpoolDir spool, Env& env, FlusherOptions options)
    : open_(std::move(open)), spool_(std::move(spool)), env_(env), options_(options) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

Result<int> Flusher::RecoverClaimed() { return spool_.RecoverClaimed(); }

Status Flusher::EnsureStore() {
  if (store_) return Status::OK();
  auto opened = open_();
  if (!opened.ok()) return opened.status();
  store_ = std::move(opened.value());
  return Status::OK();
}

void Flusher::RejectFile(const std::string& name, const std::string& reason, FlushReport& report) const {
  Status s = spool_.Reject(name, "cur", reason);
  if (!s.ok()) {
    // It stays in cur/; the next start moves it back to new/ and it is
    // rejected again then.
    Log::Error("cannot move spool file to bad/", {{"file", name}, {"reason", reason}, {"error", s.message()}});
    report.spool_error = s;
    return;
  }
  Log::Warn("spool file rejected", {{"file", name}, {"reason", reason}});
  ++report.rejected;
}

void Flusher::Unclaim(const std::string& name, FlushReport& report) const {
  // No directory fsync: if this rename is lost in a crash the file is in
  // cur/, which the next start moves back to new/ anyway.
  Status s = env_.Rename(spool_.Path("cur") + "/" + name, spool_.Path("new") + "/" + name);
  if (!s.ok()) {
    Log::Error("cannot put spool file back in new/", {{"file", name}, {"error", s.message()}});
    report.spool_error = s;
  }
}

void Flusher::Settle(const std::string& name, const Status& outcome, FlushReport& report) const {
  if (!outcome.ok()) {
    // The store refused this intake's data (and wrote none of it).
    RejectFile(name, outcome.ToString(), report);
    return;
  }
  Status s = spool_.Done(name);
  if (!s.ok()) {
    // The data is committed; a file left in cur/ is replayed as a no-op
    // after the next start.
    Log::Error("committed but cannot remove spool file", {{"file", name}, {"error", s.message()}});
    report.spool_error = s;
  }
  ++report.flushed;
}

namespace {

// Adds what one stage of a pass did to the pass's totals.
void Merge(FlushReport& into, const FlushReport& part) {
  into.flushed += part.flushed;
  into.rejected += part.rejected;
  into.skipped += part.skipped;
  if (!part.spool_error.ok()) into.spool_error = part.spool_error;
  if (!part.store_error.ok()) into.store_error = part.store_error;
}

}  // namespace

bool Flusher::Commit(std::vector<Claimed>& batch, FlushReport& report, std::vector<Status>* settle_later) {
  if (batch.empty()) return true;
  std::vector<Intake> intakes;
  intakes.reserve(batch.size());
  for (auto& c : batch) intakes.push_back(std::move(c.intake));
  // Events are rows in the store (invariant 4); courier-flush does not
  // publish them: consumers catch up with `courier-ctl events --after`.
  auto written = store_->WriteIntakes(intakes, nullptr);
  if (!written.ok()) {
    const Status& why = written.status();
    if (why.IsUnavailable()) {
      store_.reset();  // reconnect next time
      for (const auto& c : batch) Unclaim(c.name, report);
      report.store_error = why;
      return false;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].intake = std::move(intakes[i]);
    // The contract says a whole batch fails only when the store is down;
    // should another error come back, find the intake that causes it one
    // by one instead of retrying the batch forever.
    if (batch.size() > 1) {
      for (size_t i = 0; i < batch.size(); ++i) {
        std::vector<Claimed> one{std::move(batch[i])};
        if (!Commit(one, report, nullptr)) {
          for (size_t j = i + 1; j < batch.size(); ++j) Unclaim(batch[j].name, report);
          return false;
        }
      }
      batch.clear();  // settled one by one above
      return true;
    }
    RejectFile(batch[0].name, why.ToString(), report);
    batch.clear();
    return true;
  }
  if (settle_later) {
    settle_later->clear();
    for (auto& outcome : *written) settle_later->push_back(outcome.status);
    return true;
  }
  SettleAll(batch, *written, report);
  return true;
}

void Flusher::SettleAll(const std::vector<Claimed>& batch, const std::vector<IntakeOutcome>& outcomes,
                        FlushReport& report) const {
  for (size_t i = 0; i < batch.size(); ++i) Settle(batch[i].name, outcomes[i].status, report);
  Status synced = spool_.SyncDone();
  if (!synced.ok()) {
    Log::Error("cannot sync spool cur/ after removing flushed files", {{"error", synced.message()}});
    report.spool_error = synced;
  }
}

Status Flusher::RemoveDone(const std::vector<std::string>& names) const {
  // An unlink mostly waits for the disk: 90 us each one after another on
  // ext4 mounted with `discard` (9 us without), 30 to 40 us each with four
  // in flight. So a batch's files are removed by a few threads at once.
  constexpr size_t kRemovers = 4;
  constexpr size_t kPerRemover = 32;  // below this one thread is enough
  std::vector<Status> removed(names.size());
  ParallelFor(names.size(), std::min(kRemovers, names.size() / kPerRemover),
              [&](size_t i) { removed[i] = spool_.Done(names[i]); });
  Status failed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (removed[i].ok()) continue;
    // The data is committed; a file left in cur/ is replayed as a no-op
    // after the next start.
    Log::Error("committed but cannot remove spool file", {{"file", names[i]}, {"error", removed[i].message()}});
    failed = removed[i];
  }
  Status synced = spool_.SyncDone();
  if (!synced.ok()) {
    Log::Error("cannot sync spool cur/ after removing flushed files", {{"error", synced.message()}});
    failed = synced;
  }
  return failed;
}

Flusher::Prepared Flusher::Prepare(const std::vector<SpoolFile>& files, size_t from, size_t batch_size) const {
  Prepared p;
  const size_t end = std::min(files.size(), from + batch_size);
  for (p.next = from; p.next < end; ++p.next) {
    const std::string& name = files[p.next].name;
    Status claimed = spool_.Claim(name);
    if (!claimed.ok()) {
      // Gone from new/: another flusher claimed it (or an operator
      // moved it). Otherwise the spool itself is failing.
      if (env_.FileExists(spool_.Path("new") + "/" + name)) {
        Log::Error("cannot claim spool file", {{"file", name}, {"error", claimed.message()}});
        p.report.spool_error = claimed;
      }
      ++p.report.skipped;
      continue;
    }
    auto body = spool_.Read("cur", name);
    if (!body.ok()) {
      const Status& why = body.status();
      if (why.code() == Status::Code::kCorruption) {
        RejectFile(name, why.ToString(), p.report);
      } else if (why.IsNotFound()) {
        ++p.report.skipped;  // taken from cur/ by another flusher's recovery
      } else {
        // Unreadable (an I/O error, not bad data): put it back and try
        // again next pass rather than calling good data bad.
        Log::Warn("cannot read spool file, will retry", {{"file", name}, {"error", why.message()}});
        Unclaim(name, p.report);
        ++p.report.skipped;
      }
      continue;
    }
    if (!IsValidUtf8(*body))
      Log::Warn("spool file holds ill-formed UTF-8, replayed with U+FFFD in its place", {{"file", name}});
    auto intake = DecodeIntake(*body);
    if (!intake.ok()) {
      RejectFile(name, intake.status().ToString(), p.report);
      continue;
    }
    RepairUtf8(*intake);  // what JSON escapes may still spell (a lone surrogate)
    p.batch.push_back(Claimed{name, std::move(*intake)});
  }
  return p;
}

Result<FlushReport> Flusher::FlushOnce(const std::function<bool()>& stop, const FlushProgress& progress) {
  FlushReport report;
  auto listed = spool_.List("new");
  if (!listed.ok()) return listed.status();
  const std::vector<SpoolFile>& files = *listed;

  if (!files.empty()) {
    Status s = EnsureStore();
    if (!s.ok()) {
      report.store_error = s;
      report.left = static_cast<int64_t>(files.size());
      return report;
    }
  }

  // Three stages on three threads, one batch each: the next batch is
  // claimed, read and decoded while this one is written, and the last
  // one's files are removed meanwhile. Each stage keeps the order of its
  // batches; a file is removed only after the commit that holds its data.
  std::future<Prepared> ahead;
  std::future<Status> removing;
  size_t batch_size = options_.batch_size;
  auto finish_removing = [&]() {
    if (!removing.valid()) return;
    Status s = removing.get();
    if (!s.ok()) report.spool_error = s;
  };
  auto put_back_ahead = [&]() {
    if (!ahead.valid()) return;
    Prepared rest = ahead.get();
    Merge(report, rest.report);
    for (const auto& c : rest.batch) Unclaim(c.name, report);
  };
  auto prepare_from = [&](size_t from) {
    ahead = std::async(std::launch::async,
                       [this, &files, from, batch_size]() { return Prepare(files, from, batch_size); });
  };
  if (!files.empty() && !(stop && stop())) prepare_from(0);
  size_t batch_start = 0;  // of the batch being committed
  while (ahead.valid()) {
    Prepared p = ahead.get();
    Merge(report, p.report);
    if (p.next < files.size()) prepare_from(p.next);
    std::vector<Status> outcomes;
    const size_t tried = p.batch.size();
    if (!Commit(p.batch, report, &outcomes)) {
      put_back_ahead();  // store unavailable: the batch prepared ahead goes back to new/ too
      if (tried <= 1 || (stop && stop())) break;
      // Perhaps only short of space: free what is committed, then try a
      // smaller transaction from the same file (it is back in new/).
      finish_removing();
      batch_size = std::max<size_t>(1, tried / 2);
      const Status refused = report.store_error;
      Status reopened = EnsureStore();
      if (!reopened.ok()) break;
      report.store_error = Status::OK();
      Log::Info("store refused a batch, trying smaller ones",
                {{"batch_size", std::to_string(batch_size)}, {"error", refused.message()}});
      prepare_from(batch_start);
      continue;
    }
    batch_start = p.next;
    // Refusals (rare) are moved to bad/ here; the removals of the files
    // whose data is committed run beside the next batch.
    std::vector<std::string> done;
    for (size_t i = 0; i < p.batch.size() && i < outcomes.size(); ++i) {
      if (outcomes[i].ok()) {
        done.push_back(p.batch[i].name);
        ++report.flushed;
      } else {
        RejectFile(p.batch[i].name, outcomes[i].ToString(), report);
      }
    }
    finish_removing();
    if (!done.empty()) {
      removing = std::async(std::launch::async, [this, done = std::move(done)]() { return RemoveDone(done); });
    }
    Log::Debug("spool batch flushed", {{"flushed", std::to_string(report.flushed)},
                                      {"rejected", std::to_string(report.rejected)}});
    if (progress) progress(report, files.size());
    if (stop && stop()) {
      put_back_ahead();
      break;
    }
  }
  finish_removing();

  auto remaining = env_.ListDir(spool_.Path("new"));
  report.left = remaining.ok() ? static_cast<int64_t>(remaining->size()) : 0;
  return report;
}

ReplayReport Flusher::FlushFiles(const std::vector<std::string>& paths) {
  ReplayReport report;
  report.files.resize(paths.size());
  struct Decoded {
    size_t index;
    Intake intake;
  };
  std::vector<Decoded> decoded;
  for (size_t i = 0; i < paths.size(); ++i) {
    FileReplay& f = report.files[i];
    f.path = paths[i];
    if (EndsWith(f.path, ".reason")) {
      f.result = FileReplay::Result::kSkipped;
      continue;
    }
    auto contents = env_.ReadFile(f.path);
    if (!contents.ok()) {
      f.status = contents.status();
      f.result = contents.status().IsNotFound() ? FileReplay::Result::kMissing : FileReplay::Result::kError;
      continue;
    }
    auto intake = DecodeNamedFile(*contents);
    if (!intake.ok()) {
      f.status = intake.status();
      f.result = FileReplay::Result::kBad;
      continue;
    }
    RepairUtf8(*intake);
    decoded.push_back(Decoded{i, std::move(*intake)});
  }
  if (decoded.empty()) return report;

  Status s = EnsureStore();
  if (!s.ok()) {
    report.store_error = s;
    return report;  // every decoded file stays kPending
  }
  std::set<std::string> dirs;
  for (size_t start = 0; start < decoded.size(); start += options_.batch_size) {
    const size_t end = std::min(decoded.size(), start + options_.batch_size);
    std::vector<Intake> intakes;
    for (size_t k = start; k < end; ++k) intakes.push_back(decoded[k].intake);
    auto written = store_->WriteIntakes(intakes, nullptr);
    if (!written.ok()) {
      // Unavailable or not, nothing of this batch was written; the files
      // stay where they are and the caller reports them.
      report.store_error = written.status();
      if (written.status().IsUnavailable()) store_.reset();
      for (size_t k = start; k < decoded.size(); ++k) report.files[decoded[k].index].status = written.status();
      break;
    }
    for (size_t k = start; k < end; ++k) {
      FileReplay& f = report.files[decoded[k].index];
      const Status& outcome = (*written)[k - start].status;
      if (!outcome.ok()) {
        f.result = FileReplay::Result::kBad;
        f.status = outcome;
        continue;
      }
      Status removed = env_.Remove(f.path);
      if (removed.ok() && env_.FileExists(f.path + ".reason")) removed = env_.Remove(f.path + ".reason");
      if (!removed.ok()) {
        // Committed; replaying it again later is a no-op.
        f.result = FileReplay::Result::kError;
        f.status = Status::IOError("replayed but not removed: " + removed.message());
        continue;
      }
      f.result = FileReplay::Result::kReplayed;
      dirs.insert(ParentDir(f.path));
    }
  }
  // Durable removals; losing one in a crash costs only a no-op replay.
  for (const auto& dir : dirs) (void)env_.SyncDir(dir);
  return report;
}

}  // namespace courier
