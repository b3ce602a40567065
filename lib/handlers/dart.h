#pragma once
// DA — DartMedia and H9 — Hub9: Indonesian SMS aggregators with one API
// (reference handlers-2.md 20), one implementation parameterised by type:
//   DA  DartMedia  sends to http://202.43.169.11/APIhttpU/receive2waysms.php,
//                  parts of 160 characters
//   H9  Hub9       sends to http://175.103.48.29:28078/testing/smsmt.php,
//                  parts of 1600 characters
// Scheme tel.
//
// Receive (GET receive, query parameters): `original` (the contact) and
// `sendto` (our number) are both needed, else 400 "missing required
// parameters original and sendto"; the contact is a number in the
// channel's country, or ext:<original> when it is no number at all. The
// text is `message`, the external id `messageid`; the other parameters
// (userid, password, dcs, udhl, date ...) are not ours to read.
//
// Status (GET delivered): `messageid` is the msg's UUID as we sent it, with
// a ".<part>" after it for parts after the first (cut off), and `status` an
// integer: 10-12 D, above 20 F (the code kept as the reason), any other S.
// Either missing is 400 "parameters messageid and status should not be
// empty"; a status that is no integer or an id that is no UUID is 400
// "parsing failed: ...".
//
// Both routes answer a taken webhook with the plain body 000, the
// provider's "OK"; errors are our JSON with 400.
//
// Send: each part of the text (attachments as links, split at max_length,
// else the type's limit) is a GET of the send URL with the query userid
// (username), password, sendto (the contact's number without '+'),
// original (the channel address without '+'), udhl=0, dcs=0, message (the
// part) and messageid (the msg UUID, "<uuid>.<n>" for part n >= 2, which
// the delivery reports give back). A Content-Type form header goes with
// it, without a body, as the reference sends it.
//
// Judging: each part's answer by HTTP status (FailedAnswer: no answer, 408,
// 425 and 5xx E, 429 E throttled for Retry-After, other 4xx F); then the
// body must start with the result code 000, anything else is F with the
// code as the reason (001 authentication error, 101 account expired or
// invalid parameters).
//
// Departures from the reference:
//  - Parts are at most max_length characters, not bytes (SplitText, as
//    every handler here splits).
//  - A msg with neither text nor attachments fails before any request.
//  - White space before the result code in a send answer is skipped.
//
// Neither provider signs anything: with webhook_token set, every webhook
// must carry it (handlers::CheckWebhookToken).
//
// Config: username and password (both needed to send; password secret);
// base_url (replaces the scheme, host and port of the type's send URL,
// its path kept); max_length; webhook_token.
#include "handlers/handler.h"

namespace courier {

class DartHandler : public ChannelHandler {
 public:
  enum class Flavor { kDartMedia, kHub9 };

  explicit DartHandler(Flavor flavor) : type_(Describe(flavor)), flavor_(flavor) {}

  const ChannelTypeInfo& Type() const override { return type_; }
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;

 private:
  static ChannelTypeInfo Describe(Flavor flavor);
  ChannelTypeInfo type_;
  Flavor flavor_;
};

}  // namespace courier
