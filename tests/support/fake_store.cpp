#include "fake_store.h"

#include <algorithm>
#include <memory>
#include <set>

namespace courier::testing {
namespace {

Status Unused(const char* method) { return Status::Internal(std::string("FakeStore does not implement ") + method); }

}  // namespace

class FakeStore : public Store {
 public:
  explicit FakeStore(FakeStoreState& state) : s_(state) {}

  Status Migrate() override { return Down(); }
  Result<int> SchemaVersion() override { return Unused("SchemaVersion"); }
  Status Ping() override { return Down(); }

  Result<Channel> AddChannel(const Channel&) override { return Unused("AddChannel"); }
  Result<Channel> GetChannel(const std::string& uuid) override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    for (const auto& c : s_.channels_)
      if (c.uuid == uuid) return c;
    return errors::ChannelNotFound();
  }
  Result<std::vector<Channel>> ListChannels() override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    return s_.channels_;
  }
  Status RemoveChannel(const std::string&) override { return Unused("RemoveChannel"); }

  Result<std::vector<Contact>> ListContacts(bool) override { return Unused("ListContacts"); }
  Result<Contact> SetContactStopped(const std::string&, bool, const std::string&) override {
    return Unused("SetContactStopped");
  }

  Result<std::vector<IntakeOutcome>> WriteIntakes(const std::vector<Intake>& intakes, std::vector<Event>* events) override {
    return WriteIntakesAndClaim(intakes, nullptr, nullptr, events);
  }

  Result<std::vector<IntakeOutcome>> WriteIntakesAndClaim(const std::vector<Intake>& intakes, const ClaimRequest* claim,
                                                          std::vector<Msg>* claimed, std::vector<Event>*) override {
    std::function<void()> hook;
    std::vector<IntakeOutcome> outcomes;
    {
      std::lock_guard<std::mutex> lock(s_.mu_);
      if (s_.unavailable_) return Status::Unavailable("injected: store down");
      for (const auto& intake : intakes) {
        IntakeOutcome outcome;
        for (const auto& u : intake.statuses) {
          s_.statuses_.push_back(u);
          if (u.msg_id) s_.open_attempts_.erase(*u.msg_id);
          StatusResult r;
          r.outcome = StatusOutcome::kUpdated;
          r.msg_id = u.msg_id.value_or(0);
          r.status = u.status;
          outcome.statuses.push_back(r);
        }
        for (const auto& urn : intake.stop_urns) s_.stopped_urns_.push_back(urn);
        outcomes.push_back(std::move(outcome));
      }
      if (claim) {
        auto msgs = ClaimLocked(*claim);
        if (claimed) *claimed = std::move(msgs);
        hook = s_.on_claim_;
      }
    }
    s_.written_cv_.notify_all();
    if (hook) hook();
    return outcomes;
  }

  Result<std::vector<Msg>> QueueOutgoing(std::vector<Msg>) override { return Unused("QueueOutgoing"); }
  Result<int64_t> ImportMsgs(const std::vector<Msg>&) override { return Unused("ImportMsgs"); }

  Result<std::vector<Msg>> ClaimQueued(const ClaimRequest& req) override {
    std::function<void()> hook;
    std::vector<Msg> msgs;
    {
      std::lock_guard<std::mutex> lock(s_.mu_);
      if (s_.unavailable_) return Status::Unavailable("injected: store down");
      msgs = ClaimLocked(req);
      hook = s_.on_claim_;
    }
    if (hook) hook();
    return msgs;
  }

  Result<StatusResult> WriteStatus(const StatusUpdate&) override { return Unused("WriteStatus"); }

  Result<std::vector<int64_t>> FailInterruptedAttempts(const std::string& worker, Micros last_beat_seen) override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    if (!worker.empty()) {
      auto beat = s_.heartbeats_.find(worker);
      if (beat != s_.heartbeats_.end() && beat->second > last_beat_seen) return std::vector<int64_t>{};
      s_.heartbeats_.erase(worker);
    }
    std::vector<int64_t> ids;
    for (auto it = s_.open_attempts_.begin(); it != s_.open_attempts_.end();) {
      if (worker.empty() || it->second.worker == worker) {
        ids.push_back(it->first);
        it = s_.open_attempts_.erase(it);
      } else {
        ++it;
      }
    }
    if (!ids.empty()) s_.interrupted_workers_.push_back(worker);
    return ids;
  }

  Result<std::map<std::string, Micros>> OpenAttemptWorkers() override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    std::map<std::string, Micros> workers;
    for (const auto& [id, attempt] : s_.open_attempts_)
      workers[attempt.worker] = std::max(workers[attempt.worker], attempt.started_on);
    return workers;
  }

  Status Heartbeat(const std::string& worker, Micros now) override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    s_.heartbeats_[worker] = now;
    return Status::OK();
  }

  Status EndHeartbeat(const std::string& worker) override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    s_.heartbeats_.erase(worker);
    return Status::OK();
  }

  Result<std::map<std::string, Micros>> Heartbeats() override {
    std::lock_guard<std::mutex> lock(s_.mu_);
    if (s_.unavailable_) return Status::Unavailable("injected: store down");
    return s_.heartbeats_;
  }

  Result<std::vector<int64_t>> RetryMsgs(const std::vector<int64_t>&) override { return Unused("RetryMsgs"); }
  Result<std::vector<int64_t>> RetryAllErrored() override { return Unused("RetryAllErrored"); }
  Result<std::vector<int64_t>> FailMsgs(const std::vector<int64_t>&) override { return Unused("FailMsgs"); }
  Result<Msg> GetMsg(int64_t) override { return Unused("GetMsg"); }
  Result<Msg> GetMsgByUUID(const std::string&) override { return Unused("GetMsgByUUID"); }
  Result<std::vector<Msg>> ListMsgs(const MsgFilter&) override { return Unused("ListMsgs"); }
  Result<std::vector<QueueSummary>> Queue() override { return Unused("Queue"); }
  Result<std::vector<ChannelLog>> ListChannelLogs(std::optional<int64_t>, const std::string&, int) override {
    return Unused("ListChannelLogs");
  }
  Result<std::vector<Event>> EventsAfter(int64_t, int) override { return Unused("EventsAfter"); }
  Result<int64_t> LastEventSeq() override { return Unused("LastEventSeq"); }
  Result<int64_t> OldestEventSeq() override { return Unused("OldestEventSeq"); }
  Result<PruneCounts> Prune(const PruneRequest&) override { return Unused("Prune"); }
  Result<StoreSpace> Space() override { return Unused("Space"); }
  Result<Hook> AddHook(const Hook&) override { return Unused("AddHook"); }
  Result<Hook> GetHook(const std::string&) override { return Unused("GetHook"); }
  Result<std::vector<Hook>> ListHooks() override { return Unused("ListHooks"); }
  Status RemoveHook(int64_t) override { return Unused("RemoveHook"); }
  Status SetHookPaused(int64_t, bool, const std::string&) override { return Unused("SetHookPaused"); }
  Status RewindHook(int64_t, int64_t) override { return Unused("RewindHook"); }
  Result<bool> AdvanceHookCursor(int64_t, int64_t, int64_t) override { return Unused("AdvanceHookCursor"); }
  Result<bool> RecordHookFailure(int64_t, int64_t, const std::string&, Micros) override {
    return Unused("RecordHookFailure");
  }
  Status NoteHookError(int64_t, const std::string&) override { return Unused("NoteHookError"); }
  Result<StoreSpace> ReclaimSpace(bool) override { return Unused("ReclaimSpace"); }
  // Applications' API (courier-api)
  Result<ApiToken> AddApiToken(const ApiToken&) override { return Unused("AddApiToken"); }
  Result<std::vector<ApiToken>> ListApiTokens() override { return Unused("ListApiTokens"); }
  Status RemoveApiToken(const std::string&) override { return Unused("RemoveApiToken"); }
  Result<ApiToken> FindApiToken(const std::string&) override { return Unused("FindApiToken"); }
  Status TouchApiToken(int64_t, Micros) override { return Unused("TouchApiToken"); }
  Result<std::vector<Result<IdempotentQueue>>> QueueOutgoingBatch(std::vector<QueueRequest>) override {
    return Unused("QueueOutgoingBatch");
  }
  Result<std::vector<AttachmentFetch>> ClaimFetches(const std::string&, int, Micros) override {
    return Unused("ClaimFetches");
  }
  Result<FetchFinished> FinishFetch(const FetchOutcome&) override { return Unused("FinishFetch"); }
  Result<std::vector<AttachmentFetch>> ListFetches(int64_t) override { return Unused("ListFetches"); }
  Result<std::vector<std::string>> FetchClaimers() override { return Unused("FetchClaimers"); }
  Result<int64_t> ReleaseFetchClaims(const std::string&) override { return Unused("ReleaseFetchClaims"); }
  Result<FetchBacklog> GetFetchBacklog() override { return Unused("GetFetchBacklog"); }
  Result<MediaFile> GetMedia(const std::string&) override { return Unused("GetMedia"); }
  Result<std::vector<MediaFile>> ListMediaUsedBefore(Micros, int) override { return Unused("ListMediaUsedBefore"); }
  Result<bool> ForgetMedia(const std::string&, Micros) override { return Unused("ForgetMedia"); }

 private:
  Status Down() {
    std::lock_guard<std::mutex> lock(s_.mu_);
    return s_.unavailable_ ? Status::Unavailable("injected: store down") : Status::OK();
  }

  // Queued msgs in order, within the limit and each channel's cap.
  std::vector<Msg> ClaimLocked(const ClaimRequest& req) {
    s_.claims_.push_back(req);
    std::vector<Msg> msgs;
    std::map<int64_t, int> taken;
    for (auto it = s_.queued_.begin(); it != s_.queued_.end() && static_cast<int>(msgs.size()) < req.limit;) {
      auto cap = req.channel_caps.find(it->channel_id);
      if (cap != req.channel_caps.end() && taken[it->channel_id] >= cap->second) {
        ++it;
        continue;
      }
      taken[it->channel_id]++;
      s_.open_attempts_[it->id] = FakeStoreState::OpenAttempt{req.worker, req.now};
      msgs.push_back(std::move(*it));
      it = s_.queued_.erase(it);
    }
    return msgs;
  }

  FakeStoreState& s_;
};

void FakeStoreState::AddChannel(Channel channel) {
  std::lock_guard<std::mutex> lock(mu_);
  channels_.push_back(std::move(channel));
}

void FakeStoreState::Queue(Msg msg) {
  std::lock_guard<std::mutex> lock(mu_);
  msg.direction = Direction::kOut;
  msg.status = MsgStatus::kQueued;
  queued_.push_back(std::move(msg));
}

void FakeStoreState::AddOpenAttempt(const std::string& worker, int64_t msg_id, Micros started_on) {
  std::lock_guard<std::mutex> lock(mu_);
  open_attempts_[msg_id] = OpenAttempt{worker, started_on};
}

void FakeStoreState::SetHeartbeat(const std::string& worker, Micros beat_on) {
  std::lock_guard<std::mutex> lock(mu_);
  heartbeats_[worker] = beat_on;
}

std::map<std::string, Micros> FakeStoreState::heartbeats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heartbeats_;
}

void FakeStoreState::SetUnavailable(bool unavailable) {
  std::lock_guard<std::mutex> lock(mu_);
  unavailable_ = unavailable;
}

void FakeStoreState::OnClaim(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  on_claim_ = std::move(hook);
}

StoreOpener FakeStoreState::Opener() {
  return [this]() -> Result<std::unique_ptr<Store>> {
    std::lock_guard<std::mutex> lock(mu_);
    ++opens_;
    if (unavailable_) return Status::Unavailable("injected: store down");
    return std::unique_ptr<Store>(std::make_unique<FakeStore>(*this));
  };
}

int FakeStoreState::opens() const {
  std::lock_guard<std::mutex> lock(mu_);
  return opens_;
}

std::vector<ClaimRequest> FakeStoreState::claims() const {
  std::lock_guard<std::mutex> lock(mu_);
  return claims_;
}

std::vector<StatusUpdate> FakeStoreState::statuses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statuses_;
}

std::vector<std::string> FakeStoreState::stopped_urns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_urns_;
}

std::vector<std::string> FakeStoreState::interrupted_workers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return interrupted_workers_;
}

bool FakeStoreState::WaitForStatuses(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return written_cv_.wait_for(lock, timeout, [&] { return statuses_.size() >= n; });
}

}  // namespace courier::testing
