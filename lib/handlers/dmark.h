#pragma once
// DK — DMark Mobile: a Ugandan SMS aggregator, much used by U-Report
// (reference handlers-2.md 9). Scheme tel.
//
// Receive: DMark posts a reply to POST receive, form-encoded (fields in
// the query string are read too; names match in any case and the last
// value of a name wins, as the reference's decoder does): msisdn (the
// contact, a number in the channel's country), text, short_code and tstamp
// are all required (400 "field '<name>' required", one entry per missing
// field). tstamp is RFC 3339 with a numeric offset and an optional
// fraction (2017-10-26T15:51:32.906335+03:00); "Z" or anything else is 400
// "invalid tstamp: <value>". A '+' of the offset that reached us as a
// space (a form sent without escaping it) is read as the '+' it was. The
// msg has no external id.
//
// Status: DMark calls the dlr_url we gave with the send, POST status, with
// our msg's `uuid` (required, a UUID: 400 "field 'uuid' uuid"; the
// report is for that msg) and DMark's `status` (required): 1 D, 2 E, 4 and 8 S, 16 E; any
// other is 400 "unknown status '<x>', must be one of '1', '2', '4', '8'
// or '16'" (the reference writes the list without spaces).
//
// Send: per part of the text (split at max_length, default 453), POST
// <base>/sms/ form-encoded with "Authorization: Token <auth_token>" and
// "Accept: application/json": sender (the channel address without '+'),
// receiver (the contact's number without '+'), text, and dlr_url
// https://<callback domain>/c/dk/<channel uuid>/status?uuid=<msg uuid>&
// status=%s, where DMark puts the status in place of %s (and
// the channel's webhook_token, when set, so its reports pass). Only the
// text is sent: DMark carries no attachments, so they are left out, and a
// msg with attachments but no text fails (F) without a request.
//
// Judging: each part's answer by HTTP status (FailedAnswer: no answer,
// 408, 425 and 5xx E, 429 E throttled for Retry-After, other 4xx F); a 2xx
// without `sms_id` is F (AcceptedWithoutId: DMark may have taken it, and a
// retry could send it twice). The external id is the first part's sms_id.
//
// Departures from the reference:
//  - Parts are at most max_length characters, not bytes (SplitText, as
//    every handler here splits).
//  - A msg with nothing DMark can carry fails before any request rather
//    than sending an empty text.
//
// DMark signs nothing: with webhook_token set, every webhook must carry it
// (handlers::CheckWebhookToken), and the dlr_url does.
//
// Config: auth_token (needed to send; secret), base_url (replaces
// https://smsapi1.dmarkmobile.com), callback_domain (the host in dlr_url
// when not that of courier's base URL), max_length, webhook_token.
#include "handlers/handler.h"

namespace courier {

class DmarkHandler : public ChannelHandler {
 public:
  const ChannelTypeInfo& Type() const override;
  std::vector<Route> Routes() const override;
  WebhookResult Receive(const Route& route, const Channel& channel, const WebhookRequest& request,
                        HandlerContext& ctx) const override;
  SendResult Send(const Channel& channel, const Msg& msg, HandlerContext& ctx) const override;
};

}  // namespace courier
