#pragma once
// Fetcher: one claimed attachment fetch (model/attachment_fetch.h)
// downloaded and kept, courier-fetch's unit of work.
//
// The download is the channel handler's MediaRequest (its credentials,
// only to its provider's hosts) through the provider client, so it obeys
// the outbound policy as every request for a channel does (invariant 8),
// with its timeouts and a size cap (max_bytes: the client stops reading
// past it). What came is typed from its bytes (media/media_type.h),
// refused by type if the operator says so, and put in the media store.
//
// Outcomes:
//   stored   the file's digest, type, size, and its URL: media_url/
//            <sha256>[.ext];
//   pending  a transport error, a timeout, 408, 425, 429 or a 5xx, or the
//            media store failing to write (a full disk): retried after
//            first_retry, doubling per attempt up to an hour, until
//            max_attempts downloads have begun; then failed;
//   failed   any other answer (404, 401: an expired or foreign URL), more
//            than max_bytes, a refused type, or a request the outbound
//            policy refuses.
// Each download leaves a channel log on the msg ("Media Fetch"), its
// response body replaced by its size: media are no text for a log; each
// redirect it followed leaves one too. A
// provider's refusal in place of the media (ChannelHandler::RefusedMedia)
// is logged whole, the download retried with a new token included, and a
// failed token request leaves its own logs.
//
// Thread-safety: Fetch may be called from many threads at once (the
// client and the media store are thread-safe).
#include <string>
#include <vector>

#include "core/channel.h"
#include "core/channel_log.h"
#include "core/clock.h"
#include "handlers/handler.h"
#include "http/http_client.h"
#include "media/media_store.h"
#include "model/attachment_fetch.h"

namespace courier {

struct FetcherOptions {
  int64_t max_bytes = 32 << 20;
  std::vector<std::string> refused_types;  // media/media_type.h MediaTypeRefused
  std::string media_url;                   // where stored copies are served, no trailing slash
  int max_attempts = 8;
  Micros first_retry = 30 * kMicrosPerSecond;
};

class Fetcher {
 public:
  // `http` must read at most options.max_bytes of an answer
  // (HttpClientOptions::max_response_bytes).
  Fetcher(HttpClient& http, MediaStore& media, Clock& clock, FetcherOptions options);

  // The outcome, with its channel logs. `handler` null (a type no longer
  // served): a plain GET.
  FetchOutcome Fetch(const AttachmentFetch& fetch, const Channel& channel, const ChannelHandler* handler);

  const FetcherOptions& options() const { return options_; }

 private:
  FetchOutcome RetryOrFail(const AttachmentFetch& fetch, const std::string& error) const;

  HttpClient& http_;
  MediaStore& media_;
  Clock& clock_;
  FetcherOptions options_;
};

}  // namespace courier
