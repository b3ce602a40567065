#pragma once
// courier-ctl's commands, one method each. The tool's main parses the
// command line and calls exactly one of these; each returns the process
// exit code (sysexits) after writing its output: aligned tables for people,
// or with `json` one JSON object a line with stable field names.
//
// Errors go to `err` as "courier-ctl: <what went wrong>"; nothing is
// written to the store unless the whole command can be (bulk sends and
// imports are validated completely first, then written in one transaction).

#include <atomic>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "store/store.h"

namespace courier {

struct ChannelAddArgs {
  std::string type;
  std::string address;
  std::string country;
  std::string name;
  std::string uuid;
  std::vector<std::string> config;  // KEY=VALUE
  std::vector<std::string> schemes;
  int max_workers = 0;
  int tps = 0;
  bool json = false;
};

struct SendArgs {
  std::string channel;
  std::string urn;
  std::string text;
  std::vector<std::string> attachments;  // MIME:URL
  std::vector<std::string> quick_replies;
  std::string priority = "high";
  bool json = false;
};

class Ctl {
 public:
  Ctl(Options options, std::ostream& out, std::ostream& err, std::istream& in,
      Clock& clock = Clock::System());
  ~Ctl();

  int Init();
  int ChannelAdd(const ChannelAddArgs& args);
  int ChannelList(bool json);
  int ChannelShow(const std::string& uuid, bool json);
  int ChannelRemove(const std::string& uuid);
  // Each type with its settings, in 80 columns; `wide` adds the routes on
  // one long line a type, `json` everything (meanings, defaults).
  int ChannelTypes(bool json, bool wide);
  int Send(const SendArgs& args);
  int SendJsonl(const std::string& path, bool json);  // "-" is stdin
  int MsgsList(const MsgFilter& filter, bool json);
  int MsgsShow(const std::string& id_or_uuid, bool json);
  int MsgsImport(const std::string& path, bool json);
  int Queue(bool json);
  int Logs(std::optional<int64_t> msg_id, const std::string& channel, int limit, bool json);
  // Prints events after `after`; with `follow`, keeps polling the store.
  int Events(int64_t after, bool follow, bool json);
  int Retry(const std::vector<std::string>& ids, const std::string& status);
  int FailMsgs(const std::vector<std::string>& ids);
  int ContactStop(const std::string& urn, bool stop);
  int ContactList(bool stopped_only, bool json);
  int Spool(bool json);
  // One screen: whether each daemon answers (and its counters), the store,
  // the spool and the queue. Exit 69 when a daemon does not answer or the
  // store is unavailable.
  int StatusReport(bool json);

  // Asks a following Events() to return after its current poll.
  void StopFollowing();

 private:
  Result<Store*> OpenExisting();
  int Report(const Status& status);
  Result<std::vector<Msg>> ReadSendLines(std::istream& in);
  Result<Msg> BuildOutgoing(const std::string& channel_uuid, const std::string& urn,
                            const std::string& text, const std::vector<std::string>& attachments,
                            const std::string& priority, const std::vector<std::string>& quick_replies = {});
  void WakeSender();

  Options options_;
  std::ostream& out_;
  std::ostream& err_;
  std::istream& in_;
  Clock& clock_;
  std::unique_ptr<Store> store_;
  std::atomic<bool> stop_following_{false};
};

}  // namespace courier
