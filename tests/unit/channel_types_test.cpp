// Each channel type as its handler declares it (channel_types.h), held to
// the handler's code: the declarations are well formed, a send needs
// exactly the settings declared as needed to send, and the settings a
// handler reads are ones it declares. (Every table-driven handler test
// checks the last too, through the harness, for the paths its cases take.)
#include "handlers/channel_types.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/channel.h"
#include "core/urn.h"
#include "handler_harness.h"
#include "handlers/registry.h"
#include "http/http_client.h"
#include "mock_provider.h"

namespace courier {
namespace {

using testing::MockProvider;

// A recipient each scheme's handlers take.
std::string RecipientFor(const std::string& scheme) {
  if (scheme == "tel") return "tel:+250788383383";
  if (scheme == "whatsapp") return "whatsapp:250788383383";
  return scheme + ":12345";
}

struct Sent {
  SendResult result;
  size_t requests = 0;
  std::set<std::string> reads;
};

// Sends "hello" on a channel of `type` with `config`, its URLs pointing
// at a local provider that answers every request 200 {}.
Sent SendWith(const ChannelHandler& handler, std::map<std::string, std::string> config) {
  MockProvider provider;
  const ChannelTypeInfo& type = handler.Type();
  for (auto& [key, value] : config)
    if (value == "{{mock}}") value = provider.url();
  Channel channel = testing::TestChannel(type.code, "2020", "RW", config, type.schemes);
  Sent sent;
  channel.config_reads = &sent.reads;
  Msg msg;
  msg.id = 10;
  msg.channel_id = channel.id;
  msg.channel_uuid = channel.uuid;
  msg.channel_type = channel.type;
  msg.direction = Direction::kOut;
  msg.urn = RecipientFor(type.schemes.front());
  msg.urn_auth = "a-device-token";
  msg.text = "hello";
  auto http = NewLoopbackHttpClient();
  HandlerContext ctx{*http, Clock::System(), testing::kTestBaseUrl};
  sent.result = handler.Send(channel, msg, ctx);
  sent.requests = provider.count();
  return sent;
}

// The needed settings with values, URLs at the provider.
std::map<std::string, std::string> NeededConfig(const ChannelTypeInfo& type) {
  std::map<std::string, std::string> config = {{"base_url", "{{mock}}"}};
  for (const auto& key : type.config)
    if (key.needed()) config[key.name] = key.name == "send_url" || key.name == "base_url" ? "{{mock}}" : "value";
  return config;
}

bool IsMissingConfigError(const std::string& error, const std::string& code) {
  return error.rfind("no ", 0) == 0 && error.find(" set for " + code + " channel") != std::string::npos;
}

TEST(ChannelTypes, DeclarationsAreWellFormed) {
  const HandlerRegistry registry = HandlerRegistry::Build();
  ASSERT_GE(registry.Types().size(), 28u);  // every type the registry lists
  std::set<std::string> codes;
  for (const ChannelTypeInfo* type : registry.Types()) {
    SCOPED_TRACE(type->code);
    EXPECT_TRUE(codes.insert(type->code).second) << "code declared twice";
    EXPECT_FALSE(type->code.empty());
    for (char c : type->code) EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << "code not upper-case";
    EXPECT_FALSE(type->name.empty());
    ASSERT_FALSE(type->schemes.empty());
    for (const auto& scheme : type->schemes) EXPECT_TRUE(URN::IsKnownScheme(scheme)) << scheme;
    EXPECT_EQ(registry.FindType(type->code), type);
    std::set<std::string> keys;
    for (const auto& key : type->config) {
      SCOPED_TRACE(key.name);
      EXPECT_TRUE(keys.insert(key.name).second) << "key declared twice";
      EXPECT_FALSE(key.meaning.empty()) << "no meaning";
      // Redaction goes by the key's name: a declared secret must be one it
      // redacts, and what it redacts is shown as secret.
      EXPECT_EQ(key.secret, IsSecretConfigKey(key.name)) << "secret flag and IsSecretConfigKey disagree";
      if (!key.or_key.empty()) {
        EXPECT_NE(type->Key(key.or_key), nullptr) << "or_key '" << key.or_key << "' is not declared";
        EXPECT_TRUE(key.needed()) << "only a needed key has an or_key";
      }
      EXPECT_FALSE(key.needed() && !key.default_value.empty()) << "a needed key has no default";
    }
  }
  EXPECT_EQ(registry.FindType("kn"), registry.FindType("KN"));  // any case
  EXPECT_EQ(registry.FindType("ZZ"), nullptr);
}

TEST(ChannelTypes, MissingKeys) {
  ChannelTypeInfo type{"XX",
                       "Example",
                       {"tel"},
                       {
                           {"token", ConfigNeed::kToSend, true, "t", "", "old_token"},
                           {"old_token", ConfigNeed::kOptional, true, "older name of token"},
                           {"secret", ConfigNeed::kToReceive, true, "s"},
                           {"url", ConfigNeed::kToSend, false, "u"},
                           {"mode", ConfigNeed::kOptional, false, "m", "fast"},
                       }};
  using Config = std::map<std::string, std::string>;
  EXPECT_EQ(type.MissingKeys(Config{}, false), (std::vector<std::string>{"token or old_token", "url"}));
  EXPECT_EQ(type.MissingKeys(Config{}, true), (std::vector<std::string>{"token or old_token", "secret", "url"}));
  EXPECT_EQ(type.MissingKeys(Config{{"old_token", "x"}, {"url", "u"}}, true), (std::vector<std::string>{"secret"}));
  EXPECT_TRUE(type.MissingKeys(Config{{"token", "x"}, {"url", "u"}, {"secret", "s"}}, true).empty());
  // An empty value is no value.
  EXPECT_EQ(type.MissingKeys(Config{{"token", ""}, {"url", "u"}}, false),
            (std::vector<std::string>{"token or old_token"}));
  EXPECT_NE(type.Key("mode"), nullptr);
  EXPECT_EQ(type.Key("MODE"), nullptr);
}

// What MissingConfig refuses is what the type declares as needed to send:
// with every such setting a send gets past the checks, and without any
// one of them (or what may stand in for it) it is E "no <key> set for
// <TYPE> channel" with one 417 log and no request.
TEST(ChannelTypes, SendNeedsExactlyTheSettingsDeclaredForSending) {
  const HandlerRegistry registry = HandlerRegistry::Build();
  for (const auto& handler : registry.handlers()) {
    const ChannelTypeInfo& type = handler->Type();
    SCOPED_TRACE(type.code);
    const auto config = NeededConfig(type);
    const Sent complete = SendWith(*handler, config);
    EXPECT_FALSE(IsMissingConfigError(complete.result.error, type.code)) << complete.result.error;

    for (const auto& key : type.config) {
      if (key.need != ConfigNeed::kToSend) continue;
      SCOPED_TRACE("without " + key.name);
      auto without = config;
      without.erase(key.name);
      without.erase(key.or_key);
      if (key.name == "base_url") without.erase("base_url");
      const Sent sent = SendWith(*handler, without);
      EXPECT_EQ(sent.result.status, MsgStatus::kErrored);
      EXPECT_TRUE(IsMissingConfigError(sent.result.error, type.code)) << sent.result.error;
      EXPECT_NE(sent.result.error.find(key.name), std::string::npos) << sent.result.error;
      EXPECT_EQ(sent.requests, 0u);
      ASSERT_EQ(sent.result.logs.size(), 1u);
      EXPECT_EQ(sent.result.logs[0].status_code, kNilStatusCode);

      if (key.or_key.empty()) continue;
      auto instead = without;  // what stands in for it will do
      instead[key.or_key] = key.name == "base_url" ? "{{mock}}" : "value";
      const Sent stood_in = SendWith(*handler, instead);
      EXPECT_FALSE(IsMissingConfigError(stood_in.result.error, type.code)) << stood_in.result.error;
    }
  }
}

// With every declared setting given, the settings a send and each route's
// receive read are all declared (the paths only a set option opens, such
// as Vonage's signature_method, included).
TEST(ChannelTypes, HandlersReadOnlyDeclaredSettings) {
  const HandlerRegistry registry = HandlerRegistry::Build();
  for (const auto& handler : registry.handlers()) {
    const ChannelTypeInfo& type = handler->Type();
    SCOPED_TRACE(type.code);
    std::map<std::string, std::string> config;
    for (const auto& key : type.config)
      config[key.name] = key.name == "send_url" || key.name == "base_url" ? "{{mock}}" : "value";
    std::set<std::string> reads = SendWith(*handler, config).reads;

    Channel channel = testing::TestChannel(type.code, "2020", "RW", config, type.schemes);
    channel.config_reads = &reads;
    auto http = NewLoopbackHttpClient();
    HandlerContext ctx{*http, Clock::System(), testing::kTestBaseUrl};
    for (const auto& route : handler->Routes()) {
      for (const std::string body : {"", "{}", "from=%2B250788383383&text=hi&id=1"}) {
        auto request = WebhookRequest::Build(route.method, "/c/x/" + channel.uuid + "/" + route.action, {}, body,
                                             testing::kTestBaseUrl, route.action);
        handler->Receive(route, channel, request, ctx);
      }
    }
    for (const auto& key : reads)
      EXPECT_NE(type.Key(key), nullptr) << type.code << " reads the undeclared setting '" << key << "'";
  }
}

}  // namespace
}  // namespace courier
