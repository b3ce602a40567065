// courier-ctl: the operator's and scripts' tool. See courier-ctl(1).
#include <csignal>
#include <iostream>
#include <variant>

#include "config/command_line.h"
#include "ctl/ctl.h"

using namespace courier;

namespace {
Ctl* following = nullptr;
void StopFollowing(int) {
  if (following) following->StopFollowing();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"", "courier-ctl"};
  SetUpApp(app, "Operate a courier store: channels, msgs, queues, logs, events, spool.");
  OptionLoader loader(app, {});
  app.require_subcommand(1);
  app.fallthrough();
  bool json = false;
  std::function<int(Ctl&)> command;

  auto json_flag = [&](CLI::App* sub) { sub->add_flag("--json", json, "one JSON object a line"); };

  app.add_subcommand("init", "create or migrate the store, spool and run directories")
      ->callback([&] { command = [](Ctl& c) { return c.Init(); }; });

  auto* channel = app.add_subcommand("channel", "add, list, show and remove channels");
  channel->require_subcommand(1);
  ChannelAddArgs add;
  auto* channel_add = channel->add_subcommand("add", "add a channel; prints its uuid");
  channel_add->add_option("--type", add.type, "channel type code (courier-ctl channel types)")->required();
  channel_add->add_option("--address", add.address, "number, short code or handle")->required();
  channel_add->add_option("--country", add.country, "ISO 3166 alpha-2 country for tel numbers");
  channel_add->add_option("--name", add.name, "a name for people");
  channel_add->add_option("--uuid", add.uuid, "use this uuid instead of a new one");
  channel_add->add_option("--config", add.config, "KEY=VALUE channel setting (repeatable)");
  channel_add->add_option("--scheme", add.schemes, "URN scheme the channel speaks (repeatable)");
  channel_add->add_option("--max-workers", add.max_workers, "most sends in flight (0: sender default)");
  channel_add->add_option("--tps", add.tps, "most sends a second (0: unlimited)");
  json_flag(channel_add);
  channel_add->callback([&] { add.json = json; command = [&](Ctl& c) { return c.ChannelAdd(add); }; });

  auto* channel_list = channel->add_subcommand("list", "list active channels");
  json_flag(channel_list);
  channel_list->callback([&] { command = [&](Ctl& c) { return c.ChannelList(json); }; });
  std::string channel_uuid;
  auto* channel_show = channel->add_subcommand("show", "show one channel (secrets masked)");
  channel_show->add_option("uuid", channel_uuid, "channel uuid")->required();
  json_flag(channel_show);
  channel_show->callback([&] { command = [&](Ctl& c) { return c.ChannelShow(channel_uuid, json); }; });
  auto* channel_rm = channel->add_subcommand("rm", "deactivate a channel (its msgs stay)");
  channel_rm->add_option("uuid", channel_uuid, "channel uuid")->required();
  channel_rm->callback([&] { command = [&](Ctl& c) { return c.ChannelRemove(channel_uuid); }; });
  auto* channel_types = channel->add_subcommand("types", "list the channel types courier knows, with their settings");
  bool wide = false;
  channel_types->add_flag("--wide", wide, "one line a type, with its routes");
  json_flag(channel_types);
  channel_types->callback([&] { command = [&](Ctl& c) { return c.ChannelTypes(json, wide); }; });

  SendArgs send;
  std::string jsonl;
  auto* send_cmd = app.add_subcommand("send", "queue an outgoing msg (or many with --jsonl); prints id and uuid");
  send_cmd->add_option("--channel", send.channel, "channel uuid");
  send_cmd->add_option("--urn", send.urn, "recipient, e.g. tel:+250788383383");
  send_cmd->add_option("--text", send.text, "msg text");
  send_cmd->add_option("--attachment", send.attachments, "MIME:URL (repeatable)");
  send_cmd->add_option("--priority", send.priority, "high (default) or bulk");
  send_cmd->add_option("--quick-reply", send.quick_replies, "an answer offered as a button where the channel can (repeatable)");
  send_cmd->add_option("--jsonl", jsonl, "queue one msg per JSON line of FILE (- for stdin), all or nothing");
  json_flag(send_cmd);
  send_cmd->callback([&] {
    if (!jsonl.empty()) {
      if (!send.channel.empty() || !send.urn.empty() || !send.text.empty())
        throw CLI::ValidationError("--jsonl", "cannot be combined with --channel, --urn or --text");
      command = [&](Ctl& c) { return c.SendJsonl(jsonl, json); };
      return;
    }
    if (send.channel.empty() || send.urn.empty())
      throw CLI::ValidationError("send", "needs --channel and --urn (or --jsonl FILE)");
    send.json = json;
    command = [&](Ctl& c) { return c.Send(send); };
  });

  auto* msgs = app.add_subcommand("msgs", "list, show and import msgs");
  msgs->require_subcommand(1);
  MsgFilter filter;
  std::string direction, status;
  int64_t after_id = -1;
  auto* msgs_list = msgs->add_subcommand("list", "list msgs, newest first (ascending with --after-id)");
  msgs_list->add_option("--direction", direction, "in or out")->check(CLI::IsMember({"in", "out"}));
  msgs_list->add_option("--status", status, "P Q W S D R E F");
  msgs_list->add_option("--channel", filter.channel_uuid, "channel uuid");
  msgs_list->add_option("--after-id", after_id, "msgs with a greater id, oldest first");
  msgs_list->add_option("--limit", filter.limit, "most msgs to print (default 100)");
  json_flag(msgs_list);
  msgs_list->callback([&] {
    if (!direction.empty()) filter.direction = direction == "in" ? Direction::kIn : Direction::kOut;
    if (!status.empty()) {
      filter.status = ParseMsgStatus(status);
      if (!filter.status) throw CLI::ValidationError("--status", "not a status: " + status);
    }
    if (after_id >= 0) filter.after_id = after_id;
    command = [&](Ctl& c) { return c.MsgsList(filter, json); };
  });
  std::string msg_ref;
  auto* msgs_show = msgs->add_subcommand("show", "show one msg by id or uuid");
  msgs_show->add_option("msg", msg_ref, "id or uuid")->required();
  json_flag(msgs_show);
  msgs_show->callback([&] { command = [&](Ctl& c) { return c.MsgsShow(msg_ref, json); }; });
  std::string import_file;
  auto* msgs_import = msgs->add_subcommand("import", "import msgs in the shape `msgs list --json` prints");
  msgs_import->add_option("--jsonl", import_file, "FILE or - for stdin")->required();
  json_flag(msgs_import);
  msgs_import->callback([&] { command = [&](Ctl& c) { return c.MsgsImport(import_file, json); }; });

  auto* queue = app.add_subcommand("queue", "per channel: queued high/bulk, in flight, retrying, failed, interrupted");
  json_flag(queue);
  queue->callback([&] { command = [&](Ctl& c) { return c.Queue(json); }; });

  int64_t log_msg = 0;
  std::string log_channel;
  int log_limit = 50;
  auto* logs = app.add_subcommand("logs", "channel logs, newest first");
  logs->add_option("--msg", log_msg, "only this msg id");
  logs->add_option("--channel", log_channel, "only this channel uuid");
  logs->add_option("--limit", log_limit, "most logs to print (default 50)");
  json_flag(logs);
  logs->callback([&] {
    command = [&](Ctl& c) {
      return c.Logs(log_msg > 0 ? std::optional<int64_t>(log_msg) : std::nullopt, log_channel, log_limit, json);
    };
  });

  int64_t after_seq = 0;
  bool follow = false;
  auto* events = app.add_subcommand("events", "events from the store after SEQ; --follow keeps watching");
  events->add_option("--after", after_seq, "print events with a greater seq");
  events->add_flag("--follow", follow, "keep printing new events until interrupted");
  json_flag(events);
  events->callback([&] { command = [&](Ctl& c) { return c.Events(after_seq, follow, json); }; });

  std::vector<std::string> ids;
  std::string retry_status;
  auto* retry = app.add_subcommand("retry", "re-queue errored or failed outgoing msgs");
  retry->add_option("ids", ids, "msg ids");
  retry->add_option("--status", retry_status, "E: every errored msg");
  retry->callback([&] { command = [&](Ctl& c) { return c.Retry(ids, retry_status); }; });
  auto* fail = app.add_subcommand("fail", "mark outgoing msgs failed");
  fail->add_option("ids", ids, "msg ids")->required();
  fail->callback([&] { command = [&](Ctl& c) { return c.FailMsgs(ids); }; });

  auto* contact = app.add_subcommand("contact", "stop, unstop and list contacts");
  contact->require_subcommand(1);
  std::string urn;
  bool stopped_only = false;
  auto* stop = contact->add_subcommand("stop", "stop sending to the contact with URN");
  stop->add_option("urn", urn, "URN")->required();
  stop->callback([&] { command = [&](Ctl& c) { return c.ContactStop(urn, true); }; });
  auto* unstop = contact->add_subcommand("unstop", "allow sending to the contact with URN again");
  unstop->add_option("urn", urn, "URN")->required();
  unstop->callback([&] { command = [&](Ctl& c) { return c.ContactStop(urn, false); }; });
  auto* contact_list = contact->add_subcommand("list", "list contacts");
  contact_list->add_flag("--stopped", stopped_only, "only stopped contacts");
  json_flag(contact_list);
  contact_list->callback([&] { command = [&](Ctl& c) { return c.ContactList(stopped_only, json); }; });

  auto* spool = app.add_subcommand("spool", "pending and bad spool files");
  json_flag(spool);
  spool->callback([&] { command = [&](Ctl& c) { return c.Spool(json); }; });

  auto* status_cmd = app.add_subcommand("status", "daemons, store, spool and queue at a glance; 69 if a daemon is down");
  json_flag(status_cmd);
  status_cmd->callback([&] { command = [&](Ctl& c) { return c.StatusReport(json); }; });

  auto parsed = ParseCommandLine(app, loader, argc, argv);
  if (auto* rc = std::get_if<int>(&parsed)) return *rc;
  Ctl ctl(std::get<Options>(parsed), std::cout, std::cerr, std::cin);
  std::signal(SIGPIPE, SIG_IGN);
  if (follow) {
    // Ctrl-C ends a follow cleanly (exit 0); other commands keep the
    // default: they are short, and all-or-nothing by transaction.
    following = &ctl;
    std::signal(SIGINT, StopFollowing);
    std::signal(SIGTERM, StopFollowing);
  }
  return command(ctl);
}
