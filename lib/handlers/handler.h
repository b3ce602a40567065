#pragma once
// ChannelHandler: everything particular to one provider. A handler turns
// a provider's webhook into msgs, statuses and stops (receive side) and a
// queued msg into provider requests (send side). It owns no state between
// calls and never touches the store: courier-recv writes what Receive()
// returns, courier-send writes what Send() returns.
//
// Thread-safety: Receive and Send are called concurrently from many
// threads; handlers must be stateless or lock what they keep.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/channel.h"
#include "core/channel_event.h"
#include "core/channel_log.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/status.h"
#include "handlers/channel_types.h"
#include "http/http_client.h"
#include "model/intake.h"
#include "model/status_update.h"
#include "model/urn_auth.h"

namespace courier {

enum class RouteKind {
  kReceive,  // yields msgs (one channel log per msg)
  kStatus,   // yields statuses (one channel log per status)
  kEvent,    // yields stops and other events
};

struct Route {
  std::string method;  // "GET" or "POST"
  // "receive", "status", "delivered" ...; empty: the channel's root,
  // /c/<type>/<uuid> (WeChat's one URL an account is given).
  std::string action;
  RouteKind kind;
};

// A webhook as a handler sees it.
struct WebhookRequest {
  std::string method;
  std::string uri;   // path and query as received
  std::string url;   // base_url + uri: what the provider called (signatures)
  std::string action;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> form;   // decoded url-encoded body, in order

  // Builds the request as the server sees it: decodes the query string and,
  // for application/x-www-form-urlencoded bodies, the form (values in the
  // charset its Content-Type declares, read into UTF-8). `headers` keys
  // must be lower-case.
  static WebhookRequest Build(const std::string& method, const std::string& uri,
                              const std::map<std::string, std::string>& headers, const std::string& body,
                              const std::string& base_url, const std::string& action);

  std::string Header(const std::string& lower_name) const;
  // The first value of `name` in the form body, then the query string
  // (the reference's r.Form order); nullopt when absent.
  std::optional<std::string> Param(const std::string& name) const;
  std::optional<std::string> QueryParam(const std::string& name) const;
  std::optional<std::string> FormParam(const std::string& name) const;
  // `name` matched in any case, the last value found winning, the query's
  // over the form's: the decoder of gateways whose senders vary the case
  // of CamelCase names (Hormuud, DMark, Kaleyra, Macrokiosk, Telesom).
  std::optional<std::string> ParamInAnyCase(const std::string& name) const;
  std::optional<std::string> QueryParamInAnyCase(const std::string& name) const;
};

// What a webhook produced. The server answers:
//   error set      -> 400 (401 when unauthorized, 503 when temporary)
//                     {"message":"Error"|"Unauthorized",...}
//   ignored set    -> 200 {"message":"Ignored","data":[{"type":"info",...}]}
//   otherwise      -> 200 with one data item per msg/status/stop,
// unless `response_body` is set, which is then sent instead of the JSON on
// success (TwiML, plain text, a challenge echo) and when ignored (the
// ignore reason then goes in the channel log's description), or
// `answer_from_store`, whose answer needs what the store holds (FCM
// register: the contact's uuid): it builds the body from the committed
// outcome, and when the store could not take the write and the intake was
// only spooled the server answers 503 (the data is kept; the provider
// retries for its answer).
struct WebhookResult {
  std::vector<Msg> msgs;
  std::vector<StatusUpdate> statuses;
  std::vector<std::string> stop_urns;
  std::vector<UrnAuthUpdate> urn_auths;  // written with the msgs, before them
  std::vector<ChannelEvent> events;      // not msgs: a conversation opened, a referral ... (uuids given on receipt)
  std::string error;       // "field 'text' required"
  bool unauthorized = false;
  // The error is a passing fault, not the request's (a media lookup
  // failed): answered 503 so the provider sends the webhook again.
  bool temporary = false;
  std::string ignored;     // why nothing was produced
  std::optional<std::string> response_body;
  std::string response_content_type;
  std::function<std::string(const IntakeOutcome&)> answer_from_store;  // a JSON body
  std::vector<ChannelLog> extra_logs;  // outgoing requests made while receiving (media lookups)

  static WebhookResult Error(std::string message);
  static WebhookResult Unauthorized(std::string message);
  static WebhookResult Ignored(std::string reason);
};

// What sending one msg produced: the status to write (W on acceptance,
// S/D if the provider says so, E retryable, F permanent) and a log per
// HTTP request made.
struct SendResult {
  MsgStatus status = MsgStatus::kErrored;
  std::string external_id;
  std::string error;            // for E/F: why
  bool stop_contact = false;    // the provider says the contact opted out
  std::optional<int> throttled_for_seconds;  // provider throttled us: re-queue without counting an error
  std::vector<ChannelLog> logs;

  // W: the provider took the msg.
  static SendResult Wired(std::string external_id, std::vector<ChannelLog> logs);
  // E: retried with backoff.
  static SendResult Errored(std::string error, std::vector<ChannelLog> logs);
  // F: never retried.
  static SendResult Failed(std::string error, std::vector<ChannelLog> logs);
};

// The log of a send that failed before any request was made (a missing
// setting, no token for the contact): status 417, the error with the
// channel's secrets redacted.
ChannelLog ErrorLog(const Channel& channel, const Msg& msg, const std::string& error, Micros now);

// What a handler may use while working.
struct HandlerContext {
  HttpClient& http;
  Clock& clock;
  std::string base_url;  // where providers reach courier-recv (callback URLs)
};

// App-level webhooks: a provider that posts the webhooks of all the
// channels of an app to one URL per channel type (Meta: every WhatsApp
// number, page or Instagram account of an app to /c/wac/receive,
// /c/fba/receive, /c/ig/receive; DESIGN.md "HTTP").

// One channel's share of an app-level webhook.
struct AppWebhookPart {
  std::string routing_key;  // names the channel: AppWebhooks::RoutingKey
  std::string body;         // the webhook as it would be for that channel alone
};

struct AppWebhookSplit {
  std::vector<AppWebhookPart> parts;  // one per routing key, in order of appearance
  std::vector<std::string> skipped;   // what names no channel, with why it is ignored
  std::string error;                  // set: the webhook is malformed (400, nothing taken)
  std::string ignored;                // set: nothing in it is for this type (200 Ignored)
};

// What a handler adds to serve app-level webhooks. courier-recv answers a
// GET with Verify; a POST it splits, finds each part's channel by routing
// key among the active channels of the type, authenticates the whole
// webhook for each of those channels, and hands each authentic part to
// ReceivePart; each channel's yield is written like a per-uuid webhook's.
//
// Thread-safety: as ChannelHandler.
class AppWebhooks {
 public:
  virtual ~AppWebhooks() = default;
  // The methods and actions served at /c/{type}/{action}, without a uuid.
  virtual std::vector<Route> AppRoutes() const = 0;
  // The key a webhook names `channel` by; "" when it has none.
  virtual std::string RoutingKey(const Channel& channel) const = 0;
  // A GET: the provider's verification, answered for `channels` (the
  // active channels of the type): the challenge when the request matches
  // any of them.
  virtual WebhookResult Verify(const std::vector<const Channel*>& channels, const WebhookRequest& request) const = 0;
  virtual AppWebhookSplit Split(const WebhookRequest& request) const = 0;
  // nullopt when the whole webhook (its raw body) is authentic for
  // `channel` (Meta: signed with its app secret); else the error to
  // record for that channel.
  virtual std::optional<WebhookResult> Authenticate(const Channel& channel, const WebhookRequest& request) const = 0;
  // One part for its channel; `part` is the request with the part's body,
  // already authenticated.
  virtual WebhookResult ReceivePart(const Channel& channel, const WebhookRequest& part, HandlerContext& ctx) const = 0;
};

class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  // The type this handler serves, declared beside its code: the code,
  // the provider's name, the schemes and every setting it reads.
  virtual const ChannelTypeInfo& Type() const = 0;
  std::string Code() const { return Type().code; }  // "KN"
  std::string Name() const { return Type().name; }  // "Kannel"
  virtual std::vector<Route> Routes() const = 0;
  virtual WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                                HandlerContext& ctx) const = 0;
  // True when Receive on `route` may make HTTP requests of its own (media
  // lookups): courier-recv then runs it off its event-loop threads.
  virtual bool ReceiveMayCallOut(const Route& /*route*/) const { return false; }
  // The app-level webhooks this type serves besides its per-uuid routes;
  // null for none (most types).
  virtual const AppWebhooks* AppLevel() const { return nullptr; }
  // True when Send addresses the device by the URN's auth (Msg::urn_auth,
  // FCM's registration token): courier-send then has the claim fetch it,
  // a lookup the msgs of other types are spared.
  virtual bool SendsToUrnAuth() const { return false; }
  virtual SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const = 0;
  // The request that downloads an incoming attachment's `url`
  // (courier-fetch(8)): a GET, carrying the channel's credentials where
  // the provider's media need them, and then only to the provider's own
  // hosts (or the channel's configured base URL's), never to wherever a
  // sender's URL points.
  virtual HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const;
  // MediaRequest for a provider whose media need a token bought first
  // (WeChat's access_token): it may call the provider through `ctx`, the
  // calls' logs added to `logs`. An error fails this attempt of the fetch,
  // to be retried. By default, MediaRequest.
  virtual Result<HttpRequestSpec> MediaRequestWithToken(const Channel& channel, const std::string& url,
                                                        HandlerContext& ctx, std::vector<ChannelLog>& logs) const;
  // A 2xx answer to `request` (MediaRequestWithToken's) that is not the
  // media but the provider's error (WeChat's {"errcode": ...} with 200):
  // the error, and whether it refused the request's token, which the
  // handler has then forgotten so the next MediaRequestWithToken buys a
  // new one. nullopt, the default: the answer is the media.
  struct MediaRefusal {
    std::string error;
    bool token_refused = false;
  };
  virtual std::optional<MediaRefusal> RefusedMedia(const Channel& /*channel*/, const HttpRequestSpec& /*request*/,
                                                   const HttpExchange& /*answer*/) const {
    return std::nullopt;
  }
};

// The routes courier-recv serves for `handler`, each as "METHOD action"
// (under /c/<type>/<uuid>/; a route on the channel's root as the full
// path, "GET /c/wc/{uuid}", spelt as courier-recv's index of routes spells
// it), then the app-level ones as full paths ("POST
// /c/wac/receive"): for scripts (courier-ctl channel types --json).
std::vector<std::string> RouteList(const ChannelHandler& handler);
// The same for people: the methods of one action together, in the order
// the actions first appear ("GET|POST receive").
std::vector<std::string> RouteSummary(const ChannelHandler& handler);

}  // namespace courier
