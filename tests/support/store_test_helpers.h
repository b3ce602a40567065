#pragma once
// Store calls that only tests make, built on the Store interface so that
// the interface holds what the programs use and every engine is tested
// through the same calls: one incoming msg written as an intake of its
// own, a channel found by id, a contact found by URN, one idempotent
// request queued as a batch of one; and the plain channel most tests add.
//
// Each answers as the Store method it replaced did: the same values and
// the same errors (NotFound "channel not found", "contact not found"; a
// refused msg's or request's own error).
#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"

namespace courier::testing {

// `msg` (on the channel its channel_uuid or channel_id names) with at most
// one channel log, written by WriteIntakes: stored once; a duplicate (same
// provider id on the channel, or same uuid) is answered with the first
// msg's id and uuid. InvalidArgument for more than one log (an intake
// ties one log to each msg).
Result<IncomingResult> WriteIncoming(Store& store, Msg msg, const std::vector<ChannelLog>& logs);

// A channel of `type` at `address` for tel URNs, added to the store, as
// AddChannel answers.
Result<Channel> AddTelChannel(Store& store, const std::string& type = "EX",
                              const std::string& address = "+250788000001");

// The active channel with `id` (NotFound "channel not found" otherwise).
Result<Channel> GetChannelById(Store& store, int64_t id);

// The contact owning `urn`, with its URNs (NotFound "contact not found").
Result<Contact> GetContactByURN(Store& store, const std::string& urn);

// QueueOutgoingBatch of this one request: its outcome, or the batch's
// error when the msgs could not be queued.
Result<IdempotentQueue> QueueOutgoingOnce(Store& store, int64_t token_id, const std::string& key,
                                          const std::string& request_hash, std::vector<Msg> msgs);

}  // namespace courier::testing
