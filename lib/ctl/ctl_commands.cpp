#include "ctl/ctl_commands.h"
#include "store/sqlite_store.h"
#include "store/store_file.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>

#include "config/command_line.h"
#include "core/msg_status.h"
#include "ctl/ctl.h"

namespace courier {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int>::max();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// A whole number from `min` to `max`, as the option's type will hold it.
// Checked before CLI11 converts, so a bad value is named with the range
// instead of "Could not convert".
CLI::Validator WholeNumber(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        const bool digits = !text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) ||
                                              (text[0] == '-' && text.size() > 1 &&
                                               std::isdigit(static_cast<unsigned char>(text[1]))));
        errno = 0;
        char* end = nullptr;
        const long long value = digits ? std::strtoll(text.c_str(), &end, 10) : 0;
        if (digits && *end == '\0' && errno != ERANGE && value >= min && value <= max) return "";
        // Nobody writes 9223372036854775807; a number that large is no id.
        const std::string range = max == kInt64Max ? "of " + std::to_string(min) + " or more"
                                                   : "from " + std::to_string(min) + " to " + std::to_string(max);
        return "must be a whole number " + range + ", not '" + text + "'";
      },
      "", "");
}

CLI::Validator OneOf(std::vector<std::string> allowed, std::string said) {
  return CLI::Validator(
      [allowed = std::move(allowed), said = std::move(said)](std::string& text) -> std::string {
        for (const auto& a : allowed)
          if (a == text) return "";
        return "must be " + said + ", not '" + text + "'";
      },
      "", "");
}

CLI::Validator AnyMsgStatus() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (ParseMsgStatus(text)) return "";
        return "must be a msg status (P Q W S D R E F, or its name), not '" + text + "'";
      },
      "", "");
}

CLI::Validator ErroredStatus() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (ParseMsgStatus(text) == MsgStatus::kErrored) return "";
        return "must be E (errored msgs), not '" + text + "'";
      },
      "", "");
}

std::string Join(const std::vector<std::string>& words, const char* separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out;
}

// The subcommand the parse got deepest into ("msgs list"), and its app.
const CLI::App* Deepest(const CLI::App& app, std::string& path) {
  const CLI::App* at = &app;
  for (auto subs = at->get_subcommands(); !subs.empty(); subs = at->get_subcommands()) {
    at = subs.front();
    path += (path.empty() ? "" : " ") + at->get_name();
  }
  return at;
}

std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// "Subject: predicate" as "Subject predicate": CLI11 joins an option's name
// and a validator's message with ": ", and the table's own checks throw
// (command, "needs ...") the same way.
std::string Sentence(const std::string& what) {
  auto colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(0, colon) + " " + what.substr(colon + 2);
}

std::string NoSuchOption(const std::string& path, const std::string& option) {
  if (path.empty()) return "unknown option " + option + " (see courier-ctl --help)";
  return path + " has no option " + option + " (see courier-ctl " + path + " --help)";
}

// A parse error as courier-ctl says it (without "courier-ctl: ").
std::string UsageText(const CLI::App& app, const CLI::Error& e) {
  std::string path;
  const CLI::App* at = Deepest(app, path);
  const std::string what = e.what();
  const std::vector<std::string> extra = app.remaining(true);
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    if (at->get_require_subcommand_min() > 0 && at->get_subcommands().empty()) {
      if (!extra.empty() && extra.front().rfind("-", 0) == 0) return NoSuchOption(path, extra.front());
      const std::string commands = Join(CommandNames(*at), ", ");
      const std::string kind = path.empty() ? "command" : path + " command";
      if (!extra.empty() && extra.front().rfind("-", 0) != 0)
        return "unknown " + kind + " '" + extra.front() + "'; the " + kind + "s are " + commands;
      return (path.empty() ? "no command given" : path + " needs a command") + "; the " + kind + "s are " +
             commands;
    }
    const std::string suffix = " is required";
    if (what.size() > suffix.size() && what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0)
      return (path.empty() ? "" : path + " ") + "needs " + what.substr(0, what.size() - suffix.size());
    return what;
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr && !extra.empty()) {
    const std::string& word = extra.front();
    if (word.rfind("-", 0) == 0) return NoSuchOption(path, word);
    return (path.empty() ? "courier-ctl" : path) + " takes no argument '" + word + "'";
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && what.find("missing") != std::string::npos)
    return what.substr(0, what.find(':')) + " needs a value";
  if (dynamic_cast<const CLI::ValidationError*>(&e) != nullptr) return Sentence(what);
  return what;
}

}  // namespace

struct CtlCommandLine::Impl {
  CLI::App app{"", "courier-ctl"};
  std::unique_ptr<OptionLoader> loader;
  std::string command;
  std::function<int(Ctl&)> run;
  bool follow = false;

  // Every subcommand's arguments, bound by the table below.
  bool json = false;
  bool wide = false;  // channel types: one line a type
  ChannelAddArgs add;
  std::string channel_uuid;
  SendArgs send;
  std::string jsonl;
  MsgFilter filter;
  std::string direction, status;
  int64_t after_id = -1;
  std::string msg_ref;
  std::string import_file;
  int64_t log_msg = 0;
  std::string log_channel;
  int log_limit = 50;
  int64_t after_seq = 0;
  std::vector<int64_t> ids;
  std::string retry_status;
  std::string urn;
  bool stopped_only = false;
  PruneArgs prune;
  int prune_days = 0;  // --older-than: each kind not given its own
  int media_days = 0;
  bool media_dry_run = false;
  HookAddArgs hook_add;
  std::string hook_ref;
  std::string pause_reason;
  int64_t replay_from = 0;
  std::string token_name;
  std::string token_scopes = "send,read";
  std::string copy_to;

  Impl();
  // Makes `sub` the command that runs `body`, once its arguments are parsed
  // and `check` (which throws CLI::ValidationError) accepts them together.
  void Runs(CLI::App* sub, std::function<int(Ctl&)> body, std::function<void()> check = nullptr) {
    sub->callback([this, sub, body = std::move(body), check = std::move(check)] {
      if (check) check();
      command = sub->get_parent() == &app ? sub->get_name() : sub->get_parent()->get_name() + " " + sub->get_name();
      run = body;
    });
  }
  void JsonFlag(CLI::App* sub) { sub->add_flag("--json", json, "one JSON object a line"); }
};

CtlCommandLine::Impl::Impl() {
  SetUpApp(app, "Operate a courier store: channels, msgs, queues, logs, events, spool.");
  loader = std::make_unique<OptionLoader>(app, std::vector<std::string>{});
  app.require_subcommand(1);
  app.fallthrough();
  app.failure_message([](const CLI::App* a, const CLI::Error& e) { return "courier-ctl: " + UsageText(*a, e) + "\n"; });
  const CLI::Validator id = WholeNumber(1, kInt64Max);

  Runs(app.add_subcommand("init", "create or migrate the store, spool and run directories"),
       [](Ctl& c) { return c.Init(); });

  auto* channel = app.add_subcommand("channel", "add, list, show and remove channels");
  channel->require_subcommand(1);
  auto* channel_add = channel->add_subcommand("add", "add a channel; prints its uuid");
  channel_add->add_option("--type", add.type, "channel type code (courier-ctl channel types)")->required();
  channel_add->add_option("--address", add.address, "number, short code or handle")->required();
  channel_add->add_option("--country", add.country, "ISO 3166 alpha-2 country for tel numbers");
  channel_add->add_option("--name", add.name, "a name for people");
  channel_add->add_option("--uuid", add.uuid, "use this uuid instead of a new one");
  channel_add->add_option("--config", add.config, "KEY=VALUE channel setting (repeatable)");
  channel_add->add_option("--scheme", add.schemes, "URN scheme the channel speaks (repeatable)");
  channel_add->add_option("--max-workers", add.max_workers, "most sends in flight (0: sender default)")
      ->check(WholeNumber(0, 4096));
  channel_add->add_option("--tps", add.tps, "most sends a second (0: unlimited)")->check(WholeNumber(0, kIntMax));
  JsonFlag(channel_add);
  Runs(channel_add, [this](Ctl& c) {
    add.json = json;
    return c.ChannelAdd(add);
  });
  auto* channel_list = channel->add_subcommand("list", "list active channels");
  JsonFlag(channel_list);
  Runs(channel_list, [this](Ctl& c) { return c.ChannelList(json); });
  auto* channel_show = channel->add_subcommand("show", "show one channel (secrets masked)");
  channel_show->add_option("UUID", channel_uuid, "channel uuid")->required();
  JsonFlag(channel_show);
  Runs(channel_show, [this](Ctl& c) { return c.ChannelShow(channel_uuid, json); });
  auto* channel_rm = channel->add_subcommand("rm", "deactivate a channel (its msgs stay)");
  channel_rm->add_option("UUID", channel_uuid, "channel uuid")->required();
  Runs(channel_rm, [this](Ctl& c) { return c.ChannelRemove(channel_uuid); });
  auto* channel_types = channel->add_subcommand("types", "list the channel types courier knows");
  JsonFlag(channel_types);
  channel_types->add_flag("--wide", wide, "one line a type, with its routes");
  Runs(channel_types, [this](Ctl& c) { return c.ChannelTypes(json, wide); });

  auto* send_cmd = app.add_subcommand("send", "queue an outgoing msg (or many with --jsonl); prints id and uuid");
  send_cmd->add_option("--channel", send.channel, "channel uuid");
  send_cmd->add_option("--urn", send.urn, "recipient, e.g. tel:+250788383383");
  send_cmd->add_option("--text", send.text, "msg text");
  send_cmd->add_option("--attachment", send.attachments, "MIME:URL (repeatable)");
  send_cmd->add_option("--priority", send.priority, "high (default) or bulk");
  send_cmd->add_option("--quick-reply", send.quick_replies,
                       "an answer offered as a button where the channel can (repeatable)");
  send_cmd->add_option("--quick-reply-location", send.location_quick_replies,
                       "a button asking for the user's location, with this text (repeatable)");
  send_cmd->add_option("--quick-reply-url", send.url_quick_replies,
                       "TEXT=URL: a button opening URL (repeatable)");
  send_cmd->add_option("--template", send.template_name, "send as this provider template (WhatsApp)");
  send_cmd->add_option("--language", send.template_language, "the template's language, e.g. en_US");
  send_cmd->add_option("--var", send.template_vars, "a value of the template's body, in order (repeatable)");
  send_cmd->add_option("--locale", send.locale, "the msg's language, e.g. rw or en-US");
  send_cmd->add_option("--jsonl", jsonl, "queue one msg per JSON line of FILE (- for stdin), all or nothing");
  JsonFlag(send_cmd);
  Runs(
      send_cmd,
      [this](Ctl& c) {
        if (!jsonl.empty()) return c.SendJsonl(jsonl, json);
        send.json = json;
        return c.Send(send);
      },
      [this] {
        if (!jsonl.empty() && (!send.channel.empty() || !send.urn.empty() || !send.text.empty()))
          throw CLI::ValidationError("send --jsonl", "cannot be combined with --channel, --urn or --text");
        if (jsonl.empty() && (send.channel.empty() || send.urn.empty()))
          throw CLI::ValidationError("send", "needs --channel and --urn (or --jsonl FILE)");
      });

  auto* msgs = app.add_subcommand("msgs", "list, show and import msgs");
  msgs->require_subcommand(1);
  auto* msgs_list = msgs->add_subcommand("list", "list msgs, newest first (ascending with --after-id)");
  msgs_list->add_option("--direction", direction, "in or out")->check(OneOf({"in", "out"}, "in or out"));
  msgs_list->add_option("--status", status, "P Q W S D R E F")->check(AnyMsgStatus());
  msgs_list->add_option("--channel", filter.channel_uuid, "channel uuid");
  msgs_list->add_option("--after-id", after_id, "msgs with a greater id, oldest first")->check(WholeNumber(0, kInt64Max));
  msgs_list->add_option("--limit", filter.limit, "most msgs to print (default 100)")->check(WholeNumber(1, kIntMax));
  JsonFlag(msgs_list);
  Runs(msgs_list, [this](Ctl& c) {
    if (!direction.empty()) filter.direction = direction == "in" ? Direction::kIn : Direction::kOut;
    if (!status.empty()) filter.status = ParseMsgStatus(status);
    if (after_id >= 0) filter.after_id = after_id;
    return c.MsgsList(filter, json);
  });
  auto* msgs_show = msgs->add_subcommand("show", "show one msg by id or uuid");
  msgs_show->add_option("ID|UUID", msg_ref, "msg id or uuid")->required();
  JsonFlag(msgs_show);
  Runs(msgs_show, [this](Ctl& c) { return c.MsgsShow(msg_ref, json); });
  auto* msgs_import = msgs->add_subcommand("import", "import msgs in the shape `msgs list --json` prints");
  msgs_import->add_option("--jsonl", import_file, "FILE or - for stdin")->required();
  JsonFlag(msgs_import);
  Runs(msgs_import, [this](Ctl& c) { return c.MsgsImport(import_file, json); });

  auto* queue = app.add_subcommand("queue", "per channel: queued high/bulk, in flight, retrying, failed, interrupted");
  JsonFlag(queue);
  Runs(queue, [this](Ctl& c) { return c.Queue(json); });

  auto* logs = app.add_subcommand("logs", "channel logs, newest first");
  logs->add_option("--msg", log_msg, "only this msg id")->check(id);
  logs->add_option("--channel", log_channel, "only this channel uuid");
  logs->add_option("--limit", log_limit, "most logs to print (default 50)")->check(WholeNumber(1, kIntMax));
  JsonFlag(logs);
  Runs(logs, [this](Ctl& c) {
    return c.Logs(log_msg > 0 ? std::optional<int64_t>(log_msg) : std::nullopt, log_channel, log_limit, json);
  });

  auto* events = app.add_subcommand("events", "events from the store after SEQ; --follow keeps watching");
  events->add_option("--after", after_seq, "print events with a greater seq")->check(WholeNumber(0, kInt64Max));
  events->add_flag("--follow", follow, "keep printing new events until interrupted or unread");
  JsonFlag(events);
  Runs(events, [this](Ctl& c) { return c.Events(after_seq, follow, json); });

  auto* retry = app.add_subcommand("retry", "re-queue errored or failed outgoing msgs");
  retry->add_option("ID", ids, "msg ids")->check(id);
  retry->add_option("--status", retry_status, "E: every errored msg")->check(ErroredStatus());
  Runs(
      retry, [this](Ctl& c) { return retry_status.empty() ? c.RetryMsgs(ids) : c.RetryErrored(); },
      [this] {
        if (ids.empty() && retry_status.empty())
          throw CLI::ValidationError("retry", "needs msg ids (courier-ctl retry 12 13) or --status E (every errored msg)");
        if (!ids.empty() && !retry_status.empty())
          throw CLI::ValidationError("retry", "takes msg ids or --status E, not both");
      });
  auto* fail = app.add_subcommand("fail", "mark outgoing msgs failed");
  fail->add_option("ID", ids, "msg ids")->check(id);
  Runs(
      fail, [this](Ctl& c) { return c.FailMsgs(ids); },
      [this] {
        if (ids.empty()) throw CLI::ValidationError("fail", "needs msg ids (courier-ctl fail 12 13)");
      });

  auto* contact = app.add_subcommand("contact", "stop, unstop and list contacts");
  contact->require_subcommand(1);
  auto* stop = contact->add_subcommand("stop", "stop sending to the contact with URN");
  stop->add_option("URN", urn, "URN")->required();
  Runs(stop, [this](Ctl& c) { return c.ContactStop(urn, true); });
  auto* unstop = contact->add_subcommand("unstop", "allow sending to the contact with URN again");
  unstop->add_option("URN", urn, "URN")->required();
  Runs(unstop, [this](Ctl& c) { return c.ContactStop(urn, false); });
  auto* contact_list = contact->add_subcommand("list", "list contacts");
  contact_list->add_flag("--stopped", stopped_only, "only stopped contacts");
  JsonFlag(contact_list);
  Runs(contact_list, [this](Ctl& c) { return c.ContactList(stopped_only, json); });

  auto* spool = app.add_subcommand("spool", "pending and bad spool files");
  JsonFlag(spool);
  Runs(spool, [this](Ctl& c) { return c.Spool(json); });

  auto* prune_cmd = app.add_subcommand("prune", "remove channel logs, events and finished msgs older than DAYS");
  const CLI::Validator days = WholeNumber(1, 36500);
  prune_cmd->add_option("--older-than", prune_days, "DAYS for every kind not given its own")->check(days);
  prune_cmd->add_option("--logs-older-than", prune.logs_days, "DAYS: channel logs")->check(days);
  prune_cmd->add_option("--events-older-than", prune.events_days, "DAYS: events")->check(days);
  prune_cmd->add_option("--msgs-older-than", prune.msgs_days,
                        "DAYS: msgs finished that long ago (never Q or E ones)")->check(days);
  prune_cmd->add_option("--batch-size", prune.batch_size, "rows per transaction (default 1000)")
      ->check(WholeNumber(1, 100000));
  prune_cmd->add_flag("--dry-run", prune.dry_run, "count what would go; remove nothing");
  prune_cmd->add_flag("--vacuum", prune.vacuum, "then rewrite the store to its smallest (VACUUM; blocks writers)");
  JsonFlag(prune_cmd);
  Runs(
      prune_cmd,
      [this](Ctl& c) {
        for (int* kind : {&prune.logs_days, &prune.events_days, &prune.msgs_days})
          if (*kind == 0) *kind = prune_days;
        prune.json = json;
        return c.Prune(prune);
      },
      [this] {
        if (prune_days == 0 && prune.logs_days == 0 && prune.events_days == 0 && prune.msgs_days == 0)
          throw CLI::ValidationError("prune", "needs --older-than DAYS or --logs-, --events- or --msgs-older-than DAYS");
        if (prune.dry_run && prune.vacuum) throw CLI::ValidationError("prune", "--dry-run and --vacuum do not go together");
      });

  auto* media = app.add_subcommand("media", "the media store of fetched attachments (courier-fetch(8))");
  media->require_subcommand(1);
  auto* media_prune = media->add_subcommand("prune", "remove media files no fetch stored in the last DAYS days");
  media_prune->add_option("--older-than", media_days, "DAYS")->required()->check(WholeNumber(1, 36500));
  media_prune->add_flag("--dry-run", media_dry_run, "list what would go; remove nothing");
  JsonFlag(media_prune);
  Runs(media_prune, [this](Ctl& c) { return c.MediaPrune(media_days, media_dry_run, json); });

  auto* hook = app.add_subcommand("hook", "the applications' webhooks courier-hook posts events to");
  hook->require_subcommand(1);
  auto* hook_add_cmd = hook->add_subcommand("add", "add a webhook; prints the generated signing secret once");
  hook_add_cmd->add_option("--url", hook_add.url, "where to POST the events (http:// or https://)")->required();
  hook_add_cmd->add_option("--events", hook_add.events, "topics to post, comma-separated (default: all)");
  hook_add_cmd->add_option("--channel", hook_add.channel, "only this channel's events");
  hook_add_cmd->add_option("--format", hook_add.format, "json (default) or rapidpro")
      ->check(OneOf({"json", "rapidpro"}, "json or rapidpro"));
  hook_add_cmd->add_option("--secret", hook_add.secret, "the HMAC signing secret (default: a new random one)");
  hook_add_cmd->add_option("--token", hook_add.token, "rapidpro: sent as Authorization: Token TOKEN");
  hook_add_cmd->add_option("--batch", hook_add.batch, "most events per POST (default 1)")->check(WholeNumber(1, 1000));
  hook_add_cmd->add_option("--from", hook_add.from, "now (default: new events only) or the first event seq to post");
  JsonFlag(hook_add_cmd);
  Runs(hook_add_cmd, [this](Ctl& c) {
    hook_add.json = json;
    return c.HookAdd(hook_add);
  });
  auto* hook_list = hook->add_subcommand("list", "list webhooks, their cursors and errors (secrets masked)");
  JsonFlag(hook_list);
  Runs(hook_list, [this](Ctl& c) { return c.HookList(json); });
  auto* hook_show = hook->add_subcommand("show", "show one webhook (secrets masked)");
  hook_show->add_option("ID|UUID", hook_ref, "hook id or uuid")->required();
  JsonFlag(hook_show);
  Runs(hook_show, [this](Ctl& c) { return c.HookShow(hook_ref, json); });
  auto* hook_rm = hook->add_subcommand("rm", "remove a webhook");
  hook_rm->add_option("ID|UUID", hook_ref, "hook id or uuid")->required();
  Runs(hook_rm, [this](Ctl& c) { return c.HookRemove(hook_ref); });
  auto* hook_pause = hook->add_subcommand("pause", "stop posting to a webhook (its cursor stays)");
  hook_pause->add_option("ID|UUID", hook_ref, "hook id or uuid")->required();
  hook_pause->add_option("--reason", pause_reason, "why, for courier-ctl status");
  Runs(hook_pause, [this](Ctl& c) { return c.HookPause(hook_ref, pause_reason); });
  auto* hook_resume = hook->add_subcommand("resume", "post to a paused webhook again, from its cursor, now");
  hook_resume->add_option("ID|UUID", hook_ref, "hook id or uuid")->required();
  Runs(hook_resume, [this](Ctl& c) { return c.HookResume(hook_ref); });
  auto* hook_replay = hook->add_subcommand("replay", "post the events from SEQ on again (rewinds the cursor)");
  hook_replay->add_option("ID|UUID", hook_ref, "hook id or uuid")->required();
  hook_replay->add_option("--from", replay_from, "the first event seq to post again")
      ->required()
      ->check(WholeNumber(1, kInt64Max));
  Runs(hook_replay, [this](Ctl& c) { return c.HookReplay(hook_ref, replay_from); });
  auto* token = app.add_subcommand("token", "add, list and remove courier-api tokens");
  token->require_subcommand(1);
  auto* token_add = token->add_subcommand("add", "add a token; prints it once, alone on the last line");
  token_add->add_option("--name", token_name, "a unique name (who uses it)")->required();
  token_add->add_option("--scope", token_scopes, "send, read, admin, comma-separated (default send,read)");
  Runs(token_add, [this](Ctl& c) { return c.TokenAdd(token_name, token_scopes); });
  auto* token_list = token->add_subcommand("list", "list tokens (names, scopes, last use; never the tokens)");
  JsonFlag(token_list);
  Runs(token_list, [this](Ctl& c) { return c.TokenList(json); });
  auto* token_rm = token->add_subcommand("rm", "remove a token: requests with it get 401");
  token_rm->add_option("NAME", token_name, "token name")->required();
  Runs(token_rm, [this](Ctl& c) { return c.TokenRemove(token_name); });

  auto* store = app.add_subcommand("store", "move the store to another engine");
  store->require_subcommand(1);
  auto* store_copy = store->add_subcommand("copy", "copy the whole SQLite store into an empty PostgreSQL store");
  store_copy->add_option("--to", copy_to, "the target: a postgresql:// url (libpq's; a password in it is never printed)")
      ->required();
  JsonFlag(store_copy);
  Runs(store_copy, [this](Ctl& c) { return c.StoreCopy(copy_to, json); });

  auto* status_cmd = app.add_subcommand("status", "daemons, store, spool and queue at a glance; 69 if a daemon is down");
  JsonFlag(status_cmd);
  Runs(status_cmd, [this](Ctl& c) { return c.StatusReport(json); });

  Runs(app.add_subcommand("metrics", "the whole pipeline as Prometheus text (store, spool, every daemon)"),
       [](Ctl& c) { return c.Metrics(); });
}

CtlCommandLine::CtlCommandLine() : impl_(std::make_unique<Impl>()) {}
CtlCommandLine::~CtlCommandLine() = default;

std::variant<Options, int> CtlCommandLine::Parse(int argc, char** argv) {
  return ParseCommandLine(impl_->app, *impl_->loader, argc, argv);
}

Status CtlCommandLine::ParseArgs(const std::vector<std::string>& args) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    impl_->app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return Status::OK();  // --help, --version
    return Status::Usage(UsageText(impl_->app, e));
  }
  return Status::OK();
}

const std::string& CtlCommandLine::command() const { return impl_->command; }
bool CtlCommandLine::following() const { return impl_->follow && impl_->command == "events"; }
int CtlCommandLine::Run(Ctl& ctl) const { return impl_->run(ctl); }

namespace {
Ctl* following = nullptr;
void StopFollowing(int) {
  if (following) following->StopFollowing();
}
}  // namespace

int RunCourierCtl(int argc, char** argv) {
  CtlCommandLine command_line;
  auto parsed = command_line.Parse(argc, argv);
  if (auto* rc = std::get_if<int>(&parsed)) return *rc;
  SetStoreGroup(std::get<Options>(parsed).store_group);
  SetSqliteCacheMiB(std::get<Options>(parsed).sqlite_cache_mb);
  Ctl ctl(std::get<Options>(parsed), std::cout, std::cerr, std::cin);
  // A write to a pipe nobody reads fails (EPIPE) instead of killing the
  // process, so a command ends as it chooses and a follow notices.
  std::signal(SIGPIPE, SIG_IGN);
  if (command_line.following()) {
    // Ctrl-C, SIGTERM or a reader that went away end a follow cleanly
    // (exit 0); other commands keep the default: they are short, and
    // all-or-nothing by transaction.
    following = &ctl;
    std::signal(SIGINT, StopFollowing);
    std::signal(SIGTERM, StopFollowing);
    ctl.StopFollowingWhenUnread(STDOUT_FILENO);
  }
  return command_line.Run(ctl);
}

}  // namespace courier
