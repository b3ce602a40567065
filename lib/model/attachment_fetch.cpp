#include "model/attachment_fetch.h"

#include "core/msg.h"
#include "util/text.h"

namespace courier {

const char* FetchStateName(FetchState state) {
  switch (state) {
    case FetchState::kPending:
      return "pending";
    case FetchState::kStored:
      return "stored";
    case FetchState::kFailed:
      return "failed";
  }
  return "pending";
}

std::optional<FetchState> FetchStateFromLetter(const std::string& letter) {
  if (letter == "P") return FetchState::kPending;
  if (letter == "S") return FetchState::kStored;
  if (letter == "F") return FetchState::kFailed;
  return std::nullopt;
}

namespace {

bool IsHttpUrl(const std::string& text) {
  const std::string start = ToLower(text.substr(0, 8));
  return start.rfind("http://", 0) == 0 || start.rfind("https://", 0) == 0;
}

}  // namespace

std::pair<std::string, std::string> FetchedAttachmentParts(const std::string& attachment) {
  // SplitAttachment splits a bare URL at its scheme, as the reference does.
  if (IsHttpUrl(attachment)) return {"", attachment};
  return SplitAttachment(attachment);
}

void WriteAttachmentFetchJson(JsonWriter& w, const AttachmentFetch& f) {
  w.BeginObject();
  w.Field("position", f.position);
  w.Field("state", FetchStateName(f.state));
  w.Field("source", f.source);
  w.Field("attempts", f.attempts);
  w.Key("url").StringOrNull(f.url);
  w.Key("content_type").StringOrNull(f.content_type);
  w.Key("size");
  if (f.state == FetchState::kStored) {
    w.Int(f.size);
  } else {
    w.Null();
  }
  w.Key("sha256").StringOrNull(f.sha256);
  w.Key("error").StringOrNull(f.error);
  w.EndObject();
}

bool AttachmentNeedsFetch(const std::string& attachment) {
  return IsHttpUrl(FetchedAttachmentParts(attachment).second);
}

}  // namespace courier
