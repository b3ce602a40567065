// courier-ctl hook: the applications' webhooks that courier-hook delivers
// events to (ctl.h; courier-hook(8) for the delivery itself).
#include <openssl/rand.h>

#include <algorithm>
#include <iostream>

#include "core/json.h"
#include "core/redact.h"
#include "core/uuid.h"
#include "ctl/ctl.h"
#include "ctl/hook_report.h"
#include "ctl/table.h"
#include "model/event.h"
#include "util/hmac.h"
#include "util/text.h"

namespace courier {
namespace {

// 32 bytes from OpenSSL's CSPRNG, as 64 hex digits: as strong as the
// HMAC-SHA256 key can use, and safe to paste anywhere.
Result<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no random bytes for the secret (OpenSSL RAND_bytes failed)");
  return HexEncode(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

Result<std::vector<std::string>> ParseTopics(const std::string& text) {
  std::vector<std::string> topics;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string topic = Trim(std::string_view(text).substr(start, comma - start));
    start = comma + 1;
    if (topic.empty()) continue;
    const bool known = std::any_of(std::begin(kEventTopics), std::end(kEventTopics),
                                   [&](const char* t) { return topic == t; });
    if (!known) {
      std::vector<std::string> all(std::begin(kEventTopics), std::end(kEventTopics));
      return Status::Usage("hook add --events: unknown topic '" + topic + "'; the topics are " + Join(all, ", "));
    }
    if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
  }
  return topics;
}

// The hook as `hook list --json` and `hook show --json` print it: the
// report's fields and its settings, secrets as "********".
json::ObjectPtr HookJson(const Hook& h, const json::ObjectPtr& report) {
  auto o = report;
  o->set("topics", json::StringArray(h.topics));
  json::SetNullableString(o, "channel_uuid", h.channel_uuid);
  o->set("batch_size", h.batch_size);
  o->set("secret", std::string(kRedacted));
  json::SetNullableString(o, "token", h.auth_token.empty() ? "" : kRedacted);
  json::SetTime(o, "last_error_on", h.last_error_on);
  json::SetTime(o, "next_attempt_on", h.next_attempt_on);
  json::SetTime(o, "delivered_on", h.delivered_on);
  json::SetTime(o, "created_on", h.created_on);
  return o;
}

std::string State(const Hook& h) {
  if (h.paused) return "paused";
  if (h.failures > 0) return "retrying";
  return "active";
}

}  // namespace

int Ctl::HookAdd(const HookAddArgs& args) {
  if (!StartsWith(args.url, "http://") && !StartsWith(args.url, "https://"))
    return Report(Status::Usage("hook add --url must start with http:// or https://, not '" + args.url + "'"));
  auto topics = ParseTopics(args.events);
  if (!topics.ok()) return Report(topics.status());
  if (args.format == "rapidpro" && args.batch != 1)
    return Report(Status::Usage("hook add: a rapidpro hook posts one event at a time (no --batch)"));
  if (args.format != "rapidpro" && !args.token.empty())
    return Report(Status::Usage("hook add --token is for --format rapidpro (json hooks are signed with --secret)"));
  std::optional<int64_t> from_seq;
  if (args.from != "now") {
    if (args.from.empty() || args.from.size() > 18 || !AllDigits(args.from) || std::stoll(args.from) < 1)
      return Report(Status::Usage("hook add --from must be now or an event seq of 1 or more, not '" + args.from + "'"));
    from_seq = std::stoll(args.from);
  }

  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  Hook hook;
  hook.url = args.url;
  hook.topics = *topics;
  hook.format = args.format;
  hook.auth_token = args.token;
  hook.batch_size = args.batch;
  if (!args.channel.empty()) {
    auto uuid = NormalizeUUID(args.channel);
    if (!uuid) return Report(Status::Usage("not a channel UUID: '" + args.channel + "'"));
    auto channel = (*store)->GetChannel(*uuid);
    if (!channel.ok()) return Report(channel.status());
    hook.channel_uuid = *uuid;
  }
  const bool generated = args.secret.empty();
  if (generated) {
    auto secret = NewSecret();
    if (!secret.ok()) return Report(secret.status());
    hook.secret = *secret;
  } else {
    hook.secret = args.secret;
  }
  // New events only, by default: an application added today wants what
  // happens from now on, not the store's whole history (replay for that).
  if (from_seq) {
    hook.cursor = *from_seq - 1;
  } else {
    auto last = (*store)->LastEventSeq();
    if (!last.ok()) return Report(last.status());
    hook.cursor = *last;
  }
  auto added = (*store)->AddHook(hook);
  if (!added.ok()) return Report(added.status());

  if (args.json) {
    auto o = json::NewObject();
    o->set("id", added->id);
    o->set("uuid", added->uuid);
    o->set("url", MaskUrlCredentials(added->url));
    o->set("cursor", added->cursor);
    json::SetNullableString(o, "secret", generated ? added->secret : "");
    out_ << json::Stringify(o) << '\n';
    return exit_code::kOk;
  }
  out_ << "added hook " << added->id << " (" << added->uuid << "): events after seq " << added->cursor << " go to "
       << MaskUrlCredentials(added->url) << '\n';
  if (generated) {
    out_ << "signing secret (shown only now; courier-hook(8) says how to check it):\n" << added->secret << '\n';
  }
  return exit_code::kOk;
}

int Ctl::HookList(bool json_out) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto hooks = (*store)->ListHooks();
  if (!hooks.ok()) return Report(hooks.status());
  auto last = (*store)->LastEventSeq();
  if (!last.ok()) return Report(last.status());
  const Micros now = clock_.Now();
  Table table({"ID", "UUID", "URL", "FORMAT", "EVENTS", "STATE", "CURSOR", "LAG", "FAILURES", "LAST ERROR"});
  for (const Hook& h : *hooks) {
    auto report = HookReport(**store, h, *last, now);
    if (!report.ok()) return Report(report.status());
    if (json_out) {
      out_ << json::Stringify(HookJson(h, *report)) << '\n';
      continue;
    }
    table.Add({std::to_string(h.id), h.uuid, CellText(MaskUrlCredentials(h.url), 40), h.format,
               h.topics.empty() ? "all" : Join(h.topics, ","), State(h), std::to_string(h.cursor),
               std::to_string(json::GetInt(*report, "lag_events").value_or(0)), std::to_string(h.failures),
               CellText(h.last_error, 40)});
  }
  if (!json_out) table.Print(out_);
  return exit_code::kOk;
}

int Ctl::HookShow(const std::string& ref, bool json_out) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto hook = (*store)->GetHook(ref);
  if (!hook.ok()) return Report(hook.status());
  auto last = (*store)->LastEventSeq();
  if (!last.ok()) return Report(last.status());
  auto report = HookReport(**store, *hook, *last, clock_.Now());
  if (!report.ok()) return Report(report.status());
  const Hook& h = *hook;
  if (json_out) {
    out_ << json::Stringify(HookJson(h, *report)) << '\n';
    return exit_code::kOk;
  }
  out_ << "id:          " << h.id << '\n'
       << "uuid:        " << h.uuid << '\n'
       << "url:         " << MaskUrlCredentials(h.url) << '\n'
       << "format:      " << h.format << '\n'
       << "events:      " << (h.topics.empty() ? "all" : Join(h.topics, ",")) << '\n'
       << "channel:     " << (h.channel_uuid.empty() ? "all" : h.channel_uuid) << '\n'
       << "batch:       " << h.batch_size << '\n'
       << "secret:      " << kRedacted << '\n'
       << "token:       " << (h.auth_token.empty() ? "-" : kRedacted) << '\n'
       << "state:       " << State(h) << (h.paused && !h.paused_reason.empty() ? " (" + h.paused_reason + ")" : "")
       << '\n'
       << "cursor:      " << h.cursor << " (last event " << *last << ", "
       << json::GetInt(*report, "lag_events").value_or(0) << " behind)\n"
       << "failures:    " << h.failures << '\n'
       << "last error:  " << (h.last_error.empty() ? "-" : OneLine(h.last_error) + " at " + TableTime(h.last_error_on))
       << '\n'
       << "next try:    " << TableTime(h.next_attempt_on) << '\n'
       << "delivered:   " << TableTime(h.delivered_on) << '\n'
       << "created_on:  " << TableTime(h.created_on) << '\n';
  return exit_code::kOk;
}

int Ctl::HookRemove(const std::string& ref) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto hook = (*store)->GetHook(ref);
  if (!hook.ok()) return Report(hook.status());
  Status s = (*store)->RemoveHook(hook->id);
  if (!s.ok()) return Report(s);
  out_ << "removed hook " << hook->id << " (" << hook->uuid << ")\n";
  return exit_code::kOk;
}

int Ctl::HookPause(const std::string& ref, const std::string& reason) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto hook = (*store)->GetHook(ref);
  if (!hook.ok()) return Report(hook.status());
  Status s = (*store)->SetHookPaused(hook->id, true, reason.empty() ? "paused by an operator" : reason);
  if (!s.ok()) return Report(s);
  out_ << "paused hook " << hook->id << " at cursor " << hook->cursor << '\n';
  return exit_code::kOk;
}

int Ctl::HookResume(const std::string& ref) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto hook = (*store)->GetHook(ref);
  if (!hook.ok()) return Report(hook.status());
  Status s = (*store)->SetHookPaused(hook->id, false, "");
  if (!s.ok()) return Report(s);
  out_ << "resumed hook " << hook->id << " from cursor " << hook->cursor << '\n';
  return exit_code::kOk;
}

int Ctl::HookReplay(const std::string& ref, int64_t from_seq) {
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto hook = (*store)->GetHook(ref);
  if (!hook.ok()) return Report(hook.status());
  auto oldest = (*store)->OldestEventSeq();
  if (!oldest.ok()) return Report(oldest.status());
  Status s = (*store)->RewindHook(hook->id, from_seq - 1);
  if (!s.ok()) return Report(s);
  out_ << "hook " << hook->id << " posts the events from seq " << from_seq << " again (cursor " << hook->cursor
       << " -> " << from_seq - 1 << ")\n";
  if (from_seq < *oldest) {
    err_ << "courier-ctl: warning: events before seq " << *oldest
         << " were pruned; the replay starts with the oldest one stored\n";
  }
  return exit_code::kOk;
}

}  // namespace courier
