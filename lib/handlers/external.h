#pragma once
// EX — External: a generic HTTP gateway, configured entirely by the
// channel's settings, that calls us with incoming msgs, delivery reports
// and stops, and takes our msgs at a URL template (reference handlers.md
// A.1 "EX", with the options of handlers-2.md 21).
//
// Receive (GET or POST `receive`):
// - XML mode, when both from_xpath and text_xpath are set: the body's
//   first 100,000 bytes are parsed as XML (no DTD is read and no external
//   entity resolved, so a webhook cannot make us open a file or a URL);
//   the first node each path finds gives the sender and the text (its
//   inner text, CDATA included; an attribute gives its value). No date.
// - Form mode otherwise: the fields of a url-encoded or multipart/form-
//   data body, then of the query string. The sender is the first present
//   of mo_from_field, `from`, `sender`; the text the first of
//   mo_text_field, `text` (required); the date, RFC 3339, the first of
//   mo_date_field, `date`, `time`. A configured name the request lacks
//   falls back to the defaults.
// - The URN is the sender in the channel's first scheme (tel numbers
//   normalised with the channel's country). With mo_response set, the
//   answer is that text (Content-Type mo_response_content_type, else
//   text/plain) instead of our JSON; errors keep the JSON.
//
// The XPath forms that work (Poco's getNodeByPath underneath): absolute
// and relative slash paths (/a/b/c, a/b), // to search the whole document
// or, mid-path, the subtree of the first node found so far (//b,
// /a//c), a 1-based position (b[2], as XPath counts), an attribute test
// (b[@k='v'], either quote), and at the end /@k for an attribute's value
// or /text() for the node's text. Anything else (*, [@k] alone, [last()],
// other functions or axes) finds nothing. Prefixed names match as the
// document spells them (soap:Body).
//
// Status (GET or POST `sent`, `delivered`, `failed` -> S, D, F): `id` or
// `uuid`. A UUID in either (uuid first) is the msg's UUID; a number in
// `id` is our msg id, as courier-send gave it through {{id}}. [project]
// The reference takes UUIDs only.
//
// Stop (GET or POST `stopped`): `from` (or, as before, `sender`) is the
// contact that opted out, a stop_contact event.
//
// Send: `send_url` with send_method (default POST; a body for POST and PUT
// only) and send_body (default: a form of every variable). Variables:
// {{text}} (the part), {{to}} and {{to_no_plus}} (the URN's path; with
// use_national the number inside the channel's country, no leading zero),
// {{from}} and {{from_no_plus}} (the channel address), {{channel}} (its
// UUID), {{uuid}} (the msg UUID), {{id}} (our integer msg id; [project]
// the reference made it the UUID too), {{session_status}} (always empty:
// our msgs carry no flow session) and {{quick_replies}} (the text quick
// replies on the last part: `&quick_reply=X` each in the URL and in
// bodies neither JSON nor XML, a JSON array of strings, an <item> each in
// XML). In the URL variables are query-escaped; in the body escaped for
// content_type: `urlencoded`, `json` (a quoted string) or `xml` (escaped,
// a newline as &#xA;), which also name the Content-Type. Any other value
// is the Content-Type itself, and its body takes the variables as they
// are, except that a literal JSON, XML or form media type (the values
// channels set before the short names existed) is escaped as its short
// name. Content-Type is sent with every request, GET included; then
// send_authorization as Authorization, then each pair of send_headers (a
// JSON object), which may replace either. A send_headers that is not an
// object of header names to text, or a header a request cannot carry,
// fails the msg unsent (F).
//
// encoding S: each part with GSM7 look-alikes (smart quotes, dashes,
// no-break space) when that makes it pure GSM7, else as written; D (the
// default) sends it as written. Text and attachment URLs are split at
// max_length (default 160) characters.
//
// Judging, per part: no answer or 5xx -> E, 429 -> E throttled, any other
// non-2xx -> F; a 2xx body without mt_response_check (when set) -> F, as
// the gateway may have taken the msg.
#include "handlers/handler.h"

namespace courier {

class ExternalHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
