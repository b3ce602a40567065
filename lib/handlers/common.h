#pragma once
// What handlers share, so that a provider file says only what is
// particular to it: field decoding with the reference's error texts,
// status tables, tel URNs in the channel's country, signatures, and
// outgoing requests that come back as channel logs with secrets redacted.
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/urn.h"
#include "handlers/handler.h"

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
  Fields(const WebhookRequest& request, Source source) : request_(request), source_(source) {}
  std::string Required(const std::string& name);
  std::optional<std::string> Optional(const std::string& name) const;
  // A required integer field: missing or not a number is an error.
  int64_t RequiredInt(const std::string& name);
  bool ok() const { return errors_.empty(); }
  std::string error() const;  // errors joined with "; "

 private:
  std::optional<std::string> Get(const std::string& name) const;
  const WebhookRequest& request_;
  Source source_;
  std::vector<std::string> errors_;
};

// The body as a JSON object, or the reference's error text.
Result<json::ObjectPtr> ParseJsonBody(const WebhookRequest& request);

// A provider's status word to ours; nullopt for unknown words.
std::optional<MsgStatus> MapStatus(const std::map<std::string, MsgStatus>& table, const std::string& value);
// "unknown status 'x', must be one of 'a', 'b'" in the table's order
std::string UnknownStatusError(const std::string& value, const std::vector<std::string>& allowed);

// tel: URN for a number in the channel's country.
Result<URN> TelURN(const std::string& number, const Channel& channel);

// A status update for a msg by our id or by the provider's id.
StatusUpdate StatusForId(const Channel& channel, int64_t msg_id, MsgStatus status);
StatusUpdate StatusForExternalId(const Channel& channel, const std::string& external_id, MsgStatus status);

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
  // statuses" when none) when it holds no msgs and no statuses.
  WebhookResult Finish();
  WebhookResult Fail(const std::string& error);
};

// base64(HMAC-SHA1(key, data)), hex(HMAC-SHA256(key, data)).
std::string HmacSha1Base64(const std::string& key, const std::string& data);
std::string HmacSha256Hex(const std::string& key, const std::string& data);
// Comparison whose time does not depend on where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

// The provider endpoint: the channel's base_url config when set (tests,
// proxies, on-prem providers), else the provider's default.
std::string BaseUrl(const Channel& channel, const std::string& default_url);

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

// How many characters a part of a split text may hold on this channel: its
// `max_length` setting when that is a positive whole number, else the
// provider's own limit.
size_t MaxLength(const Channel& channel, size_t provider_limit);

// A log for a failure before any request was made (status 417).
ChannelLog ErrorLog(const Channel& channel, const Msg& msg, const std::string& error, Micros now);

// A send that cannot start because the channel lacks a required config
// value: E "no <key> set for <TYPE> channel" with a 417 log and no
// request; nullopt when every key has a value.
std::optional<SendResult> MissingConfig(const Channel& channel, const Msg& msg,
                                        std::initializer_list<const char*> keys, Micros now);

// SendResult helpers.
SendResult Wired(std::string external_id, std::vector<ChannelLog> logs);
SendResult Errored(std::string error, std::vector<ChannelLog> logs);
SendResult Failed(std::string error, std::vector<ChannelLog> logs);
// A msg that leaves nothing for the provider to carry: F "msg has no
// text or attachments" with a 417 log and no request.
SendResult NothingToSend(const Channel& channel, const Msg& msg, Micros now);

// Splits text into parts of at most `max` characters (code points),
// breaking at whitespace near the end of a part when there is one.
std::vector<std::string> SplitText(const std::string& text, size_t max);

// Decodes UTF-8 into code points; false on malformed input.
bool DecodeUtf8(const std::string& text, std::u32string& out);
// Appends the UTF-8 encoding of one code point.
void AppendUtf8(std::string& out, char32_t cp);
// How many code points UTF-8 `text` holds (the bytes that do not
// continue a sequence, so malformed input still gets a count).
size_t CodePoints(const std::string& text);
// The first `max` code points of UTF-8 `text`; all of it when shorter.
std::string Truncate(const std::string& text, size_t max);

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

// GSM 03.38 (GSM7): true when every character of the UTF-8 `text` is in
// the default alphabet or its extension table (^ { } \ [ ] ~ | € and form
// feed), i.e. it can go as a 7-bit SMS. Invalid UTF-8 is not GSM7.
bool IsGsm7(const std::string& text);
// Replaces common characters outside GSM7 with look-alikes that are in it
// (smart quotes -> ' and ", dashes -> -, ellipsis -> ..., no-break space
// -> space), for "smart" encoding: try this, then check IsGsm7.
std::string ReplaceGsm7Substitutions(const std::string& text);

// The MIME type for a file path or URL by its extension (case-insensitive;
// query and fragment ignored): jpg/jpeg, png, gif, webp, mp4, 3gp, oga/ogg,
// opus, mp3, m4a, amr, wav, pdf, txt. "" when unknown; callers pick their
// own fallback (usually application/octet-stream).
std::string MimeTypeFromPath(const std::string& path);

// base64(HMAC-SHA256(key, data)) (Plivo's X-Plivo-Signature-V2).
std::string HmacSha256Base64(const std::string& key, const std::string& data);

// A webhook's fields by name, wherever the provider put them: the
// top-level scalars of a JSON body (when Content-Type names JSON; numbers
// and booleans as their text), then the form body, then the query string;
// the first value of a name wins. A malformed JSON body is ParseJsonBody's
// error. For providers that send the same fields by GET, POST or POST-JSON.
Result<std::map<std::string, std::string>> FlatParams(const WebhookRequest& request);
// A JSON scalar as text (numbers and booleans converted); nullopt for
// null, objects and arrays.
std::optional<std::string> JsonScalarText(const Poco::Dynamic::Var& value);

// The number under `key`; nullopt when absent, null or not a number.
std::optional<double> JsonNumber(const json::ObjectPtr& o, const std::string& key);
// The same, also taking a string that is wholly a number, for providers
// that send some numbers as strings (WhatsApp: timestamps, coordinates).
std::optional<double> JsonNumberLoose(const json::ObjectPtr& o, const std::string& key);

// How much room UTF-8 `text` takes in an SMS: GSM7 septets when `ucs2` is
// false (a character of the extension table, ^ { } \ [ ] ~ | € and form
// feed, takes two: the escape and itself), else UTF-16 code units (a
// character outside the BMP, an emoji, takes two). One SMS holds 160
// septets or 70 units; a part of a concatenated one 153 or 67.
size_t SmsLength(const std::string& text, bool ucs2);

// Bytes in the named charset as UTF-8, for providers that pass through
// what the SMSC delivered (Kannel's %C: UTF-16BE for UCS-2, UTF-8,
// ISO-8859-1, ...). Any charset iconv knows is decoded; UCS-2 is read as
// UTF-16BE; a sequence that is malformed in the named charset becomes
// U+FFFD. A charset iconv does not know, or none (Kannel's "8-BIT" for
// binary SMS): the bytes are kept when they are valid UTF-8, else read as
// ISO-8859-1, so every byte survives as one character.
std::string DecodeCharset(const std::string& bytes, const std::string& charset);

}  // namespace courier::handlers
