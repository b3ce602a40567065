#pragma once
// A channel type as its handler declares it, beside its code: the type
// code, the provider's name, the URN schemes a channel of the type speaks,
// and every setting (config key) the handler reads, with whether it is a
// secret, whether a channel needs it, what it means and what applies when
// it is unset. The handler registry collects the declarations; `courier-ctl
// channel add` checks a new channel against them, `channel types` prints
// them, MissingConfig refuses a send by them, and courier-recv(8) lists
// them (a test keeps the page and the declarations the same). The handler
// tests hold each handler to its declaration: a setting it reads that it
// does not declare fails them.
//
// Thread-safety: declarations are immutable after construction.
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace courier {

// Whether a channel needs a setting.
enum class ConfigNeed {
  kOptional,
  kToSend,     // no send starts without it: E "no <key> set for <TYPE> channel"
  kToReceive,  // webhooks are refused without it (the key their signatures are checked with)
};

struct ConfigKeyInfo {
  ConfigKeyInfo(std::string name, ConfigNeed need, bool secret, std::string meaning, std::string default_value = "",
                std::string or_key = "")
      : name(std::move(name)),
        need(need),
        secret(secret),
        meaning(std::move(meaning)),
        default_value(std::move(default_value)),
        or_key(std::move(or_key)) {}

  std::string name;
  ConfigNeed need = ConfigNeed::kOptional;
  // A credential: shown masked and redacted from logs (IsSecretConfigKey
  // must agree, since redaction goes by the key's name).
  bool secret = false;
  std::string meaning;        // one line, for `channel types` and the man page
  std::string default_value;  // what applies when it is unset; "" for nothing
  // Another key that serves in this one's place (an older name, another
  // credential): a needed key is set when either is.
  std::string or_key;
  // The key that webhooks are authenticated with (a signing secret, a
  // shared token): when a channel of the type has it, the handler refuses
  // a webhook whose signature or token does not match (401, nothing
  // stored). `channel add` warns when a type has such keys and the new
  // channel sets none of them.
  bool verifies_webhooks = false;

  bool needed() const { return need != ConfigNeed::kOptional; }
  // This declaration, marked as a key that verifies webhooks:
  //   ConfigKeyInfo{"secret_token", ConfigNeed::kOptional, true, "..."}.VerifiesWebhooks()
  ConfigKeyInfo VerifiesWebhooks() && {
    verifies_webhooks = true;
    return std::move(*this);
  }
};

struct ChannelTypeInfo {
  std::string code;  // upper-case: "KN"
  std::string name;  // "Kannel"
  std::vector<std::string> schemes;
  std::vector<ConfigKeyInfo> config;

  // The declared key `name` (exact case); nullptr when undeclared.
  const ConfigKeyInfo* Key(const std::string& name) const;
  // The needed keys (kToSend, and kToReceive when `receive_too`) that have
  // no value in `config`, neither under their name nor their or_key, in
  // declaration order; each as "<key>" or "<key> or <or_key>".
  std::vector<std::string> MissingKeys(const std::map<std::string, std::string>& config, bool receive_too) const;
  // The keys that verify webhooks (verifies_webhooks), in declaration
  // order; empty when the type cannot check where its webhooks come from.
  std::vector<std::string> WebhookVerificationKeys() const;
  // True when the type can verify webhooks but `config` sets none of the
  // keys it verifies them with (nor their or_key): its webhooks would be
  // taken from anyone.
  bool AcceptsUnverifiedWebhooks(const std::map<std::string, std::string>& config) const;
};

}  // namespace courier
