#pragma once
// WAC, FBA, IG — Meta's app-level webhooks and the Graph API send
// endpoints (reference handlers.md A.2 "FB" and B "meta"): WhatsApp Cloud
// API, Facebook Messenger and Instagram messaging share the webhook
// verification, the X-Hub-Signature-256 check, the Graph API error shape
// and its throttling answers; they differ in payloads.
//
// Routes: GET receive answers Meta's verification challenge (hub.mode =
// subscribe, hub.verify_token = config verify_token or webhook_secret,
// hub.challenge echoed as plain text); POST receive takes the signed
// webhook (sha256=hex(HMAC-SHA256(config app_secret, raw body))) and
// yields msgs and statuses by external id.
//
// A Meta app posts the webhooks of all its numbers, pages or accounts to
// one URL per product, so the same routes are served without a uuid
// (AppWebhooks): /c/wac/receive routes each change by the phone number id
// in its value.metadata, /c/fba/receive and /c/ig/receive each entry by
// its id (the page or Instagram account id) matched against the channel's
// address. The webhook is authentic for a channel when the signature
// verifies with that channel's app_secret; the verify token of a GET may
// be any channel's of the type. The per-uuid routes take the same
// payloads and skip what is for another number or page.
//
// Config: access_token (auth_token also accepted), app_secret,
// verify_token (or webhook_secret), api_version (default v21.0),
// max_length (text split length; default the provider's: WhatsApp 4096
// characters, Messenger 2000, Instagram 1000 and never over 1000 bytes);
// WAC: phone_number_id (else the address); FBA: page_id (else the
// address); IG: page_id (else "me", the page the token belongs to). The
// address of FBA and IG channels is the page id and the Instagram account
// id that webhooks name in entry[].id.
//
// Send errors (shared with D3C, which relays the same Graph errors): 429
// and Meta's throttling codes re-queue after Retry-After (else 1 s for
// throughput, 6 s for the WhatsApp pair limit, 60 s for app, page, spam and
// business limits); 131050 (WhatsApp) and 551 (Messenger, Instagram) fail
// the msg and stop the contact; errors Meta calls passing (codes 1, 2,
// 1200, 131000, 131016, 133004, or is_transient) are E; any other error
// object, also inside a 2xx, and any other 4xx fail it (F); a 2xx without
// the message id fails it (the message may have gone).
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "handlers/handler.h"

namespace courier {

namespace meta {

// The shape of a WhatsApp message body. The default is the Cloud API's
// (WAC, and D3C, which relays it). A provider that keeps the older
// On-Premises API (TRN) takes the same messages in another envelope and
// refers to media by the id an upload to it gave.
struct WhatsAppShape {
  // On-Premises: no messaging_product or recipient_type; preview_url
  // beside text, not in it, and only when true; a template carries
  // template_namespace (when not empty).
  bool on_premise = false;
  // `to`; TRN names a business-scoped user id (not a phone number) in `recipient`.
  std::string recipient_field = "to";
  std::string template_namespace;
  // An attachment's media as {key, value} for the URL; unset: {"link", url}.
  std::function<std::pair<std::string, std::string>(const std::string& url)> media_reference;
};

}  // namespace meta

class MetaHandler : public ChannelHandler, public AppWebhooks {
 public:
  enum class Kind { kWhatsApp, kMessenger, kInstagram };
  explicit MetaHandler(Kind kind) : kind_(kind) {}

  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  // Media in a webhook is a provider id resolved by a request to the
  // provider's API.
  bool ReceiveMayCallOut(const Route&) const override { return true; }
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
  HttpRequestSpec MediaRequest(const Channel& channel, const std::string& url) const override;

  const AppWebhooks* AppLevel() const override { return this; }
  std::vector<Route> AppRoutes() const override;
  std::string RoutingKey(const Channel& channel) const override;
  WebhookResult Verify(const std::vector<const Channel*>& channels, const WebhookRequest& request) const override;
  AppWebhookSplit Split(const WebhookRequest& request) const override;
  std::optional<WebhookResult> Authenticate(const Channel& channel, const WebhookRequest& request) const override;
  WebhookResult ReceivePart(const Channel& channel, const WebhookRequest& part, HandlerContext& ctx) const override;

  // The provider's text limit: WhatsApp 4096 characters, Messenger 2000,
  // Instagram 1000 (bytes of UTF-8, which also bound every part).
  size_t ProviderTextMax() const;

  // The JSON bodies one outgoing msg becomes, in sending order: attachments
  // first, then the text (split at `max_length` characters, 0 for the
  // provider's limit), with the quick replies on the last part. Public so
  // that D3C, which relays the Cloud API, sends the same bodies, and so the
  // quick reply payloads can be tested on their own.
  //
  // WhatsApp shows text replies as reply buttons (up to 3) or a list (up
  // to 10 rows, each with its description), else a location reply as a
  // location request, else the first url reply as a URL button; one kind
  // a message. Messenger and Instagram show text replies only (Meta
  // retired its location quick reply). `shape` applies to WhatsApp only.
  std::vector<std::string> Payloads(const std::string& recipient, const std::string& text,
                                    const std::vector<std::string>& attachments,
                                    const std::vector<QuickReply>& quick_replies, size_t max_length = 0,
                                    const meta::WhatsAppShape& shape = {}) const;

  // The bodies `msg` becomes: on WhatsApp a msg with a template is that
  // template message alone (its language the template's, else the msg's
  // locale, "en-US" written en_US), otherwise Payloads(). InvalidArgument
  // (the msg fails unsent) for a template without a language.
  Result<std::vector<std::string>> MsgPayloads(const std::string& recipient, const Msg& msg, size_t max_length = 0,
                                               const meta::WhatsAppShape& shape = {}) const;

 private:
  Kind kind_;
};

namespace meta {

// What the legacy per-page Messenger type (FB, facebook_legacy.h) reads
// as FBA does.
//
// nullopt when the request carries a valid X-Hub-Signature-256
// ("sha256=" + hex(HMAC-SHA256(config app_secret, raw body))); else 401
// (missing or wrong signature), or 400 when the channel has no app_secret.
std::optional<WebhookResult> CheckSignature(const Channel& channel, const WebhookRequest& request,
                                            const std::string& code);
// The MIME type of a Messenger attachment of `kind` (image, video, audio,
// file ...) at `url`: the URL's extension when it agrees with the kind,
// else the kind's usual type.
std::string TypedMime(const std::string& kind, const std::string& url);
// A referral object's parameters (source, type, ref, ad_id, referer_uri,
// ads_context_data.ad_title), as a referral event's extra.
std::map<std::string, std::string> ReferralExtra(const json::ObjectPtr& referral);

// A Graph API error object, {"error":{"message","type","code",
// "error_subcode","is_transient","error_data":{"details"},"fbtrace_id"}}.
struct GraphError {
  bool present = false;  // the answer had one
  int64_t code = 0;
  int64_t subcode = 0;
  bool transient = false;
  std::string text;  // message, then ": " and error_data.details when given
};
GraphError ReadGraphError(const json::ObjectPtr& answer);
// "received error from <provider>: <text> (code C[, subcode S])"
std::string GraphErrorText(const std::string& provider, const GraphError& e);

// How long to wait when `e` (or a bare 429, `e` empty) throttled us.
int ThrottleSeconds(const GraphError& e, const HttpExchange& exchange);

// What an answer that is not a success means for the msg: an answer with
// an error object (any HTTP status, `e` read from it) or a non-2xx answer
// without one (`e` empty), by the rules in the header comment; the logs
// are the msg's so far, `error` its reason.
SendResult GraphFailure(MetaHandler::Kind kind, const GraphError& e, std::string error, std::vector<ChannelLog> logs,
                        const HttpExchange& exchange);

// A provider that relays the Graph API and answers some refusals in a
// shape of its own (360Dialog's {"meta": {...}}).
struct Relay {
  std::string provider;  // as error texts name it: "360dialog"
  struct Refusal {
    std::string error;
    bool rate_limited = false;  // throttled (Retry-After, else 60 s), not F
  };
  // The refusal an answer without a Graph error object states in the
  // relay's shape; nullopt when it states none.
  std::function<std::optional<Refusal>(const json::ObjectPtr& answer)> refusal;
};

// Sends a msg's payloads, each as the body of `request` (its URL and
// headers), one after another until one fails, and judges every answer
// as `kind`'s API answers: W with the first payload's message id, a
// success without an id (handlers::AcceptedWithoutId), or GraphFailure's
// verdict on the first failure, its error named for the provider (the
// relay's, when one is given, whose own refusals are judged first).
SendResult SendPayloads(MetaHandler::Kind kind, const Channel& channel, const Msg& msg, const HttpRequestSpec& request,
                        const std::vector<std::string>& payloads, HandlerContext& ctx, const Relay* relay = nullptr);

}  // namespace meta

}  // namespace courier
