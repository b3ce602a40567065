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

std::string BareMimeType(const std::string& mime) { return ToLower(Trim(mime.substr(0, mime.find(';')))); }

}  // namespace courier
