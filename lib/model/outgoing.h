#pragma once
// An application's request to send a msg, as `courier-ctl send` (its
// flags, or one JSON line of --jsonl) and courier-api's POST /api/v1/msgs
// (one JSON object, or each of an array) give it, and the one check that
// turns it into a queueable Msg. Both front ends share this code so that a
// msg refused by one is refused by the other, with the same words.
//
// The JSON shape: {"channel": UUID (or "channel_uuid"), "urn": "tel:+250...",
// "text": "...", "attachments": ["image/jpeg:https://...", "media:SHA256"],
// "quick_replies": ["Yes", "No", {"type": "location", "text": "Where are
// you?"}, {"type": "url", "text": "Book", "url": "https://..."}] (see
// core/quick_reply.h), "priority": "high"|"bulk"}; channel and urn
// required, text or an attachment required.
//
// Errors are InvalidArgument with the reason (the texts courier-ctl has
// always printed), and `field` names the member at fault so an HTTP
// answer can point at it ("" when the request as a whole is at fault).
//
// Thread-safety: plain functions of their arguments.
#include <string>
#include <vector>

#include "core/channel.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/status.h"

namespace courier {

struct OutgoingRequest {
  std::string channel;  // a UUID as given (any case); see NormalizeUUID
  std::string urn;
  std::string text;
  std::vector<std::string> attachments;  // MIME:URL
  std::vector<QuickReply> quick_replies;
  std::optional<MsgTemplate> templating;
  std::string locale;
  std::string priority = "high";
};

// Where a refused request went wrong, beside the Status.
struct OutgoingError {
  Status status;
  std::string field;
};

// Reads the members of one JSON object. Members of the wrong JSON type
// are refused (a number for "text" is a client's bug, not a text).
Result<OutgoingRequest> OutgoingRequestFromJson(const json::ObjectPtr& object, std::string* field = nullptr);

// The request's channel as a normalised UUID; InvalidArgument "not a
// channel UUID: '...'" otherwise.
Result<std::string> OutgoingChannelUuid(const OutgoingRequest& request);

// Checks the request against its channel (found by the caller from
// OutgoingChannelUuid) and builds the msg to queue: the URN parsed in the
// channel's country and of a scheme it speaks, the texts valid UTF-8,
// attachments MIME:URL over http(s) or a file of the media store
// (model/media_reference.h), the priority high or bulk.
Result<Msg> BuildOutgoingMsg(const Channel& channel, const OutgoingRequest& request, std::string* field = nullptr);

}  // namespace courier
