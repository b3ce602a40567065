// courier-ctl commands about msgs: send, msgs, queue, logs, retry, fail.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "core/channel_log_json.h"
#include "core/json.h"
#include "core/msg_json.h"
#include "core/urn.h"
#include "core/uuid.h"
#include "model/outgoing.h"
#include "ctl/ctl.h"
#include "ctl/table.h"

namespace courier {
namespace {

// Opens `path` for reading, or names why it cannot be ("-" is `in`).
Result<std::istream*> OpenInput(const std::string& path, std::istream& in, std::ifstream& file) {
  if (path == "-") return &in;
  file.open(path);
  if (!file) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  return static_cast<std::istream*>(&file);
}

}  // namespace

std::optional<int64_t> ParseMsgId(const std::string& text) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || v <= 0 || errno == ERANGE) return std::nullopt;
  return v;
}

Result<Msg> Ctl::BuildOutgoing(const OutgoingRequest& request) {
  auto uuid = OutgoingChannelUuid(request);
  if (!uuid.ok()) return uuid.status();
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return store.status();
  auto channel = (*store)->GetChannel(*uuid);
  if (!channel.ok()) return channel.status();
  return BuildOutgoingMsg(*channel, request);
}

int Ctl::Send(const SendArgs& args) {
  if (!NormalizeUUID(args.channel)) return Report(Status::Usage("not a channel UUID: '" + args.channel + "'"));
  OutgoingRequest request;
  request.channel = args.channel;
  request.urn = args.urn;
  request.text = args.text;
  request.attachments = args.attachments;
  for (const auto& text : args.quick_replies) request.quick_replies.push_back(QuickReply::Text(text));
  for (const auto& text : args.location_quick_replies) request.quick_replies.push_back(QuickReply::Location(text));
  for (const auto& both : args.url_quick_replies) {
    // The URL starts at the first "=http": the text may hold '=' itself.
    const size_t at = both.find("=http");
    if (at == std::string::npos || at == 0)
      return Report(Status::Usage("--quick-reply-url takes TEXT=URL, e.g. 'Book=https://example.com/book', not '" +
                                  both + "'"));
    request.quick_replies.push_back(QuickReply::Url(both.substr(0, at), both.substr(at + 1)));
  }
  if (!args.template_name.empty()) {
    MsgTemplate templating;
    templating.name = args.template_name;
    templating.language = args.template_language;
    if (!args.template_vars.empty()) {
      TemplateComponent body;
      body.type = "body";
      for (const auto& value : args.template_vars) body.params.push_back({"text", value, ""});
      templating.components.push_back(std::move(body));
    }
    request.templating = std::move(templating);
  } else if (!args.template_language.empty() || !args.template_vars.empty()) {
    return Report(Status::Usage("--language and --var go with --template"));
  }
  request.locale = args.locale;
  request.priority = args.priority;
  auto msg = BuildOutgoing(request);
  if (!msg.ok()) return Report(msg.status());
  auto queued = (*OpenExisting(StoreAccess::kReadWrite))->QueueOutgoing({*msg});
  if (!queued.ok()) return Report(queued.status());
  WakeSender();
  const Msg& m = queued->front();
  if (args.json) out_ << (MsgToJson(m)) << '\n';
  else out_ << m.id << ' ' << m.uuid << '\n';
  return exit_code::kOk;
}

Result<std::vector<Msg>> Ctl::ReadSendLines(std::istream& in) {
  std::vector<Msg> msgs;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto fail = [number](const Status& s) {
      return Status(s.code() == Status::Code::kNotFound || s.IsUnavailable()
                        ? s
                        : Status::InvalidArgument("line " + std::to_string(number) + ": " + s.message()));
    };
    auto object = json::ParseObject(line);
    if (!object.ok()) return fail(object.status());
    auto request = OutgoingRequestFromJson(*object);
    if (!request.ok()) return fail(request.status());
    auto msg = BuildOutgoing(*request);
    if (!msg.ok()) {
      if (msg.status().IsNotFound())
        return Status::NotFound("line " + std::to_string(number) + ": " + msg.status().message());
      return fail(msg.status());
    }
    msgs.push_back(std::move(*msg));
  }
  if (in.bad()) return Status::IOError("reading input failed");
  return msgs;
}

int Ctl::SendJsonl(const std::string& path, bool json) {
  std::ifstream file;
  auto in = OpenInput(path, in_, file);
  if (!in.ok()) return Report(in.status());
  auto msgs = ReadSendLines(**in);
  if (!msgs.ok()) return Report(msgs.status());
  if (msgs->empty()) {
    out_ << "nothing to send\n";
    return exit_code::kOk;
  }
  auto queued = (*OpenExisting(StoreAccess::kReadWrite))->QueueOutgoing(std::move(*msgs));
  if (!queued.ok()) return Report(queued.status());
  WakeSender();
  if (json) {
    for (const auto& m : *queued) out_ << (MsgToJson(m)) << '\n';
  } else {
    out_ << "queued " << queued->size() << " msgs\n";
  }
  return exit_code::kOk;
}

int Ctl::MsgsList(const MsgFilter& filter_in, bool json) {
  MsgFilter filter = filter_in;
  if (!filter.channel_uuid.empty()) {
    auto uuid = NormalizeUUID(filter.channel_uuid);
    if (!uuid) return Report(Status::Usage("not a channel UUID: '" + filter.channel_uuid + "'"));
    filter.channel_uuid = *uuid;
  }
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto msgs = (*store)->ListMsgs(filter);
  if (!msgs.ok()) return Report(msgs.status());
  if (json) {
    for (const auto& m : *msgs) out_ << (MsgToJson(m)) << '\n';
    return exit_code::kOk;
  }
  Table table({"ID", "DIR", "ST", "CHANNEL", "URN", "TEXT", "CREATED"});
  for (const auto& m : *msgs)
    table.Add({std::to_string(m.id), DirectionName(m.direction), MsgStatusString(m.status),
               m.channel_uuid.substr(0, 8), m.urn, CellText(m.text, 40), TableTime(m.created_on)});
  table.Print(out_);
  return exit_code::kOk;
}

int Ctl::MsgsShow(const std::string& id_or_uuid, bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  Result<Msg> msg = Status::NotFound("message not found");
  if (auto id = ParseMsgId(id_or_uuid)) {
    msg = (*store)->GetMsg(*id);
  } else {
    auto uuid = NormalizeUUID(id_or_uuid);
    if (!uuid) return Report(Status::Usage("not a msg id or UUID: '" + id_or_uuid + "'"));
    msg = (*store)->GetMsgByUUID(*uuid);
  }
  if (!msg.ok()) return Report(msg.status());
  // Each fetched attachment's state (courier-fetch(8)); none for outgoing
  // msgs and attachments that are no http(s) URL.
  auto fetches = (*store)->ListFetches(msg->id);
  if (!fetches.ok()) return Report(fetches.status());
  if (json) {
    if (fetches->empty()) {
      out_ << (MsgToJson(*msg)) << '\n';
      return exit_code::kOk;
    }
    // The msg's object with one member more.
    std::string text = MsgToJson(*msg);
    text.pop_back();
    JsonWriter media;
    media.BeginArray();
    for (const auto& f : *fetches) WriteAttachmentFetchJson(media, f);
    media.EndArray();
    out_ << text << ",\"media\":" << media.Take() << "}\n";
    return exit_code::kOk;
  }
  const Msg& m = *msg;
  out_ << "id:              " << m.id << '\n'
       << "uuid:            " << m.uuid << '\n'
       << "channel:         " << m.channel_uuid << " (" << m.channel_type << ")\n"
       << "direction:       " << DirectionName(m.direction) << '\n'
       << "status:          " << MsgStatusString(m.status) << " (" << MsgStatusName(m.status) << ")\n"
       << "urn:             " << m.urn << '\n'
       << "text:            " << m.text << '\n';
  for (const auto& a : m.attachments) out_ << "attachment:      " << a << '\n';
  for (const auto& f : *fetches) {
    out_ << "media " << f.position << ":         " << FetchStateName(f.state);
    if (f.state == FetchState::kStored) out_ << ", " << f.content_type << ", " << f.size << " bytes";
    if (f.state == FetchState::kPending && f.attempts > 0) out_ << ", " << f.attempts << " attempts";
    if (!f.error.empty()) out_ << (f.state == FetchState::kFailed ? ": " : "; last error: ") << f.error;
    out_ << "; from " << f.source << '\n';
  }
  for (const auto& q : m.quick_replies) {
    out_ << "quick_reply:     " << q.text;
    if (q.type != QuickReplyType::kText) out_ << " (" << QuickReplyTypeName(q.type) << (q.url.empty() ? "" : ": ") << q.url << ')';
    if (!q.description.empty()) out_ << " - " << q.description;
    out_ << '\n';
  }
  if (m.templating) {
    out_ << "template:        " << m.templating->name;
    if (!m.templating->language.empty()) out_ << " (" << m.templating->language << ')';
    for (const auto& c : m.templating->components)
      for (const auto& p : c.params) out_ << "; " << c.type << ": " << p.value;
    out_ << '\n';
  }
  if (!m.locale.empty()) out_ << "locale:          " << m.locale << '\n';
  if (!m.external_id.empty()) out_ << "external_id:     " << m.external_id << '\n';
  if (!m.contact_name.empty()) out_ << "contact_name:    " << m.contact_name << '\n';
  out_ << "priority:        " << PriorityName(m.priority) << '\n'
       << "error_count:     " << m.error_count << '\n';
  if (!m.error_reason.empty()) out_ << "error_reason:    " << m.error_reason << '\n';
  out_ << "created_on:      " << TableTime(m.created_on) << '\n'
       << "modified_on:     " << TableTime(m.modified_on) << '\n'
       << "received_on:     " << TableTime(m.received_on) << '\n'
       << "sent_on:         " << TableTime(m.sent_on) << '\n'
       << "next_attempt_on: " << TableTime(m.next_attempt_on) << '\n';
  return exit_code::kOk;
}

int Ctl::MsgsImport(const std::string& path, bool json) {
  std::ifstream file;
  auto in = OpenInput(path, in_, file);
  if (!in.ok()) return Report(in.status());
  std::vector<Msg> msgs;
  std::vector<int> line_of;  // msgs[i] came from line line_of[i]
  std::string line;
  int number = 0;
  while (std::getline(**in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    Result<Msg> msg = MsgFromJsonText(line);
    if (!msg.ok()) return Report(Status::InvalidArgument(where + msg.status().message()));
    // As send --jsonl judges a channel: malformed is bad data (65), unknown
    // is not found (66, from the store below).
    auto channel = NormalizeUUID(msg->channel_uuid);
    if (!channel) return Report(Status::InvalidArgument(where + "not a channel UUID: '" + msg->channel_uuid + "'"));
    msg->channel_uuid = *channel;
    if (msg->uuid.empty()) msg->uuid = NewUUID();
    else if (auto u = NormalizeUUID(msg->uuid)) msg->uuid = *u;
    else return Report(Status::InvalidArgument(where + "field 'uuid' is not a UUID"));
    msgs.push_back(std::move(*msg));
    line_of.push_back(number);
  }
  if (in.value()->bad()) return Report(Status::IOError("reading " + path + " failed"));
  // Ids are the importing store's own; keep the exporter's order so the
  // msgs get ids in the order they were created (list --json prints newest
  // first).
  std::vector<size_t> order(msgs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&msgs](size_t a, size_t b) {
    return msgs[a].created_on != msgs[b].created_on ? msgs[a].created_on < msgs[b].created_on
                                                    : msgs[a].id < msgs[b].id;
  });
  std::vector<Msg> sorted;
  sorted.reserve(msgs.size());
  for (size_t i : order) sorted.push_back(msgs[i]);
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto added = (*store)->ImportMsgs(sorted);
  if (!added.ok()) {
    // The store names the msg or the channel it refused; name the line too.
    const std::string& text = added.status().message();
    for (size_t i = 0; i < msgs.size(); ++i) {
      if (text.find(msgs[i].uuid) != std::string::npos || text.find(msgs[i].channel_uuid) != std::string::npos) {
        std::string where = "line " + std::to_string(line_of[i]) + ": ";
        return Report(added.status().IsNotFound() ? Status::NotFound(where + text)
                                                  : Status::InvalidArgument(where + text));
      }
    }
    return Report(added.status());
  }
  const int64_t read = static_cast<int64_t>(msgs.size());
  if (json) {
    auto o = json::NewObject();
    o->set("read", read);
    o->set("imported", *added);
    o->set("skipped", read - *added);
    out_ << json::Stringify(o) << '\n';
  } else {
    out_ << "imported " << *added << " msgs, skipped " << (read - *added) << " already present\n";
  }
  return exit_code::kOk;
}

int Ctl::Queue(bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto rows = (*store)->Queue();
  if (!rows.ok()) return Report(rows.status());
  if (json) {
    for (const auto& q : *rows) {
      auto o = json::NewObject();
      o->set("channel_uuid", q.channel_uuid);
      o->set("channel_type", q.channel_type);
      o->set("queued_high", q.queued_high);
      o->set("queued_bulk", q.queued_bulk);
      o->set("in_flight", q.in_flight);
      o->set("retrying", q.retrying);
      o->set("failed", q.failed);
      o->set("interrupted", q.interrupted);
      out_ << json::Stringify(o) << '\n';
    }
    return exit_code::kOk;
  }
  Table table({"CHANNEL", "TYPE", "HIGH", "BULK", "IN_FLIGHT", "RETRYING", "FAILED", "INTERRUPTED"});
  for (const auto& q : *rows)
    table.Add({q.channel_uuid, q.channel_type, std::to_string(q.queued_high), std::to_string(q.queued_bulk),
               std::to_string(q.in_flight), std::to_string(q.retrying), std::to_string(q.failed),
               std::to_string(q.interrupted)});
  table.Print(out_);
  return exit_code::kOk;
}

int Ctl::Logs(std::optional<int64_t> msg_id, const std::string& channel, int limit, bool json) {
  std::string channel_uuid;
  if (!channel.empty()) {
    auto uuid = NormalizeUUID(channel);
    if (!uuid) return Report(Status::Usage("not a channel UUID: '" + channel + "'"));
    channel_uuid = *uuid;
  }
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto logs = (*store)->ListChannelLogs(msg_id, channel_uuid, limit);
  if (!logs.ok()) return Report(logs.status());
  if (json) {
    for (const auto& l : *logs) out_ << (ChannelLogToJson(l)) << '\n';
    return exit_code::kOk;
  }
  Table table({"ID", "TIME", "CHANNEL", "MSG", "METHOD", "STATUS", "MS", "URL", "DESCRIPTION"});
  for (const auto& l : *logs)
    table.Add({std::to_string(l.id), TableTime(l.created_on), l.channel_uuid.substr(0, 8),
               l.msg_id ? std::to_string(*l.msg_id) : "-", l.method, std::to_string(l.status_code),
               std::to_string(l.elapsed_ms), CellText(l.url, 50),
               CellText(l.error.empty() ? l.description : l.description + ": " + l.error, 50)});
  table.Print(out_);
  return exit_code::kOk;
}

namespace {

void PrintChanged(std::ostream& out, const char* verb, const std::vector<int64_t>& changed) {
  out << verb << ' ' << changed.size() << " msgs";
  if (!changed.empty()) {
    out << ':';
    for (auto id : changed) out << ' ' << id;
  }
  out << '\n';
}

}  // namespace

int Ctl::RetryMsgs(const std::vector<int64_t>& ids) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto changed = (*store)->RetryMsgs(ids);
  if (!changed.ok()) return Report(changed.status());
  PrintChanged(out_, "requeued", *changed);
  if (!changed->empty()) WakeSender();
  if (changed->size() < ids.size()) {
    err_ << "courier-ctl: " << ids.size() - changed->size()
         << " msgs not requeued (unknown, incoming, or not errored/failed)\n";
    return exit_code::kDataErr;
  }
  return exit_code::kOk;
}

int Ctl::RetryErrored() {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto changed = (*store)->RetryAllErrored();
  if (!changed.ok()) return Report(changed.status());
  PrintChanged(out_, "requeued", *changed);
  if (!changed->empty()) WakeSender();
  return exit_code::kOk;
}

int Ctl::FailMsgs(const std::vector<int64_t>& ids) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto changed = (*store)->FailMsgs(ids);
  if (!changed.ok()) return Report(changed.status());
  PrintChanged(out_, "failed", *changed);
  if (changed->size() < ids.size()) {
    err_ << "courier-ctl: " << ids.size() - changed->size()
         << " msgs not failed (unknown, incoming, or already final)\n";
    return exit_code::kDataErr;
  }
  return exit_code::kOk;
}

}  // namespace courier
