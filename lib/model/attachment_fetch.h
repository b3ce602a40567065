#pragma once
// AttachmentFetch: one incoming attachment courier downloads and keeps
// (courier-fetch(8)), a row of the store's `attachment_fetches` table.
//
// The store writes one pending row for each http(s) attachment of an
// incoming msg, in the msg's own transaction, so no attachment is
// forgotten whatever crashes later. courier-fetch claims due rows for a
// lease (a crashed fetcher's rows are claimed again once it lapses),
// downloads each with what its channel's provider requires, and finishes
// it: stored (the file's digest, type, size and the URL it is served
// at), failed (the reason), or pending again at a later time (a retry).
// Once none of a msg's rows is pending, the msg's attachments become the
// stored copies' URLs (a failed one keeps the provider's) and a
// "msg.attachments" event says so.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/channel_log.h"
#include "core/clock.h"
#include "core/json_writer.h"

namespace courier {

enum class FetchState : char { kPending = 'P', kStored = 'S', kFailed = 'F' };
const char* FetchStateName(FetchState state);  // "pending", "stored", "failed"
std::optional<FetchState> FetchStateFromLetter(const std::string& letter);

struct AttachmentFetch {
  int64_t id = 0;
  int64_t msg_id = 0;
  std::string msg_uuid;
  std::string channel_uuid;
  std::string channel_type;
  int position = 0;     // the attachment's index in the msg's attachments
  std::string source;   // the attachment as the provider gave it ("image/jpeg:https://...")
  FetchState state = FetchState::kPending;
  int attempts = 0;     // downloads begun (a claim counts one)
  Micros next_attempt_on = 0;
  std::string sha256;        // stored: the file's digest (media/media_store.h)
  std::string content_type;  // stored: read from the bytes
  int64_t size = 0;          // stored: bytes
  std::string url;           // stored: where the copy is served
  std::string error;         // failed: why; pending after a failure: the last one
  Micros created_on = 0;
  Micros modified_on = 0;
};

// How a claimed fetch ended (Store::FinishFetch).
struct FetchOutcome {
  int64_t fetch_id = 0;
  FetchState state = FetchState::kStored;  // kPending: try again at retry_on
  std::string sha256, content_type, url;
  int64_t size = 0;
  std::string error;
  Micros retry_on = 0;
  // The channel logs of this attempt, written on the msg with the
  // outcome, in order: a token request refused, a download whose token
  // the provider refused, then the download this outcome is about.
  std::vector<ChannelLog> logs;
};

// What FinishFetch did.
struct FetchFinished {
  bool applied = false;   // false: the fetch was finished already (by another worker)
  bool msg_done = false;  // the msg's last pending fetch: its attachments were rewritten
};

// The fetch stage's work, for `courier-ctl status`.
struct FetchBacklog {
  int64_t pending = 0;
  int64_t due = 0;      // pending and due now
  int64_t failed = 0;
  int64_t stored = 0;
  std::optional<Micros> oldest_pending_on;  // created_on of the oldest pending row
};

// A file of the media store as the store records it (`media` table).
struct MediaFile {
  std::string sha256;
  std::string content_type;
  int64_t size = 0;
  Micros created_on = 0;
  Micros used_on = 0;  // the last fetch that stored these bytes
};

// One fetch as the msg.attachments event and `courier-ctl msgs show
// --json` give it: position, state, source, attempts, and url,
// content_type, size, sha256, error (null when not known).
void WriteAttachmentFetchJson(JsonWriter& w, const AttachmentFetch& fetch);

// Whether an incoming attachment is fetched: its URL is http(s).
bool AttachmentNeedsFetch(const std::string& attachment);
// An attachment's declared type and URL; a bare URL has no type.
std::pair<std::string, std::string> FetchedAttachmentParts(const std::string& attachment);

}  // namespace courier
