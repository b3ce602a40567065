#include "core/channel_json.h"

#include "core/redact.h"

namespace courier {
// Secrets are shown only as their length, so a channel pasted into a
// ticket does not leak credentials.
std::string ShownConfigValue(const std::string&, const std::string& value, bool secret) {
  if (!secret || value.empty()) return MaskUrlCredentials(value);
  return "****(" + std::to_string(value.size()) + ")";
}

json::ObjectPtr ChannelToJson(const Channel& c, const std::set<std::string>& more_secret_keys) {
  auto o = json::NewObject();
  o->set("uuid", c.uuid);
  o->set("type", c.type);
  o->set("name", c.name);
  o->set("address", c.address);
  json::SetNullableString(o, "country", c.country);
  o->set("schemes", json::StringArray(c.schemes));
  auto config = json::NewObject();
  for (const auto& [k, v] : c.config)
    config->set(k, ShownConfigValue(k, v, IsSecretConfigKey(k) || more_secret_keys.count(k) > 0));
  o->set("config", config);
  o->set("max_workers", c.max_workers);
  o->set("tps", c.tps);
  json::SetTime(o, "created_on", c.created_on ? std::optional<Micros>(c.created_on) : std::nullopt);
  return o;
}

}  // namespace courier
