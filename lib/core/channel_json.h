#pragma once
// A channel as JSON for people and applications (`courier-ctl channel
// show --json`, courier-api's GET /api/v1/channels): uuid, type, name,
// address, country, schemes, config, max_workers, tps, created_on.
// Secrets are never in it (invariant 6): a config value under a secret
// key (IsSecretConfigKey, or one of `more_secret_keys`: the keys the
// channel's type declares secret) is shown only as "****(LENGTH)", and
// credentials inside other values' URLs are masked (MaskUrlCredentials).
#include <set>
#include <string>

#include "core/channel.h"
#include "core/json.h"

namespace courier {

// One config value as shown: masked as above when `secret`.
std::string ShownConfigValue(const std::string& key, const std::string& value, bool secret);

json::ObjectPtr ChannelToJson(const Channel& channel, const std::set<std::string>& more_secret_keys = {});

}  // namespace courier
