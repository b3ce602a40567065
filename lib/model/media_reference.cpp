#include "model/media_reference.h"

#include "core/msg.h"
#include "util/hmac.h"
#include "util/mime.h"

namespace courier {
namespace {

constexpr const char kScheme[] = "media:";
constexpr size_t kSchemeSize = sizeof(kScheme) - 1;

// The attachment's declared type and its "media:" name, when it is one of
// the "media:" forms.
std::optional<std::pair<std::string, std::string>> MediaForm(const std::string& attachment) {
  if (attachment.compare(0, kSchemeSize, kScheme) == 0) return std::make_pair(std::string(), attachment.substr(kSchemeSize));
  auto [type, rest] = FetchedAttachmentParts(attachment);
  if (type.find('/') != std::string::npos && rest.compare(0, kSchemeSize, kScheme) == 0)
    return std::make_pair(type, rest.substr(kSchemeSize));
  return std::nullopt;
}

std::string TrimSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// "SHA256" or "SHA256.EXT" -> the digest, when well formed.
std::optional<std::string> DigestOfName(const std::string& name) {
  std::string sha = name.substr(0, name.find('.'));
  if (!IsSha256Hex(sha)) return std::nullopt;
  return sha;
}

}  // namespace

bool IsMediaReference(const std::string& attachment) { return MediaForm(attachment).has_value(); }

std::optional<LocalMedia> ParseLocalMedia(const std::string& attachment, const std::vector<std::string>& served_at) {
  if (auto form = MediaForm(attachment)) {
    auto sha = DigestOfName(form->second);
    if (!sha) return std::nullopt;
    return LocalMedia{*sha, form->first};
  }
  auto [type, url] = FetchedAttachmentParts(attachment);
  for (const auto& base : served_at) {
    const std::string prefix = TrimSlashes(base) + "/";
    if (prefix.size() < 2 || url.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string name = url.substr(prefix.size());
    if (name.find_first_of("/?#") != std::string::npos) continue;
    if (auto sha = DigestOfName(name)) return LocalMedia{*sha, type};
  }
  return std::nullopt;
}

std::string MediaFileUrl(const std::string& base_url, const std::string& sha256, const std::string& content_type) {
  const std::string extension = ExtensionForMimeType(content_type);
  return TrimSlashes(base_url) + "/" + sha256 + (extension.empty() ? "" : "." + extension);
}

Result<std::vector<std::string>> ResolveLocalMedia(const std::vector<std::string>& attachments,
                                                   const LocalMediaUrls& urls, const MediaLookup& lookup) {
  std::vector<std::string> out;
  out.reserve(attachments.size());
  for (size_t i = 0; i < attachments.size(); i++) {
    const std::string& attachment = attachments[i];
    const std::string which = "attachment " + std::to_string(i + 1);
    auto local = ParseLocalMedia(attachment, urls.served_at);
    if (!local) {
      if (IsMediaReference(attachment))
        return Status::InvalidArgument(which + " names no media file: '" + attachment.substr(0, 120) +
                                       "' (media:SHA256, 64 lower-case hex digits)");
      out.push_back(attachment);
      continue;
    }
    if (urls.public_url.empty())
      return Status::InvalidArgument(which + " is a file of courier's media store, which providers cannot fetch "
                                     "from this host: set media_url to a public address of courier-api's /media");
    auto file = lookup(local->sha256);
    if (!file.ok()) {
      if (file.status().IsNotFound())
        return Status::NotFound(which + ": media " + local->sha256 + " is not in the media store");
      return file.status();
    }
    const std::string& type = local->declared_type.empty() ? file->content_type : local->declared_type;
    out.push_back(type + ":" + MediaFileUrl(urls.public_url, local->sha256, file->content_type));
  }
  return out;
}

}  // namespace courier
