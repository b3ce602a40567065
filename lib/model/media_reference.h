#pragma once
// Outgoing attachments that name a file of courier's own media store
// (courier-fetch(8) keeps what it downloaded there), and the URL a
// provider is given for them.
//
// An application sends a file courier keeps by any of:
//
//   media:SHA256[.EXT]          the type is the stored file's
//   MIME:media:SHA256[.EXT]     the type as given
//   MIME:URL                    URL being where courier said the file is:
//                               under media_url, or under the default
//                               http://api_address:api_port/media
//
// A provider downloads an attachment itself, so it must get an address it
// can reach. Only the operator knows one: media_url, when set. Without it
// the default address is courier-api on this host, which no provider
// reaches, and such a msg fails with a reason saying what to set; it is
// never handed to a provider to fail there in silence.
//
// Thread-safety: plain functions of their arguments.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/attachment_fetch.h"

namespace courier {

// The attachment's reference to a stored file.
struct LocalMedia {
  std::string sha256;
  std::string declared_type;  // "" when the attachment gave none ("media:SHA256")
};

// Whether the attachment is one of the "media:" forms (whatever its
// digest): the forms BuildOutgoingMsg accepts beside MIME:URL.
bool IsMediaReference(const std::string& attachment);

// The file an outgoing attachment names, if it names one: a "media:" form
// with a well-formed digest, or a URL under one of `served_at` (base URLs
// of the media store; a trailing '/' is ignored) whose last segment is
// SHA256[.EXT]. nullopt for every other attachment.
std::optional<LocalMedia> ParseLocalMedia(const std::string& attachment, const std::vector<std::string>& served_at);

// The URL a stored file is served at under `base_url`:
// BASE/SHA256.EXT, EXT from the type (none when the type has none).
std::string MediaFileUrl(const std::string& base_url, const std::string& sha256, const std::string& content_type);

// What ResolveLocalMedia needs to know of the deployment.
struct LocalMediaUrls {
  std::vector<std::string> served_at;  // where the store is served: the default URL and media_url
  std::string public_url;              // media_url as the operator set it; "" unset
};

// Looks a stored file up: NotFound when the store has none.
using MediaLookup = std::function<Result<MediaFile>(const std::string& sha256)>;

// `attachments` with each one that names a stored file rewritten to
// "TYPE:PUBLIC_URL/SHA256.EXT" (TYPE as declared, else the stored one),
// the others as they were. Errors name the attachment (1-based); those
// that no retry mends are InvalidArgument (a stored file named and no
// public_url set; a "media:" form with a malformed digest) and NotFound
// (the store has no such file); the lookup's other errors (Unavailable:
// the store could not say) come as they are.
Result<std::vector<std::string>> ResolveLocalMedia(const std::vector<std::string>& attachments,
                                                   const LocalMediaUrls& urls, const MediaLookup& lookup);

}  // namespace courier
