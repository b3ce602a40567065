// courier-ctl channel and contact commands.
#include <cctype>
#include <iostream>
#include <set>

#include "core/channel_json.h"
#include "core/json.h"
#include "core/redact.h"
#include "core/urn.h"
#include "core/uuid.h"
#include "ctl/ctl.h"
#include "ctl/table.h"
#include "handlers/registry.h"
#include "util/text.h"
#include "util/utf8.h"

namespace courier {
namespace {

json::ObjectPtr ContactJson(const Contact& c) {
  auto o = json::NewObject();
  o->set("uuid", c.uuid);
  json::SetNullableString(o, "name", c.name);
  o->set("stopped", c.stopped);
  o->set("urns", json::StringArray(c.urns));
  json::SetTime(o, "created_on", c.created_on ? std::optional<Micros>(c.created_on) : std::nullopt);
  return o;
}

// What people see without --wide: fits an 80-column terminal.
constexpr size_t kTerminalWidth = 80;

const char* NeedName(ConfigNeed need) {
  switch (need) {
    case ConfigNeed::kOptional: return "optional";
    case ConfigNeed::kToSend: return "send";
    case ConfigNeed::kToReceive: return "receive";
  }
  return "optional";
}

// "send_url*, username*, password*, encoding, ...": the settings in
// declaration order, those needed to send marked *, to receive +; one
// that another may stand in for as "account_sid*|ACCOUNT_SID", the other
// then not listed again.
std::string SettingsList(const ChannelTypeInfo& type) {
  std::set<std::string> alternatives;
  for (const auto& key : type.config)
    if (key.needed() && !key.or_key.empty()) alternatives.insert(key.or_key);
  std::vector<std::string> names;
  for (const auto& key : type.config) {
    if (alternatives.count(key.name)) continue;
    std::string name = key.name;
    if (key.need == ConfigNeed::kToSend) name += "*";
    if (key.need == ConfigNeed::kToReceive) name += "+";
    if (!key.or_key.empty()) name += "|" + key.or_key;
    names.push_back(name);
  }
  return Join(names, ", ");
}

json::ObjectPtr ChannelTypeJson(const ChannelHandler& handler) {
  const ChannelTypeInfo& t = handler.Type();
  auto o = json::NewObject();
  o->set("code", t.code);
  o->set("name", t.name);
  o->set("schemes", json::StringArray(t.schemes));
  o->set("routes", json::StringArray(RouteList(handler)));
  auto settings = json::NewArray();
  for (const auto& key : t.config) {
    auto k = json::NewObject();
    k->set("name", key.name);
    k->set("needed", NeedName(key.need));
    k->set("secret", key.secret);
    k->set("verifies_webhooks", key.verifies_webhooks);
    k->set("meaning", key.meaning);
    json::SetNullableString(k, "default", key.default_value);
    json::SetNullableString(k, "or", key.or_key);
    settings->add(k);
  }
  o->set("settings", settings);
  return o;
}

}  // namespace

int Ctl::ChannelAdd(const ChannelAddArgs& args) {
  const HandlerRegistry registry = HandlerRegistry::Build();
  const ChannelTypeInfo* type = registry.FindType(args.type);
  if (type == nullptr)
    return Report(Status::Usage("unknown channel type '" + args.type + "' (see courier-ctl channel types)"));
  if (args.address.empty()) return Report(Status::Usage("--address is required"));
  Channel channel;
  channel.type = type->code;
  channel.address = args.address;
  channel.name = args.name.empty() ? type->name + " " + args.address : args.name;
  if (!args.country.empty()) {
    if (args.country.size() != 2 || !std::isalpha(static_cast<unsigned char>(args.country[0])) ||
        !std::isalpha(static_cast<unsigned char>(args.country[1])))
      return Report(Status::Usage("--country must be a two-letter ISO 3166 code, not '" + args.country + "'"));
    channel.country = ToUpper(args.country);
  }
  if (!args.uuid.empty()) {
    auto uuid = NormalizeUUID(args.uuid);
    if (!uuid) return Report(Status::Usage("--uuid is not a UUID: '" + args.uuid + "'"));
    channel.uuid = *uuid;
  }
  for (const auto& kv : args.config) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Report(Status::Usage("--config takes KEY=VALUE, not '" + kv + "'"));
    // The store keeps the config as JSON, which a strict reader refuses
    // when it holds ill-formed UTF-8: the channel would be unreadable.
    if (!IsValidUtf8(kv)) return Report(Status::Usage("--config " + ValidUtf8(kv) + " is not valid UTF-8"));
    channel.config[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  // A channel that could not send, or whose webhooks would all be
  // refused, is refused here rather than failing later at every msg.
  const auto missing = type->MissingKeys(channel.config, true);
  if (!missing.empty()) {
    return Report(Status::InvalidArgument(
        "a " + type->code + " channel needs the setting" + (missing.size() > 1 ? "s " : " ") + Join(missing, ", ") +
        ": add --config KEY=VALUE for each (courier-ctl channel types lists every type's settings)"));
  }
  // A key the type does not read is most likely a misspelt one: said, but
  // kept, since it does no harm.
  for (const auto& [key, value] : channel.config)
    if (type->Key(key) == nullptr)
      err_ << "courier-ctl: warning: " << type->code << " channels do not read the setting '" << key
           << "' (see courier-ctl channel types)\n";
  // A type that can tell its provider's webhooks from forged ones only
  // does so with its secret: without it the channel works, but takes
  // whatever anyone posts to its URL, which the operator should know.
  if (type->AcceptsUnverifiedWebhooks(channel.config))
    err_ << "courier-ctl: warning: " << type->code << " channels check that webhooks come from " << type->name
         << " only with the setting " << Join(type->WebhookVerificationKeys(), " or ")
         << ", which this channel does not set: anyone who knows its receive URL can post msgs to it\n";
  channel.schemes = args.schemes.empty() ? type->schemes : args.schemes;
  for (const auto& s : channel.schemes)
    if (!URN::IsKnownScheme(s)) return Report(Status::Usage("unknown URN scheme '" + s + "'"));
  channel.max_workers = args.max_workers;
  channel.tps = args.tps;

  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto added = (*store)->AddChannel(channel);
  if (!added.ok()) return Report(added.status());
  if (args.json) out_ << json::Stringify(ChannelToJson(*added)) << '\n';
  else out_ << added->uuid << '\n';
  return exit_code::kOk;
}

int Ctl::ChannelList(bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto channels = (*store)->ListChannels();
  if (!channels.ok()) return Report(channels.status());
  if (json) {
    for (const auto& c : *channels) out_ << json::Stringify(ChannelToJson(c)) << '\n';
    return exit_code::kOk;
  }
  Table table({"UUID", "TYPE", "ADDRESS", "COUNTRY", "NAME", "WORKERS", "TPS"});
  for (const auto& c : *channels)
    table.Add({c.uuid, c.type, c.address, c.country, CellText(c.name, 30),
               c.max_workers ? std::to_string(c.max_workers) : "-", c.tps ? std::to_string(c.tps) : "-"});
  table.Print(out_);
  return exit_code::kOk;
}

int Ctl::ChannelShow(const std::string& uuid_text, bool json) {
  auto uuid = NormalizeUUID(uuid_text);
  if (!uuid) return Report(Status::Usage("not a channel UUID: '" + uuid_text + "'"));
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto channel = (*store)->GetChannel(*uuid);
  if (!channel.ok()) return Report(channel.status());
  if (json) {
    out_ << json::Stringify(ChannelToJson(*channel)) << '\n';
    return exit_code::kOk;
  }
  const Channel& c = *channel;
  out_ << "uuid:        " << c.uuid << '\n'
       << "type:        " << c.type << '\n'
       << "name:        " << c.name << '\n'
       << "address:     " << c.address << '\n'
       << "country:     " << c.country << '\n'
       << "schemes:     " << Join(c.schemes, ",") << '\n'
       << "max_workers: " << (c.max_workers ? std::to_string(c.max_workers) : "default") << '\n'
       << "tps:         " << (c.tps ? std::to_string(c.tps) : "unlimited") << '\n'
       << "created_on:  " << FormatRfc3339(c.created_on) << '\n';
  for (const auto& [k, v] : c.config) out_ << "config:      " << k << "=" << ShownConfigValue(k, v, IsSecretConfigKey(k)) << '\n';
  return exit_code::kOk;
}

int Ctl::ChannelRemove(const std::string& uuid_text) {
  auto uuid = NormalizeUUID(uuid_text);
  if (!uuid) return Report(Status::Usage("not a channel UUID: '" + uuid_text + "'"));
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  Status s = (*store)->RemoveChannel(*uuid);
  if (!s.ok()) return Report(s);
  out_ << "removed " << *uuid << '\n';
  return exit_code::kOk;
}

int Ctl::ChannelTypes(bool json, bool wide) {
  const HandlerRegistry registry = HandlerRegistry::Build();
  if (json) {
    for (const auto& h : registry.handlers()) out_ << json::Stringify(ChannelTypeJson(*h)) << '\n';
    return exit_code::kOk;
  }
  if (wide) {
    Table table({"CODE", "NAME", "SCHEMES", "ROUTES", "SETTINGS (*: to send, +: to receive)"});
    for (const auto& h : registry.handlers()) {
      const ChannelTypeInfo& t = h->Type();
      table.Add({t.code, t.name, Join(t.schemes, ","), Join(RouteSummary(*h), ", "), SettingsList(t)});
    }
    table.Print(out_);
    return exit_code::kOk;
  }
  Table table({"CODE", "NAME", "SCHEMES", "SETTINGS (*: to send, +: to receive)"});
  for (const auto& t : registry.Types()) table.Add({t->code, t->name, Join(t->schemes, ","), SettingsList(*t)});
  table.PrintWrapped(out_, kTerminalWidth);
  return exit_code::kOk;
}

int Ctl::ContactStop(const std::string& urn_text, bool stop) {
  auto urn = URN::Parse(urn_text);
  if (!urn.ok()) return Report(urn.status());
  auto store = OpenExisting(StoreAccess::kReadWrite);
  if (!store.ok()) return Report(store.status());
  auto contact = (*store)->SetContactStopped(urn->ToString(), stop, "");
  if (!contact.ok()) return Report(contact.status());
  out_ << (stop ? "stopped " : "unstopped ") << urn->ToString() << '\n';
  return exit_code::kOk;
}

int Ctl::ContactList(bool stopped_only, bool json) {
  auto store = OpenExisting(StoreAccess::kReadOnly);
  if (!store.ok()) return Report(store.status());
  auto contacts = (*store)->ListContacts(stopped_only);
  if (!contacts.ok()) return Report(contacts.status());
  if (json) {
    for (const auto& c : *contacts) out_ << json::Stringify(ContactJson(c)) << '\n';
    return exit_code::kOk;
  }
  Table table({"UUID", "NAME", "STOPPED", "URNS"});
  for (const auto& c : *contacts)
    table.Add({c.uuid, CellText(c.name, 30), c.stopped ? "yes" : "no", Join(c.urns, " ")});
  table.Print(out_);
  return exit_code::kOk;
}

}  // namespace courier
