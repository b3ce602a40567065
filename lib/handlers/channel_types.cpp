#include "handlers/channel_types.h"

namespace courier {
namespace {

bool HasValue(const std::map<std::string, std::string>& config, const std::string& key) {
  if (key.empty()) return false;
  auto it = config.find(key);
  return it != config.end() && !it->second.empty();
}

}  // namespace

const ConfigKeyInfo* ChannelTypeInfo::Key(const std::string& name) const {
  for (const auto& key : config)
    if (key.name == name) return &key;
  return nullptr;
}

std::vector<std::string> ChannelTypeInfo::MissingKeys(const std::map<std::string, std::string>& values,
                                                      bool receive_too) const {
  std::vector<std::string> missing;
  for (const auto& key : config) {
    const bool wanted = key.need == ConfigNeed::kToSend || (receive_too && key.need == ConfigNeed::kToReceive);
    if (!wanted || HasValue(values, key.name) || HasValue(values, key.or_key)) continue;
    missing.push_back(key.or_key.empty() ? key.name : key.name + " or " + key.or_key);
  }
  return missing;
}

std::vector<std::string> ChannelTypeInfo::WebhookVerificationKeys() const {
  std::vector<std::string> keys;
  for (const auto& key : config)
    if (key.verifies_webhooks) keys.push_back(key.name);
  return keys;
}

bool ChannelTypeInfo::AcceptsUnverifiedWebhooks(const std::map<std::string, std::string>& values) const {
  bool verifiable = false;
  for (const auto& key : config) {
    if (!key.verifies_webhooks) continue;
    verifiable = true;
    if (HasValue(values, key.name) || HasValue(values, key.or_key)) return false;
  }
  return verifiable;
}

}  // namespace courier
