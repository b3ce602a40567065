#pragma once
// The type of a fetched attachment, read from its bytes (libmagic) rather
// than taken from what the provider said, and the operator's refusals.
//
// Thread-safety: every function may be called from any thread (each
// thread loads its own libmagic database on first use).
#include <string>
#include <vector>

#include "core/status.h"

namespace courier {

// libmagic's MIME type of `bytes` ("image/jpeg"); Unavailable when its
// database cannot be loaded.
Result<std::string> SniffMediaType(const std::string& bytes);

// The type an attachment is stored with: the sniffed one, unless it says
// no more than "some bytes" or "some text" (application/octet-stream,
// text/plain, empty) and the provider declared a type, which then
// stands; kDefaultMimeType when neither says anything.
std::string ChooseMediaType(const std::string& declared, const std::string& sniffed);

// Whether `type` is refused by one of `refused`: a type ("video/mp4") or
// a family ("video/*"), case-insensitive.
bool MediaTypeRefused(const std::string& type, const std::vector<std::string>& refused);

}  // namespace courier
