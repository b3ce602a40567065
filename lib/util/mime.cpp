#include "util/mime.h"

#include <map>

#include "util/text.h"

namespace courier {

std::string MimeTypeFromPath(const std::string& path) {
  static const std::map<std::string, std::string> kTypes = {
      {"jpg", "image/jpeg"},  {"jpeg", "image/jpeg"}, {"png", "image/png"},       {"gif", "image/gif"},
      {"webp", "image/webp"}, {"mp4", "video/mp4"},   {"3gp", "video/3gpp"},      {"oga", "audio/ogg"},
      {"ogg", "audio/ogg"},   {"opus", "audio/ogg"},  {"mp3", "audio/mpeg"},      {"m4a", "audio/mp4"},
      {"amr", "audio/amr"},   {"wav", "audio/wav"},   {"pdf", "application/pdf"}, {"txt", "text/plain"},
  };
  const std::string p = path.substr(0, path.find_first_of("?#"));
  const size_t slash = p.rfind('/'), dot = p.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  auto it = kTypes.find(ToLower(p.substr(dot + 1)));
  return it == kTypes.end() ? "" : it->second;
}

std::string ExtensionForMimeType(const std::string& mime) {
  static const std::map<std::string, std::string> kExtensions = {
      {"image/jpeg", "jpg"},
      {"image/png", "png"},
      {"image/gif", "gif"},
      {"image/webp", "webp"},
      {"video/mp4", "mp4"},
      {"video/3gpp", "3gp"},
      {"video/webm", "webm"},
      {"video/mpeg", "mpeg"},
      {"audio/ogg", "ogg"},
      {"audio/mpeg", "mp3"},
      {"audio/mp4", "m4a"},
      {"audio/aac", "aac"},
      {"audio/amr", "amr"},
      {"audio/wav", "wav"},
      {"audio/x-wav", "wav"},
      {"application/pdf", "pdf"},
      {"text/plain", "txt"},
      {"text/csv", "csv"},
      {"application/json", "json"},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
      {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
  };
  auto it = kExtensions.find(BareMimeType(mime));
  return it == kExtensions.end() ? "" : it->second;
}

std::string BareMimeType(const std::string& mime) { return ToLower(Trim(mime.substr(0, mime.find(';')))); }

}  // namespace courier
