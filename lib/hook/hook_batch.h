#pragma once
// What courier-hook posts for a run of events: which events a hook wants,
// how many go in one POST, and the POST itself in the hook's format.
//
// json (the default): a JSON array of up to batch_size events, each
//   {"seq": 42, "uuid": "...", "topic": "msg.received",
//    "created_on": "2026-12-05T07:26:40.123456Z", "data": {...payload}}
// in seq order, with Content-Type application/json. `uuid` is the same on
// every delivery of the event (HookEventUUID), so an application dedupes
// a redelivery by it (or by seq).
// rapidpro: the reference's notification, one event a POST, form encoded:
//   msg.received     action=handle_message&message_id=<msg id>
//   contact.stopped  action=stop_contact&contact_id=<contact id>
// with "Authorization: Token <token>" when the hook has one. Other topics
// are not posted (the cursor still moves past them). The URL is used as it
// is: the reference's printf-template URL bug is not reproduced.
//
// Every POST also carries X-Courier-Signature (hook_signature.h) and
// X-Courier-Hook (the hook's uuid).
//
// Thread-safety: pure functions.
#include <cstdint>
#include <string>
#include <vector>

#include "http/http_client.h"
#include "model/event.h"
#include "model/hook.h"

namespace courier {

inline constexpr const char* kHookUuidHeader = "X-Courier-Hook";

// Whether the hook posts `event`: its topic is one of the hook's (any when
// it names none), its channel the hook's (any when it names none; an event
// about no channel, such as a contact stopped by an operator, only goes to
// hooks of every channel), and, for rapidpro, a topic the reference
// notified (msg.received, contact.stopped).
bool HookWants(const Hook& hook, const Event& event);

// The event's uuid as posted: a name-based UUID (RFC 9562 version 5,
// SHA-1) of "courier-event:<seq>" in courier's own namespace. The same seq
// gives the same uuid on every delivery, to every hook; unique within one
// store (an application fed by several stores tells them apart by
// X-Courier-Hook).
std::string HookEventUUID(int64_t seq);

// The next POST's share of `events` (the events after the hook's cursor,
// in seq order): the wanted ones, up to the hook's batch size (1 for
// rapidpro), and the seq the cursor moves to once it is acknowledged.
// Events the hook does not want are passed over: before the first wanted
// one and between the wanted ones, they are acknowledged with the batch.
// A batch with no event (nothing wanted) still moves the cursor, without
// a POST. `first` skips that many events already posted; `next` is where
// the following batch starts.
struct HookBatch {
  std::vector<const Event*> events;
  int64_t through_seq = 0;  // 0: no event from `first` on
  size_t next = 0;
};
HookBatch NextHookBatch(const Hook& hook, const std::vector<Event>& events, size_t first = 0);

// The POST for `batch` at `unix_seconds` (the signature's timestamp), or
// InvalidArgument when an event lacks what the format needs (a rapidpro
// msg.received without msg_id: a store bug, said as such).
Result<HttpRequestSpec> HookRequest(const Hook& hook, const std::vector<const Event*>& batch, int64_t unix_seconds);

// The json format's body for `batch`.
std::string HookJsonBody(const std::vector<const Event*>& batch);

}  // namespace courier
