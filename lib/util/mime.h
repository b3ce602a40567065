#pragma once
// MIME types of the media providers pass around, as attachments carry
// them ("image/jpeg:https://..."): guessed from a file's extension, or
// reduced to their bare lower-case form.
//
// Thread-safety: pure functions.
#include <string>

namespace courier {

// Where no better type is known.
inline constexpr const char* kDefaultMimeType = "application/octet-stream";

// The MIME type for a file path or URL by its extension (case-insensitive;
// query and fragment ignored): jpg/jpeg, png, gif, webp, mp4, 3gp, oga/ogg,
// opus, mp3, m4a, amr, wav, pdf, txt. "" when unknown; callers pick their
// own fallback (usually kDefaultMimeType).
std::string MimeTypeFromPath(const std::string& path);

// The usual file extension for a MIME type ("image/jpeg" -> "jpg"), the
// reverse of MimeTypeFromPath plus a few more (docx, xlsx, csv, json,
// mpeg, webm, aac); "" when none is known.
std::string ExtensionForMimeType(const std::string& mime);

// "Audio/OGG; codecs=opus" -> "audio/ogg": the type without parameters, in
// lower case (MIME types are case-insensitive; attachments carry one form).
std::string BareMimeType(const std::string& mime);

}  // namespace courier
