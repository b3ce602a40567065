#pragma once
// The attachments a handler downloads itself, to upload them to a provider
// that takes files rather than links (Turn, Kaleyra, VK), and how their
// bytes stay out of the channel logs.
#include <string>
#include <vector>

#include "core/status.h"
#include "handlers/common.h"

namespace courier::handlers {

struct DownloadedMedia {
  std::string bytes;
  std::string type;  // the declared type, else the answer's, as the bytes correct it
};

// GETs `url` as "Media Download", its log (the body replaced by its size)
// appended to `logs`. The type is `declared` when given, else the answer's
// Content-Type, either corrected by what the bytes are (ChooseMediaType).
// An error (no answer, or not a 2xx) is the log's error; the caller words
// and judges it.
Result<DownloadedMedia> DownloadMedia(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                      const std::string& url, const std::string& declared,
                                      std::vector<ChannelLog>& logs);

// A log's dump (request or response) with the body after its blank line
// replaced by "[N bytes of TYPE]": media bytes have no place in a log.
void ElideBody(std::string& dump, size_t size, const std::string& type);

}  // namespace courier::handlers
