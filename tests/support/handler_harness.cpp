#include "handler_harness.h"

#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "core/clock.h"
#include "fuzz_webhook.h"

namespace courier::testing {
namespace {

// Every setting `handler` read while running a case is one its type
// declares (channel_types.h): what `channel add` checks, `channel types`
// shows and the man page lists is all the handler uses.
void ExpectDeclared(const ChannelHandler& handler, const std::set<std::string>& reads) {
  for (const auto& key : reads)
    EXPECT_NE(handler.Type().Key(key), nullptr)
        << handler.Code() << " reads the setting '" << key << "', which its type does not declare";
}

// With COURIER_FUZZ_SEEDS set to a directory, each receive case is also
// written there in the handler fuzz target's input format, named by a
// hash of its content: how fuzz/corpus/handler_receive is made (see
// fuzz/README.md).
void WriteFuzzSeed(const ChannelHandler& handler, const Channel& channel, const ReceiveCase& c,
                   const std::map<std::string, std::string>& headers) {
  const char* dir = std::getenv("COURIER_FUZZ_SEEDS");
  if (dir == nullptr || *dir == '\0') return;
  FuzzWebhook w{.type = handler.Code(), .method = c.method, .action = c.action, .address = channel.address,
                .country = channel.country, .schemes = channel.schemes, .config = channel.config,
                .query = c.query, .headers = headers, .body = c.body};
  // The target signs bodies itself (a mutated body keeps a valid
  // signature): "sign" asks it to.
  for (const char* signed_header : {"x-hub-signature-256", "x-line-signature"})
    if (w.headers.count(signed_header)) w.headers[signed_header] = "sign";
  auto write = [&](const FuzzWebhook& seed_webhook, const char* prefix) {
    const std::string seed = EncodeFuzzWebhook(seed_webhook);
    std::ostringstream name;
    name << dir << "/" << handler.Code() << prefix << "-" << std::hex << std::hash<std::string>{}(seed);
    std::ofstream(name.str(), std::ios::binary) << seed;
  };
  write(w, "");
  // The same webhook at the type's app-level route, where it has one.
  if (handler.AppLevel() != nullptr) {
    w.app = true;
    write(w, "-app");
  }
}

}  // namespace

Channel TestChannel(const std::string& type, const std::string& address, const std::string& country,
                    std::map<std::string, std::string> config, std::vector<std::string> schemes) {
  Channel c;
  c.id = 1;
  c.uuid = kTestChannelUUID;
  c.type = type;
  c.address = address;
  c.country = country;
  c.config = std::move(config);
  c.schemes = std::move(schemes);
  return c;
}

void RunReceiveCases(const ChannelHandler& handler, const Channel& base_channel, const std::vector<ReceiveCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(handler.Code() + " receive: " + c.label);
    // Only cases that script outgoing calls made while receiving (media
    // lookups) need a provider; starting one costs a quarter second.
    std::unique_ptr<MockProvider> provider;
    Channel channel = base_channel;
    if (c.setup) {
      provider = std::make_unique<MockProvider>();
      channel.config["base_url"] = provider->url();
      c.setup(channel, *provider);
    }

    const Route* route = nullptr;
    auto routes = handler.Routes();
    for (const auto& r : routes)
      if (r.action == c.action && r.method == c.method) route = &r;
    ASSERT_NE(route, nullptr) << "no route " << c.method << " " << c.action;

    std::map<std::string, std::string> headers = c.headers;
    if (!c.content_type.empty()) headers["content-type"] = c.content_type;
    std::string uri = "/c/" + handler.Code() + "/" + channel.uuid + "/" + c.action + "/" + (c.query.empty() ? "" : "?" + c.query);
    WriteFuzzSeed(handler, channel, c, headers);
    auto request = WebhookRequest::Build(c.method, uri, headers, c.body, kTestBaseUrl, c.action);
    auto http = NewLoopbackHttpClient();
    HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
    std::set<std::string> reads;
    channel.config_reads = &reads;
    WebhookResult result = handler.Receive(*route, channel, request, ctx);
    ExpectDeclared(handler, reads);

    // Invariant 6 for requests made while receiving, also on errors.
    for (const auto& log : result.extra_logs)
      for (const auto& secret : channel.SecretValues())
        if (secret.size() >= 3) {
          EXPECT_EQ(log.request.find(secret), std::string::npos) << "secret in extra log request";
          EXPECT_EQ(log.url.find(secret), std::string::npos) << "secret in extra log url";
          EXPECT_EQ(log.error.find(secret), std::string::npos) << "secret in extra log error";
        }
    // Nor in what is stored and answered (a Telegram file URL carried the
    // bot token into the msg, its events and the 200 answer).
    for (const auto& secret : channel.SecretValues())
      if (secret.size() >= 3) {
        for (const auto& m : result.msgs) {
          EXPECT_EQ(m.text.find(secret), std::string::npos) << "secret in msg text";
          for (const auto& a : m.attachments) EXPECT_EQ(a.find(secret), std::string::npos) << "secret in attachment";
        }
        if (result.response_body) {
          EXPECT_EQ(result.response_body->find(secret), std::string::npos) << "secret in answer";
        }
        EXPECT_EQ(result.error.find(secret), std::string::npos) << "secret in error";
      }
    if (c.extra_logs) {
      EXPECT_EQ(result.extra_logs.size(), *c.extra_logs);
    }

    if (!c.error.empty()) {
      EXPECT_NE(result.error.find(c.error), std::string::npos) << "error was: '" << result.error << "'";
      EXPECT_EQ(result.unauthorized, c.unauthorized);
      EXPECT_TRUE(result.msgs.empty());
      EXPECT_TRUE(result.statuses.empty());
      continue;
    }
    ASSERT_EQ(result.error, "") << "unexpected error";
    if (!c.ignored.empty()) {
      EXPECT_NE(result.ignored.find(c.ignored), std::string::npos) << "ignored was: '" << result.ignored << "'";
      continue;
    }
    EXPECT_EQ(result.ignored, "");
    ASSERT_EQ(result.msgs.size(), c.msgs.size());
    for (size_t i = 0; i < c.msgs.size(); ++i) {
      const Msg& m = result.msgs[i];
      const ExpectedMsg& e = c.msgs[i];
      EXPECT_EQ(m.urn, e.urn);
      EXPECT_EQ(m.text, e.text);
      EXPECT_EQ(m.external_id, e.external_id);
      EXPECT_EQ(m.contact_name, e.contact_name);
      std::vector<std::string> want_attachments = e.attachments;
      for (auto& a : want_attachments) {
        auto pos = a.find("{{mock}}");
        if (pos != std::string::npos && provider) a.replace(pos, 8, provider->url());
      }
      EXPECT_EQ(m.attachments, want_attachments);
      if (e.received_on) {
        EXPECT_EQ(m.received_on, e.received_on);
      }
      if (e.no_received_on) {
        EXPECT_FALSE(m.received_on) << *m.received_on;
      }
      EXPECT_EQ(m.channel_uuid, channel.uuid);
      EXPECT_EQ(m.direction, Direction::kIn);
    }
    ASSERT_EQ(result.statuses.size(), c.statuses.size());
    for (size_t i = 0; i < c.statuses.size(); ++i) {
      EXPECT_EQ(MsgStatusString(result.statuses[i].status), MsgStatusString(c.statuses[i].status));
      EXPECT_EQ(result.statuses[i].msg_id, c.statuses[i].msg_id);
      EXPECT_EQ(result.statuses[i].external_id, c.statuses[i].external_id);
      EXPECT_EQ(result.statuses[i].msg_uuid, c.statuses[i].msg_uuid);
      EXPECT_EQ(result.statuses[i].channel_uuid, channel.uuid);
    }
    EXPECT_EQ(result.stop_urns, c.stop_urns);
    ASSERT_EQ(result.events.size(), c.events.size());
    for (size_t i = 0; i < c.events.size(); ++i) {
      const ChannelEvent& got = result.events[i];
      const ExpectedEvent& want = c.events[i];
      EXPECT_EQ(ChannelEventTypeName(got.type), std::string(ChannelEventTypeName(want.type)));
      EXPECT_EQ(got.urn, want.urn);
      EXPECT_EQ(got.contact_name, want.contact_name);
      EXPECT_EQ(got.extra, want.extra);
      if (want.occurred_on) {
        EXPECT_EQ(got.occurred_on, want.occurred_on);
      }
    }
    std::vector<std::pair<std::string, std::string>> urn_auths;
    for (const auto& a : result.urn_auths) urn_auths.emplace_back(a.urn, a.auth);
    EXPECT_EQ(urn_auths, c.urn_auths);
    if (!c.response_body.empty()) {
      ASSERT_TRUE(result.response_body.has_value());
      EXPECT_EQ(*result.response_body, c.response_body);
    }
  }
}

void RunSendCases(const ChannelHandler& handler, const Channel& base_channel, const std::vector<SendCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(handler.Code() + " send: " + c.label);
    MockProvider provider;
    for (const auto& [prefix, response] : c.responses) provider.On(prefix, response);
    Channel channel = base_channel;
    channel.config["base_url"] = provider.url();
    if (c.setup) c.setup(channel);
    // A send_url that names the provider's host follows the mock too.
    for (auto& [k, v] : channel.config) {
      auto pos = v.find("{{mock}}");
      if (pos != std::string::npos) v.replace(pos, 8, provider.url());
    }

    Msg msg;
    msg.id = c.msg_id;
    msg.uuid = "0191e180-7d60-7000-aded-7d8b151cbd5b";
    msg.channel_id = channel.id;
    msg.channel_uuid = channel.uuid;
    msg.channel_type = channel.type;
    msg.direction = Direction::kOut;
    msg.status = MsgStatus::kQueued;
    msg.urn = c.urn;
    msg.text = c.text;
    msg.attachments = c.attachments;
    msg.quick_replies = c.quick_replies;
    msg.templating = c.templating;
    msg.locale = c.locale;
    msg.urn_auth = c.urn_auth;

    auto http = NewLoopbackHttpClient();
    HandlerContext ctx{*http, Clock::System(), kTestBaseUrl};
    std::set<std::string> reads;
    channel.config_reads = &reads;
    SendResult result = handler.Send(channel, msg, ctx);
    ExpectDeclared(handler, reads);

    EXPECT_EQ(MsgStatusString(result.status), MsgStatusString(c.status)) << "error: " << result.error;
    EXPECT_EQ(result.external_id, c.external_id);
    if (!c.error.empty()) {
      EXPECT_NE(result.error.find(c.error), std::string::npos) << "error was: " << result.error;
    }
    EXPECT_EQ(result.stop_contact, c.stop_contact);
    if (c.throttled_for_seconds) {
      EXPECT_EQ(result.throttled_for_seconds, c.throttled_for_seconds);
    }

    auto requests = provider.requests();
    ASSERT_EQ(requests.size(), c.requests.size());
    for (size_t i = 0; i < c.requests.size(); ++i) {
      const auto& got = requests[i];
      const auto& want = c.requests[i];
      EXPECT_EQ(got.method, want.method) << "request " << i;
      if (!want.path.empty()) {
        EXPECT_EQ(got.path, want.path) << "request " << i;
      }
      for (const auto& [k, v] : want.form) {
        auto it = got.form.find(k);
        ASSERT_NE(it, got.form.end()) << "form field " << k << " missing in request " << i << ": " << got.body;
        EXPECT_EQ(it->second, v) << "form field " << k;
      }
      for (const auto& [k, v] : want.params) {
        auto it = got.params.find(k);
        ASSERT_NE(it, got.params.end()) << "query param " << k << " missing in request " << i << ": " << got.uri;
        EXPECT_EQ(it->second, v) << "query param " << k;
      }
      for (const auto& [k, v] : want.headers) {
        auto it = got.headers.find(k);
        ASSERT_NE(it, got.headers.end()) << "header " << k << " missing in request " << i;
        EXPECT_EQ(it->second, v) << "header " << k;
      }
      if (!want.body.empty()) {
        EXPECT_EQ(got.body, want.body) << "request " << i;
      }
      for (const auto& part : want.body_contains)
        EXPECT_NE(got.body.find(part), std::string::npos) << "body lacks '" << part << "': " << got.body;
    }
    size_t want_logs = c.logs ? c.logs : c.requests.size();
    EXPECT_EQ(result.logs.size(), want_logs);
    // Invariant 6: no secret of the channel in any log.
    for (const auto& log : result.logs)
      for (const auto& secret : channel.SecretValues())
        if (secret.size() >= 3) {
          EXPECT_EQ(log.request.find(secret), std::string::npos) << "secret in log request";
          EXPECT_EQ(log.url.find(secret), std::string::npos) << "secret in log url";
          EXPECT_EQ(log.error.find(secret), std::string::npos) << "secret in log error";
        }
  }
}

}  // namespace courier::testing
