// Fuzz target: every handler's webhooks (receive, status and event routes,
// and the app-level webhooks of the types that have them), each input one
// webhook to one channel in the format of tests/support/fuzz_webhook.h.
// The request goes the way courier-recv sends it: WebhookRequest::Build
// from method, uri, headers and body, then the handler's Receive for the
// route the method and action name (or, for an input marked %app=1,
// Verify / Split, Authenticate and ReceivePart of the type's app-level
// route), as lib/recv/receiver.cpp does.
//
// COURIER_FUZZ_TYPE=KN keeps the fuzzer on one type: the type code in
// each input is replaced by it.
//
// The fuzzer cannot forge an HMAC: a body signature header whose value is
// "sign" (Meta's x-hub-signature-256, LINE's x-line-signature) is replaced
// by the body's true signature with the channel's secret, so mutated
// bodies get past the check to the parsing behind it.
//
// A handler that calls out while receiving (a media lookup) gets an
// HttpClient that answers every request with a 404 and never touches the
// network.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "fuzz_webhook.h"
#include "handlers/registry.h"
#include "util/hmac.h"

namespace {

using namespace courier;

class NoNetwork : public HttpClient {
 public:
  HttpExchange Do(const HttpRequestSpec& request) override {
    HttpExchange e;
    e.method = request.method;
    e.url = request.url;
    e.status_code = 404;
    e.body = "{}";
    e.request_dump = request.method + " " + request.url + "\r\n\r\n" + request.body;
    e.response_dump = "HTTP/1.1 404 Not Found\r\n\r\n{}";
    return e;
  }
};

constexpr const char* kChannelUUID = "8eb23e93-5ecb-45ba-b726-3b064e0c56ab";
constexpr const char* kBaseUrl = "https://courier.test";

void Sign(testing::FuzzWebhook& w) {
  auto signed_header = [&w](const char* name, const std::string& value) {
    auto it = w.headers.find(name);
    if (it != w.headers.end() && it->second == "sign") it->second = value;
  };
  auto config = [&w](const char* key) {
    auto it = w.config.find(key);
    return it == w.config.end() ? std::string() : it->second;
  };
  signed_header("x-hub-signature-256", "sha256=" + HmacSha256Hex(config("app_secret"), w.body));
  signed_header("x-line-signature", HmacSha256Base64(config("secret"), w.body));
}

const HandlerRegistry& Registry() {
  static const HandlerRegistry registry = HandlerRegistry::Build();
  return registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  testing::FuzzWebhook w =
      testing::DecodeFuzzWebhook(std::string_view(reinterpret_cast<const char*>(data), size));
  static const char* only_type = std::getenv("COURIER_FUZZ_TYPE");
  if (only_type != nullptr && *only_type != '\0') w.type = only_type;
  const ChannelHandler* handler = Registry().Find(w.type);
  if (handler == nullptr) return -1;  // not worth keeping in the corpus

  Sign(w);

  Channel channel;
  channel.id = 1;
  channel.uuid = kChannelUUID;
  channel.type = handler->Code();
  channel.address = w.address;
  channel.country = w.country;
  channel.schemes = w.schemes;
  channel.config = w.config;

  NoNetwork http;
  HandlerContext ctx{http, Clock::System(), kBaseUrl};

  for (const Route& route : handler->Routes()) {
    if (w.app) break;
    if (route.method != w.method || route.action != w.action) continue;
    const std::string uri = "/c/" + handler->Code() + "/" + channel.uuid + "/" + w.action + "/" +
                            (w.query.empty() ? "" : "?" + w.query);
    WebhookRequest request = WebhookRequest::Build(w.method, uri, w.headers, w.body, kBaseUrl, route.action);
    WebhookResult result = handler->Receive(route, channel, request, ctx);
    if (result.answer_from_store) result.answer_from_store(IntakeOutcome{});
    return 0;
  }

  const AppWebhooks* app = handler->AppLevel();
  if (app == nullptr) return -1;
  for (const Route& route : app->AppRoutes()) {
    if (route.method != w.method || route.action != w.action) continue;
    std::string type_path = handler->Code();
    for (auto& c : type_path) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    const std::string uri = "/c/" + type_path + "/" + w.action + (w.query.empty() ? "" : "?" + w.query);
    WebhookRequest request = WebhookRequest::Build(w.method, uri, w.headers, w.body, kBaseUrl, route.action);
    if (w.method == "GET") {
      app->Verify({&channel}, request);
      return 0;
    }
    AppWebhookSplit split = app->Split(request);
    const std::string key = app->RoutingKey(channel);
    for (const AppWebhookPart& part : split.parts) {
      // As courier-recv: a share goes only to the channel its key names,
      // and only once the whole webhook is authentic for that channel.
      if (key.empty() || part.routing_key != key) continue;
      if (app->Authenticate(channel, request)) continue;
      WebhookRequest share = request;
      share.body = part.body;
      app->ReceivePart(channel, share, ctx);
    }
    return 0;
  }
  return -1;
}
