#pragma once
// The handlers' toolbox: what handlers share, so that a provider file
// says only what is particular to it. Field decoding with the reference's
// error texts, the External style of webhook that simple gateways copy,
// status tables, tel URNs in the channel's country, outgoing requests that
// come back as channel logs with secrets redacted, what an answer means
// for the msg, and the config checks a send starts with.
//
// The generic layer under it comes with it, so that one include is the
// whole toolbox: util/text.h (ASCII case, affixes), util/utf8.h
// (characters, splitting), util/gsm7.h, util/hmac.h (webhook signatures),
// util/mime.h and core/json.h (object accessors).
//
// Thread-safety: pure functions, except MakeCall, which is as thread-safe
// as the HttpClient it is given.
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/urn.h"
#include "handlers/handler.h"
#include "util/gsm7.h"
#include "util/hmac.h"
#include "util/mime.h"
#include "util/text.h"
#include "util/utf8.h"

namespace courier::handlers {

// Reads named fields from a request, collecting "field 'x' required"
// errors for missing required ones (the reference's wording).
//
//   Fields f(request, Fields::kForm);
//   std::string from = f.Required("from"), text = f.Required("text");
//   if (!f.ok()) return WebhookResult::Error(f.error());
class Fields {
 public:
  enum Source { kForm, kQuery, kFormOrQuery };
  Fields(const WebhookRequest& request, Source source) : request_(&request), source_(source) {}
  // Fields already gathered by name (FlatParams: JSON, form and query);
  // `params` must outlive the Fields.
  explicit Fields(const std::map<std::string, std::string>& params) : params_(&params) {}
  // Errors name fields in lower case ("field 'messagesid' required"), as
  // the reference does for providers whose fields are CamelCase.
  Fields& ErrorsInLowerCase() {
    lower_case_errors_ = true;
    return *this;
  }

  // Present and not empty, else an error and "".
  std::string Required(const std::string& name);
  std::optional<std::string> Optional(const std::string& name) const;
  // The value, "" when absent.
  std::string Value(const std::string& name) const { return Optional(name).value_or(""); }
  // The first of `names` that is present and not empty; "" when none is.
  std::string FirstOf(std::initializer_list<const char*> names) const;
  // A required integer field: missing or not a number is an error.
  int64_t RequiredInt(const std::string& name);
  // Adds an error of the handler's own.
  void AddError(std::string error) { errors_.push_back(std::move(error)); }
  bool ok() const { return errors_.empty(); }
  std::string error() const;  // errors joined with "; "

 private:
  std::string Named(const std::string& name) const;
  const WebhookRequest* request_ = nullptr;
  const std::map<std::string, std::string>* params_ = nullptr;
  Source source_ = kFormOrQuery;
  bool lower_case_errors_ = false;
  std::vector<std::string> errors_;
};

// The External style of webhook that EX defines and simple gateways copy
// (Shaqodoon, Yo!), fields read by Fields from `source`:
//   a kReceive route: the contact in `sender` or `from` (in the channel's
//     first URN scheme, normalised with its country), the text in the
//     first of `text_fields` that is present (required), and when it was
//     received in an optional RFC 3339 `date` or `time`;
//   a kStatus route: the msg by our `id`, S for the action "sent", D for
//     "delivered", F for any other ("failed");
//   a kEvent route: stops the contact in `sender` or `from`.
struct ExternalStyle {
  Fields::Source source = Fields::kFormOrQuery;
  std::vector<std::string> text_fields = {"text"};
};
WebhookResult ReceiveExternalStyle(const Route& route, const Channel& channel, const WebhookRequest& request,
                                   const ExternalStyle& style = {});

// The body as a JSON object, or the reference's error text.
Result<json::ObjectPtr> ParseJsonBody(const WebhookRequest& request);

// A provider's status word to ours; nullopt for unknown words.
std::optional<MsgStatus> MapStatus(const std::map<std::string, MsgStatus>& table, const std::string& value);

// A provider's time in milliseconds since the epoch, as Micros; none when
// it is not a plausible time (not positive, or past the year 9999), so a
// hostile number in a webhook cannot overflow the conversion.
inline std::optional<Micros> MicrosFromMillis(double ms) {
  if (!(ms > 0 && ms <= 253402300799999.0)) return std::nullopt;
  return static_cast<Micros>(ms) * 1000;
}
// The same for a provider's time in whole seconds since the epoch (a
// fraction is dropped).
inline std::optional<Micros> MicrosFromSeconds(double seconds) {
  if (!(seconds > 0 && seconds <= 253402300799.0)) return std::nullopt;
  return static_cast<Micros>(seconds) * kMicrosPerSecond;
}
// "unknown status 'x', must be one of 'a', 'b'" in the table's order
std::string UnknownStatusError(const std::string& value, const std::vector<std::string>& allowed);

// tel: URN for a number in the channel's country.
Result<URN> TelURN(const std::string& number, const Channel& channel);

// A status update for a msg by our id or by the provider's id.
StatusUpdate StatusForId(const Channel& channel, int64_t msg_id, MsgStatus status);
StatusUpdate StatusForExternalId(const Channel& channel, const std::string& external_id, MsgStatus status);
// By our msg's UUID, for providers that echo the reference we gave them.
StatusUpdate StatusForMsgUuid(const Channel& channel, const std::string& msg_uuid, MsgStatus status);

// A new incoming msg on `channel` (the server assigns uuid and times).
Msg IncomingMsg(const Channel& channel, const URN& urn, const std::string& text);

// Why a webhook yielded nothing: the reasons its events were skipped,
// joined with "; " (a reason the text already contains is not repeated),
// or `none` when none was skipped.
std::string SkippedReason(const std::vector<std::string>& skipped, const std::string& none);

// What a webhook of many events yields, and why the events that yielded
// nothing were skipped. The logs of requests made while reading it (media
// lookups) go with every answer, an error included.
struct Collector {
  WebhookResult result;
  std::vector<std::string> skipped;
  // The result; Ignored with the SkippedReason ("no messages or
  // statuses" when none) when it holds no msgs, statuses, events or stops.
  WebhookResult Finish();
  WebhookResult Fail(const std::string& error);
};

// The provider endpoint: the channel's base_url config when set (tests,
// proxies, on-prem providers), else the provider's default.
std::string BaseUrl(const Channel& channel, const std::string& default_url);

// Whether `url`'s host is one of `domains` or under one (api.twilio.com
// is under twilio.com), or the host of `base_url` (a channel's configured
// API base, as tests point it at a local provider): where a media
// download may carry the channel's credentials.
bool UrlOnHosts(const std::string& url, std::initializer_list<const char*> domains, const std::string& base_url);

// "scheme://host:port" of `url`, lower case ("" when it does not parse):
// a redirect to another origin must not carry the credentials.
std::string UrlOrigin(const std::string& url);

// Makes an outgoing request and turns the exchange into a channel log for
// `msg` with every channel secret (and any Authorization header)
// redacted. The log's error is set for transport errors and non-2xx.
struct Call {
  HttpExchange exchange;
  ChannelLog log;
  bool ok() const { return exchange.ok(); }
};
Call MakeCall(HandlerContext& ctx, const Channel& channel, const Msg& msg, const HttpRequestSpec& request,
              const std::string& description = "Message Sent");

// Seconds a provider asked us to wait (Retry-After in seconds, capped at an
// hour); 1 when absent or given as an HTTP date.
int RetryAfterSeconds(const HttpExchange& exchange);
// An E result marked throttled when the provider answered 429, so the
// sender re-queues it without counting an error (DESIGN: throttling).
SendResult ThrottledIf429(SendResult result, const HttpExchange& exchange);

// What an answer that was not a success means for the msg, by HTTP status:
// 429 -> E, throttled for Retry-After (no error counted); 408 and 425 (the
// provider asks us to come back), any 5xx and no answer at all -> E, retried
// with backoff; every other 4xx -> F at once, since the same request can
// only be refused again. A handler that knows better (a documented
// permanent error code inside a 5xx, a transient one inside a 400) decides
// itself and uses Errored/Failed.
SendResult FailedAnswer(std::string error, std::vector<ChannelLog> logs, const HttpExchange& exchange);
// True when an answer with this HTTP status cannot get better on retry
// (the F branch of FailedAnswer).
bool IsPermanentHttpStatus(int status_code);
// A 2xx answer without the id the handler needs to match delivery reports:
// F, not E, because the provider may have taken the msg and a retry could
// deliver it twice. The error names what was missing.
SendResult AcceptedWithoutId(std::string error, std::vector<ChannelLog> logs);

// A yes/no setting: true for "true" or "1", false for "false" or "0" (in
// any case); `fallback` when it is unset or anything else.
bool ConfigFlag(const Channel& channel, const std::string& key, bool fallback);

// How many characters a part of a split text may hold on this channel: its
// `max_length` setting when that is a positive whole number, else the
// provider's own limit.
size_t MaxLength(const Channel& channel, size_t provider_limit);

// A send that cannot start because the channel lacks a setting its type
// needs to send (ConfigNeed::kToSend): E "no <key> set for <TYPE> channel"
// ("no <key> or <other> set ..." when another key may stand in) with a
// 417 log and no request; nullopt when every such setting has a value.
std::optional<SendResult> MissingConfig(const ChannelTypeInfo& type, const Channel& channel, const Msg& msg,
                                        Micros now);

// The declarations of the settings the toolbox reads for a type: base_url
// (BaseUrl) with the provider's endpoint as its default, and max_length
// (MaxLength) with the provider's limit.
ConfigKeyInfo BaseUrlKey(const std::string& default_url);
ConfigKeyInfo MaxLengthKey(size_t provider_limit);

// `callback_domain`: the host a provider calls back on when it is not the
// one of courier's base URL (a proxy in front of courier-recv).
// CallbackBase is "https://" + that host when the channel sets it, else
// ctx.base_url; status URLs given to the provider start with it.
inline constexpr const char* kCallbackDomainKey = "callback_domain";
std::string CallbackBase(const Channel& channel, const HandlerContext& ctx);

// A shared webhook secret, for providers that sign nothing but call the
// URL they are given (gateways such as Kannel and Jasmin, External
// systems, providers whose webhook URL is free-form): the setting
// `webhook_token` (secret; verifies webhooks). When a channel has it,
// every webhook must carry it, as the `webhook_token` query parameter,
// as the password of HTTP basic auth (any user name) or as
// "Authorization: Bearer <token>"; otherwise 401 "missing webhook token"
// / "invalid webhook token" and nothing is stored. Compared in constant
// time. Without the setting every webhook is taken, as before.
inline constexpr const char* kWebhookTokenKey = "webhook_token";
ConfigKeyInfo WebhookTokenKey();
std::optional<WebhookResult> CheckWebhookToken(const Channel& channel, const WebhookRequest& request);
// `url` with the channel's webhook_token added as a query parameter, for
// the callback URLs courier itself gives the provider with each send (DLR
// URLs), so that their reports pass CheckWebhookToken; `url` as is when
// the channel has none. The result holds a secret: it reaches logs only
// through the channel's redaction.
std::string WithWebhookToken(const Channel& channel, const std::string& url);

// A msg that leaves nothing for the provider to carry: F "msg has no
// text or attachments" with a 417 log and no request.
SendResult NothingToSend(const Channel& channel, const Msg& msg, Micros now);

// A coordinate as the shortest text that reads back the same: 15
// significant digits (%.15g) keep what the provider sent.
std::string Coordinate(double d);
// A location a user shared, as a msg says it: the text is "name, address"
// (either alone when the other is empty), else "lat,lng"; the attachment
// is "geo:lat,lng".
struct SharedLocation {
  std::string text;
  std::string attachment;
};
SharedLocation LocationMsg(double lat, double lng, const std::string& name, const std::string& address);

// "first last", else first, else last, else username, else "".
std::string NameFromParts(const std::string& first, const std::string& last, const std::string& username);

// The reference's auto-detected base64 MO text (Twilio, handlers.md 0):
// `text` with CR removed and trimmed is decoded when it is at least 60
// characters and a multiple of 4 long, all but its last 4 characters are
// in [A-Za-z0-9+/=], it is strict standard base64 (padding, zero pad
// bits), and at least half of the decoded characters (UTF-8, an invalid
// byte counting as one non-ASCII character) are ASCII. Otherwise `text`
// comes back unchanged.
std::string DecodePossibleBase64(const std::string& text);

// A webhook's fields by name, wherever the provider put them: the
// top-level scalars of a JSON body (when Content-Type names JSON; numbers
// and booleans as their text), then the form body, then the query string;
// the first value of a name wins. A malformed JSON body is ParseJsonBody's
// error. For providers that send the same fields by GET, POST or POST-JSON.
Result<std::map<std::string, std::string>> FlatParams(const WebhookRequest& request);
}  // namespace courier::handlers
