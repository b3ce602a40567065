#include "handlers/media_download.h"

#include <utility>

#include "media/media_type.h"

namespace courier::handlers {

Result<DownloadedMedia> DownloadMedia(HandlerContext& ctx, const Channel& channel, const Msg& msg,
                                      const std::string& url, const std::string& declared,
                                      std::vector<ChannelLog>& logs) {
  HttpRequestSpec get;
  get.method = "GET";
  get.url = url;
  Call download = MakeCall(ctx, channel, msg, get, "Media Download");
  if (!download.ok()) {
    const std::string error = download.log.error;
    logs.push_back(std::move(download.log));
    return Status::Unavailable(error);
  }
  DownloadedMedia media;
  media.bytes = std::move(download.exchange.body);
  auto sniffed = SniffMediaType(media.bytes);
  media.type = ChooseMediaType(declared.empty() ? download.exchange.Header("content-type") : declared,
                               sniffed.ok() ? *sniffed : "");
  ElideBody(download.log.response, media.bytes.size(), media.type);
  logs.push_back(std::move(download.log));
  return media;
}

void ElideBody(std::string& dump, size_t size, const std::string& type) {
  const size_t blank = dump.find("\r\n\r\n");
  if (blank == std::string::npos) return;
  dump.erase(blank + 4);
  dump += "[" + std::to_string(size) + " bytes of " + type + "]";
}

}  // namespace courier::handlers
