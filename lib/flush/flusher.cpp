#include "flush/flusher.h"

#include <algorithm>
#include <future>

#include <set>

#include "core/log.h"
#include "core/parallel_for.h"
#include "core/work_queue.h"
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

// The intakes in a file named on the command line: a spool file (its
// headers checked), or, when there is no header at all, one bare JSON body.
// Each part decodes on its own, as the daemon's replay takes them: one
// that is not an intake does not keep the others from the store.
Result<std::vector<Result<Intake>>> DecodeNamedFile(const std::string& contents) {
  static const std::string kMagic = "courier-spool ";
  std::vector<std::string> bodies;
  if (contents.compare(0, kMagic.size(), kMagic) == 0) {
    auto decoded = DecodeSpoolFile(contents);
    if (!decoded.ok()) return decoded.status();
    bodies = std::move(*decoded);
  } else {
    bodies.push_back(contents);
  }
  std::vector<Result<Intake>> intakes;
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto intake = DecodeIntake(bodies[i]);
    if (!intake.ok() && bodies.size() > 1) {
      intake = Status::InvalidArgument("part " + std::to_string(i + 1) + " of " + std::to_string(bodies.size()) +
                                       ": " + intake.status().ToString());
    }
    intakes.push_back(std::move(intake));
  }
  return intakes;
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
  // Checkpoints on a thread of their own, and the commits' fdatasync on
  // the remover's: neither waits in front of the next batch.
  store_->HousekeepInBackground();
  auto sync = store_->LeaveSyncToCaller(env_);
  if (sync.ok()) sync_ = std::move(sync).value();
  return Status::OK();
}

void Flusher::DropStore() {
  store_.reset();
  sync_.reset();
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
  report.rejected += IntakesInSpoolName(name);
}

bool Flusher::RejectPart(const std::string& name, size_t part, const std::string& body, const std::string& reason,
                         FlushReport& report) const {
  Status s = spool_.RejectPart(name, part, body, reason);
  if (!s.ok()) {
    // The file stays in cur/ whatever becomes of its other parts; the next
    // start moves it back to new/ and this part is rejected again then.
    Log::Error("cannot put a part of a spool file in bad/",
               {{"file", name}, {"part", std::to_string(part)}, {"reason", reason}, {"error", s.message()}});
    report.spool_error = s;
    return false;
  }
  Log::Warn("part of a spool file rejected",
            {{"file", name}, {"part", std::to_string(part)}, {"bad", SpoolPartName(name, part)}, {"reason", reason}});
  ++report.rejected;
  return true;
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

void Flusher::UnclaimFiles(const std::vector<Claimed>& batch, FlushReport& report) const {
  // A file's intakes are next to each other in a batch.
  for (size_t i = 0; i < batch.size(); ++i)
    if (i == 0 || batch[i].name != batch[i - 1].name) Unclaim(batch[i].name, report);
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

// Runs `job` on `queue`'s thread; its result, or its exception, comes
// through the future.
template <typename Job>
auto PostTo(WorkQueue& queue, Job job) -> std::future<decltype(job())> {
  auto task = std::make_shared<std::packaged_task<decltype(job())()>>(std::move(job));
  auto result = task->get_future();
  queue.Submit([task]() { (*task)(); });
  return result;
}

int64_t IntakesIn(const std::vector<std::string>& names) {
  int64_t n = 0;
  for (const auto& name : names) n += IntakesInSpoolName(name);
  return n;
}

}  // namespace

Status Flusher::Write(std::vector<Claimed>& batch, std::vector<Status>& outcomes) {
  outcomes.clear();
  if (batch.empty()) return Status::OK();
  Status opened = EnsureStore();
  if (!opened.ok()) return opened;
  // The intakes are lent to the store's calls and given back after them
  // (a refused batch is written again in pieces, or put back). Should a
  // call throw (no memory), what is lost is this copy: the files stay in
  // cur/ and the next start replays them.
  std::vector<Intake> intakes;
  intakes.reserve(batch.size());
  for (auto& c : batch) intakes.push_back(std::move(c.intake));
  Status down = WriteLent(intakes, outcomes);
  for (size_t i = 0; i < batch.size(); ++i) batch[i].intake = std::move(intakes[i]);
  return down;
}

Status Flusher::WriteLent(std::vector<Intake>& intakes, std::vector<Status>& outcomes) {
  // Events are rows in the store (invariant 4); courier-flush does not
  // publish them: consumers catch up with `courier-ctl events --after`.
  auto written = store_->WriteIntakes(intakes, nullptr);
  auto unavailable = [&](const Status& why) {
    DropStore();  // reconnect next time
    outcomes.clear();
    return why;
  };
  if (written.ok()) {
    for (const auto& outcome : *written) outcomes.push_back(outcome.status);
    return Status::OK();
  }
  if (written.status().IsUnavailable()) return unavailable(written.status());
  if (intakes.size() == 1) {
    outcomes.push_back(written.status());
    return Status::OK();
  }
  // The contract says a whole batch fails only when the store is down;
  // should another error come back, find the intake that causes it one by
  // one instead of retrying the batch forever.
  std::vector<Intake> one(1);
  for (auto& intake : intakes) {
    one[0] = std::move(intake);
    auto alone = store_->WriteIntakes(one, nullptr);
    intake = std::move(one[0]);
    if (!alone.ok() && alone.status().IsUnavailable()) return unavailable(alone.status());
    outcomes.push_back(alone.ok() ? (*alone)[0].status : alone.status());
  }
  return Status::OK();
}

Status Flusher::WriteInPieces(std::vector<Claimed>& batch, std::vector<Status>& outcomes) {
  outcomes.clear();
  size_t piece = std::max<size_t>(1, batch.size() / 2);
  for (size_t at = 0; at < batch.size();) {
    const size_t end = std::min(batch.size(), at + piece);
    std::vector<Claimed> part(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(at)),
                              std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(end)));
    std::vector<Status> part_outcomes;
    Status down = Write(part, part_outcomes);
    std::move(part.begin(), part.end(), batch.begin() + static_cast<std::ptrdiff_t>(at));
    if (down.ok()) {
      outcomes.insert(outcomes.end(), part_outcomes.begin(), part_outcomes.end());
      at = end;
      continue;
    }
    if (piece == 1) return down;
    piece = std::max<size_t>(1, piece / 2);
    Log::Info("store refused a spool file's intakes together, trying fewer",
              {{"file", batch[at].name}, {"intakes", std::to_string(piece)}, {"error", down.message()}});
  }
  return Status::OK();
}

void Flusher::SettleFiles(const std::vector<Claimed>& batch, const std::vector<Status>& outcomes,
                          std::vector<DoneFile>& done, FlushReport& report) const {
  for (size_t i = 0, end = 0; i < batch.size() && i < outcomes.size(); i = end) {
    const std::string& name = batch[i].name;
    for (end = i; end < batch.size() && batch[end].name == name; ++end) {
    }
    if (batch[i].parts == 1) {  // the file is its one intake: it goes to bad/ whole
      if (outcomes[i].ok()) {
        ++report.flushed;
        done.push_back(DoneFile{name, 1});
      } else {
        RejectFile(name, outcomes[i].ToString(), report);
      }
      continue;
    }
    bool rest_in_bad = true;
    int64_t flushed = 0;
    for (size_t k = i; k < end && k < outcomes.size(); ++k) {
      if (outcomes[k].ok()) {
        ++flushed;
        continue;
      }
      rest_in_bad &= RejectPart(name, batch[k].part, batch[k].body, outcomes[k].ToString(), report);
    }
    report.flushed += flushed;
    // A part that could not be put in bad/ keeps the whole file in cur/
    // (its committed parts replay as no-ops later).
    if (rest_in_bad) done.push_back(DoneFile{name, flushed});
  }
}

Flusher::Removal Flusher::RemoveDone(const std::vector<DoneFile>& files,
                                     const std::shared_ptr<CommitSync>& sync) const {
  Removal result;
  if (sync) {
    result.store = sync->Sync();
    if (!result.store.ok()) {
      Log::Error("cannot make the store's commits durable; their spool files go back to new/",
                 {{"error", result.store.message()}});
      result.put_back = PutBack(files, result.spool);
      return result;
    }
  }
  // An unlink mostly waits for the disk: 90 us each one after another on
  // ext4 mounted with `discard` (9 us without), 30 to 40 us each with four
  // in flight. So a batch's files are removed by a few threads at once.
  constexpr size_t kRemovers = 4;
  constexpr size_t kPerRemover = 32;  // below this one thread is enough
  std::vector<Status> removed(files.size());
  ParallelFor(files.size(), std::min(kRemovers, files.size() / kPerRemover),
              [&](size_t i) { removed[i] = spool_.Done(files[i].name); });
  for (size_t i = 0; i < files.size(); ++i) {
    if (removed[i].ok()) continue;
    // The data is committed; a file left in cur/ is replayed as a no-op
    // after the next start.
    Log::Error("committed but cannot remove spool file", {{"file", files[i].name}, {"error", removed[i].message()}});
    result.spool = removed[i];
  }
  Status synced = spool_.SyncDone();
  if (!synced.ok()) {
    Log::Error("cannot sync spool cur/ after removing flushed files", {{"error", synced.message()}});
    result.spool = synced;
  }
  return result;
}

int64_t Flusher::PutBack(const std::vector<DoneFile>& files, Status& spool_error) const {
  int64_t intakes = 0;
  FlushReport errors;
  for (const auto& f : files) {
    Unclaim(f.name, errors);
    intakes += f.flushed;
  }
  if (!errors.spool_error.ok()) spool_error = errors.spool_error;
  return intakes;
}

Flusher::Prepared Flusher::Prepare(const std::vector<SpoolFile>& files, size_t from, size_t batch_size) const {
  Prepared p;
  for (p.next = from; p.next < files.size() && p.batch.size() < batch_size; ++p.next) {
    const std::string& name = files[p.next].name;
    Status claimed = spool_.Claim(name);
    if (!claimed.ok()) {
      // Gone from new/: another flusher claimed it (or an operator
      // moved it). Otherwise the spool itself is failing.
      if (env_.FileExists(spool_.Path("new") + "/" + name)) {
        Log::Error("cannot claim spool file", {{"file", name}, {"error", claimed.message()}});
        p.report.spool_error = claimed;
      }
      p.report.skipped += files[p.next].intakes;
      continue;
    }
    auto bodies = spool_.Read("cur", name);
    if (!bodies.ok()) {
      const Status& why = bodies.status();
      if (why.code() == Status::Code::kCorruption) {
        RejectFile(name, why.ToString(), p.report);
      } else if (why.IsNotFound()) {
        p.report.skipped += files[p.next].intakes;  // taken from cur/ by another flusher's recovery
      } else {
        // Unreadable (an I/O error, not bad data): put it back and try
        // again next pass rather than calling good data bad.
        Log::Warn("cannot read spool file, will retry", {{"file", name}, {"error", why.message()}});
        Unclaim(name, p.report);
        p.report.skipped += files[p.next].intakes;
      }
      continue;
    }
    const size_t parts = bodies->size();
    std::vector<Claimed> decoded;
    bool rest_in_bad = true;  // every part that cannot be decoded is in bad/
    for (size_t k = 0; k < parts; ++k) {
      std::string& body = (*bodies)[k];
      bool repaired = false;
      auto intake = DecodeIntake(body, &repaired);
      if (repaired)
        Log::Warn("spool file holds ill-formed UTF-8, replayed with U+FFFD in its place",
                  {{"file", name}, {"part", std::to_string(k + 1)}});
      if (!intake.ok()) {
        if (parts == 1) {
          RejectFile(name, intake.status().ToString(), p.report);
        } else {
          rest_in_bad &= RejectPart(name, k + 1, body, intake.status().ToString(), p.report);
        }
        continue;
      }
      // A part's record is kept for bad/, should the store refuse it.
      decoded.push_back(Claimed{name, k + 1, parts, parts > 1 ? std::move(body) : std::string(), std::move(*intake)});
    }
    if (!rest_in_bad) continue;  // stays in cur/ until the next start (logged)
    if (decoded.empty()) {
      if (parts > 1) {
        // Every part is in bad/: nothing of the file is left to replay.
        Status removed = spool_.Done(name);
        if (!removed.ok()) p.report.spool_error = removed;
      }
      continue;
    }
    ++p.files;
    for (auto& c : decoded) p.batch.push_back(std::move(c));
  }
  return p;
}

Result<FlushReport> Flusher::FlushOnce(const std::function<bool()>& stop, const FlushProgress& progress) {
  FlushReport report;
  auto listed = spool_.List("new");
  if (!listed.ok()) return listed.status();
  const std::vector<SpoolFile>& files = *listed;
  size_t total = 0;
  for (const auto& f : files) total += static_cast<size_t>(f.intakes);

  if (!files.empty()) {
    Status s = EnsureStore();
    if (!s.ok()) {
      report.store_error = s;
      report.left = static_cast<int64_t>(total);
      return report;
    }
  }

  // Three stages on three threads, one batch each: the next batch is
  // claimed, read and decoded while this one is written, and the last
  // one's files are removed meanwhile. Each stage keeps the order of its
  // batches; a file is removed only after the commit that holds its data.
  // The two helper threads last the pass: a thread a batch cost more than
  // a tenth of the pass on this VM, most of it the allocator returning
  // each dead thread's memory to the kernel (madvise and its TLB
  // shootdowns) and faulting it in again for the next.
  WorkQueue preparer(1), remover(1);
  std::future<Prepared> ahead;
  std::future<Removal> removing;
  size_t batch_size = options_.batch_size;
  // False when the commits of the batch being removed could not be made
  // durable: its files are back in new/, the store is dropped, and every
  // commit since on that connection is as doubtful.
  auto finish_removing = [&]() {
    if (!removing.valid()) return true;
    Removal r = removing.get();
    if (!r.spool.ok()) report.spool_error = r.spool;
    if (r.store.ok()) return true;
    report.flushed -= r.put_back;
    report.store_error = r.store;
    DropStore();
    return false;
  };
  auto put_back_ahead = [&]() {
    if (!ahead.valid()) return;
    Prepared rest = ahead.get();
    Merge(report, rest.report);
    UnclaimFiles(rest.batch, report);
  };
  auto prepare_from = [&](size_t from) {
    ahead = PostTo(preparer, [this, &files, from, batch_size]() { return Prepare(files, from, batch_size); });
  };
  if (!files.empty() && !(stop && stop())) prepare_from(0);
  size_t batch_start = 0;  // of the batch being committed
  while (ahead.valid()) {
    Prepared p = ahead.get();
    Merge(report, p.report);
    if (p.next < files.size()) prepare_from(p.next);
    std::vector<Status> outcomes;
    Status down = Write(p.batch, outcomes);
    // One file alone too large for the room the store has now (a nearly
    // full disk): its intakes a few at a time. The file is removed only
    // when all are stored, and a replay of those that were is a no-op.
    if (!down.ok() && p.files == 1 && p.batch.size() > 1) {
      // What the last batch's files free may be the room needed.
      down = finish_removing() ? WriteInPieces(p.batch, outcomes) : report.store_error;
    }
    if (!down.ok()) {
      UnclaimFiles(p.batch, report);
      report.store_error = down;
      put_back_ahead();  // store unavailable: the batch prepared ahead goes back to new/ too
      if (p.files <= 1 || (stop && stop())) break;
      // Perhaps only short of space: free what is committed, then try a
      // smaller transaction from the same file (it is back in new/).
      if (!finish_removing()) break;
      // Halve the limit, not the batch: files are taken whole, so a batch
      // can hold more than its limit, and half of it could take the same
      // files again, for ever.
      batch_size = std::max<size_t>(1, std::min(batch_size, p.batch.size()) / 2);
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
    std::vector<DoneFile> done;
    SettleFiles(p.batch, outcomes, done, report);
    if (!finish_removing()) {
      // This batch was committed after the one whose sync failed, on the
      // same connection: no more durable than it.
      report.flushed -= PutBack(done, report.spool_error);
      put_back_ahead();
      break;
    }
    if (!done.empty()) {
      removing = PostTo(remover, [this, done = std::move(done), sync = sync_]() { return RemoveDone(done, sync); });
    }
    Log::Debug("spool batch flushed", {{"flushed", std::to_string(report.flushed)},
                                      {"rejected", std::to_string(report.rejected)}});
    if (progress) progress(report, total);
    if (stop && stop()) {
      put_back_ahead();
      break;
    }
  }
  finish_removing();

  auto remaining = env_.ListDir(spool_.Path("new"));
  report.left = remaining.ok() ? IntakesIn(*remaining) : 0;
  return report;
}

ReplayReport Flusher::FlushFiles(const std::vector<std::string>& paths) {
  ReplayReport report;
  report.files.resize(paths.size());
  struct Decoded {
    size_t index;  // of the file in `paths`
    Intake intake;
  };
  std::vector<Decoded> decoded;
  // Per file, its intakes not yet committed: a file is removed only when
  // every one of them is.
  std::vector<size_t> uncommitted(paths.size(), 0);
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
    auto intakes = DecodeNamedFile(*contents);
    if (!intakes.ok()) {
      f.status = intakes.status();
      f.result = FileReplay::Result::kBad;
      continue;
    }
    // A part that is not an intake is never committed, so the file stays.
    uncommitted[i] = intakes->size();
    for (auto& intake : *intakes) {
      if (intake.ok()) {
        decoded.push_back(Decoded{i, std::move(*intake)});
      } else if (f.result != FileReplay::Result::kBad) {
        f.result = FileReplay::Result::kBad;
        f.status = intake.status();
      }
    }
  }
  if (decoded.empty()) return report;

  Status s = EnsureStore();
  if (!s.ok()) {
    report.store_error = s;
    return report;  // every decoded file stays kPending
  }
  for (size_t start = 0; start < decoded.size(); start += options_.batch_size) {
    const size_t end = std::min(decoded.size(), start + options_.batch_size);
    std::vector<Intake> intakes;
    for (size_t k = start; k < end; ++k) intakes.push_back(decoded[k].intake);
    auto written = store_->WriteIntakes(intakes, nullptr);
    if (!written.ok()) {
      // Unavailable or not, nothing of this batch was written; the files
      // stay where they are and the caller reports them.
      report.store_error = written.status();
      if (written.status().IsUnavailable()) DropStore();
      for (size_t k = start; k < decoded.size(); ++k) report.files[decoded[k].index].status = written.status();
      break;
    }
    for (size_t k = start; k < end; ++k) {
      FileReplay& f = report.files[decoded[k].index];
      const Status& outcome = (*written)[k - start].status;
      if (outcome.ok()) {
        --uncommitted[decoded[k].index];
      } else {
        // The file stays whole; what was committed of it replays as a
        // no-op when it is replayed again.
        f.result = FileReplay::Result::kBad;
        f.status = outcome;
      }
    }
  }
  // No file is removed before what it holds is durable.
  if (sync_) {
    Status synced = sync_->Sync();
    if (!synced.ok()) {
      report.store_error = synced;
      DropStore();
      for (auto& f : report.files)
        if (f.result == FileReplay::Result::kPending && f.status.ok()) f.status = synced;
      return report;
    }
  }
  std::set<std::string> dirs;
  for (size_t i = 0; i < paths.size(); ++i) {
    FileReplay& f = report.files[i];
    if (f.result != FileReplay::Result::kPending || !f.status.ok() || uncommitted[i] != 0) continue;
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
  // Durable removals; losing one in a crash costs only a no-op replay.
  for (const auto& dir : dirs) (void)env_.SyncDir(dir);
  return report;
}

}  // namespace courier
