#pragma once
// FakeStore: an in-memory Store with the parts courier-send uses
// (channels, claims, status writes, open attempts), so the sender's
// decisions are tested without SQLite and with faults at will.
//
// It is a recording fake, not a second engine: ClaimQueued hands out the
// msgs a test queued, in order, within the request's limit and channel
// caps, and opens an attempt for each; WriteIntakes records each intake as
// given and closes the attempts of its statuses, without applying them to
// the msgs (tests read what the sender decided, not how SQLite applies
// it). Methods the sender does not use fail with Internal.
//
// Every connection from FakeStoreState::Opener() shares one state.
// Thread-safe: the sender's foreman and its writer use it at once.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

namespace courier::testing {

class FakeStoreState {
 public:
  void AddChannel(Channel channel);  // id and uuid must be set
  void Queue(Msg msg);               // id, channel_id and channel_uuid must be set
  // An attempt left open by `worker` (a sender that died, or a live one).
  void AddOpenAttempt(const std::string& worker, int64_t msg_id, Micros started_on = 0);
  // `worker`'s last heartbeat (a sender on another host).
  void SetHeartbeat(const std::string& worker, Micros beat_on);
  std::map<std::string, Micros> heartbeats() const;

  // While set, opening a connection and every call fail with Unavailable.
  void SetUnavailable(bool unavailable);
  // Called inside each claim's transaction, before it returns.
  void OnClaim(std::function<void()> hook);

  StoreOpener Opener();

  int opens() const;
  std::vector<ClaimRequest> claims() const;
  // Every status written, in order, across intakes.
  std::vector<StatusUpdate> statuses() const;
  std::vector<std::string> stopped_urns() const;
  // Workers whose attempts FailInterruptedAttempts closed, in order.
  std::vector<std::string> interrupted_workers() const;
  // Waits until at least `n` statuses were written; false on timeout.
  bool WaitForStatuses(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  friend class FakeStore;
  mutable std::mutex mu_;
  mutable std::condition_variable written_cv_;
  std::vector<Channel> channels_;
  std::deque<Msg> queued_;
  struct OpenAttempt {
    std::string worker;
    Micros started_on = 0;
  };
  std::map<int64_t, OpenAttempt> open_attempts_;  // by msg id
  std::map<std::string, Micros> heartbeats_;
  bool unavailable_ = false;
  std::function<void()> on_claim_;
  int opens_ = 0;
  std::vector<ClaimRequest> claims_;
  std::vector<StatusUpdate> statuses_;
  std::vector<std::string> stopped_urns_;
  std::vector<std::string> interrupted_workers_;
};

}  // namespace courier::testing
