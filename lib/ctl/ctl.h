#pragma once
// courier-ctl's commands, one method each. The tool's main parses the
// command line and calls exactly one of these; each returns the process
// exit code (sysexits) after writing its output: aligned tables for people,
// or with `json` one JSON object a line with stable field names.
//
// Errors go to `err` as "courier-ctl: <what went wrong>"; nothing is
// written to the store unless the whole command can be (bulk sends and
// imports are validated completely first, then written in one transaction).
// Commands that only read open the store read-only (StoreAccess::kReadOnly),
// so they work for a user who may read the store but not write it.
//
// The arguments have been checked by the command line (ctl_commands.h) for
// their form; the methods check what needs the store.
//
// Thread-safety: one thread, except StopFollowing(), which may be called
// from a signal handler.

#include <atomic>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "model/outgoing.h"
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
  std::vector<std::string> quick_replies;           // text replies
  std::vector<std::string> location_quick_replies;  // their texts
  std::vector<std::string> url_quick_replies;       // "TEXT=URL"
  std::string template_name;                        // "": no template
  std::string template_language;
  std::vector<std::string> template_vars;           // the body's text params, in order
  std::string locale;
  std::string priority = "high";
  bool json = false;
};

// Retention by hand: each kind's age in days (0: that kind is kept).
struct PruneArgs {
  int logs_days = 0;
  int events_days = 0;
  int msgs_days = 0;
  int batch_size = 1000;
  bool dry_run = false;
  bool vacuum = false;  // a full VACUUM afterwards
  bool json = false;
};

// courier-ctl hook add: an application webhook (ctl_hooks.cpp).
struct HookAddArgs {
  std::string url;
  std::string events;        // comma list of topics; "" every topic
  std::string channel;       // channel uuid; "" every channel
  std::string format = "json";
  std::string secret;        // "" generates one (printed once)
  std::string token;         // rapidpro's Authorization: Token
  int batch = 1;
  std::string from = "now";  // "now" (events after the last one stored) or the first seq to post
  bool json = false;
};

// A msg id as typed: a whole number from 1; nullopt for anything else.
std::optional<int64_t> ParseMsgId(const std::string& text);

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
  // Re-queues the given msgs (exit 65 when some could not be).
  int RetryMsgs(const std::vector<int64_t>& ids);
  // Re-queues every errored msg.
  int RetryErrored();
  int FailMsgs(const std::vector<int64_t>& ids);
  int ContactStop(const std::string& urn, bool stop);
  int ContactList(bool stopped_only, bool json);
  int Spool(bool json);
  // One screen: whether each daemon answers (and its counters), the store,
  // the spool and the queue. Exit 69 when a daemon does not answer or the
  // store is unavailable.
  int StatusReport(bool json);
  // The Prometheus text exposition of metrics/metrics.h. Exit 0 whenever
  // the text is printed, also with the store or daemons down (the text
  // says so: courier_store_up, courier_up).
  int Metrics();
  // Removes channel logs, events and finished msgs older than the ages
  // given (store.h's PruneRequest says which), in batches that let the
  // daemons write in between; then gives the free space back (incremental
  // vacuum, or a full VACUUM with args.vacuum). A dry run opens the store
  // read-only and prints what would go.
  int Prune(const PruneArgs& args);
  // Removes the media store's files no fetch stored in the last `days`
  // days (ctl_media.cpp): each file's record is forgotten first, unless a
  // fetch stored the same bytes meanwhile, then the file goes. A dry run
  // lists them and removes nothing. Msgs naming a removed file keep its
  // URL, which then answers 404.
  int MediaPrune(int days, bool dry_run, bool json);
  // Copies the whole SQLite store named by --db into the empty PostgreSQL
  // store `to` (store/store_copy.h), with a progress line on stderr when it
  // is a terminal; prints each table's rows copied.
  int StoreCopy(const std::string& to, bool json);

  // Application hooks (ctl_hooks.cpp). A hook is named by its id or uuid.
  // Secrets and tokens are never printed but by HookAdd, once, when it
  // generated the secret.
  int HookAdd(const HookAddArgs& args);
  int HookList(bool json);
  int HookShow(const std::string& ref, bool json);
  int HookRemove(const std::string& ref);
  int HookPause(const std::string& ref, const std::string& reason);
  int HookResume(const std::string& ref);
  // Posts the events from `from_seq` on again: the cursor goes to
  // from_seq - 1 (courier-hook sees it at its next look at the store).
  int HookReplay(const std::string& ref, int64_t from_seq);
  // courier-api's tokens (ctl_tokens.cpp). TokenAdd prints the new token
  // once, alone on the last line of its output.
  int TokenAdd(const std::string& name, const std::string& scopes);
  int TokenList(bool json);
  int TokenRemove(const std::string& name);

  // Asks a following Events() to return after its current poll.
  void StopFollowing();
  // Makes a following Events() return, within a fraction of a second, once
  // nobody reads `fd` any more (a pipe or socket whose reader closed it, a
  // terminal hung up), even when no new event comes to fail a write.
  void StopFollowingWhenUnread(int fd);

 private:
  // The store, opened once; a command that writes after reading reopens it
  // for writing.
  Result<Store*> OpenExisting(StoreAccess access);
  bool ReaderGone() const;
  int Report(const Status& status);
  Result<std::vector<Msg>> ReadSendLines(std::istream& in);
  // One msg as model/outgoing.h checks it, against its channel in the store.
  Result<Msg> BuildOutgoing(const OutgoingRequest& request);
  void WakeSender();

  Options options_;
  std::ostream& out_;
  std::ostream& err_;
  std::istream& in_;
  Clock& clock_;
  std::unique_ptr<Store> store_;
  StoreAccess store_access_ = StoreAccess::kReadOnly;
  std::atomic<bool> stop_following_{false};
  int watched_fd_ = -1;
};

}  // namespace courier
